/*
 * cache.c - the verdict cache: hash + LRU list + single-flight probes (see
 * cache.h for the contract).
 *
 * One mutex guards everything; one condition variable (CLOCK_MONOTONIC) is
 * broadcast whenever a probe stores its answer, and each waiter checks
 * whether its own entry's done_seq moved. An entry that has a probe in
 * flight (probing) or waiters is "busy": never evicted, pruned or freed, so
 * the probe thread and the waiters can keep a pointer to it without a
 * reference count. The cache owns its entries; answers are shared by
 * reference (cache_answer_ref/unref).
 *
 * Probe threads: at most max_probes run; a job past that waits in a FIFO
 * queue and is taken by the next thread that finishes its own job (a
 * thread runs jobs until the queue is empty). A queued job is "probing"
 * for single flight, so its entry is busy too.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "log.h"
#include "xalloc.h"

#define CACHE_BUCKETS0	256

struct centry {
	char		*key;
	char		*domain;
	struct cache_answer *ans;	/* NULL until the first probe ends */
	long		 stored;	/* now_ms() when ans was stored */
	long		 ttl;
	int		 probing;	/* running or queued */
	int		 unread;	/* stored with no waiter, not read yet */
	unsigned	 waiters;
	unsigned long	 done_seq;
	struct centry	*hnext;		/* hash chain */
	struct centry	*prev, *next;	/* LRU: head is most recent */
};

struct cache {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a probe finished */
	long		 (*now_ms)(void);
	long		 ttl[3];	/* by enum cache_kind */
	size_t		 max_entries;
	struct centry	**buckets;
	size_t		 nbuckets;
	size_t		 n;
	struct centry	*head, *tail;
	unsigned	 threads;	/* probe threads running */
	unsigned	 max_probes;
	struct cjob	*qhead, *qtail;	/* jobs waiting for a thread */
	size_t		 nqueued;
	unsigned long	 probes;
	unsigned long	 epoch;		/* trust epoch (cache_flush()) */
	int		 stopping;	/* cache_stop(): no new probes */
};

struct cjob {
	struct cache	*c;
	struct centry	*e;
	struct cache_answer *(*run)(void *, const char *, long);
	void		 (*release)(void *);
	void		*held;
	long		 deadline_ms;
	long		 queued_at;	/* monotonic ms */
	unsigned long	 epoch;		/* the asking configuration's */
	struct cjob	*qnext;
};

static long
cache_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t
cache_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

struct cache *
cache_new(long (*now_ms)(void))
{
	struct cache		*c = xcalloc(1, sizeof(*c));
	pthread_condattr_t	 ca;

	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->now_ms = now_ms ? now_ms : cache_mono_ms;
	c->nbuckets = CACHE_BUCKETS0;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	c->ttl[CACHE_OK] = 3600 * 1000L;
	c->ttl[CACHE_FAILED] = 300 * 1000L;
	c->ttl[CACHE_TEMP] = 60 * 1000L;
	c->max_entries = 10000;
	c->max_probes = CACHE_MAX_PROBES;
	return c;
}

void
cache_set_probes(struct cache *c, unsigned max_probes)
{
	pthread_mutex_lock(&c->mu);
	c->max_probes = max_probes > 0 ? max_probes : 1;
	pthread_mutex_unlock(&c->mu);
}

void
cache_set_limits(struct cache *c, long ok_ttl, long failed_ttl,
    long temp_ttl, size_t max_entries)
{
	pthread_mutex_lock(&c->mu);
	c->ttl[CACHE_OK] = ok_ttl;
	c->ttl[CACHE_FAILED] = failed_ttl;
	c->ttl[CACHE_TEMP] = temp_ttl;
	c->max_entries = max_entries > 0 ? max_entries : 1;
	pthread_mutex_unlock(&c->mu);
}

/* --- hash and LRU (mutex held) ----------------------------------------- */

