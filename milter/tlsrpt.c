/*
 * tlsrpt.c - counting TLS-RPT sessions (API in tlsrpt.h): a verdict to a
 * session, the in-memory counts, and saving them to the counts file.
 *
 * A verdict to a session (the top attempt a = v->attempts[v->best]):
 *  - policy type: v->policy "dane" -> tlsa, "sts" -> sts, else (pkix, or
 *    none) no-policy-found; also tlsa when a was judged by DANE;
 *  - success: outcome verified or encrypted (DANE, TLSA all unusable), or
 *    unverified when that was accepted (required: TLS is enough);
 *  - failure, by the first rule that applies:
 *    the verdict's sts_rpt when no policy applied (an MTA-STS policy
 *    fetch that failed with nothing cached: sts-policy-fetch-error,
 *    sts-policy-invalid, sts-webpki-invalid; policy type sts);
 *    a reason (v's or a's) naming an MTA-STS or DNSSEC result type of
 *    RFC 8460 (the engine's words for a policy that could not be had:
 *    sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid,
 *    dnssec-invalid) -> that type;
 *    a temporary TLSA lookup (bogus or unvalidated answer) -> dnssec-invalid;
 *    dane-only's host without usable TLSA -> dane-required;
 *    reached without TLS: no STARTTLS offered -> starttls-not-supported,
 *    else (STARTTLS refused or the handshake failed) validation-failure;
 *    TLS, judged by DANE: expired or not yet valid -> certificate-expired,
 *    name-mismatch -> certificate-host-mismatch, else tlsa-invalid;
 *    TLS, certificate: expired / not-yet-valid -> certificate-expired,
 *    untrusted, revoked, bad-signature, weak-crypto, no-certificate ->
 *    certificate-not-trusted, other -> validation-failure; a valid
 *    certificate whose names do not match -> certificate-host-mismatch;
 *  - not counted: not probed, no-policy (dane: nothing connected), no
 *    host, null MX, and a temporary verdict whose top attempt never
 *    connected (other than the TLSA case above).
 * failure-details: receiving-mx-hostname a->host, receiving-ip a->ip,
 * sending-mta-ip the local address the kernel picks to reach a->ip (a UDP
 * socket connect()ed, nothing sent; "" when that fails),
 * failure-reason-code a->reason (or v->reason) as printable ASCII, cut to
 * TLSRPT_REASONLEN - 1 bytes.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "text.h"
#include "tlsrpt_int.h"
#include "xalloc.h"

static pthread_mutex_t	 tlsrpt_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tlsrpt_store tlsrpt_mem;	/* counted since the last save */

static const char *const tlsrpt_named[] = {
	"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid",
	"dnssec-invalid"
};

static const char *
map_named(const struct verdict *v, const struct attempt *a)
{
	size_t	i;

	for (i = 0; i < sizeof(tlsrpt_named) / sizeof(char *); i++)
		if (strstr(v->reason, tlsrpt_named[i]) != NULL ||
		    (a != NULL && strstr(a->reason, tlsrpt_named[i]) != NULL))
			return tlsrpt_named[i];
	return NULL;
}

static const char *
map_cert(const struct attempt *a)
{
	const char	*r = a->cert.reason ? a->cert.reason : "";

	if (strcmp(r, "expired") == 0 || strcmp(r, "not-yet-valid") == 0)
		return "certificate-expired";
	if (a->dane)
		return strcmp(r, "name-mismatch") == 0 ?
		    "certificate-host-mismatch" : "tlsa-invalid";
	if (a->cert_checked && !a->cert.valid)
		return strcmp(r, "untrusted") == 0 ||
		    strcmp(r, "revoked") == 0 ||
		    strcmp(r, "bad-signature") == 0 ||
		    strcmp(r, "weak-crypto") == 0 ||
		    strcmp(r, "no-certificate") == 0 ?
		    "certificate-not-trusted" : "validation-failure";
	if (a->ident_checked && !a->id.matched)
		return "certificate-host-mismatch";
	return "validation-failure";
}

/* The result type of a failed session, or NULL: not a session. */
/* An MTA-STS policy could not be had and none applied (a cached one that
 * applied after a failed refetch makes the session count by its result). */
static int
map_sts_failed(const struct verdict *v)
{
	return v->sts_rpt != NULL &&
	    (v->policy == NULL || strcmp(v->policy, "sts") != 0);
}

static const char *
map_failure(const struct verdict *v, const struct attempt *a)
{
	const char	*named = map_sts_failed(v) ? v->sts_rpt :
			    map_named(v, a);

	if (named != NULL)
		return named;
	if (a == NULL)
		return NULL;
	if (a->temporary && a->stage == STAGE_DNS && a->tlsa_secure == 0 &&
	    strncmp(a->reason, "TLSA ", 5) == 0)
		return "dnssec-invalid";
	if (a->no_dane)
		return "dane-required";
	if (!a->connected)
		return NULL;
	if (!a->tls)
		return a->starttls_offered ? "validation-failure" :
		    "starttls-not-supported";
	return map_cert(a);
}

