/*
 * rcache.h - shared verdicts in Redis (SPEC 13): the Redis side only.
 * What a relay does with them (lock, wait, probe, stale-if-error) is
 * decide.c's; this module connects, runs single commands and (de)serializes
 * verdicts. Uses hiredis (Debian libhiredis-dev).
 *
 * Configuration (rcache_conf.c, no I/O but the password file):
 * rcache_cfg_parse(backend, cfg, err, errlen) parses "memory" (cfg->kind
 * RCACHE_MEMORY), "redis://[:PASSWORD@]HOST[:PORT][/DB]" (HOST a name,
 * IPv4 or [IPv6]; PORT 1-65535, default 6379; DB 0-65535,
 * default 0) or "unix:PATH[?db=N]"; 0 or -1 with a message. The password
 * is never part of cfg->desc (what logs show). rcache_timeout_parse(v,
 * &ms) reads [cache] redis_timeout: seconds with up to 3 decimals, 0.001
 * to 60. rcache_cfg_load(conf, &cfg, err, errlen) builds the cfg of a
 * loaded configuration: *cfg is NULL for "memory"; with
 * redis_password_file it reads the password (first line, at most
 * RCACHE_MAXPASS bytes) from a regular file owned by the daemon's user
 * ([milter] user, else the effective uid) and neither group- nor
 * world-accessible, else -1 with the reason. rcache_cfg_free(),
 * rcache_cfg_same() (same server, database, password and timeout).
 *
 * Connection (rcache.c): rcache_new() makes an idle handle (no thread);
 * rcache_configure(r, cfg) (cfg copied; NULL: off) connects at once
 * (synchronously, within the timeout) and starts the one helper thread,
 * which reconnects with exponential backoff (RCACHE_BACKOFF_MIN_MS to
 * RCACHE_BACKOFF_MAX_MS) while the server is down and checks it with a
 * PING every RCACHE_PING_MS while it is up. One log line when it goes
 * down, one when it comes back. A command that fails (I/O error, no answer
 * within the timeout, an error reply to AUTH/SELECT) marks it down; while
 * it is down every call returns RCACHE_DOWN at once, without waiting.
 * One connection, one mutex: commands of concurrent threads run one after
 * the other (each is one round trip on the local network).
 *
 * Commands (key: the verdict key without "tlsverify:"; see rcache_key()):
 *  rcache_get(r, key, domain, &a, &ttl_ms, &life_ms): RCACHE_OK with a
 *    new answer, its remaining TTL and the life it was stored with;
 *    RCACHE_MISS when there is none or it is malformed (logged once per
 *    call, re-probed by the caller); RCACHE_DOWN; RCACHE_OFF.
 *    The value is read with GETRANGE 0 RCACHE_MAXVAL, so an oversized one
 *    never costs more than that.
 *  rcache_lock(r, key, px_ms): SET tlsverify:lock:KEY TOKEN NX PX px:
 *    RCACHE_OK taken, RCACHE_MISS held by another, RCACHE_DOWN/OFF.
 *  rcache_unlock(r, key): DEL tlsverify:lock:KEY.
 *  rcache_put(r, key, domain, a, life_ms): SET tlsverify:KEY VALUE PX life.
 * rcache_state(r, &st): what metrics and tests read (up, downs,
 * reconnects, malformed values seen, ...).
 *
 * Values (rcache_val.c): rcache_encode(a, domain, life_ms, buf, len) writes
 * the version-1 form, returns its length or 0 when it does not fit;
 * rcache_decode(buf, len, domain, &a, &life_ms) returns 0 and a new answer,
 * or -1 for anything not exactly that form: another version or magic, more
 * than RCACHE_MAXVAL bytes, a field out of range, lengths that do not add
 * up, a string over its bound or with a control byte (the strings reach
 * logs, headers and SMTP replies), a kind that does not fit the action, a
 * code that does not fit the action, another domain. Version 2:
 *   "TVV2 KIND ACTION CODE XCODE LIFE_MS L0 L1 L2 L3 L4 L5 L6 L7\n" then
 *   the eight strings back to back: domain, text, logline, hdr, match,
 *   fpr, cn, pol (CODE and XCODE "-" when empty). Version 1 (without pol)
 *   is refused; its keys began "v1:", so two versions never share one.
 * rcache_key(trust_fp, cache_key, domain, out, len) builds
 * "v2:FP:DOMAIN:H": FP the first 32 hex digits of the generation's
 * trust_fp (settings and trust files: relays that judge differently never
 * share a verdict), H the first 32 hex digits of SHA-256(cache_key)
 * (setting and routes). -1 when it does not fit.
 */
