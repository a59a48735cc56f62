/*
 * decide_int.h - internals shared by decide.c, decide_probe.c and decide_fleet.c; not an
 * API.
 *
 * struct decide_parg is what a probe thread holds (decide_hold()): the
 * generation, the setting, the cache key and how long a requester waits.
 * decide_probe(h, domain, deadline_ms) runs the engine and makes the
 * answer (never NULL; decide_probe.c). decide_fleet(r, h, domain, deadline_ms) is the
 * probe callback's shared path (SPEC 13): the verdict from Redis, or the
 * fleet lock and a probe, or the other relay's answer (decide_fleet.c).
 */
#ifndef TV_DECIDE_INT_H
#define TV_DECIDE_INT_H

#include "cache.h"
#include "gen.h"
#include "rcache.h"

struct decide_parg {
	struct gen	*g;
	enum tls_setting setting;
	const char	*key;		/* the cache key (copied when held) */
	long		 wait_ms;	/* a requester's wait */
};

struct cache_answer *decide_probe(struct decide_parg *, const char *domain,
		    long deadline_ms);
struct cache_answer *decide_fleet(struct rcache *, struct decide_parg *,
		    const char *domain, long deadline_ms);

#endif
