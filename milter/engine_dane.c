/*
 * engine_dane.c - the host loop of the dane, dane-only, mta-sts and auto
 * settings (SPEC 12, RFC 7672), beside engine.c's (see engine_int.h).
 *
 * Per target, in MX (or route) order:
 *  - a host whose TLSA lookup is not trustworthy as a whole -- DNSSEC not
 *    on, an IP route, an MX answer (or the implicit MX's NODATA) that was
 *    not validated, an A/AAAA answer of the host that was not validated --
 *    has no DANE: no TLSA is asked for;
 *  - else TLSA _PORT._tcp.HOST is asked: a temporary failure or a bogus
 *    answer (the validating resolver's SERVFAIL) makes the attempt
 *    temporary (451 4.4.3 when it decides), never a fallback; an answer
 *    without AD, NODATA or NXDOMAIN means no TLSA;
 *  - no TLSA: under dane the host is opportunistic ("no-policy": accepted
 *    as preferred, not connected) -- but only when no earlier host was
 *    left unjudged for a temporary reason, so that a bogus or unreachable
 *    DNSSEC host is never skipped for a weaker one; under dane-only the
 *    host fails (x.7.5), without a connection;
 *  - secure TLSA, none usable: TLS is required without authentication
 *    ("encrypted");
 *  - usable TLSA: the session is judged by OpenSSL's DANE (dane.c): a
 *    DANE-EE(3) match needs no name and ignores the dates; a DANE-TA(2)
 *    match needs the leaf to match the MX (or route) host name or the
 *    recipient domain (dNSNames, the CN only when there is none), checked
 *    by OpenSSL and again by ident.c (IDENT_HOSTED), which also reports
 *    the name that matched.
 * The first host that satisfies the setting ends the probe.
 * Under mta-sts and auto, a host without secure TLSA (for every reason
 * above, [dns] dnssec off included) is judged by engine_sts.c instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "engine_int.h"
#include "xalloc.h"

/* NULL when t's TLSA may be trusted, else why not. */
static const char *
engine_dane_insecure(const struct probe *p, const struct target *t)
{
	if (!p->e->conf->dnssec)
		return "[dns] dnssec is off";
	if (t->via == VIA_ROUTE_IP)
		return "a route given as an IP address has no TLSA name";
	if ((t->via == VIA_MX || t->via == VIA_IMPLICIT) && !p->tl.mx_secure)
		return "the MX answer was not validated by DNSSEC";
	if (!t->secure)
		return "the host's address answer was not validated by DNSSEC";
	return NULL;
}

/* A host without secure TLSA: opportunistic (dane) or failed (dane-only). */
static struct attempt *
engine_dane_none(struct probe *p, const struct target *t, const char *why)
{
	struct attempt	*a;

	if (p->v->setting == TLS_MTA_STS || p->v->setting == TLS_AUTO)
		return engine_sts_host(p, t, why);	/* engine_sts.c */
	a = engine_new_attempt(p, t);
	if (p->v->setting == TLS_DANE) {
		a->no_policy = 1;
		(void)snprintf(a->reason, sizeof(a->reason), "no DANE for %s "
		    "(%s): opportunistic TLS, as preferred", t->host, why);
	} else {
		a->no_dane = 1;
		(void)snprintf(a->reason, sizeof(a->reason), "dane-only: no "
		    "usable DNSSEC-validated TLSA for %s (%s)", t->host, why);
	}
	trace_add(p->tr, "%s", a->reason);
	a->trace_to = p->tr ? p->tr->n : 0;
	return a;
}

static struct attempt *
engine_dane_tlsa_temp(struct probe *p, const struct target *t,
    const char *q, enum dns_status st)
{
	struct attempt	*a = engine_new_attempt(p, t);

	a->stage = STAGE_DNS;
	a->temporary = 1;
	(void)snprintf(a->reason, sizeof(a->reason), "TLSA %s: %s (%s): "
	    "no fallback to weaker checking", q, dns_status_str(st),
	    dns_last_error(p->dns));
	a->trace_to = p->tr ? p->tr->n : 0;
	return a;
}

/* One host under dane / dane-only (its trace lines from from on, the
 * first one being the attempt's title line that reports leave out). */
static struct attempt *
engine_dane_host1(struct probe *p, const struct target *t)
{
	char		 q[NAME_BUFLEN + 16];
	struct dns_tlsa	*r = NULL;
	struct dane_set	 ds;
	struct attempt	*a;
	size_t		 n = 0;
	int		 secure = 0;
	enum dns_status	 st;
	const char	*why;

	if ((why = engine_dane_insecure(p, t)) != NULL)
		return engine_dane_none(p, t, why);
	(void)snprintf(q, sizeof(q), "_%u._tcp.%s", t->port, t->host);
	st = dns_tlsa(p->dns, q, &r, &n, &secure);
	if (st == DNS_TEMP || st == DNS_INVALID)
		return engine_dane_tlsa_temp(p, t, q, st);
	if (st != DNS_OK || !secure) {
		free(r);
		return engine_dane_none(p, t, st == DNS_OK ?
		    "the TLSA answer was not validated" : "no TLSA records");
	}
	dane_set_init(&ds, r, n, t->host, p->v->domain);
	trace_add(p->tr, "DANE %s: %zu TLSA record(s), %zu usable%s", t->host,
	    n, ds.n_usable, ds.n_usable ? "" : ": TLS required without "
	    "authentication (RFC 7672 2.2)");
	a = engine_attempt(p, t, &ds);
	a->tlsa_secure = 1;
	a->n_tlsa = n;
	a->n_usable = ds.n_usable;
	if (ds.n_usable == 0 && a->tls)
		(void)snprintf(a->reason, sizeof(a->reason), "TLS negotiated; "
		    "every TLSA record is unusable (PKIX-TA/PKIX-EE or "
		    "unknown): encrypted without authentication");
	free(r);
	return a;
}

