/*
 * engine.c - the verification engine: one call judges one domain.
 *
 * Data flows one way: destination table -> targets (DNS) -> SMTP/STARTTLS
 * -> Phase I (cert.c) -> reference identifiers (refs.c) -> Phase II
 * (ident.c) -> verdict (verdict.c). See engine.h for the API.
 *
 * Host iteration (SPEC 5): targets in order; the first that satisfies the
 * setting ends the probe (required: TLS negotiated; *-verify: verified).
 * When none does, the top attempt is the one that got furthest (TLS >
 * connected > not reached), the earliest among equals, and the verdict is
 * temporary when any attempt could not be judged for a temporary reason.
 * Targets left when the deadline passes are listed as not tried. Each
 * attempt is bounded by [probe] connect_timeout and command_timeout (smtp.h)
 * below the deadline, so a host that drops SYNs or never sends its banner
 * costs about that long and the next host is still tried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "deadline.h"
#include "dns.h"
#include "engine.h"
#include "engine_int.h"
#include "metrics.h"
#include "ident.h"
#include "name.h"
#include "refs.h"
#include "smtp.h"
#include "target.h"
#include "tlsctx.h"
#include "xalloc.h"

struct engine *
engine_new(const struct conf *conf, char *err, size_t errlen)
{
	struct engine		*e;
	SSL_CTX			*ssl;
	struct mtasts_ctx	*sts;

	if ((ssl = tlsctx_new(conf, err, errlen)) == NULL)
		return NULL;
	if ((sts = mtasts_open(conf, err, errlen)) == NULL) {
		SSL_CTX_free(ssl);
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	e->conf = conf;
	e->ssl = ssl;
	e->sts = sts;
	return e;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	SSL_CTX_free(e->ssl);
	mtasts_close(e->sts);
	free(e);
}

const struct conf *
engine_conf(const struct engine *e)
{
	return e->conf;
}

static int
engine_probes(enum tls_setting s)
{
	return s == TLS_REQUIRED || s == TLS_PREFERRED_VERIFY ||
	    s == TLS_REQUIRED_VERIFY || s == TLS_REQUIRED_VERIFY_HOSTED ||
	    s == TLS_DANE || s == TLS_DANE_ONLY || s == TLS_MTA_STS ||
	    s == TLS_AUTO;
}

static int
engine_satisfied(enum tls_setting s, const struct attempt *a)
{
	return s == TLS_REQUIRED ? a->tls : a->verified;
}

struct attempt *
engine_new_attempt(struct probe *p, const struct target *t)
{
	struct verdict	*v = p->v;
	struct attempt	*a;

	v->attempts = xreallocarray(v->attempts, v->n_attempts + 1,
	    sizeof(*v->attempts));
	a = &v->attempts[v->n_attempts++];
	memset(a, 0, sizeof(*a));
	(void)snprintf(a->host, sizeof(a->host), "%s", t->host);
	a->via = t->via;
	a->port = t->port;
	if (t->resolved)
		(void)conf_ipaddr_str(&t->ip, a->ip, sizeof(a->ip));
	a->stage = STAGE_CONNECT;
	a->trace_from = a->trace_to = p->tr ? p->tr->n : 0;
	return a;
}

/* Append "a, b, c" (at most len bytes in all) to buf. */
static void
engine_join(char *buf, size_t len, const char *prefix, char **names,
    size_t n)
{
	size_t	i, used;

	for (i = 0; i < n; i++) {
		used = strlen(buf);
		if (used + 1 >= len)
			return;
		(void)snprintf(buf + used, len - used, "%s%s%s",
		    i ? ", " : "", prefix, names[i]);
	}
}

