/*
 * rcache.c - the Redis connection of the shared verdicts (see rcache.h):
 * connect with timeouts, AUTH, SELECT; GETRANGE+PTTL, SET NX PX, SET PX,
 * DEL; down/up state, reconnects with backoff in one helper thread.
 *
 * hiredis does the protocol (a well-kept client rather than a home-made
 * RESP parser); its blocking API with SO_RCVTIMEO/SO_SNDTIMEO bounds every
 * command by the timeout. A context is used under the mutex only (hiredis
 * contexts are not thread-safe); connecting happens outside it, so a slow
 * connect never stalls a command of another thread, which finds the state
 * "down" and returns at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "metrics.h"
#include "rcache.h"
#include "xalloc.h"

struct rcache {
	pthread_mutex_t	 mu;		/* everything below, and ctx's use */
	pthread_cond_t	 cv;		/* wakes the helper thread */
	struct rcache_cfg *cfg;		/* NULL: off */
	redisContext	*ctx;		/* NULL: down */
	unsigned long	 cfg_gen;	/* bumped by rcache_configure() */
	long		 backoff_ms;
	long		 next_try;	/* monotonic ms */
	long		 down_since;
	int		 thread_up, stopping;
	pthread_t	 thread;
	char		 token[96];	/* lock value: host:pid */
	struct rcache_state st;
};

static long
rcache_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct rcache_cfg *
rcache_cfg_dup(const struct rcache_cfg *c)
{
	struct rcache_cfg	*d = xmalloc(sizeof(*d));

	*d = *c;
	d->host = c->host ? xstrdup(c->host) : NULL;
	d->path = c->path ? xstrdup(c->path) : NULL;
	d->password = c->password ? xstrdup(c->password) : NULL;
	return d;
}

static const char *
rcache_why(const redisContext *ctx)
{
	if (ctx->err == REDIS_ERR_IO)	/* hiredis 0.14 may leave errstr "" */
		return errno == EAGAIN || errno == EWOULDBLOCK ?
		    "no answer within redis_timeout" : strerror(errno);
	if (ctx->err == REDIS_ERR_EOF)
		return "connection closed";
	return ctx->errstr[0] != '\0' ? ctx->errstr : "no answer";
}

/* One command that must answer with a status reply (AUTH, SELECT). */
static int
rcache_status(redisContext *ctx, const char *what, int argc,
    const char **argv, char *err, size_t errlen)
{
	redisReply	*rp = redisCommandArgv(ctx, argc, argv, NULL);
	int		 rv = -1;

	if (rp == NULL)
		(void)snprintf(err, errlen, "%s: %s", what, rcache_why(ctx));
	else if (rp->type != REDIS_REPLY_STATUS)
		(void)snprintf(err, errlen, "%s refused: %.100s", what,
		    rp->type == REDIS_REPLY_ERROR ? rp->str : "odd reply");
	else
		rv = 0;
	if (rp != NULL)
		freeReplyObject(rp);
	return rv;
}

/* A connected, authenticated context on the right database, or NULL. */
static redisContext *
rcache_connect(const struct rcache_cfg *c, char *err, size_t errlen)
{
	struct timeval	 tv = { c->timeout_ms / 1000,
			    (c->timeout_ms % 1000) * 1000 };
	redisContext	*ctx;
	char		 db[16];
	const char	*av[2];

	ctx = c->kind == RCACHE_UNIX ? redisConnectUnixWithTimeout(c->path, tv) :
	    redisConnectWithTimeout(c->host, (int)c->port, tv);
	if (ctx == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ctx->err != 0) {
		(void)snprintf(err, errlen, "%s", ctx->errstr);
		goto fail;
	}
	if (redisSetTimeout(ctx, tv) != REDIS_OK) {
		(void)snprintf(err, errlen, "cannot set the timeout");
		goto fail;
	}
	av[0] = "AUTH";
	av[1] = c->password;
	if (c->password != NULL && rcache_status(ctx, "AUTH", 2, av, err,
	    errlen) != 0)
		goto fail;
	(void)snprintf(db, sizeof(db), "%u", c->db);
	av[0] = "SELECT";
	av[1] = db;
	if (c->db != 0 && rcache_status(ctx, "SELECT", 2, av, err,
	    errlen) != 0)
		goto fail;
	av[0] = "PING";		/* a server that accepts but never answers */
	if (c->password == NULL && c->db == 0 && rcache_status(ctx, "PING", 1,
	    av, err, errlen) != 0)
		goto fail;
	return ctx;
fail:
	redisFree(ctx);
	return NULL;
}

