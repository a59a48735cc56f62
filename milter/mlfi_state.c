/*
 * mlfi_state.c - what the milter callbacks dispatch to (see mlfi.h): the
 * current generation and the verdict cache, per-connection and per-message
 * state, the judgement of one recipient, and the probe callback that runs
 * the engine for the cache.
 *
 * Recipient rules (SPEC 7): the domain is the part of {rcpt_addr} (or of
 * the RCPT argument) after the last '@', without <>; no '@' or an empty
 * domain is local: not judged. A {rcpt_mailer} in skip_mailers is not
 * judged. A domain that is not a valid host name (an address literal, an
 * IDN that IDNA2008 refuses, more than 511 bytes) is never probed: its
 * setting comes from its ASCII ".parent" entries or "default", and the
 * engine judges it at once as tlsverify-probe does: deferred or rejected
 * (4.1.2 / 5.1.2 per on_fail) under required*, tagged "no-host" under
 * preferred-verify.
 * none and preferred are accepted without a probe and without a header
 * entry. Everything else gets a verdict from the cache; when the probe
 * passes [probe] timeout, required* settings defer with 451 4.4.1 and
 * preferred-verify accepts with the result "unknown".
 *
 * Cache lifetimes: an answer whose action is accept (verified, or TLS under
 * "required") lives verified_ttl; a permanent answer that tags, defers or
 * rejects lives failed_ttl (so a fixed certificate is seen soon); a
 * temporary one tempfail_ttl. The probe itself may run MLFI_BG_FACTOR times
 * [probe] timeout (at most MLFI_BG_MAX_MS) in the background.
 *
 * The header lists the domains of accepted recipients only (a deferred or
 * rejected recipient does not receive this copy of the message), once each.
 */
#include <sys/stat.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "header.h"
#include "log.h"
#include "mlfi.h"
#include "name.h"
#include "report.h"
#include "text.h"
#include "verdict.h"
#include "xalloc.h"

#define MLFI_BG_FACTOR	3
#define MLFI_BG_MAX_MS	180000L
#define MLFI_MAXDOMAINS	1000
#define MLFI_HDRMAX	16384	/* bytes of header entries; libmilter sends
				   at most 64 KiB in one packet */

struct mlfi_conn {
	struct gen	*g;		/* the message's generation */
	char		**doms;		/* header entries' domains */
	char		**hdrs;		/* header entries */
	size_t		 n;
	size_t		 bytes;		/* of the entries */
	size_t		 omitted;	/* domains left out (MLFI_HDRMAX) */
};

struct mlfi_parg {
	struct gen	*g;
	enum tls_setting setting;
};

static struct cache	*mlfi_cache;

/* --- generations and the cache ------------------------------------------ */

static void
mlfi_limits(const struct conf *c)
{
	cache_set_limits(mlfi_cache, c->verified_ttl * 1000L,
	    c->failed_ttl * 1000L, c->tempfail_ttl * 1000L, c->max_entries);
}

void
mlfi_start(struct gen *g)
{
	mlfi_cache = cache_new(NULL);
	mlfi_limits(g->conf);
	gen_install(g);
}

static int
mlfi_keep(const char *domain, const char *key, void *arg)
{
	const struct conf	*c = arg;
	enum tls_setting	 s = conf_lookup_setting(c, domain, NULL);
	char			*k;
	int			 keep;

	if (s == TLS_NONE || s == TLS_PREFERRED)
		return 0;
	k = gen_cache_key(c, domain, s);
	keep = strcmp(k, key) == 0;
	free(k);
	return keep;
}

/*
 * What a verdict depends on besides its key (domain, setting, routes): the
 * failure action, the probe's settings, and the trust and revocation files
 * (path and modification time, so a CA bundle updated in place counts).
 */