static struct centry *
cache_find(struct cache *c, const char *key)
{
	struct centry	*e;

	for (e = c->buckets[cache_hash(key) & (c->nbuckets - 1)]; e != NULL;
	    e = e->hnext)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
cache_lru_unlink(struct cache *c, struct centry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
cache_lru_front(struct cache *c, struct centry *e)
{
	if (c->head == e)
		return;
	if (e->prev != NULL || e->next != NULL || c->tail == e)
		cache_lru_unlink(c, e);
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void
cache_grow(struct cache *c)
{
	size_t		 nb = c->nbuckets * 2, i;
	struct centry	**b = xcalloc(nb, sizeof(*b)), *e, *next;

	for (i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e != NULL; e = next) {
			next = e->hnext;
			e->hnext = b[cache_hash(e->key) & (nb - 1)];
			b[cache_hash(e->key) & (nb - 1)] = e;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

static void
cache_remove(struct cache *c, struct centry *e)
{
	struct centry	**pp;

	pp = &c->buckets[cache_hash(e->key) & (c->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	cache_lru_unlink(c, e);
	c->n--;
	cache_answer_unref(e->ans);
	free(e);		/* key and domain live in the same block */
}

static int
cache_busy(const struct centry *e)
{
	return e->probing || e->waiters > 0;
}

static int
cache_fresh(struct cache *c, const struct centry *e, long now)
{
	return e->ans != NULL && now < e->stored + e->ttl;
}

/* Evict idle entries from the LRU tail until there is room for one more;
 * a fresh answer nobody has read yet (a background probe's) stays. */
static void
cache_evict(struct cache *c, size_t room)
{
	struct centry	*e = c->tail, *prev;
	long		 now = c->now_ms();

	while (e != NULL && c->n + room > c->max_entries) {
		prev = e->prev;
		if (!cache_busy(e) && !(e->unread && cache_fresh(c, e, now)))
			cache_remove(c, e);
		e = prev;
	}
}

static struct centry *
cache_insert(struct cache *c, const char *key, const char *domain)
{
	size_t		 kl = strlen(key) + 1, dl = strlen(domain) + 1, b;
	struct centry	*e = xcalloc(1, sizeof(*e) + kl + dl);

	cache_evict(c, 1);
	if (c->n + 1 > 2 * c->nbuckets)
		cache_grow(c);
	e->key = memcpy((char *)(e + 1), key, kl);	/* one block */
	e->domain = memcpy(e->key + kl, domain, dl);
	b = cache_hash(key) & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	c->n++;
	cache_lru_front(c, e);
	return e;
}

/* --- probe threads ----------------------------------------------------- */

/*
 * Store j's answer a in its entry (mutex held). Not stored for later
 * requests: an answer asked for under another trust epoch (its waiters
 * get it, unless a fresh answer is there), and a temporary answer while a
 * fresh CACHE_OK one stands (stale-if-error).
 */
static void
cache_store(struct cache *c, struct cjob *j, struct cache_answer *a)
{
	struct centry	*e = j->e;
	long		 now = c->now_ms();
	int		 fresh = cache_fresh(c, e, now);

	if (a == NULL)
		return;
	if (fresh && (j->epoch != c->epoch || (a->kind == CACHE_TEMP &&
	    e->ans->kind == CACHE_OK))) {
		if (j->epoch == c->epoch)
			log_info("%s: refresh failed temporarily; the verified "
			    "answer stands until it expires", e->domain);
		cache_answer_unref(a);
		return;
	}
	cache_answer_unref(e->ans);
	e->ans = a;
	e->stored = now;
	e->ttl = c->ttl[a->kind <= CACHE_TEMP ? a->kind : CACHE_TEMP];
	if (a->max_ttl_ms > 0 && a->max_ttl_ms < e->ttl)
		e->ttl = a->max_ttl_ms;	/* a shared verdict's rest */
	if (j->epoch != c->epoch)	/* judged with an old config */
		e->ttl = 0;		/* only for its waiters */
	e->unread = e->waiters == 0;
}

/* The next queued job still worth running, or NULL (mutex held). Jobs
 * whose deadline passed in the queue are dropped: their waiters time out
 * on their own (done_seq does not move). */
static struct cjob *
cache_dequeue(struct cache *c)
{
	struct cjob	*j;

	while ((j = c->qhead) != NULL) {
		if ((c->qhead = j->qnext) == NULL)
			c->qtail = NULL;
		c->nqueued--;
		if (!c->stopping &&
		    cache_mono_ms() - j->queued_at < j->deadline_ms)
			return j;
		j->e->probing = 0;
		j->release(j->held);
		free(j);
	}
	return NULL;
}

static void *
cache_thread(void *arg)
{
	struct cjob		*j = arg;
	struct cache		*c = j->c;
	struct cache_answer	*a;
	long			 left;

	while (j != NULL) {
		left = j->deadline_ms - (cache_mono_ms() - j->queued_at);
		a = j->run(j->held, j->e->domain, left > 0 ? left : 1);
		j->release(j->held);
		pthread_mutex_lock(&c->mu);
		cache_store(c, j, a);
		j->e->probing = 0;
		j->e->done_seq++;
		free(j);
		j = cache_dequeue(c);
		if (j == NULL)
			c->threads--;
		cache_evict(c, 0);
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return NULL;
}

static int
cache_spawn(struct cache *c, struct cjob *j)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, cache_thread, j);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		log_err("cache: cannot start a probe thread: %s",
		    strerror(rc));
	return rc;
}

/*
 * Start (or queue, when queue is set) the probe for e (mutex held).
 * 0 started or queued, -1 error, -2 all probe threads busy (and the queue
 * full or not allowed).
 */
static int
cache_start(struct cache *c, struct centry *e, const struct cache_probe *p,
    int queue)
{
	struct cjob	*j;
	int		 spawn = c->threads < c->max_probes;

	if (c->stopping)
		return -1;
	if (!spawn && (!queue || c->nqueued >= CACHE_MAX_QUEUED))
		return -2;
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->e = e;
	j->run = p->run;
	j->release = p->release;
	j->deadline_ms = p->deadline_ms;
	j->queued_at = cache_mono_ms();
	j->epoch = p->epoch;
	j->held = p->hold(p->arg);
	e->probing = 1;
	c->probes++;
	if (!spawn) {
		if (c->qtail != NULL)
			c->qtail->qnext = j;
		else
			c->qhead = j;
		c->qtail = j;
		c->nqueued++;
		return 0;
	}
	c->threads++;
	if (cache_spawn(c, j) != 0) {
		e->probing = 0;
		c->threads--;
		c->probes--;
		p->release(j->held);
		free(j);
		return -1;
	}
	return 0;
}

/* --- lookups ----------------------------------------------------------- */

static void
cache_abstime(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait for the probe in flight on e (mutex held). */
static enum cache_rc
cache_wait(struct cache *c, struct centry *e, long wait_ms,
    struct cache_answer **ans)
{
	unsigned long	 seq = e->done_seq;
	struct timespec	 until;
	enum cache_rc	 rc = CACHE_TIMEOUT;

	cache_abstime(&until, wait_ms > 0 ? wait_ms : 0);
	e->waiters++;
	while (e->done_seq == seq)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &until) ==
		    ETIMEDOUT)
			break;
	e->waiters--;
	if (e->done_seq != seq && e->ans != NULL) {
		*ans = cache_answer_ref(e->ans);
		e->unread = 0;
		rc = CACHE_PROBED;
	}
	return rc;
}

/* A fresh entry's answer (and a refresh ahead when it is due); mutex held. */
static struct cache_answer *
cache_hit(struct cache *c, struct centry *e, long now,
    const struct cache_probe *p)
{
	cache_lru_front(c, e);
	if (!e->probing && now >= e->stored + e->ttl - e->ttl / 10)
		(void)cache_start(c, e, p, 0);	/* refresh ahead */
	e->unread = 0;
	return cache_answer_ref(e->ans);
}

enum cache_rc
cache_peek(struct cache *c, const char *key, const struct cache_probe *p,
    struct cache_answer **ans)
{
	struct centry	*e;
	long		 now;

	*ans = NULL;
	pthread_mutex_lock(&c->mu);
	now = c->now_ms();
	if ((e = cache_find(c, key)) != NULL && cache_fresh(c, e, now))
		*ans = cache_hit(c, e, now, p);
	pthread_mutex_unlock(&c->mu);
	return *ans != NULL ? CACHE_HIT : CACHE_TIMEOUT;
}

enum cache_rc
cache_get(struct cache *c, const char *key, const char *domain,
    const struct cache_probe *p, struct cache_answer **ans)
{
	struct centry	*e;
	enum cache_rc	 rc = CACHE_TIMEOUT;
	long		 now;
	int		 st = 0;

	*ans = NULL;
	pthread_mutex_lock(&c->mu);
	now = c->now_ms();
	e = cache_find(c, key);
	if (e != NULL && cache_fresh(c, e, now)) {
		*ans = cache_hit(c, e, now, p);
		pthread_mutex_unlock(&c->mu);
		return CACHE_HIT;
	}
	if (e == NULL)
		e = cache_insert(c, key, domain);
	else
		cache_lru_front(c, e);
	if (!e->probing)
		st = cache_start(c, e, p, 1);
	if (st == -1)
		rc = CACHE_ERROR;
	else if (st == 0)
		rc = cache_wait(c, e, p->wait_ms, ans);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void
cache_prune(struct cache *c, int (*keep)(const char *, const char *, void *),
    void *arg)
{
	struct centry	*e, *prev;

	pthread_mutex_lock(&c->mu);
	for (e = c->tail; e != NULL; e = prev) {
		prev = e->prev;
		if (!cache_busy(e) && !keep(e->domain, e->key, arg))
			cache_remove(c, e);
	}
	cache_evict(c, 0);
	pthread_mutex_unlock(&c->mu);
}

size_t
cache_count(struct cache *c)
{
	size_t	n;

	pthread_mutex_lock(&c->mu);
	n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

unsigned long
cache_probes(struct cache *c)
{
	unsigned long	n;

	pthread_mutex_lock(&c->mu);
	n = c->probes;
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t
cache_queued(struct cache *c)
{
	size_t	n;

	pthread_mutex_lock(&c->mu);
	n = c->nqueued;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void
cache_flush(struct cache *c, unsigned long epoch)
{
	struct centry	*e, *prev;

	pthread_mutex_lock(&c->mu);
	c->epoch = epoch;
	for (e = c->tail; e != NULL; e = prev) {
		prev = e->prev;
		if (!cache_busy(e))
			cache_remove(c, e);
		else
			e->ttl = 0;	/* a waited-on answer: not reused */
	}
	pthread_mutex_unlock(&c->mu);
}

void
cache_stop(struct cache *c)
{
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_mutex_unlock(&c->mu);
}

void
cache_drain(struct cache *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->threads > 0 || c->nqueued > 0)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	cache_drain(c);
	while (c->head != NULL)
		cache_remove(c, c->head);
	free(c->buckets);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