/* The server stopped answering (mu held): memory only until it is back. */
static void
rcache_down(struct rcache *r, const char *reason)
{
	char	why[160];

	if (r->ctx == NULL)
		return;
	(void)snprintf(why, sizeof(why), "%s", reason);	/* may be ctx's */
	redisFree(r->ctx);
	r->ctx = NULL;
	r->st.up = 0;
	metrics_redis_up(0);
	r->st.downs++;
	r->down_since = rcache_now();
	r->backoff_ms = RCACHE_BACKOFF_MIN_MS;
	r->next_try = r->down_since + r->backoff_ms;
	log_warn("redis: %s is down (%s): verdicts from memory only until it "
	    "is back; retrying in %ld s", r->cfg->desc, why,
	    r->backoff_ms / 1000);
	pthread_cond_broadcast(&r->cv);
}

/* A connection attempt ended (mu held); ctx NULL when it failed. */
static void
rcache_attempt(struct rcache *r, redisContext *ctx, const char *why,
    int first)
{
	long	now = rcache_now();

	if (ctx != NULL) {
		r->ctx = ctx;
		r->st.up = 1;
		metrics_redis_up(1);
		if (first)
			log_info("redis: connected to %s: verdicts are shared",
			    r->cfg->desc);
		else {
			r->st.reconnects++;
			log_info("redis: %s is back after %ld s: verdicts are "
			    "shared again", r->cfg->desc,
			    (now - r->down_since + 500) / 1000);
		}
		return;
	}
	if (first) {
		metrics_redis_up(0);
		r->down_since = now;
		r->backoff_ms = RCACHE_BACKOFF_MIN_MS;
		log_warn("redis: cannot connect to %s (%s): verdicts from "
		    "memory only until it answers; retrying in %ld s",
		    r->cfg->desc, why, r->backoff_ms / 1000);
	} else {
		r->backoff_ms = r->backoff_ms * 2 > RCACHE_BACKOFF_MAX_MS ?
		    RCACHE_BACKOFF_MAX_MS : r->backoff_ms * 2;
		log_debug("redis: %s still down (%s); next try in %ld ms",
		    r->cfg->desc, why, r->backoff_ms);
	}
	r->next_try = now + r->backoff_ms;
}

/* Connects outside the mutex (mu held on entry and exit). */
static void
rcache_try(struct rcache *r, int first)
{
	struct rcache_cfg	*c = rcache_cfg_dup(r->cfg);
	unsigned long		 gen = r->cfg_gen;
	redisContext		*ctx;
	char			 why[200];

	pthread_mutex_unlock(&r->mu);
	ctx = rcache_connect(c, why, sizeof(why));
	rcache_cfg_free(c);
	pthread_mutex_lock(&r->mu);
	if (gen != r->cfg_gen || r->stopping || r->ctx != NULL) {
		if (ctx != NULL)
			redisFree(ctx);
		return;
	}
	rcache_attempt(r, ctx, why, first);
}

