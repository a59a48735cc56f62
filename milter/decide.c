/*
 * decide.c - a recipient domain to a decision (see decide.h): the current
 * generation and its trust epoch, the verdict cache, the probe callback
 * that runs the engine for the cache, and the translation of a cached
 * answer into an action and a reply.
 *
 * Cache lifetimes: an answer whose action is accept (verified, or TLS under
 * "required") lives verified_ttl; a permanent answer that tags, defers or
 * rejects lives failed_ttl (so a fixed certificate is seen soon); a
 * temporary one tempfail_ttl. The probe itself may run DECIDE_BG_FACTOR
 * times [probe] timeout (at most DECIDE_BG_MAX_MS) in the background.
 *
 * The probe itself and what its answer records for the policy service are
 * in decide_probe.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "decide.h"
#include "decide_int.h"
#include "log.h"
#include "metrics.h"
#include "name.h"
#include "revoke.h"
#include "text.h"
#include "xalloc.h"

#define DECIDE_BG_FACTOR	3
#define DECIDE_BG_MAX_MS	180000L

static struct cache	*decide_c;
static struct rcache	*decide_r;	/* shared verdicts (SPEC 13) */
static unsigned long	 decide_epoch = 1;

/* --- generations and the cache ------------------------------------------ */

static void
decide_limits(const struct conf *c)
{
	cache_set_limits(decide_c, c->verified_ttl * 1000L,
	    c->failed_ttl * 1000L, c->tempfail_ttl * 1000L, c->max_entries);
	cache_set_probes(decide_c, c->max_probes);
}

void
decide_start(struct gen *g)
{
	decide_c = cache_new(NULL);
	decide_r = rcache_new();
	rcache_configure(decide_r, g->rcfg);
	decide_limits(g->conf);
	g->epoch = decide_epoch;
	cache_flush(decide_c, decide_epoch);
	gen_install(g);
}

struct gen *
decide_gen(void)
{
	return gen_current();
}

struct cache *
decide_cache(void)
{
	return decide_c;
}

struct rcache *
decide_rcache(void)
{
	return decide_r;
}

static int
decide_keep(const char *domain, const char *key, void *arg)
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
 * The new generation is installed first, so that no message starts with
 * the old one after the cache was sorted out. A changed trust_fp means a
 * new trust epoch: the cache drops every verdict, and a probe asked for
 * by a message of the old generation, even one started after this, stores
 * an answer only its waiters see (cache.h).
 */
int
decide_reload(const char *path)
{
	struct gen	*g, *old;
	char		 err[1024];
	size_t		 before;
	int		 changed;

	if ((g = gen_load(path, err, sizeof(err))) == NULL) {
		old = gen_current();
		log_err("reload failed, keeping configuration generation "
		    "%lu: %s", old != NULL ? old->id : 0UL, err);
		gen_unref(old);
		return -1;
	}
	old = gen_current();
	changed = old == NULL || strcmp(old->trust_fp, g->trust_fp) != 0;
	g->epoch = changed ? ++decide_epoch : old->epoch;
	gen_unref(old);
	decide_limits(g->conf);
	rcache_configure(decide_r, g->rcfg);	/* no-op when the same */
	gen_install(g);		/* g's reference now belongs to gen.c */
	before = cache_count(decide_c);
	if (changed) {
		cache_flush(decide_c, g->epoch);
		revoke_cache_clear();
	} else
		cache_prune(decide_c, decide_keep, g->conf);
	log_info("reload: %s loaded as generation %lu; %zu of %zu cached "
	    "verdicts kept%s", path, g->id, cache_count(decide_c), before,
	    changed ? " (probe or trust settings changed)" : "");
	return 0;
}

/*
 * Shutdown: the front-ends' sessions may still run, so the cache stays (it
 * is freed with the process): no new probe starts, running ones are
 * waited for.
 */
void
decide_stop(void)
{
	cache_stop(decide_c);
	cache_drain(decide_c);
	rcache_free(decide_r);	/* no probe runs any more */
	decide_r = NULL;
}

/* --- the probe callback (runs in the cache's probe thread) --------------- */

