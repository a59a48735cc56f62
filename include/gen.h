/*
 * gen.h - a "generation": one loaded configuration and the engine built on
 * it, shared by reference and swapped as a whole on reload (SIGUSR1).
 *
 * gen_load(path, err, errlen) runs conf_load() and engine_new(); on failure
 * it returns NULL with "FILE:LINE: message" (or the engine's error) in err.
 * A new generation has one reference (the caller's).
 *
 * gen_install(g) makes g the current generation; it takes over the
 * caller's reference and drops the one on the previous generation, which is
 * freed when the last message or probe using it lets go. gen_current()
 * returns a new reference on the current generation (NULL before the first
 * gen_install). gen_ref()/gen_unref() count references atomically; the last
 * gen_unref() frees the engine, then the conf. Messages take their
 * generation at MAIL FROM and keep it to end of message; probe threads keep
 * theirs until they end.
 *
 * A generation records, when loaded, the digest of what its verdicts
 * depend on (trust_fp, see trustfp.h); epoch is the trust epoch its
 * verdicts belong to in the cache (set by decide.c when it is installed:
 * the previous one's when trust_fp is the same, else a new one).
 *
 * A generation also holds its shared-verdict backend (rcfg, rcache.h:
 * NULL for memory), with the password read from redis_password_file when
 * it was loaded; gen_load() fails when that file may not be used.
 *
 * gen_cache_key(conf, domain, setting) builds the cache key of a recipient
 * domain (A-label): "domain|setting|routes", routes as text
 * "host:port/prio,..." from conf_lookup_routes() ("" without routes), so a
 * change of a domain's setting or routes gives a different key. The caller
 * frees it.
 */
#ifndef TV_GEN_H
#define TV_GEN_H

#include <stddef.h>
#include "conf.h"
#include "engine.h"
#include "trustfp.h"

struct rcache_cfg;

struct gen {
	struct conf	*conf;
	struct engine	*engine;
	unsigned long	 id;		/* 1, 2, ... in load order */
	unsigned long	 epoch;		/* trust epoch (decide.c) */
	char		 trust_fp[TRUSTFP_LEN];
	struct rcache_cfg *rcfg;	/* NULL: memory only (SPEC 13) */
	unsigned	 refs;		/* atomic */
};

struct gen	*gen_load(const char *path, char *err, size_t errlen);
void		 gen_install(struct gen *);
struct gen	*gen_current(void);
struct gen	*gen_ref(struct gen *);
void		 gen_unref(struct gen *);
char		*gen_cache_key(const struct conf *, const char *domain,
		    enum tls_setting);

#endif