static void
engine_ident_reason(struct attempt *a)
{
	char	pres[160] = "", refs[160] = "";
	size_t	i, used;

	engine_join(pres, sizeof(pres), "DNS:", a->pres.dns, a->pres.n_dns);
	if (a->pres.n_dns && a->pres.n_cn)
		(void)strncat(pres, ", ", sizeof(pres) - strlen(pres) - 1);
	engine_join(pres, sizeof(pres), "CN:", a->pres.cn, a->pres.n_cn);
	for (i = 0; i < a->n_refs; i++) {
		used = strlen(refs);
		if (used + 1 >= sizeof(refs))
			break;
		(void)snprintf(refs + used, sizeof(refs) - used, "%s%s:%s",
		    i ? ", " : "", ident_source_str(a->refs[i].source),
		    a->refs[i].name);
	}
	if (a->cert.valid)
		(void)snprintf(a->reason, sizeof(a->reason),
		    "no presented identifier matched (presented %s; "
		    "reference %s)", pres[0] ? pres : "none", refs);
	else
		(void)snprintf(a->reason, sizeof(a->reason),
		    "certificate %s; no presented identifier matched "
		    "(presented %s; reference %s)", a->cert.reason,
		    pres[0] ? pres : "none", refs);
}

/* Phase II on the reference identifiers gathered so far. */
static void
engine_compare(struct probe *p, struct attempt *a)
{
	struct refid	*refs;
	size_t		 i;

	refs = xcalloc(a->n_refs, sizeof(*refs));
	for (i = 0; i < a->n_refs; i++) {
		refs[i].name = a->refs[i].name;
		refs[i].source = a->refs[i].source;
	}
	(void)ident_check(&a->pres, refs, a->n_refs, p->mode, &a->id);
	free(refs);
}

/* Phase II: reference identifiers, then the comparison. */
static int
engine_identity(struct probe *p, const struct target *t, X509 *leaf,
    struct attempt *a)
{
	int	temp;

	memset(&a->pres, 0, sizeof(a->pres));
	if (ident_extract(leaf, &a->pres) != 0) {
		ident_presented_free(&a->pres);
		memset(&a->pres, 0, sizeof(a->pres));
		return 0;
	}
	a->ident_checked = 1;
	if (p->sts_names) {	/* MTA-STS: the MX host name (RFC 8461 4.2) */
		a->refs = xcalloc(1, sizeof(*a->refs));
		a->refs[0].name = xstrdup(t->host);
		a->refs[0].source = REF_MX;
		a->n_refs = 1;
		engine_compare(p, a);
		return 0;
	}
	temp = refs_build(p->dns, p->mode, p->v->domain, t, &p->tl, a);
	engine_compare(p, a);
	/* "verify": the PTR name is asked for only when the domain did not
	 * match and a CN could still match it (SPEC 4.1 step 2b) */
	if (!a->id.matched && p->mode == IDENT_VERIFY && a->pres.n_cn > 0) {
		temp |= refs_ptr(p->dns, t, a);
		engine_compare(p, a);
	}
	return temp;
}

/* Phase I and Phase II on a negotiated TLS session. */
static void
engine_judge(struct probe *p, const struct target *t,
    struct smtp_result *sr, struct attempt *a)
{
	struct cert_revopts ro = { p->e->conf, &p->dl, sr->ocsp, sr->ocsp_len,
			    p->tr };
	int	ref_temp;