static void *
decide_hold(void *arg)
{
	struct decide_parg	*p = arg, *h = xmalloc(sizeof(*h));

	h->g = gen_ref(p->g);
	h->setting = p->setting;
	h->key = xstrdup(p->key);
	h->wait_ms = p->wait_ms;
	return h;
}

static void
decide_unhold(void *held)
{
	struct decide_parg	*h = held;

	gen_unref(h->g);
	free((char *)h->key);
	free(h);
}

/*
 * The probe callback: shared through Redis when this generation says so.
 * It runs in one of the cache's detached threads, which a process may
 * outlive by a moment at exit (cache_drain() returns once the last one
 * has counted itself out): OpenSSL's state of this thread is freed here,
 * not by a destructor that might come too late.
 */
static struct cache_answer *
decide_run(void *held, const char *domain, long deadline_ms)
{
	struct decide_parg	*h = held;
	struct cache_answer	*a;

	if (h->g->rcfg != NULL && decide_r != NULL)
		a = decide_fleet(decide_r, h, domain, deadline_ms);
	else
		a = decide_probe(h, domain, deadline_ms);
	OPENSSL_thread_stop();
	return a;
}

/* --- decisions ------------------------------------------------------------ */

int
decide_is_required(enum tls_setting s)
{
	return s == TLS_REQUIRED || s == TLS_REQUIRED_VERIFY ||
	    s == TLS_REQUIRED_VERIFY_HOSTED || s == TLS_DANE ||
	    s == TLS_DANE_ONLY || s == TLS_MTA_STS || s == TLS_AUTO;
	/* SPEC 12: a dane failure is never a tag, nor an enforced MTA-STS
	 * one; a probe past its deadline defers */
}

/* May a cached answer of setting s tag? Not under a required setting but
 * mta-sts and auto, whose testing policies tag (SPEC 12). */
static int
decide_may_tag(enum tls_setting s)
{
	return !decide_is_required(s) || s == TLS_MTA_STS || s == TLS_AUTO;
}

static const char *
decide_would(const struct decision *d)
{
	return d->would == ACTION_REJECT ? "would-reject" : "would-defer";
}