static void
rcache_abstime(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void
rcache_ping(struct rcache *r)
{
	redisReply	*rp = redisCommand(r->ctx, "PING");

	if (rp == NULL)
		rcache_down(r, rcache_why(r->ctx));
	else
		freeReplyObject(rp);
}

/* Reconnects while down, PINGs while up. */
static void *
rcache_thread(void *arg)
{
	struct rcache	*r = arg;
	struct timespec	 ts;
	long		 now;

	pthread_mutex_lock(&r->mu);
	while (!r->stopping) {
		now = rcache_now();
		if (r->cfg == NULL) {
			pthread_cond_wait(&r->cv, &r->mu);
		} else if (r->ctx == NULL && now >= r->next_try) {
			rcache_try(r, 0);
		} else {
			rcache_abstime(&ts, r->ctx == NULL ? r->next_try - now :
			    RCACHE_PING_MS);
			if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) ==
			    ETIMEDOUT && r->ctx != NULL)
				rcache_ping(r);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct rcache *
rcache_new(void)
{
	struct rcache		*r = xcalloc(1, sizeof(*r));
	pthread_condattr_t	 ca;
	char			 host[64];

	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (gethostname(host, sizeof(host)) != 0)
		(void)snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	(void)snprintf(r->token, sizeof(r->token), "%s:%ld", host,
	    (long)getpid());
	return r;
}

void
rcache_configure(struct rcache *r, const struct rcache_cfg *cfg)
{
	int	rc = 0;

	pthread_mutex_lock(&r->mu);
	if (rcache_cfg_same(r->cfg, cfg)) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
	r->st.up = 0;
	rcache_cfg_free(r->cfg);
	r->cfg = cfg != NULL ? rcache_cfg_dup(cfg) : NULL;
	r->st.configured = cfg != NULL;
	r->cfg_gen++;
	if (cfg != NULL) {
		rcache_try(r, 1);
		if (!r->thread_up && (rc = pthread_create(&r->thread, NULL,
		    rcache_thread, r)) == 0)
			r->thread_up = 1;
		else if (!r->thread_up)
			log_err("redis: cannot start its thread: %s",
			    strerror(rc));
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

void
rcache_free(struct rcache *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->thread_up)
		pthread_join(r->thread, NULL);
	if (r->ctx != NULL)
		redisFree(r->ctx);
	rcache_cfg_free(r->cfg);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void
rcache_state(struct rcache *r, struct rcache_state *st)
{
	if (r == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	pthread_mutex_unlock(&r->mu);
}

/* --- commands (mu held, r->ctx set) -------------------------------------- */

/* Runs argv; NULL after an I/O error or timeout (then down). */
static redisReply *
rcache_cmd(struct rcache *r, int argc, const char **argv, const size_t *len)
{
	redisReply	*rp = redisCommandArgv(r->ctx, argc, argv, len);

	if (rp == NULL)
		rcache_down(r, rcache_why(r->ctx));
	return rp;
}

/* Locks mu; RCACHE_OK when a command may run. */
static enum rcache_rc
rcache_enter(struct rcache *r)
{
	if (r == NULL)
		return RCACHE_OFF;
	pthread_mutex_lock(&r->mu);
	if (r->cfg == NULL || r->ctx == NULL) {
		enum rcache_rc rc = r->cfg == NULL ? RCACHE_OFF : RCACHE_DOWN;

		pthread_mutex_unlock(&r->mu);
		return rc;
	}
	return RCACHE_OK;
}

/* An error reply other than a wrong type: the call fails, the
 * connection stays (the server answered). */
static enum rcache_rc
rcache_errreply(struct rcache *r, const char *cmd, const redisReply *rp)
{
	log_warn("redis: %s: %.120s", cmd, rp->str);
	return RCACHE_DOWN;
}

static void
rcache_malformed(struct rcache *r, const char *domain, const char *why)
{
	r->st.malformed++;
	r->st.misses++;
	log_warn("redis: domain=%s: ignoring the shared verdict (%s); probing "
	    "again", domain, why);
}

/* The value of GETRANGE and the TTL of PTTL (mu held). */
static enum rcache_rc
rcache_value(struct rcache *r, const char *domain, redisReply *v,
    redisReply *t, struct cache_answer **a, long *ttl, long *life)
{
	if (v->type == REDIS_REPLY_ERROR && strncmp(v->str, "WRONGTYPE",
	    9) == 0) {
		rcache_malformed(r, domain, "not a string");
		return RCACHE_MISS;
	}
	if (v->type == REDIS_REPLY_ERROR)
		return rcache_errreply(r, "GETRANGE", v);
	if (t->type != REDIS_REPLY_INTEGER || v->type != REDIS_REPLY_STRING ||
	    v->len == 0 || t->integer == -2) {
		r->st.misses++;
		return RCACHE_MISS;
	}
	if (v->len > RCACHE_MAXVAL) {
		rcache_malformed(r, domain, "oversized");
		return RCACHE_MISS;
	}
	if (t->integer <= 0) {
		rcache_malformed(r, domain, "no expiry");
		return RCACHE_MISS;
	}
	if (rcache_decode(v->str, v->len, domain, a, life) != 0) {
		rcache_malformed(r, domain, "malformed or another version");
		return RCACHE_MISS;
	}
	*ttl = t->integer > *life ? *life : (long)t->integer;
	r->st.hits++;
	return RCACHE_OK;
}

enum rcache_rc
rcache_get(struct rcache *r, const char *key, const char *domain,
    struct cache_answer **a, long *ttl, long *life)
{
	char		 k[RCACHE_KEYLEN + 16], max[16];
	const char	*av[4] = { "GETRANGE", k, "0", max };
	redisReply	*v = NULL, *t = NULL;
	enum rcache_rc	 rc;

	*a = NULL;
	if ((rc = rcache_enter(r)) != RCACHE_OK)
		return rc;
	(void)snprintf(k, sizeof(k), "%s%s", RCACHE_PREFIX, key);
	(void)snprintf(max, sizeof(max), "%d", RCACHE_MAXVAL);
	if (redisAppendCommandArgv(r->ctx, 4, av, NULL) != REDIS_OK ||
	    redisAppendCommand(r->ctx, "PTTL %s", k) != REDIS_OK ||
	    redisGetReply(r->ctx, (void **)&v) != REDIS_OK ||
	    redisGetReply(r->ctx, (void **)&t) != REDIS_OK) {
		rcache_down(r, rcache_why(r->ctx));
		rc = RCACHE_DOWN;
	} else
		rc = rcache_value(r, domain, v, t, a, ttl, life);
	pthread_mutex_unlock(&r->mu);
	if (v != NULL)
		freeReplyObject(v);
	if (t != NULL)
		freeReplyObject(t);
	return rc;
}

enum rcache_rc
rcache_lock(struct rcache *r, const char *key, long px_ms)
{
	char		 k[RCACHE_KEYLEN + 32], px[24];
	const char	*av[6] = { "SET", k, NULL, "NX", "PX", px };
	redisReply	*rp;
	enum rcache_rc	 rc;

	if ((rc = rcache_enter(r)) != RCACHE_OK)
		return rc;
	(void)snprintf(k, sizeof(k), "%slock:%s", RCACHE_PREFIX, key);
	(void)snprintf(px, sizeof(px), "%ld", px_ms > 0 ? px_ms : 1);
	av[2] = r->token;
	if ((rp = rcache_cmd(r, 6, av, NULL)) == NULL)
		rc = RCACHE_DOWN;
	else if (rp->type == REDIS_REPLY_STATUS)
		rc = RCACHE_OK;
	else if (rp->type == REDIS_REPLY_NIL) {
		r->st.lock_waits++;
		rc = RCACHE_MISS;
	} else
		rc = rcache_errreply(r, "SET NX", rp);
	pthread_mutex_unlock(&r->mu);
	if (rp != NULL)
		freeReplyObject(rp);
	return rc;
}

enum rcache_rc
rcache_unlock(struct rcache *r, const char *key)
{
	char		 k[RCACHE_KEYLEN + 32];
	const char	*av[2] = { "DEL", k };
	redisReply	*rp;
	enum rcache_rc	 rc;

	if ((rc = rcache_enter(r)) != RCACHE_OK)
		return rc;
	(void)snprintf(k, sizeof(k), "%slock:%s", RCACHE_PREFIX, key);
	rp = rcache_cmd(r, 2, av, NULL);
	rc = rp == NULL ? RCACHE_DOWN : RCACHE_OK;
	pthread_mutex_unlock(&r->mu);
	if (rp != NULL)
		freeReplyObject(rp);
	return rc;
}

enum rcache_rc
rcache_put(struct rcache *r, const char *key, const char *domain,
    const struct cache_answer *a, long life_ms)
{
	char		 k[RCACHE_KEYLEN + 16], px[24], *val;
	const char	*av[5] = { "SET", k, NULL, "PX", px };
	size_t		 len[5], n;
	redisReply	*rp;
	enum rcache_rc	 rc;

	val = xmalloc(RCACHE_MAXVAL);
	if ((n = rcache_encode(a, domain, life_ms, val, RCACHE_MAXVAL)) == 0) {
		free(val);
		return RCACHE_MISS;	/* too big to share: memory only */
	}
	if ((rc = rcache_enter(r)) != RCACHE_OK) {
		free(val);
		return rc;
	}
	(void)snprintf(k, sizeof(k), "%s%s", RCACHE_PREFIX, key);
	(void)snprintf(px, sizeof(px), "%ld", life_ms);
	av[2] = val;
	len[0] = 3;
	len[1] = strlen(k);
	len[2] = n;
	len[3] = 2;
	len[4] = strlen(px);
	if ((rp = rcache_cmd(r, 5, av, len)) == NULL)
		rc = RCACHE_DOWN;
	else if (rp->type == REDIS_REPLY_STATUS) {
		r->st.stores++;
		rc = RCACHE_OK;
	} else
		rc = rcache_errreply(r, "SET", rp);
	pthread_mutex_unlock(&r->mu);
	if (rp != NULL)
		freeReplyObject(rp);
	free(val);
	return rc;
}