	cert_check_rev(p->e->ssl, sr->leaf, sr->chain, &ro, &a->cert);
	a->cert_checked = 1;
	cert_spki_sha256(sr->leaf, a->spki_sha256);
	trace_add(p->tr, "certificate: %s%s%s (subject %s; issuer %s; "
	    "valid %s to %s)", a->cert.reason, a->cert.valid ? "" : ": ",
	    a->cert.valid ? "" : a->cert.detail, a->cert.subject,
	    a->cert.issuer,
	    a->cert.not_before, a->cert.not_after);
	ref_temp = engine_identity(p, t, sr->leaf, a);
	a->verified = a->cert.valid && a->id.matched;
	if (a->verified) {
		a->stage = STAGE_DONE;
		(void)snprintf(a->reason, sizeof(a->reason),
		    "verified: %s %s matches %s %s",
		    ident_type_str(a->id.match.type), a->id.match.presented,
		    ident_source_str(a->id.match.source),
		    a->id.match.reference);
		return;
	}
	a->stage = a->cert.valid ? STAGE_IDENTITY : STAGE_CERTIFICATE;
	if (!a->ident_checked)
		(void)snprintf(a->reason, sizeof(a->reason),
		    "certificate %s; its names could not be read",
		    a->cert.reason);
	else if (a->id.matched)
		(void)snprintf(a->reason, sizeof(a->reason),
		    "certificate %s%s%s (%s %s would match %s %s)",
		    a->cert.reason, a->cert.detail[0] ? ": " : "",
		    a->cert.detail, ident_type_str(a->id.match.type),
		    a->id.match.presented,
		    ident_source_str(a->id.match.source),
		    a->id.match.reference);
	else
		engine_ident_reason(a);
	/* A phase that could not be judged (revocation source or a PTR/MX
	 * lookup failed temporarily) makes the attempt temporary only when
	 * the other phase passed or could still pass: a certificate that
	 * failed Phase I for good, or names that cannot match, are a
	 * permanent answer whatever the other phase would have said. */
	if ((a->cert.temporary && (a->id.matched || ref_temp)) ||
	    (ref_temp && !a->id.matched && (a->cert.valid ||
	    a->cert.temporary)))
		a->temporary = 1;
}

/* One target: connect, STARTTLS, judge (see engine_int.h). */
struct attempt *
engine_attempt(struct probe *p, const struct target *t,
    const struct dane_set *ds)
{
	const struct conf	*conf = p->e->conf;
	struct attempt		*a = engine_new_attempt(p, t);
	struct smtp_limits	 lim = { (long)conf->connect_timeout * 1000L,
				    (long)conf->command_timeout * 1000L,
				    NULL };
	struct smtp_result	 sr;
	const char		*sni;

	trace_add(p->tr, "attempt %zu: %s [%s]:%u via %s", p->v->n_attempts,
	    t->host, a->ip[0] ? a->ip : "no address", t->port,
	    target_via_str(t->via));
	if (!t->resolved) {
		a->stage = STAGE_DNS;
		a->temporary = t->dns_status == DNS_TEMP ||
		    t->dns_status == DNS_INVALID;
		(void)snprintf(a->reason, sizeof(a->reason),
		    "no address for %s: %s", t->host, t->dns_reason[0] ?
		    t->dns_reason : dns_status_str(t->dns_status));
		goto out;
	}
	if (deadline_passed(&p->dl)) {
		a->temporary = 1;
		(void)snprintf(a->reason, sizeof(a->reason),
		    "not tried: probe deadline passed");
		goto out;
	}
	memset(&sr, 0, sizeof(sr));
	if (ds != NULL && ds->n_usable > 0)
		lim.dane = ds;
	sni = t->via == VIA_ROUTE_IP ? NULL : t->host;
	(void)smtp_probe(p->e->ssl, &t->ip, t->port, sni, conf->helo, &lim,
	    &p->dl, p->tr, &sr);
	a->connected = sr.connected;
	a->starttls_offered = sr.starttls_offered;
	a->tls = sr.tls;
	a->stage = sr.stage;
	a->temporary = sr.temporary;
	(void)snprintf(a->reason, sizeof(a->reason), "%s", sr.reason);
	(void)snprintf(a->tls_version, sizeof(a->tls_version), "%s",
	    sr.tls_version);
	(void)snprintf(a->cipher, sizeof(a->cipher), "%s", sr.cipher);
	if (sr.tls && sr.leaf != NULL && lim.dane != NULL)
		engine_dane_judge(p, t, &sr, a, ds);
	else if (sr.tls && sr.leaf != NULL && ds != NULL)
		a->stage = STAGE_DONE;	/* unusable TLSA: TLS is enough */
	else if (sr.tls && sr.leaf != NULL)
		engine_judge(p, t, &sr, a);
	else if (sr.tls) {
		a->stage = STAGE_CERTIFICATE;
		(void)snprintf(a->reason, sizeof(a->reason),
		    "server sent no certificate");
	}
	smtp_result_free(&sr);
out:
	a->trace_to = p->tr ? p->tr->n : 0;
	return a;
}

