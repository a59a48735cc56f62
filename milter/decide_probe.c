/*
 * decide_probe.c - one probe for the verdict cache: run the engine, count
 * the session for TLS-RPT, and make the cache answer (decide_int.h).
 *
 * A verified answer also records, for the policy service (SPEC 10), the
 * names a delivery may be checked against (the recipient domain and every
 * reference identifier of the verified host that the certificate's names
 * match as Postfix compares them: dNSNames when there is one, else the
 * CN), and, when that list would not let Postfix accept the certificate
 * the probe verified (the match used the CN of a certificate with
 * dNSNames), the SHA-256 digest of its public key. Under the settings of
 * SPEC 12 pol holds the Postfix level the verdict allows instead (fpr and
 * cn stay empty): "dane-only" when the top host was authenticated by its
 * TLSA records, "dane" when it had secure TLSA all unusable (or, under
 * dane, none); under mta-sts and auto, when the top host was not judged
 * by TLSA, "secure" with match the enforced MTA-STS policy's mx patterns
 * in Postfix's words ("*.example.net" as ".example.net", ':'-separated),
 * and "may" for a testing or none policy or no policy. A pattern list
 * longer than DECIDE_MATCHLEN leaves pol empty (the policy service then
 * answers TEMP: a cut list would be a different policy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "decide_int.h"
#include "log.h"
#include "report.h"
#include "tlsrpt.h"

#define DECIDE_MATCHLEN		2048

/* --- what a verified answer tells the policy service ---------------------- */

/* Would Postfix accept name for this certificate (dNSNames, else CN)? */
static int
decide_pf_match(const struct presented *pr, const char *name)
{
	char	**ids = pr->n_dns + pr->n_rejected_dns > 0 ? pr->dns : pr->cn;
	size_t	  n = pr->n_dns + pr->n_rejected_dns > 0 ? pr->n_dns : pr->n_cn,
		  i;

	for (i = 0; i < n; i++)
		if (ident_match(ids[i], name))
			return 1;
	return 0;
}

/* Is name an entry of the ':'-separated list? */
static int
decide_listed(const char *list, const char *name)
{
	size_t		 nl = strlen(name), l;
	const char	*p, *e;

	for (p = list; *p != '\0'; p = e + 1) {
		e = strchr(p, ':');
		l = e != NULL ? (size_t)(e - p) : strlen(p);
		if (l == nl && strncmp(p, name, nl) == 0)
			return 1;
		if (e == NULL)
			break;
	}
	return 0;
}

static void
decide_add_name(char *buf, size_t len, const char *name)
{
	size_t	used = strlen(buf);

	if (*name == '\0' || decide_listed(buf, name) ||
	    used + strlen(name) + 2 > len)
		return;
	(void)snprintf(buf + used, len - used, "%s%s", used ? ":" : "", name);
}

/* The enforced MTA-STS policy's patterns for Postfix's "match=":
 * "*.example.net" is ".example.net" there. 0, or -1 when they do not fit. */
static int
decide_sts_match(const struct mtasts_policy *pol, char *buf, size_t len)
{
	size_t		 i, used = 0;
	const char	*m;
	int		 n;

	buf[0] = '\0';
	for (i = 0; i < pol->nmx; i++) {
		m = pol->mx[i];
		if (m[0] == '*' && m[1] == '.')
			m++;
		n = snprintf(buf + used, len - used, "%s%s", i ? ":" : "", m);
		if (n < 0 || (size_t)n >= len - used) {
			buf[0] = '\0';
			return -1;
		}
		used += (size_t)n;
	}
	return 0;
}

/* SPEC 12's settings: pol (and match for an enforced MTA-STS policy). */
static void
decide_policy_level(const struct verdict *v, char *match, size_t mlen,
    char *pol, size_t plen)
{
	const struct attempt	*a = v->best >= 0 ? &v->attempts[v->best] :
				    NULL;

	if (v->action != ACTION_ACCEPT && v->action != ACTION_TAG)
		return;
	if (v->policy != NULL && strcmp(v->policy, "dane") == 0) {
		if (v->action == ACTION_ACCEPT)
			(void)snprintf(pol, plen, "%s", v->outcome ==
			    OUTCOME_VERIFIED ? "dane-only" : "dane");
		return;
	}
	if (v->setting == TLS_DANE || v->setting == TLS_DANE_ONLY) {
		if (v->action == ACTION_ACCEPT)
			(void)snprintf(pol, plen, "dane");
		return;
	}
	if (v->sts_found && v->sts.mode == MTASTS_MODE_ENFORCE &&
	    a != NULL && a->sts) {
		if (v->action == ACTION_ACCEPT &&
		    decide_sts_match(&v->sts, match, mlen) == 0)
			(void)snprintf(pol, plen, "secure");
		return;
	}
	(void)snprintf(pol, plen, "may");	/* testing, none, no policy */
}

