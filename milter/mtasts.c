/*
 * mtasts.c - which MTA-STS policy applies to a domain now (RFC 8461 3, 5;
 * SPEC 12); API in mtasts.h.
 *
 * mtasts_open() builds the HTTPS client's SSL_CTX and the cache;
 * mtasts_policy() runs discovery (TXT _mta-sts.DOMAIN), decides between
 * the cached policy and a fetch (mtasts_fetch.c, parsed by
 * mtasts_parse.c), stores what it fetched (mtasts_cache.c) and says in
 * out->reason why. The rules:
 *   - TXT temporary failure (SERVFAIL, timeout, malformed answer): the
 *     cached unexpired policy, else MTASTS_TEMP.
 *   - No TXT, no "v=STSv1" record, two or more, or one that is malformed:
 *     no live record: the cached unexpired policy, else no policy.
 *   - One valid record: the cached policy when its id is the record's and
 *     it has not expired; else a fetch. A fetch that fails (or a policy
 *     that does not parse) falls back to the cached unexpired policy,
 *     else no policy; out->rpt names the failure in both cases. A fetch
 *     cut by the caller's deadline without a cached policy is MTASTS_TEMP.
 * A policy of mode "none" is a policy (MTASTS_POLICY, mode none): the
 * caller treats it as no policy but may report its id.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>

#include "mtasts_int.h"
#include "xalloc.h"

static int
mtasts_load_ca(SSL_CTX *ssl, const struct conf *c)
{
	if (c->mtasts_ca_file != NULL)
		return SSL_CTX_load_verify_locations(ssl, c->mtasts_ca_file,
		    NULL);
	if (c->ca_file != NULL || c->ca_path != NULL)
		return SSL_CTX_load_verify_locations(ssl, c->ca_file,
		    c->ca_path);
	return SSL_CTX_set_default_verify_paths(ssl);
}

struct mtasts_ctx *
mtasts_open(const struct conf *conf, char *err, size_t errlen)
{
	struct mtasts_ctx	*ctx = xcalloc(1, sizeof(*ctx));

	ctx->conf = conf;
	ctx->port = conf->mtasts_port ? conf->mtasts_port : 443;
	ctx->timeout = conf->mtasts_timeout ? conf->mtasts_timeout : 10;
	if ((ctx->ssl = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION) != 1 ||
	    mtasts_load_ca(ctx->ssl, conf) != 1) {
		(void)snprintf(err, errlen, "MTA-STS: cannot load the trust "
		    "anchors (%s)", conf->mtasts_ca_file != NULL ?
		    conf->mtasts_ca_file : conf->ca_file != NULL ?
		    conf->ca_file : "system store");
		SSL_CTX_free(ctx->ssl);
		free(ctx);
		ERR_clear_error();
		return NULL;
	}
	SSL_CTX_set_verify(ctx->ssl, SSL_VERIFY_PEER, NULL);
	mtasts_cache_init(&ctx->cache, conf->mtasts_cache_file);
	return ctx;
}

void
mtasts_close(struct mtasts_ctx *ctx)
{
	if (ctx == NULL)
		return;
	mtasts_cache_done(&ctx->cache);
	SSL_CTX_free(ctx->ssl);
	free(ctx);
}

void
mtasts_result_free(struct mtasts_result *r)
{
	if (r != NULL)
		mtasts_policy_free(&r->policy);
}

static void
res_reason(struct mtasts_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
res_reason(struct mtasts_result *r, const char *fmt, ...)
{
	va_list	ap;
	size_t	i;

	va_start(ap, fmt);
	(void)vsnprintf(r->reason, sizeof(r->reason), fmt, ap);	/* cut ok */
	va_end(ap);
	for (i = 0; r->reason[i] != '\0'; i++)
		if ((unsigned char)r->reason[i] < 0x20 ||
		    (unsigned char)r->reason[i] > 0x7e)
			r->reason[i] = '?';
}

/*
 * Discovery: 1 and id for exactly one valid record, 0 for no live record
 * (why says which), -1 for a temporary failure.
 */