/* A dane-only host without usable TLSA, or an MX outside an MTA-STS
 * policy, was judged without a connection: it ranks with the hosts that
 * answered. */
static int
engine_rank(const struct attempt *a)
{
	return a->tls ? 2 : a->connected || a->no_dane || a->sts_nomatch ?
	    1 : 0;
}

/* No host satisfied the setting: the furthest attempt decides. Hosts left
 * untried (more than TARGET_MAX addresses) were not judged: temporary. */
void
engine_no_success(struct verdict *v, int untried)
{
	const struct attempt	*b;
	size_t			 i;
	int			 temp = untried;

	v->best = 0;
	for (i = 0; i < v->n_attempts; i++) {
		temp |= v->attempts[i].temporary;
		if (engine_rank(&v->attempts[i]) >
		    engine_rank(&v->attempts[v->best]))
			v->best = (int)i;
	}
	b = &v->attempts[v->best];
	if (temp)
		v->outcome = OUTCOME_TEMP;
	else if (b->tls)
		v->outcome = OUTCOME_UNVERIFIED;
	else if (b->connected)
		v->outcome = OUTCOME_NO_TLS;
	else if (b->no_dane || b->sts_nomatch)
		v->outcome = OUTCOME_UNVERIFIED;	/* x.7.5 (SPEC 12) */
	else
		v->outcome = OUTCOME_NO_HOST;
	(void)snprintf(v->reason, sizeof(v->reason), "%s%s", b->reason,
	    temp && !b->temporary ? " (another host could not be judged)" :
	    "");
}

/* Try every target in order until one satisfies the setting. */
static void
engine_iterate(struct probe *p)
{
	struct verdict	*v = p->v;
	struct attempt	*a;
	size_t		 i;

	if (v->setting == TLS_DANE || v->setting == TLS_DANE_ONLY ||
	    v->setting == TLS_MTA_STS || v->setting == TLS_AUTO) {
		engine_dane_iterate(p);
		return;
	}
	for (i = 0; i < p->tl.n; i++) {
		a = engine_attempt(p, &p->tl.t[i], NULL);
		if (engine_satisfied(v->setting, a)) {
			v->best = (int)(a - v->attempts);
			v->outcome = a->verified ? OUTCOME_VERIFIED :
			    OUTCOME_UNVERIFIED;
			(void)snprintf(v->reason, sizeof(v->reason), "%s",
			    a->reason);
			return;
		}
	}
	if (p->tl.n_dropped)
		trace_add(p->tr, "%zu further addresses not tried (limit %d)",
		    p->tl.n_dropped, TARGET_MAX);
	engine_no_success(v, p->tl.n_dropped > 0);
}

/* Only "hosted" through an IP route needs the MX names of a routed domain
 * (SPEC 4.2 c); any other routed domain is never looked up in MX (SPEC 5). */
static int
engine_has_ip_route(const struct conf *conf, const char *domain)
{
	const struct route_list *rl = conf_lookup_routes(conf, domain);
	size_t	i;

	for (i = 0; rl != NULL && i < rl->n; i++)
		if (rl->routes[i].is_ip)
			return 1;
	return 0;
}

/* The domain's own lookups: routes, MX, implicit MX, null MX. */
static int
engine_targets(struct probe *p)
{
	struct verdict	*v = p->v;
	int		 want_mx = p->mode == IDENT_HOSTED &&
			    engine_has_ip_route(p->e->conf, v->domain);

	if (target_build(p->dns, p->e->conf, v->domain, want_mx, &p->tl) != 0) {
		v->outcome = p->tl.status == DNS_NOTFOUND ||
		    p->tl.status == DNS_NODATA ? OUTCOME_NO_HOST : OUTCOME_TEMP;
		(void)snprintf(v->reason, sizeof(v->reason), "%s",
		    p->tl.reason[0] ? p->tl.reason :
		    dns_status_str(p->tl.status));
		return -1;
	}
	if (p->tl.null_mx) {
		v->outcome = OUTCOME_NULL_MX;
		(void)snprintf(v->reason, sizeof(v->reason),
		    "null MX: the domain accepts no mail");
		return -1;
	}
	if (p->tl.n == 0) {
		v->outcome = OUTCOME_NO_HOST;
		(void)snprintf(v->reason, sizeof(v->reason),
		    "no host to connect to");
		return -1;
	}
	return 0;
}