static struct attempt *
engine_dane_host(struct probe *p, const struct target *t)
{
	size_t		 from = p->tr ? p->tr->n : 0;
	struct attempt	*a;

	if (!t->resolved)
		return engine_attempt(p, t, NULL);	/* no address */
	trace_add(p->tr, "DANE attempt %zu: %s", p->v->n_attempts + 1,
	    t->host);
	a = engine_dane_host1(p, t);
	a->trace_from = from;
	return a;
}

/* Does the attempt satisfy the setting? temp_before: an earlier host could
 * not be judged. A host judged by an MTA-STS policy in testing mode ends
 * the probe whatever its result (the sender would deliver there). */
static int
engine_dane_ok(const struct probe *p, const struct attempt *a,
    int temp_before)
{
	if (a->verified)
		return 1;
	if (a->no_policy)
		return !temp_before;
	if (a->sts)
		return !temp_before && !a->temporary && p->v->sts_found &&
		    p->v->sts.mode == MTASTS_MODE_TESTING;
	return a->tlsa_secure && a->n_usable == 0 && a->tls;
}

void
engine_dane_iterate(struct probe *p)
{
	struct verdict	*v = p->v;
	struct attempt	*a;
	size_t		 i;
	int		 temp = 0;

	for (i = 0; i < p->tl.n; i++) {
		a = engine_dane_host(p, &p->tl.t[i]);
		if (engine_dane_ok(p, a, temp)) {
			v->best = (int)(a - v->attempts);
			v->outcome = a->verified ? OUTCOME_VERIFIED :
			    a->no_policy ? OUTCOME_NO_POLICY :
			    a->sts && a->connected && !a->tls ?
			    OUTCOME_NO_TLS : a->sts ? OUTCOME_UNVERIFIED :
			    OUTCOME_ENCRYPTED;
			if (a->no_policy)
				v->policy = NULL;
			(void)snprintf(v->reason, sizeof(v->reason), "%s",
			    a->reason);
			return;
		}
		if (a->no_policy)
			trace_add(p->tr, "not used: an earlier host could not "
			    "be judged (no fallback to weaker checking)");
		temp |= a->temporary;
	}
	if (p->tl.n_dropped)
		trace_add(p->tr, "%zu further addresses not tried (limit %d)",
		    p->tl.n_dropped, TARGET_MAX);
	engine_no_success(v, p->tl.n_dropped > 0 || temp);
}

/* DANE-TA: the leaf's names against the host name and the domain. */
static void
engine_dane_names(struct probe *p, const struct target *t, X509 *leaf,
    struct attempt *a)
{
	struct refid	refs[2];
	size_t		n = 0;

	if (ident_extract(leaf, &a->pres) != 0) {
		ident_presented_free(&a->pres);
		memset(&a->pres, 0, sizeof(a->pres));
		return;
	}
	a->ident_checked = 1;
	refs[n].name = p->v->domain;
	refs[n++].source = REF_DOMAIN;
	if (strcmp(t->host, p->v->domain) != 0) {
		refs[n].name = t->host;
		refs[n++].source = t->via == VIA_ROUTE_HOST ? REF_ROUTE :
		    REF_MX;
	}
	(void)ident_check(&a->pres, refs, n, IDENT_HOSTED, &a->id);
}

void
engine_dane_judge(struct probe *p, const struct target *t,
    struct smtp_result *sr, struct attempt *a, const struct dane_set *ds)
{
	const struct dane_result *d = &sr->dane;
	const struct dns_tlsa	 *m = d->index >= 0 ? &ds->r[d->index] : NULL;
	int			  ok = d->depth >= 0 && m != NULL;

	a->dane = 1;
	a->cert_checked = 1;
	a->cert.x509_error = d->verify;
	a->cert.reason = dane_error_word(d->verify);
	(void)snprintf(a->cert.detail, sizeof(a->cert.detail), "%s",
	    X509_verify_cert_error_string(d->verify));
	a->cert.revocation = "not-checked";
	cert_spki_sha256(sr->leaf, a->spki_sha256);
	if (ok)
		dane_tlsa_text(m, a->tlsa, sizeof(a->tlsa));
	if (ok && m->usage == 2) {
		engine_dane_names(p, t, sr->leaf, a);
		ok = a->ident_checked && a->id.matched;
		if (!ok)
			a->cert.reason = "name-mismatch";
	}
	a->cert.valid = ok;
	a->verified = ok;
	a->stage = ok ? STAGE_DONE : STAGE_CERTIFICATE;
	if (ok)
		(void)snprintf(a->reason, sizeof(a->reason), "verified by "
		    "DANE: TLSA %.40s%s matched at depth %d%s%s", a->tlsa,
		    strlen(a->tlsa) > 40 ? "..." : "", d->depth,
		    a->ident_checked ? "; name " : "",
		    a->ident_checked ? a->id.match.reference : "");
	else
		(void)snprintf(a->reason, sizeof(a->reason), "DANE "
		    "authentication failed: %s (%s; %zu usable TLSA "
		    "record(s))", a->cert.reason, a->cert.detail,
		    ds->n_usable);
	trace_add(p->tr, "DANE: %s", a->reason);
}
