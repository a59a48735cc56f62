/*
 * decide_fleet.c - one probe per domain across a fleet of relays (SPEC
 * 13): what the cache's probe thread does when [cache] backend is Redis.
 * The memory cache stays in front (cache.c): this runs only on a local
 * miss or a refresh, in the probe thread, never in a requester's thread.
 *
 * decide_fleet(r, h, domain, deadline_ms):
 *  1. GET the verdict (key: rcache_key() of the generation's trust_fp and
 *     the cache key, so relays that judge differently never share one).
 *     One with more than a tenth of its life left is used as is, with
 *     max_ttl_ms = its remaining TTL (the memory copy never outlives it).
 *  2. Else take the fleet lock (SET NX PX the rest of the background
 *     limit). Taken: probe, store the answer with its TTL as expiry,
 *     release the lock (unless the probe outlived it: then it may be
 *     another relay's by now).
 *  3. Held by another relay: an older verdict still alive is used (its
 *     remaining TTL caps the memory copy) while the other relay refreshes
 *     it; without one, poll (DECIDE_POLL_MIN_MS doubling to
 *     DECIDE_POLL_MAX_MS) for the other relay's answer, and take the
 *     lock if it goes, until only a requester's wait is left of our own
 *     deadline; then probe here.
 *  Redis down, off or failing at any step: probe here, as without Redis
 *  (never an accept where the memory path would defer).
 * Storing (decide_store): a temporary answer does not replace a verified
 * verdict still in Redis (stale-if-error fleet-wide, SPEC 7); a lifetime
 * of 0 ([cache] *_ttl = 0) is not stored.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "decide_int.h"
#include "log.h"

#define DECIDE_POLL_MIN_MS	5L
#define DECIDE_POLL_MAX_MS	50L
#define DECIDE_LOCK_MARGIN_MS	100L

static long
decide_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
decide_sleep_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		continue;
}

static long
decide_life(const struct conf *c, enum cache_kind kind)
{
	unsigned	s = kind == CACHE_OK ? c->verified_ttl :
			    kind == CACHE_FAILED ? c->failed_ttl :
			    c->tempfail_ttl;

	return (long)s * 1000L;
}

static void
decide_store(struct rcache *r, const struct decide_parg *h, const char *rk,
    const char *domain, const struct cache_answer *a)
{
	struct cache_answer	*cur = NULL;
	long			 life = decide_life(h->g->conf, a->kind), t, l;
	int			 keep = 0;

	if (life <= 0)
		return;
	if (a->kind == CACHE_TEMP && rcache_get(r, rk, domain, &cur, &t, &l) ==
	    RCACHE_OK) {
		keep = cur->kind == CACHE_OK;
		cache_answer_unref(cur);
	}
	if (keep) {
		log_info("domain=%s: refresh failed temporarily; the verified "
		    "verdict shared in redis stands until it expires", domain);
		return;
	}
	(void)rcache_put(r, rk, domain, a, life);
}

/* We hold the lock: probe, share, unlock. */
static struct cache_answer *
decide_locked(struct rcache *r, struct decide_parg *h, const char *rk,
    const char *domain, long px)
{
	long			 t0 = decide_mono_ms();
	struct cache_answer	*a = decide_probe(h, domain, px);

	decide_store(r, h, rk, domain, a);
	if (decide_mono_ms() - t0 < px - DECIDE_LOCK_MARGIN_MS)
		(void)rcache_unlock(r, rk);
	return a;
}

static struct cache_answer *
decide_shared(struct cache_answer *a, long ttl, const char *domain)
{
	a->max_ttl_ms = ttl > 0 ? ttl : 1;
	log_debug("domain=%s: verdict from redis (%ld ms left)", domain, ttl);
	return a;
}

struct cache_answer *
decide_fleet(struct rcache *r, struct decide_parg *h, const char *domain,
    long deadline_ms)
{
	char			 rk[RCACHE_KEYLEN];
	struct cache_answer	*a = NULL;
	long			 t0 = decide_mono_ms(), until, left, ttl, life;
	long			 nap = DECIDE_POLL_MIN_MS;
	enum rcache_rc		 rc;

	if (rcache_key(h->g->trust_fp, h->key, domain, rk, sizeof(rk)) != 0)
		return decide_probe(h, domain, deadline_ms);
	until = t0 + (deadline_ms > 2 * h->wait_ms ? deadline_ms - h->wait_ms :
	    deadline_ms / 2);
	for (;;) {
		rc = rcache_get(r, rk, domain, &a, &ttl, &life);
		if (rc == RCACHE_OK && ttl > life / 10)
			return decide_shared(a, ttl, domain);
		if (rc != RCACHE_OK && rc != RCACHE_MISS)
			break;
		left = deadline_ms - (decide_mono_ms() - t0);
		if (left <= 0)
			break;
		rc = rcache_lock(r, rk, left);
		if (rc == RCACHE_OK) {
			cache_answer_unref(a);
			return decide_locked(r, h, rk, domain, left);
		}
		if (rc != RCACHE_MISS)
			break;
		if (a != NULL)		/* old but alive: another refreshes */
			return decide_shared(a, ttl, domain);
		if (decide_mono_ms() + nap > until)
			break;
		decide_sleep_ms(nap);
		nap = nap * 2 > DECIDE_POLL_MAX_MS ? DECIDE_POLL_MAX_MS :
		    nap * 2;
	}
	cache_answer_unref(a);
	left = deadline_ms - (decide_mono_ms() - t0);
	a = decide_probe(h, domain, left > 0 ? left : 1);
	decide_store(r, h, rk, domain, a);
	return a;
}