static void
engine_run(const struct engine *e, struct verdict *v, int flags, long ms)
{
	struct probe	p;
	char		err[256];

	memset(&p, 0, sizeof(p));
	p.e = e;
	p.v = v;
	p.tr = (flags & ENGINE_TRACE) ? &v->trace : NULL;
	p.mode = v->setting == TLS_REQUIRED_VERIFY_HOSTED ||
	    v->setting == TLS_MTA_STS || v->setting == TLS_AUTO ?
	    IDENT_HOSTED : IDENT_VERIFY;
	deadline_init(&p.dl, ms);
	/* the policy that applies unless dane falls back (engine_dane.c) */
	v->policy = v->setting == TLS_DANE || v->setting == TLS_DANE_ONLY ?
	    "dane" : v->setting == TLS_MTA_STS || v->setting == TLS_AUTO ?
	    NULL : "pkix";	/* mta-sts, auto: engine_sts_finish() */
	if ((p.dns = dns_open(e->conf, err, sizeof(err))) == NULL) {
		v->outcome = OUTCOME_TEMP;
		(void)snprintf(v->reason, sizeof(v->reason),
		    "resolver: %s", err);
		return;
	}
	dns_set_deadline(p.dns, &p.dl);
	dns_set_trace(p.dns, p.tr);
	if (engine_targets(&p) == 0) {
		engine_iterate(&p);
		if (v->setting == TLS_MTA_STS || v->setting == TLS_AUTO)
			engine_sts_finish(&p);
	}
	target_list_free(&p.tl);
	dns_close(p.dns);
}

static void
engine_setting(const struct engine *e, struct verdict *v, int setting)
{
	const char	*key = NULL;

	if (setting >= 0 && setting < TLS_SETTING_COUNT) {
		v->setting = (enum tls_setting)setting;
		key = "-s";
	} else
		v->setting = conf_lookup_setting(e->conf, v->domain, &key);
	(void)snprintf(v->setting_key, sizeof(v->setting_key), "%s",
	    key ? key : "none");
}

static long
engine_ms_since(const struct timespec *t0)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000L +
	    (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

struct verdict *
engine_probe_ms(const struct engine *e, const char *domain, int setting,
    int flags, long deadline_ms)
{
	struct verdict	*v = xcalloc(1, sizeof(*v));
	struct timespec	 t0;
	int		 valid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	v->best = -1;
	(void)snprintf(v->input, sizeof(v->input), "%s", domain);
	valid = name_to_alabel(domain, v->domain, sizeof(v->domain)) == 0 &&
	    !name_is_ip_literal(v->domain);
	if (!valid)	/* looked up as it is: its ASCII .parent entries */
		(void)name_lower(v->input, strlen(v->input), v->domain,
		    sizeof(v->domain));	/* input fits: same size */
	engine_setting(e, v, setting);
	if (!engine_probes(v->setting))
		v->outcome = OUTCOME_NOT_PROBED;
	else if (!valid) {
		v->outcome = OUTCOME_NO_HOST;
		(void)snprintf(v->reason, sizeof(v->reason),
		    "invalid domain name");
	} else {
		metrics_probe_start();
		engine_run(e, v, flags, deadline_ms);
		metrics_probe_end(engine_ms_since(&t0));
	}
	verdict_decide(v, e->conf->on_fail);
	v->elapsed_ms = engine_ms_since(&t0);
	return v;
}

struct verdict *
engine_probe(const struct engine *e, const char *domain, int setting,
    int flags)
{
	return engine_probe_ms(e, domain, setting, flags,
	    (long)e->conf->probe_timeout * 1000L);
}