static void
mlfi_fingerprint(const struct conf *c, char *buf, size_t len)
{
	const char	*files[4] = { c->ca_file, c->ca_path, c->crl_file,
			    c->crl_path };
	struct stat	 st;
	size_t		 i, used;
	char		 ns[INET6_ADDRSTRLEN] = "";

	if (c->has_nameserver)
		(void)conf_ipaddr_str(&c->nameserver, ns, sizeof(ns));
	(void)snprintf(buf, len, "%d|%u|%s|%u|%d|%d|%u|%u|%s|%u|%u",
	    (int)c->on_fail, c->probe_port, c->helo ? c->helo : "",
	    c->probe_timeout, (int)c->revocation, c->revocation_required,
	    c->http_timeout, c->max_crl_size, ns, c->nameserver_port,
	    c->dns_timeout);
	for (i = 0; i < 4; i++) {
		used = strlen(buf);
		if (files[i] == NULL || used + 1 >= len)
			continue;
		if (stat(files[i], &st) != 0)
			memset(&st, 0, sizeof(st));
		(void)snprintf(buf + used, len - used, "|%s:%lld.%ld",
		    files[i], (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec);
	}
}

/*
 * The new generation is installed first, so that no message starts with
 * the old one after the cache was sorted out. When anything a verdict
 * depends on changed, every cached verdict goes (cache_flush: a probe still
 * running for an old message stores an answer only its waiters see);
 * otherwise only those whose key the new table no longer produces.
 */
int
mlfi_reload(const char *path)
{
	struct gen	*g, *old;
	char		 err[1024], fo[2048], fn[2048];
	size_t		 before;

	if ((g = gen_load(path, err, sizeof(err))) == NULL) {
		old = gen_current();
		log_err("reload failed, keeping configuration generation "
		    "%lu: %s", old != NULL ? old->id : 0UL, err);
		gen_unref(old);
		return -1;
	}
	old = gen_current();
	mlfi_fingerprint(old->conf, fo, sizeof(fo));
	mlfi_fingerprint(g->conf, fn, sizeof(fn));
	gen_unref(old);
	mlfi_limits(g->conf);
	gen_install(g);		/* g's reference now belongs to gen.c */
	before = cache_count(mlfi_cache);
	if (strcmp(fo, fn) != 0)
		cache_flush(mlfi_cache);
	else
		cache_prune(mlfi_cache, mlfi_keep, g->conf);
	log_info("reload: %s loaded as generation %lu; %zu of %zu cached "
	    "verdicts kept%s", path, g->id, cache_count(mlfi_cache), before,
	    strcmp(fo, fn) != 0 ? " (probe or trust settings changed)" : "");
	return 0;
}

/*
 * Shutdown: libmilter's sessions may still run after smfi_main() returned,
 * so the cache stays (it is freed with the process): no new probe starts,
 * running ones are waited for.
 */
void
mlfi_stop(void)
{
	cache_stop(mlfi_cache);
	cache_drain(mlfi_cache);
}

/* --- the probe callback (runs in the cache's probe thread) --------------- */

static void *
mlfi_hold(void *arg)
{
	struct mlfi_parg	*p = arg, *h = xmalloc(sizeof(*h));

	h->g = gen_ref(p->g);
	h->setting = p->setting;
	return h;
}

static void
mlfi_release(void *held)
{
	struct mlfi_parg	*h = held;

	gen_unref(h->g);
	free(h);
}

static struct cache_answer *
mlfi_run(void *held, const char *domain, long deadline_ms)
{
	struct mlfi_parg	*h = held;
	struct verdict		*v;
	struct cache_answer	*a;
	enum cache_kind		 kind;
	char			 line[2048], hdr[HEADER_ENTRYLEN];

	v = engine_probe_ms(h->g->engine, domain, (int)h->setting, 0,
	    deadline_ms);
	if (v == NULL)
		return cache_answer_new(CACHE_TEMP, ACTION_DEFER, "451",
		    "4.3.0", "internal error while probing the destination",
		    "result=unknown action=defer reason=internal error", "");
	verdict_decide(v, h->g->conf->on_fail);
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
	a = cache_answer_new(kind, (int)v->action, v->code, v->xcode, v->text,
	    line, hdr);
	log_debug("probe %s done in %ld ms: %s", domain, v->elapsed_ms, line);
	verdict_free(v);
	return a;
}

/* --- per connection and message ----------------------------------------- */

struct mlfi_conn *
mlfi_conn_new(void)
{
	return xcalloc(1, sizeof(struct mlfi_conn));
}

void
mlfi_msg_end(struct mlfi_conn *mc)
{
	size_t	i;

	if (mc == NULL)
		return;
	for (i = 0; i < mc->n; i++) {
		free(mc->doms[i]);
		free(mc->hdrs[i]);
	}
	free(mc->doms);
	free(mc->hdrs);
	mc->doms = mc->hdrs = NULL;
	mc->n = mc->bytes = mc->omitted = 0;
	gen_unref(mc->g);
	mc->g = NULL;
}

void
mlfi_conn_free(struct mlfi_conn *mc)
{
	mlfi_msg_end(mc);
	free(mc);
}

void
mlfi_msg_begin(struct mlfi_conn *mc)
{
	mlfi_msg_end(mc);
	mc->g = gen_current();
}

static void
mlfi_add_hdr(struct mlfi_conn *mc, const char *domain, const char *entry)
{
	size_t	i;

	if (entry == NULL || *entry == '\0')
		return;
	for (i = 0; i < mc->n; i++)
		if (strcmp(mc->doms[i], domain) == 0)
			return;
	if (mc->n >= MLFI_MAXDOMAINS ||
	    mc->bytes + strlen(entry) > MLFI_HDRMAX) {
		mc->omitted++;	/* may count a domain twice: "at least" */
		return;
	}
	mc->bytes += strlen(entry);
	mc->doms = xreallocarray(mc->doms, mc->n + 1, sizeof(char *));
	mc->hdrs = xreallocarray(mc->hdrs, mc->n + 1, sizeof(char *));
	mc->doms[mc->n] = xstrdup(domain);
	mc->hdrs[mc->n] = xstrdup(entry);
	mc->n++;
}

char *
mlfi_hdr_value(struct mlfi_conn *mc, const char **name)
{
	char	more[64];

	*name = NULL;
	if (mc == NULL || mc->n == 0 || mc->g == NULL)
		return NULL;
	*name = mc->g->conf->header != NULL ? mc->g->conf->header :
	    "X-TLS-Verify";
	if (mc->omitted > 0) {
		(void)snprintf(more, sizeof(more), "(at least %zu more domains "
		    "not listed)", mc->omitted);
		mc->hdrs = xreallocarray(mc->hdrs, mc->n + 1, sizeof(char *));
		mc->doms = xreallocarray(mc->doms, mc->n + 1, sizeof(char *));
		mc->hdrs[mc->n] = xstrdup(more);
		mc->doms[mc->n] = xstrdup("");
		mc->n++;
		mc->omitted = 0;
	}
	return header_fold(*name, (const char *const *)mc->hdrs, mc->n);
}

/* --- replies --------------------------------------------------------------- */

void
mlfi_escape(const char *in, char *out, size_t outlen)
{
	size_t	o = 0;

	for (; *in != '\0' && o + 3 <= outlen && o < MLFI_TEXTLEN - 2; in++) {
		if (*in == '%') {
			out[o++] = '%';
			out[o++] = '%';
		} else if ((unsigned char)*in < 0x20 || *in == 0x7f)
			out[o++] = ' ';
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

static void mlfi_set(struct mlfi_reply *, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
mlfi_set(struct mlfi_reply *r, const char *code, const char *xcode,
    const char *fmt, ...)
{
	va_list	ap;

	r->rc = code[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	(void)snprintf(r->code, sizeof(r->code), "%s", code);
	(void)snprintf(r->xcode, sizeof(r->xcode), "%s", xcode);
	va_start(ap, fmt);
	(void)vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
}

static int
mlfi_is_required(enum tls_setting s)
{
	return s == TLS_REQUIRED || s == TLS_REQUIRED_VERIFY ||
	    s == TLS_REQUIRED_VERIFY_HOSTED;
}

/* The reply for a cached answer; internal error when it makes no sense. */
static void
mlfi_answer(const struct mlfi_parg *p, const char *domain,
    const struct cache_answer *a, struct mlfi_conn *mc,
    struct mlfi_reply *r)
{
	if (a->action == ACTION_ACCEPT ||
	    (a->action == ACTION_TAG && !mlfi_is_required(p->setting))) {
		r->rc = SMFIS_CONTINUE;
		mlfi_add_hdr(mc, domain, a->hdr);
		return;
	}
	if ((a->action == ACTION_DEFER || a->action == ACTION_REJECT) &&
	    (a->code[0] == '4' || a->code[0] == '5') &&
	    a->xcode[0] == a->code[0]) {
		mlfi_set(r, a->code, a->xcode, "%s", a->text);
		return;
	}
	log_err("domain=%s: inconsistent verdict (action %d, code \"%s\" "
	    "\"%s\"): deferring", domain, a->action, a->code, a->xcode);
	mlfi_set(r, "451", "4.3.0", "internal error judging %s", domain);
}

/* --- one recipient ------------------------------------------------------ */

/* The domain part of an address, into out (raw, not yet an A-label).
 * 0, or -1 when the address has no domain (a local recipient). */
static int
mlfi_domain(const char *addr, char *out, size_t outlen)
{
	const char	*at = strrchr(addr, '@'), *end;

	if (at == NULL)
		return -1;
	at++;
	end = at + strlen(at);
	while (end > at && (end[-1] == '>' || end[-1] == ' '))
		end--;
	if (end == at)
		return -1;
	if ((size_t)(end - at) >= outlen) {	/* not a host name: judged */
		(void)snprintf(out, outlen, "%.*s", (int)(outlen - 1), at);
		return 1;
	}
	memcpy(out, at, (size_t)(end - at));
	out[end - at] = '\0';
	return 0;
}

static int
mlfi_skip_mailer(const struct conf *c, const char *mailer)
{
	size_t	i;

	if (mailer == NULL || *mailer == '\0')
		return 0;
	for (i = 0; i < c->n_skip_mailers; i++)
		if (strcasecmp(c->skip_mailers[i], mailer) == 0)
			return 1;
	return 0;
}


static void
mlfi_timeout(struct mlfi_conn *mc, const struct mlfi_parg *p,
    const char *domain, const char *qid, struct mlfi_reply *r)
{
	char	hdr[HEADER_ENTRYLEN];

	log_info("%s%s%sdomain=%s setting=%s result=unknown action=%s "
	    "reason=\"probe deadline passed, probe continues in background\"",
	    qid ? "queue_id=" : "", qid ? qid : "", qid ? " " : "", domain,
	    conf_setting_name(p->setting),
	    mlfi_is_required(p->setting) ? "defer" : "tag");
	if (mlfi_is_required(p->setting)) {
		mlfi_set(r, "451", "4.4.1", "TLS check of %s still in "
		    "progress (deadline passed); try again later", domain);
		return;
	}
	(void)header_entry_fmt(hdr, sizeof(hdr), domain, "unknown",
	    conf_setting_name(p->setting), NULL, NULL,
	    "probe deadline passed");
	mlfi_add_hdr(mc, domain, hdr);
}

/* One line per verdict (SPEC 7); Postfix gives the queue id only from the
 * second recipient on. */
static void
mlfi_log(const char *qid, const char *domain, enum tls_setting s,
    const char *fields, const char *cached)
{
	log_info("%s%s%sdomain=%s setting=%s %s cached=%s",
	    qid ? "queue_id=" : "", qid ? qid : "", qid ? " " : "", domain,
	    conf_setting_name(s), fields, cached);
}

static void
mlfi_lookup(struct mlfi_conn *mc, struct mlfi_parg *p, const char *domain,
    const char *qid, struct mlfi_reply *r)
{
	const struct conf	*c = p->g->conf;
	struct cache_probe	 pr;
	struct cache_answer	*a = NULL;
	enum cache_rc		 rc;
	char			*key = gen_cache_key(c, domain, p->setting);
	long			 ms = c->probe_timeout * 1000L;

	pr.run = mlfi_run;
	pr.hold = mlfi_hold;
	pr.release = mlfi_release;
	pr.arg = p;
	pr.wait_ms = ms > 100 ? ms : 100;
	pr.deadline_ms = pr.wait_ms * MLFI_BG_FACTOR;
	if (pr.deadline_ms > MLFI_BG_MAX_MS)
		pr.deadline_ms = MLFI_BG_MAX_MS > pr.wait_ms ?
		    MLFI_BG_MAX_MS : pr.wait_ms;
	rc = cache_get(mlfi_cache, key, domain, &pr, &a);
	free(key);
	if (rc == CACHE_TIMEOUT)
		mlfi_timeout(mc, p, domain, qid, r);
	else if (rc == CACHE_ERROR || a == NULL)
		mlfi_set(r, "451", "4.3.0", "internal error: cannot check "
		    "TLS of %s now", domain);
	else {
		mlfi_log(qid, domain, p->setting, a->logline,
		    rc == CACHE_HIT ? "yes" : "no");
		mlfi_answer(p, domain, a, mc, r);
	}
	cache_answer_unref(a);
}

/*
 * A domain that is no valid host name is never probed: the engine judges it
 * at once ("no-host", x.1.2 under a required setting, a tag under
 * preferred-verify), exactly as tlsverify-probe does, under the setting of
 * its ASCII ".parent" entries or "default" (".partner.org" covers
 * "x.partner.org" even when x is an IDN that IDNA2008 refuses).
 */
static void
mlfi_invalid_domain(struct mlfi_conn *mc, const char *raw, const char *qid,
    struct mlfi_reply *r)
{
	struct mlfi_parg	 p;
	struct cache_answer	*a;
	char			 lower[NAME_BUFLEN], shown[NAME_BUFLEN];

	(void)name_lower(raw, strnlen(raw, sizeof(lower) - 1), lower,
	    sizeof(lower));
	(void)text_printable(shown, sizeof(shown), lower, strlen(lower),
	    " \"\\=");		/* for the log: one word, no quote */
	p.g = mc->g;
	p.setting = conf_lookup_setting(mc->g->conf, lower, NULL);
	if (p.setting == TLS_NONE || p.setting == TLS_PREFERRED)
		return;
	a = mlfi_run(&p, lower, 0);
	mlfi_log(qid, shown, p.setting, a->logline, "no");
	mlfi_answer(&p, shown, a, mc, r);
	cache_answer_unref(a);
}

void
mlfi_rcpt(struct mlfi_conn *mc, const char *rcpt_addr, const char *arg,
    const char *mailer, const char *qid, struct mlfi_reply *r)
{
	struct mlfi_parg	 p;
	char			 raw[NAME_BUFLEN * 2], domain[NAME_BUFLEN];
	const char		*addr = rcpt_addr != NULL && *rcpt_addr != '\0' ?
				    rcpt_addr : arg;
	int			 rc;

	memset(r, 0, sizeof(*r));
	r->rc = SMFIS_CONTINUE;
	if (mc->g == NULL && (mc->g = gen_current()) == NULL) {
		mlfi_set(r, "451", "4.3.0", "%s", "internal error: no "
		    "configuration loaded");
		return;
	}
	if (addr == NULL || (rc = mlfi_domain(addr, raw, sizeof(raw))) < 0 ||
	    mlfi_skip_mailer(mc->g->conf, mailer))
		return;
	if (rc > 0 || name_to_alabel(raw, domain, sizeof(domain)) != 0) {
		mlfi_invalid_domain(mc, raw, qid, r);
		return;
	}
	p.g = mc->g;
	p.setting = conf_lookup_setting(mc->g->conf, domain, NULL);
	if (p.setting == TLS_NONE || p.setting == TLS_PREFERRED)
		return;
	mlfi_lookup(mc, &p, domain, qid, r);
}