static void
decide_policy_data(const struct verdict *v, char *match, size_t mlen,
    char *fpr, size_t flen, char *cn, size_t clen, char *pol, size_t plen)
{
	const struct attempt	*a;
	size_t			 i;
	int			 ok = 0;

	match[0] = fpr[0] = cn[0] = pol[0] = '\0';
	if (v->setting == TLS_DANE || v->setting == TLS_DANE_ONLY ||
	    v->setting == TLS_MTA_STS || v->setting == TLS_AUTO) {
		decide_policy_level(v, match, mlen, pol, plen);
		return;
	}
	if (v->outcome != OUTCOME_VERIFIED || v->best < 0)
		return;
	a = &v->attempts[v->best];
	if (!a->verified || !a->ident_checked)
		return;
	decide_add_name(match, mlen, v->domain);
	decide_add_name(match, mlen, a->id.match.reference);
	for (i = 0; i < a->n_refs; i++)
		if (decide_pf_match(&a->pres, a->refs[i].name))
			decide_add_name(match, mlen, a->refs[i].name);
	if (a->id.match.type == IDENT_CN)
		(void)snprintf(cn, clen, "%s", a->id.match.presented);
	/* Postfix checks the list against dNSNames when there is one */
	ok = decide_pf_match(&a->pres, a->id.match.reference) ||
	    decide_pf_match(&a->pres, v->domain);
	if (!ok)
		(void)snprintf(fpr, flen, "%s", a->spki_sha256);
}

struct cache_answer *
decide_probe(struct decide_parg *h, const char *domain, long deadline_ms)
{
	struct verdict		*v;
	struct cache_answer	*a;
	enum cache_kind		 kind;
	char			 line[2048], hdr[HEADER_ENTRYLEN];
	char			 match[DECIDE_MATCHLEN], fpr[CERT_FPRLEN];
	char			 cn[NAME_BUFLEN], pol[16];
	const char		*str[CA_NSTR];

	v = engine_probe_ms(h->g->engine, domain, (int)h->setting, 0,
	    deadline_ms);
	if (v == NULL) {
		str[CA_TEXT] = "internal error while probing the destination";
		str[CA_LOG] = "result=unknown action=defer "
		    "reason=\"internal error\"";
		str[CA_HDR] = str[CA_MATCH] = str[CA_FPR] = str[CA_CN] =
		    str[CA_POL] = NULL;
		return cache_answer_new(CACHE_TEMP, ACTION_DEFER, "451",
		    "4.3.0", str);
	}
	verdict_decide(v, h->g->conf->on_fail);
	tlsrpt_count(h->g->conf, v);	/* SPEC 12: a TLS-RPT session */
	if (v->temporary || v->outcome == OUTCOME_TEMP)
		kind = CACHE_TEMP;
	else if (v->action == ACTION_ACCEPT)
		kind = CACHE_OK;
	else
		kind = CACHE_FAILED;
	report_logfields(v, line, sizeof(line));
	hdr[0] = '\0';			/* only accepted recipients get one */
	if (v->action == ACTION_ACCEPT || v->action == ACTION_TAG)
		(void)header_entry(v, hdr, sizeof(hdr));
	decide_policy_data(v, match, sizeof(match), fpr, sizeof(fpr), cn,
	    sizeof(cn), pol, sizeof(pol));
	str[CA_TEXT] = v->text;
	str[CA_LOG] = line;
	str[CA_HDR] = hdr;
	str[CA_MATCH] = match;
	str[CA_FPR] = fpr;
	str[CA_CN] = cn;
	str[CA_POL] = pol;
	a = cache_answer_new(kind, (int)v->action, v->code, v->xcode, str);
	log_debug("probe %s done in %ld ms: %s", domain, v->elapsed_ms, line);
	verdict_free(v);
	return a;
}