static void decide_set(struct decision *, const char *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
decide_set(struct decision *d, const char *code, const char *xcode,
    const char *fmt, ...)
{
	va_list	ap;

	d->action = code[0] == '5' ? ACTION_REJECT : ACTION_DEFER;
	(void)snprintf(d->code, sizeof(d->code), "%s", code);
	(void)snprintf(d->xcode, sizeof(d->xcode), "%s", xcode);
	va_start(ap, fmt);
	(void)vsnprintf(d->text, sizeof(d->text), fmt, ap);
	va_end(ap);
}

/* The decision for a cached answer; internal error when it makes no
 * sense (a tag under a required setting, a code that does not fit). */
static void
decide_answer(struct decision *d, const struct cache_answer *a)
{
	if (a->action == ACTION_ACCEPT ||
	    (a->action == ACTION_TAG && decide_may_tag(d->setting))) {
		d->action = (enum action)a->action;
		(void)snprintf(d->hdr, sizeof(d->hdr), "%s", a->hdr);
		return;
	}
	if ((a->action == ACTION_DEFER || a->action == ACTION_REJECT) &&
	    (a->code[0] == '4' || a->code[0] == '5') &&
	    a->xcode[0] == a->code[0]) {
		decide_set(d, a->code, a->xcode, "%s", a->text);
		d->action = (enum action)a->action;
		return;
	}
	log_err("domain=%s: inconsistent verdict (action %d, code \"%s\" "
	    "\"%s\"): deferring", d->domain, a->action, a->code, a->xcode);
	decide_set(d, "451", "4.3.0", "internal error judging %s", d->domain);
}

static void
decide_log(const struct decision *d, const char *qid, const char *via,
    const char *fields)
{
	metrics_decision(d);		/* every judged decision, once */
	log_info("%s%s%s%s%s%sdomain=%s setting=%s %s cached=%s%s%s",
	    qid ? "queue_id=" : "", qid ? qid : "", qid ? " " : "",
	    via ? "via=" : "", via ? via : "", via ? " " : "", d->domain,
	    conf_setting_name(d->setting), fields, d->cached ? "yes" : "no",
	    d->would ? " monitor=" : "", d->would ? decide_would(d) : "");
}

/*
 * Monitor mode (SPEC 13): what enforce mode would defer or reject is
 * accepted; the header entry says "would-defer" or "would-reject" with the
 * reply enforce mode would give, the log line "monitor=would-...".
 */
static void
decide_monitor(const struct gen *g, struct decision *d)
{
	char	note[DECIDE_TEXTLEN + 32];

	if (!g->conf->monitor || (d->action != ACTION_DEFER &&
	    d->action != ACTION_REJECT))
		return;
	d->would = d->action;
	d->action = ACTION_ACCEPT;
	(void)snprintf(note, sizeof(note), "%s %s %s", d->code, d->xcode,
	    d->text);
	(void)header_entry_fmt(d->hdr, sizeof(d->hdr), d->domain,
	    decide_would(d), conf_setting_name(d->setting), NULL, NULL, note);
}

/* The line of a decision answered from the cache without waiting. */
static void
decide_log_cached(const struct decision *d, const char *via,
    const char *fields)
{
	metrics_decision(d);
	log_debug("%s%s%sdomain=%s setting=%s %s cached=yes%s%s",
	    via ? "via=" : "", via ? via : "", via ? " " : "", d->domain,
	    conf_setting_name(d->setting), fields,
	    d->would ? " monitor=" : "", d->would ? decide_would(d) : "");
}

static void
decide_timeout(struct decision *d)
{
	d->timeout = 1;
	if (decide_is_required(d->setting)) {
		decide_set(d, "451", "4.4.1", "TLS check of %s still in "
		    "progress (deadline passed); try again later", d->domain);
		return;
	}
	d->action = ACTION_TAG;
	(void)header_entry_fmt(d->hdr, sizeof(d->hdr), d->domain, "unknown",
	    conf_setting_name(d->setting), NULL, NULL,
	    "probe deadline passed");
}

/* The probe request for d's domain under g, its cache key key (p: the
 * request's argument). */
static void
decide_request(struct gen *g, const struct decision *d, const char *key,
    struct decide_parg *p, struct cache_probe *pr)
{
	long	ms = g->conf->probe_timeout * 1000L;

	p->g = g;
	p->setting = d->setting;
	p->key = key;
	pr->run = decide_run;
	pr->hold = decide_hold;
	pr->release = decide_unhold;
	pr->arg = p;
	pr->epoch = g->epoch;
	pr->wait_ms = ms > 100 ? ms : 100;
	pr->deadline_ms = pr->wait_ms * DECIDE_BG_FACTOR;
	if (pr->deadline_ms > DECIDE_BG_MAX_MS)
		pr->deadline_ms = DECIDE_BG_MAX_MS > pr->wait_ms ?
		    DECIDE_BG_MAX_MS : pr->wait_ms;
	p->wait_ms = pr->wait_ms;
}

static void
decide_lookup(struct gen *g, struct decision *d, const char *qid,
    const char *via, void (*waiting)(void))
{
	struct decide_parg	 p;
	struct cache_probe	 pr;
	enum cache_rc		 rc;
	char			*key = gen_cache_key(g->conf, d->domain,
				    d->setting);
	const char		*fields;

	decide_request(g, d, key, &p, &pr);
	if ((rc = cache_peek(decide_c, key, &pr, &d->a)) != CACHE_HIT) {
		if (waiting != NULL)
			waiting();
		rc = cache_get(decide_c, key, d->domain, &pr, &d->a);
	}
	free(key);
	d->cached = rc == CACHE_HIT;
	if (rc == CACHE_TIMEOUT) {
		decide_timeout(d);
		fields = d->action == ACTION_TAG ?
		    "result=unknown action=tag reason=\"probe deadline passed, "
		    "probe continues in background\"" :
		    "result=unknown action=defer reason=\"probe deadline "
		    "passed, probe continues in background\"";
	} else if (rc == CACHE_ERROR || d->a == NULL) {
		decide_set(d, "451", "4.3.0", "internal error: cannot check "
		    "TLS of %s now", d->domain);
		fields = "result=unknown action=defer reason=\"internal error\"";
	} else {
		decide_answer(d, d->a);
		fields = d->a->logline;
	}
	decide_monitor(g, d);
	decide_log(d, qid, via, fields);
}

/*
 * A domain that is no valid host name is never probed: the engine judges
 * it at once ("no-host", x.1.2 under a required setting, a tag under
 * preferred-verify), exactly as tlsverify-probe does, under the setting of
 * its ASCII ".parent" entries or "default" (".partner.org" covers
 * "x.partner.org" even when x is an IDN that UTS#46 refuses).
 */
static void
decide_invalid(struct gen *g, struct decision *d, const char *raw,
    const char *qid, const char *via)
{
	struct decide_parg	 p = { g, TLS_NONE, NULL, 0 };
	char			 lower[NAME_BUFLEN];

	(void)name_lower(raw, strnlen(raw, sizeof(lower) - 1), lower,
	    sizeof(lower));
	(void)text_printable(d->domain, sizeof(d->domain), lower,
	    strlen(lower), " \"\\=");	/* for the log: one word, no quote */
	d->setting = conf_lookup_setting(g->conf, lower, NULL);
	if (d->setting == TLS_NONE || d->setting == TLS_PREFERRED)
		return;
	d->judged = 1;
	p.g = g;
	p.setting = d->setting;
	p.key = NULL;
	p.wait_ms = 0;
	d->a = decide_probe(&p, lower, 0);
	decide_answer(d, d->a);
	decide_monitor(g, d);
	decide_log(d, qid, via, d->a->logline);
}

void
decide_domain(struct gen *g, const char *raw, const char *qid,
    const char *via, void (*waiting)(void), struct decision *d)
{
	memset(d, 0, sizeof(*d));
	d->action = ACTION_ACCEPT;
	if (name_to_alabel(raw, d->domain, sizeof(d->domain)) != 0) {
		decide_invalid(g, d, raw, qid, via);
		return;
	}
	d->setting = conf_lookup_setting(g->conf, d->domain, NULL);
	if (d->setting == TLS_NONE || d->setting == TLS_PREFERRED)
		return;
	d->judged = 1;
	decide_lookup(g, d, qid, via, waiting);
}

int
decide_cached(struct gen *g, const char *raw, const char *via,
    struct decision *d)
{
	struct decide_parg	 p;
	struct cache_probe	 pr;
	char			*key;

	memset(d, 0, sizeof(*d));
	d->action = ACTION_ACCEPT;
	if (name_to_alabel(raw, d->domain, sizeof(d->domain)) != 0)
		return -1;
	d->setting = conf_lookup_setting(g->conf, d->domain, NULL);
	if (d->setting == TLS_NONE || d->setting == TLS_PREFERRED)
		return 0;
	d->judged = 1;
	key = gen_cache_key(g->conf, d->domain, d->setting);
	decide_request(g, d, key, &p, &pr);
	if (cache_peek(decide_c, key, &pr, &d->a) != CACHE_HIT) {
		free(key);
		return -1;
	}
	free(key);
	d->cached = 1;
	decide_answer(d, d->a);
	decide_monitor(g, d);
	decide_log_cached(d, via, d->a->logline);
	return 0;
}

int
decide_setting(struct gen *g, const char *raw, char *domain, size_t len,
    enum tls_setting *s)
{
	char	lower[NAME_BUFLEN];

	if (name_to_alabel(raw, domain, len) != 0) {
		(void)name_lower(raw, strnlen(raw, sizeof(lower) - 1), lower,
		    sizeof(lower));
		*s = conf_lookup_setting(g->conf, lower, NULL);
		return -1;
	}
	*s = conf_lookup_setting(g->conf, domain, NULL);
	return 0;
}

void
decide_release(struct decision *d)
{
	cache_answer_unref(d->a);
	d->a = NULL;
}