#ifndef TV_RCACHE_H
#define TV_RCACHE_H

#include <stddef.h>

#include "cache.h"
#include "conf.h"
#include "name.h"

#define RCACHE_PREFIX		"tlsverify:"
#define RCACHE_MAXVAL		16384
#define RCACHE_MAXSTR		4096
#define RCACHE_MAXPASS		512
#define RCACHE_KEYLEN		(NAME_BUFLEN + 96)
#define RCACHE_BACKOFF_MIN_MS	1000L
#define RCACHE_BACKOFF_MAX_MS	30000L
#define RCACHE_PING_MS		5000L
#define RCACHE_DEFAULT_TIMEOUT	500L	/* ms */

enum rcache_kind {
	RCACHE_MEMORY = 0,
	RCACHE_TCP,
	RCACHE_UNIX
};

struct rcache_cfg {
	enum rcache_kind kind;
	char		*host;		/* TCP: name or address */
	unsigned	 port;
	char		*path;		/* unix socket */
	unsigned	 db;
	char		*password;	/* NULL: no AUTH */
	long		 timeout_ms;
	char		 desc[320];	/* for logs, never the password */
};

enum rcache_rc {
	RCACHE_OK = 0,
	RCACHE_MISS,
	RCACHE_DOWN,
	RCACHE_OFF
};

struct rcache_state {
	int		 configured;	/* a Redis backend is set */
	int		 up;
	unsigned long	 downs;		/* up -> down transitions */
	unsigned long	 reconnects;	/* down -> up transitions */
	unsigned long	 hits, misses, malformed, stores, lock_waits;
};

int	 rcache_cfg_parse(const char *backend, struct rcache_cfg *,
	    char *err, size_t errlen);
int	 rcache_timeout_parse(const char *v, long *ms);
int	 rcache_cfg_load(const struct conf *, struct rcache_cfg **,
	    char *err, size_t errlen);
int	 rcache_cfg_same(const struct rcache_cfg *, const struct rcache_cfg *);
void	 rcache_cfg_free(struct rcache_cfg *);

struct rcache;

struct rcache	*rcache_new(void);
void		 rcache_configure(struct rcache *, const struct rcache_cfg *);
void		 rcache_free(struct rcache *);
void		 rcache_state(struct rcache *, struct rcache_state *);
enum rcache_rc	 rcache_get(struct rcache *, const char *key,
		    const char *domain, struct cache_answer **,
		    long *ttl_ms, long *life_ms);
enum rcache_rc	 rcache_lock(struct rcache *, const char *key, long px_ms);
enum rcache_rc	 rcache_unlock(struct rcache *, const char *key);
enum rcache_rc	 rcache_put(struct rcache *, const char *key,
		    const char *domain, const struct cache_answer *,
		    long life_ms);

size_t	 rcache_encode(const struct cache_answer *, const char *domain,
	    long life_ms, char *buf, size_t len);
int	 rcache_decode(const char *buf, size_t len, const char *domain,
	    struct cache_answer **, long *life_ms);
int	 rcache_key(const char *trust_fp, const char *cache_key,
	    const char *domain, char *out, size_t len);

#endif