static int
sts_discover(struct dns_ctx *dns, const char *qname, char *id,
    char *why, size_t wlen)
{
	struct dns_txt	*t;
	size_t		 n, i, sts = 0;
	int		 r, ok = 0;
	enum dns_status	 st;

	st = dns_txt(dns, qname, &t, &n);
	if (st == DNS_TEMP || st == DNS_INVALID) {
		(void)snprintf(why, wlen, "TXT %s: %s", qname,
		    dns_last_error(dns));
		return -1;
	}
	if (st != DNS_OK) {
		(void)snprintf(why, wlen, "no TXT record at %s", qname);
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((r = mtasts_parse_txt(t[i].text, t[i].len, id,
		    MTASTS_ID_MAXLEN + 1)) != 0) {
			sts++;
			ok = r == 1;
		}
	dns_txt_free(t, n);
	if (sts == 1 && ok)
		return 1;
	if (sts == 0)
		(void)snprintf(why, wlen, "no v=STSv1 TXT record at %s", qname);
	else if (sts > 1)
		(void)snprintf(why, wlen, "%zu v=STSv1 TXT records at %s (RFC "
		    "8461 3.1: none applies)", sts, qname);
	else
		(void)snprintf(why, wlen, "malformed v=STSv1 TXT record at %s",
		    qname);
	return 0;
}

static enum mtasts_status
res_policy(struct mtasts_result *r, const struct mtasts_entry *e,
    int from_cache)
{
	mtasts_policy_copy(&r->policy, &e->policy);
	(void)snprintf(r->id, sizeof(r->id), "%s", e->id);
	r->from_cache = from_cache;
	r->fetched_at = e->fetched_at;
	r->expires = e->expires;
	return r->status = MTASTS_POLICY;
}

/* Fetch and parse; 0 and *e filled, or -1 with r->rpt and r->reason. */
static int
sts_fetch(struct mtasts_ctx *ctx, struct dns_ctx *dns, const char *domain,
    const char *id, const struct deadline *dl, struct trace *trace,
    struct mtasts_result *r, struct mtasts_entry *e, int *temp)
{
	struct mtasts_fetched	f;
	char			err[256];

	*temp = 0;
	if (mtasts_fetch(ctx, dns, domain, dl, trace, &f) == -1) {
		r->rpt = f.rpt;
		*temp = f.temp;
		res_reason(r, "policy fetch failed: %s", f.reason);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	if (mtasts_parse_policy(f.body, f.len, &e->policy, err,
	    sizeof(err)) == -1) {
		free(f.body);
		r->rpt = "sts-policy-invalid";
		res_reason(r, "policy invalid: %s", err);
		trace_add(trace, "MTA-STS policy of %s: invalid: %s", domain,
		    err);
		return -1;
	}
	free(f.body);
	(void)snprintf(e->domain, sizeof(e->domain), "%s", domain);
	(void)snprintf(e->id, sizeof(e->id), "%s", id);
	e->fetched_at = time(NULL);
	e->expires = e->fetched_at + (time_t)e->policy.max_age;
	return 0;
}

static enum mtasts_status
sts_live(struct mtasts_ctx *ctx, struct dns_ctx *dns, const char *domain,
    const char *id, const struct deadline *dl, struct trace *trace,
    struct mtasts_entry *cached, int live, struct mtasts_result *r)
{
	struct mtasts_entry	e;
	char			err[256], prev[sizeof(r->reason)];
	int			temp;

	if (live && strcmp(cached->id, id) == 0) {
		res_reason(r, "policy id %s from the cache, valid until %lld",
		    id, (long long)cached->expires);
		return res_policy(r, cached, 1);
	}
	if (sts_fetch(ctx, dns, domain, id, dl, trace, r, &e, &temp) == -1) {
		(void)snprintf(prev, sizeof(prev), "%s", r->reason);
		if (live) {
			res_reason(r, "%s; cached policy id %s used", prev,
			    cached->id);
			return res_policy(r, cached, 1);
		}
		res_reason(r, "%s; no cached policy", prev);
		return r->status = temp ? MTASTS_TEMP : MTASTS_NOPOLICY;
	}
	if (mtasts_cache_put(&ctx->cache, &e, err, sizeof(err)) == -1)
		trace_add(trace, "MTA-STS cache: not written: %s", err);
	res_reason(r, "policy id %s fetched (mode %s, max_age %lu)", id,
	    mtasts_mode_str(e.policy.mode), e.policy.max_age);
	res_policy(r, &e, 0);
	mtasts_entry_free(&e);
	return MTASTS_POLICY;
}

static enum mtasts_status
sts_decide(struct mtasts_ctx *ctx, struct dns_ctx *dns, const char *domain,
    const struct deadline *dl, struct trace *trace, struct mtasts_result *r)
{
	struct mtasts_entry	cached;
	char			qname[NAME_BUFLEN + 16], id[MTASTS_ID_MAXLEN + 1];
	char			why[384];
	int			have, live, d;
	enum mtasts_status	st;

	(void)snprintf(qname, sizeof(qname), "_mta-sts.%s", domain);
	if (!name_is_hostname(domain, strlen(domain)) ||
	    !name_is_hostname(qname, strlen(qname))) {
		res_reason(r, "invalid domain");
		return r->status = MTASTS_NOPOLICY;
	}
	memset(&cached, 0, sizeof(cached));
	have = mtasts_cache_get(&ctx->cache, domain, &cached, trace);
	live = have && cached.expires > time(NULL);
	d = sts_discover(dns, qname, id, why, sizeof(why));
	if (d == 1)
		st = sts_live(ctx, dns, domain, id, dl, trace, &cached, live,
		    r);
	else if (live) {
		res_reason(r, "%s; cached policy id %s used (valid until %lld)",
		    why, cached.id, (long long)cached.expires);
		st = res_policy(r, &cached, 1);
	} else {
		res_reason(r, "%s%s", why, have ? "; cached policy expired" :
		    "");
		st = r->status = d == -1 ? MTASTS_TEMP : MTASTS_NOPOLICY;
	}
	mtasts_entry_free(&cached);
	return st;
}

enum mtasts_status
mtasts_policy(struct mtasts_ctx *ctx, struct dns_ctx *dns, const char *domain,
    const struct deadline *dl, struct trace *trace, struct mtasts_result *r)
{
	struct dns_ctx		*own = NULL;
	char			 err[256];
	enum mtasts_status	 st;

	memset(r, 0, sizeof(*r));
	if (dns == NULL) {
		if ((own = dns_open(ctx->conf, err, sizeof(err))) == NULL) {
			res_reason(r, "%s", err);
			return r->status = MTASTS_TEMP;
		}
		dns_set_deadline(own, dl);
		dns_set_trace(own, trace);
		dns = own;
	}
	st = sts_decide(ctx, dns, domain, dl, trace, r);
	trace_add(trace, "MTA-STS %s: %s%s%s: %s", domain,
	    mtasts_status_str(st), st == MTASTS_POLICY ? " " : "",
	    st == MTASTS_POLICY ? mtasts_mode_str(r->policy.mode) : "",
	    r->reason);
	dns_close(own);
	return st;
}
