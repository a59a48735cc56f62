/*
 * cache.h - the milter's verdict cache (SPEC section 7).
 *
 * An in-memory hash shared by all threads, one mutex, keyed by a string the
 * caller builds from (domain, setting, routes text). The cache knows nothing
 * about the engine: a request brings a probe callback (struct cache_probe),
 * which the unit tests replace by a fake.
 *
 * cache_get(c, key, domain, probe, &ans):
 *  - a fresh entry: CACHE_HIT, *ans is a new reference. When the entry is in
 *    the last 10% of its life and no probe runs for it, one background
 *    re-probe starts (refresh ahead; skipped while max_probes probes run);
 *    the old answer is served meanwhile. A refresh whose answer is
 *    temporary does not replace a CACHE_OK answer that has not expired
 *    (stale-if-error, SPEC 7): the verified answer stands until its end.
 *  - no entry, or an expired one: a probe runs in a detached thread with
 *    probe->deadline_ms; every concurrent request for the same key waits
 *    for that one probe (single flight), each at most probe->wait_ms.
 *    CACHE_PROBED and *ans when it finished in time; CACHE_TIMEOUT (no
 *    answer) when it did not: the probe goes on and stores its answer for
 *    the next request (the milter defers the recipient with 451 4.4.1).
 *  - At most max_probes probes run at once (cache_set_probes(), default
 *    CACHE_MAX_PROBES): a cold key past that bound is queued (FIFO) and
 *    started when a probe ends; its requesters wait as above (within their
 *    wait_ms). A queued probe that could not start within its own
 *    deadline_ms is dropped; at most CACHE_MAX_QUEUED wait in the queue,
 *    past that a cold key gets CACHE_TIMEOUT at once.
 *  - CACHE_ERROR when no probe thread could be started.
 * cache_peek(c, key, probe, &ans) is cache_get() for callers that must not
 * wait (the policy service's I/O thread): a fresh entry is a CACHE_HIT as
 * above (refresh ahead included: that probe runs in its own thread);
 * anything else is CACHE_TIMEOUT with *ans NULL, and nothing is inserted,
 * started or waited for. It holds the cache mutex only for the lookup.
 * Generations: every request carries probe->epoch, the trust epoch of the
 * configuration that asks (see cache_flush()). An answer probed under an
 * epoch older than the cache's is given to its waiters only, never stored
 * for later requests.
 * The probe thread keeps what it needs alive with probe->hold(arg), which
 * returns the argument the thread uses, and probe->release() at its end
 * (the milter holds a reference on its generation: conf + engine).
 *
 * Lifetimes (set with cache_set_limits(), milliseconds): CACHE_OK answers
 * live ok_ttl, CACHE_FAILED answers failed_ttl, CACHE_TEMP answers temp_ttl;
 * an answer whose max_ttl_ms is set lives at most that long.
 * At most max_entries entries: the least recently used idle entry is evicted
 * (an entry with a probe in flight or a waiter is never evicted, nor an
 * answer stored by a background probe that no request has read yet while
 * it is fresh, so the bound can be passed for a moment under a burst of
 * cold domains).
 *
 * cache_prune(c, keep, arg) drops idle entries for which keep(domain, key,
 * arg) returns 0 (after a reload: keys that the new configuration no longer
 * produces). cache_free() waits for the probe threads, then frees all.
 *
 * Answers are immutable and reference counted: cache_answer_new() makes one
 * with one reference (strings copied, one allocation),
 * cache_answer_unref() drops one.
 * now_ms (may be NULL: CLOCK_MONOTONIC) is the clock for lifetimes; waits
 * always use the real monotonic clock.
 */
#ifndef TV_CACHE_H
#define TV_CACHE_H

#include <stddef.h>

enum cache_kind {
	CACHE_OK = 0,	/* the setting is satisfied: verified_ttl */
	CACHE_FAILED,	/* permanent, not satisfied or tagged: failed_ttl */
	CACHE_TEMP	/* temporary: tempfail_ttl */
};

