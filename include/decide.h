/*
 * decide.h - the one place that turns a recipient domain into what to do
 * with it (SPEC 2, 7, 10, 11). The milter (mlfi_state.c) and the policy
 * service (policy.c) only translate a struct decision into their
 * protocols; no front-end judges on its own, so they can never disagree.
 *
 * It owns the verdict cache and the generations:
 * decide_start(g) installs the first generation (taking the caller's
 * reference) and creates the cache with its limits. decide_reload(path)
 * loads a new generation; on success it becomes current (messages in
 * flight keep theirs), and when what verdicts depend on changed (the
 * generation's trust_fp: settings, trust and CRL file contents, see
 * trustfp.h) it gets a new trust epoch, every cached verdict is dropped
 * and the revocation cache is emptied; otherwise only verdicts whose key
 * the new table no longer produces go. On failure the error is logged
 * and the old generation stays. Returns 0 or -1. decide_stop() lets no
 * new probe start and waits for the running ones.
 *
 * decide_domain(g, raw, qid, via, waiting, d) decides for the recipient
 * domain raw (as the MTA gives it: U- or A-labels, any case, without '@'),
 * under generation g (a message keeps the generation it started with);
 * waiting, when not NULL, is called once right before the caller would
 * start or wait for a probe (not for a cached verdict):
 *  - d->setting is the domain's setting; d->domain the A-label (or a
 *    printable copy of raw when it is no valid host name);
 *  - none and preferred: d->judged = 0, action accept, no header entry,
 *    no probe, nothing logged;
 *  - otherwise d->judged = 1 and d->action, code, xcode, text, hdr come
 *    from the verdict cache (a probe when needed, shared with every other
 *    request for the same key, waited for at most [probe] timeout): an
 *    answer that tags under a required* setting, or whose code does not
 *    fit its action, is an internal error (451 4.3.0); a probe past the
 *    wait defers required* settings with 451 4.4.1 and tags
 *    preferred-verify "unknown" (d->timeout = 1); no probe thread: 451
 *    4.3.0. d->a is a reference on the answer (NULL when none), whose
 *    match/fpr/cn fields the policy service reads; d->cached = 1 for a
 *    cache hit;
 *  - a domain that is no valid host name is judged at once by the engine
 *    (never probed): no-host, under its ASCII .parent or default setting.
 *  - [milter] mode = monitor (SPEC 13): a decision to defer or reject
 *    becomes accept, with d->would = ACTION_DEFER or ACTION_REJECT, the
 *    header entry "DOMAIN=would-defer (SETTING; note=CODE XCODE TEXT)"
 *    (or would-reject), code, xcode and text kept for the record.
 * One log line per judged decision: "[queue_id=Q ][via=V ]domain=D
 * setting=S FIELDS cached=yes|no[ monitor=would-defer|would-reject]"
 * (via: NULL for the milter).
 * decide_release(d) drops the reference on d->a.
 *
 * decide_cached(g, raw, via, d) is decide_domain() for a caller that must
 * not wait (the policy service's I/O thread, netsrv.h): 0 when the
 * decision is at hand (a setting that needs no verdict, or a fresh cached
 * one: d as decide_domain() fills it, d->cached = 1, the same log line),
 * -1 when it would need a probe or a wait, or raw is no valid host name
 * (d holds nothing to release; the caller then uses decide_domain()).
 *
 * decide_setting(g, raw, domain, len, &s) finds the setting decide_domain()
 * would use, without judging: 0 with the A-label in domain, or -1 when raw
 * is no valid host name (s is then that of its ASCII .parent or default).
 *
 * decide_gen() returns a new reference on the current generation (NULL
 * before decide_start); decide_cache() the cache (tests, counters);
 * decide_rcache() the Redis side of shared verdicts (rcache_state() for
 * counters: up/down, reconnects; NULL before decide_start and after
 * decide_stop).
 *
 * Shared verdicts (SPEC 13, [cache] backend = redis://... or unix:...):
 * the memory cache stays in front; on a local miss the probe thread asks
 * Redis first, and one relay of the fleet probes (decide_fleet.c). A
 * reload that changes the backend reconnects.
 */
#ifndef TV_DECIDE_H
#define TV_DECIDE_H

#include "cache.h"
#include "gen.h"
#include "header.h"
#include "rcache.h"
#include "verdict.h"

#define DECIDE_TEXTLEN	981		/* libmilter: text <= 980 chars */

struct decision {
	enum tls_setting	 setting;
	int			 judged;
	int			 cached;
	int			 timeout;
	int			 would;		/* monitor mode: the action
						   enforce would take, else 0 */
	enum action		 action;
	char			 code[4];	/* "" for accept/tag */
	char			 xcode[16];
	char			 text[DECIDE_TEXTLEN];
	char			 domain[NAME_BUFLEN];
	char			 hdr[HEADER_ENTRYLEN];	/* "" when none */
	struct cache_answer	*a;
};

void		 decide_start(struct gen *);
int		 decide_reload(const char *path);
void		 decide_stop(void);
struct gen	*decide_gen(void);
struct cache	*decide_cache(void);
struct rcache	*decide_rcache(void);
void		 decide_domain(struct gen *, const char *raw, const char *qid,
		    const char *via, void (*waiting)(void), struct decision *);
int		 decide_cached(struct gen *, const char *raw, const char *via,
		    struct decision *);
void		 decide_release(struct decision *);
int		 decide_setting(struct gen *, const char *raw, char *domain,
		    size_t len, enum tls_setting *);
int		 decide_is_required(enum tls_setting);

#endif