static int
map_success(const struct verdict *v)
{
	return v->outcome == OUTCOME_VERIFIED ||
	    v->outcome == OUTCOME_ENCRYPTED ||
	    (v->outcome == OUTCOME_UNVERIFIED && v->action == ACTION_ACCEPT);
}

/* The local address used to reach ip ("" when unknown). */
static void
map_sending_ip(const char *ip, char *out, size_t len)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl = sizeof(ss);
	int			 fd = -1, fam;

	out[0] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		fam = s4->sin_family = AF_INET;
		s4->sin_port = htons(9);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		fam = s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(9);
		sl = sizeof(*s6);
	} else
		return;
	if ((fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &(socklen_t){ sizeof(ss) })
	    == 0)
		(void)inet_ntop(fam, fam == AF_INET ? (void *)&s4->sin_addr :
		    (void *)&s6->sin6_addr, out, (socklen_t)len);
	close(fd);
}

static void
map_detail(const struct verdict *v, const struct attempt *a,
    const char *res, struct tlsrpt_detail *d)
{
	const char	*why = a != NULL && a->reason[0] ? a->reason : v->reason;

	(void)snprintf(d->result, sizeof(d->result), "%s", res);
	(void)text_printable(d->reason, sizeof(d->reason), why, strlen(why),
	    NULL);
	if (a == NULL)
		return;
	if (name_is_hostname(a->host, strlen(a->host)))
		(void)snprintf(d->mx, sizeof(d->mx), "%s", a->host);
	if (a->ip[0] != '\0') {
		(void)snprintf(d->ip, sizeof(d->ip), "%s", a->ip);
		map_sending_ip(a->ip, d->sip, sizeof(d->sip));
	}
}

void
tlsrpt_count(const struct conf *c, const struct verdict *v)
{
	struct tlsrpt_session	 s;
	const struct attempt	*a = NULL;
	const char		*res = NULL;
	int			 ok;

	if (c == NULL || c->tlsrpt_spool == NULL || v == NULL ||
	    !name_is_hostname(v->domain, strlen(v->domain)))
		return;
	if (v->best >= 0 && (size_t)v->best < v->n_attempts)
		a = &v->attempts[v->best];
	ok = map_success(v) && !map_sts_failed(v);
	if (!ok && (res = map_failure(v, a)) == NULL)
		return;
	memset(&s, 0, sizeof(s));
	s.day = (long)time(NULL) / TLSRPT_DAY * TLSRPT_DAY;
	s.domain = v->domain;
	s.type = v->policy == NULL ? TLSRPT_NOPOLICY :
	    strcmp(v->policy, "dane") == 0 ? TLSRPT_TLSA :
	    strcmp(v->policy, "sts") == 0 ? TLSRPT_STS : TLSRPT_NOPOLICY;
	if (a != NULL && a->dane)
		s.type = TLSRPT_TLSA;
	else if (map_sts_failed(v))	/* a policy that could not be had */
		s.type = TLSRPT_STS;
	if (s.type == TLSRPT_TLSA && a != NULL && a->tlsa[0] != '\0')
		s.pstr = a->tlsa;
	if (!ok)
		map_detail(v, a, res, &s.d);
	pthread_mutex_lock(&tlsrpt_mu);
	tlsrpt_store_add(&tlsrpt_mem, &s, ok ? 1 : 0, ok ? 0 : 1);
	pthread_mutex_unlock(&tlsrpt_mu);
}

time_t
tlsrpt_now(void)
{
	const char	*s = getenv("TLSVERIFY_TLSRPT_NOW");
	char		*end;
	long long	 t;

	if (s == NULL || *s < '0' || *s > '9')
		return time(NULL);
	t = strtoll(s, &end, 10);
	return *end == '\0' && t > 0 ? (time_t)t : time(NULL);
}

/* The counts since the last save, handed to the caller (memory emptied). */
void
tlsrpt_mem_take(struct tlsrpt_store *out)
{
	pthread_mutex_lock(&tlsrpt_mu);
	*out = tlsrpt_mem;
	memset(&tlsrpt_mem, 0, sizeof(tlsrpt_mem));
	pthread_mutex_unlock(&tlsrpt_mu);
}

/* Counts that could not be saved go back to memory. */
void
tlsrpt_mem_return(const struct tlsrpt_store *st)
{
	pthread_mutex_lock(&tlsrpt_mu);
	tlsrpt_store_merge(&tlsrpt_mem, st);
	pthread_mutex_unlock(&tlsrpt_mu);
}