enum cache_rc {
	CACHE_HIT = 0,
	CACHE_PROBED,
	CACHE_TIMEOUT,
	CACHE_ERROR
};

struct cache_answer {
	enum cache_kind	 kind;
	int		 action;	/* enum action (verdict.h) */
	char		 code[4];	/* "" for accept/tag */
	char		 xcode[16];
	char		*text;		/* reply text, "" when none */
	char		*logline;	/* report_logfields() */
	char		*hdr;		/* header entry for this domain */
	char		*match;		/* verified: names that matched, ':' */
	char		*fpr;		/* "": the names suffice; else the
					   leaf's SHA-256 public-key digest */
	char		*cn;		/* the CN a verification used, or "" */
	char		*pol;		/* SPEC 12 settings: the Postfix level
					   the verdict allows ("dane-only",
					   "dane", "secure": match holds the
					   MTA-STS patterns, "may"), or "" */
	long		 max_ttl_ms;	/* > 0: stored at most this long (a
					   verdict from Redis: its remaining
					   TTL); set before it is shared */
	unsigned	 refs;		/* atomic */
};

/* The strings of an answer, in cache_answer_new()'s array. */
enum { CA_TEXT = 0, CA_LOG, CA_HDR, CA_MATCH, CA_FPR, CA_CN, CA_POL,
    CA_NSTR };

struct cache_probe {
	/* Runs in the probe thread; never returns NULL (the milter turns an
	 * internal failure into a CACHE_TEMP answer). */
	struct cache_answer *(*run)(void *arg, const char *domain,
			    long deadline_ms);
	void		*(*hold)(void *arg);
	void		 (*release)(void *held);
	void		*arg;
	long		 wait_ms;
	long		 deadline_ms;
	unsigned long	 epoch;		/* trust epoch of the asking config */
};

#define CACHE_MAX_PROBES	64
#define CACHE_MAX_QUEUED	4096

struct cache;

struct cache	*cache_new(long (*now_ms)(void));
void		 cache_set_limits(struct cache *, long ok_ttl_ms,
		    long failed_ttl_ms, long temp_ttl_ms, size_t max_entries);
enum cache_rc	 cache_get(struct cache *, const char *key, const char *domain,
		    const struct cache_probe *, struct cache_answer **ans);
enum cache_rc	 cache_peek(struct cache *, const char *key,
		    const struct cache_probe *, struct cache_answer **ans);
void		 cache_prune(struct cache *,
		    int (*keep)(const char *domain, const char *key, void *),
		    void *arg);
void		 cache_set_probes(struct cache *, unsigned max_probes);
size_t		 cache_count(struct cache *);
/* Number of probes started so far (first probes and refreshes). */
unsigned long	 cache_probes(struct cache *);
/* Drop every cached verdict (the configuration that judged them changed)
 * and make epoch the cache's trust epoch: entries being probed or waited
 * on stay for their waiters, but their answer is not reused, and a probe
 * asked for under another epoch (before the flush, or later by a message
 * of the old configuration) stores an answer that only its waiters see. */
void		 cache_flush(struct cache *, unsigned long epoch);
/* Probes queued now (tests, logs). */
size_t		 cache_queued(struct cache *);
/* From now on no probe starts (cache_get answers CACHE_ERROR for an
 * uncached key; cached answers are still served): for shutdown. */
void		 cache_stop(struct cache *);
/* Wait until no probe thread runs (tests; cache_free does it too). */
void		 cache_drain(struct cache *);
void		 cache_free(struct cache *);

/* str[CA_NSTR] (entries may be NULL: "") */
struct cache_answer *cache_answer_new(enum cache_kind, int action,
		    const char *code, const char *xcode,
		    const char *const *str);
struct cache_answer *cache_answer_ref(struct cache_answer *);
void		 cache_answer_unref(struct cache_answer *);

#endif
