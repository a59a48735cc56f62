/*
 * test_cache.c - the verdict cache with a fake probe and a fake clock:
 * single flight, lifetimes per kind, LRU bound, the waiter's deadline with
 * the probe finishing in the background, refresh ahead, prune, and that
 * every hold() is released; stale-if-error, trust epochs, the bound on
 * concurrent probes (queue) and unread background answers kept.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "t.h"

static long		fake_now = 1000000;
static unsigned		n_runs, n_holds, n_releases;
static long		probe_delay_ms;
static enum cache_kind	probe_kind = CACHE_OK;
static long		probe_max_ttl;	/* the answers' max_ttl_ms */

static long
fake_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

static long
real_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static struct cache_answer *
fake_run(void *held, const char *domain, long deadline_ms)
{
	unsigned	 n = __atomic_add_fetch(&n_runs, 1, __ATOMIC_SEQ_CST);
	char		 text[64];
	const char	*str[CA_NSTR] = { text, "log", "hdr", NULL, NULL, NULL };

	usleep((useconds_t)probe_delay_ms * 1000);
	struct cache_answer *a;

	(void)snprintf(text, sizeof(text), "run %u for %s", n, domain);
	a = cache_answer_new(probe_kind, 0, "", "", str);
	a->max_ttl_ms = probe_max_ttl;
	return a;
}

static void *
fake_hold(void *arg)
{
	__atomic_add_fetch(&n_holds, 1, __ATOMIC_SEQ_CST);
	return arg;
}

static void
fake_release(void *held)
{
	__atomic_add_fetch(&n_releases, 1, __ATOMIC_SEQ_CST);
}

static struct cache_probe probe = {
	fake_run, fake_hold, fake_release, NULL, 2000, 5000, 0
};

static enum cache_rc
get(struct cache *c, const char *key, char *text, size_t len)
{
	struct cache_answer	*a;
	enum cache_rc		 rc = cache_get(c, key, key, &probe, &a);

	if (text != NULL)
		(void)snprintf(text, len, "%s", a != NULL ? a->text : "");
	cache_answer_unref(a);
	return rc;
}

struct sf_arg {
	struct cache	*c;
	enum cache_rc	 rc;
	char		 text[64];
};

static void *
sf_thread(void *p)
{
	struct sf_arg	*a = p;

	a->rc = get(a->c, "cold.example", a->text, sizeof(a->text));
	return NULL;
}

static void
test_single_flight(void)
{
	struct cache	*c = cache_new(fake_clock);
	struct sf_arg	 a[20];
	pthread_t	 t[20];
	int		 i, good = 0, same = 0;

	probe_delay_ms = 300;
	n_runs = 0;
	for (i = 0; i < 20; i++) {
		a[i].c = c;
		pthread_create(&t[i], NULL, sf_thread, &a[i]);
	}
	for (i = 0; i < 20; i++) {
		pthread_join(t[i], NULL);
		good += a[i].rc == CACHE_PROBED || a[i].rc == CACHE_HIT;
		same += strcmp(a[i].text, "run 1 for cold.example") == 0;
	}
	T_OK(n_runs == 1, "20 concurrent requests: one probe (got %u)",
	    n_runs);
	T_OK(good == 20 && same == 20, "all 20 got the one answer (%d, %d)",
	    good, same);
	T_OK(get(c, "cold.example", NULL, 0) == CACHE_HIT && n_runs == 1,
	    "the next request is a hit without a probe");
	cache_free(c);
}

static void
test_ttls(void)
{
	struct cache	*c = cache_new(fake_clock);

	probe_delay_ms = 0;
	n_runs = 0;
	cache_set_limits(c, 10000, 4000, 1000, 100);
	probe_kind = CACHE_OK;
	(void)get(c, "ok.example", NULL, 0);
	probe_kind = CACHE_FAILED;
	(void)get(c, "failed.example", NULL, 0);
	probe_kind = CACHE_TEMP;
	(void)get(c, "temp.example", NULL, 0);
	cache_drain(c);
	T_OK(n_runs == 3, "three cold domains: three probes");
	fake_now += 1000;	/* temp (1 s) expired, others fresh */
	T_OK(get(c, "temp.example", NULL, 0) == CACHE_PROBED,
	    "temporary answer expires after tempfail_ttl");
	T_OK(get(c, "failed.example", NULL, 0) == CACHE_HIT,
	    "failed answer still fresh at 1 s");
	fake_now += 3000;	/* 4 s */
	T_OK(get(c, "failed.example", NULL, 0) == CACHE_PROBED,
	    "failed answer expires after failed_ttl");
	T_OK(get(c, "ok.example", NULL, 0) == CACHE_HIT,
	    "verified answer still fresh at 4 s");
	fake_now += 6000;	/* 10 s */
	T_OK(get(c, "ok.example", NULL, 0) == CACHE_PROBED,
	    "verified answer expires after verified_ttl");
	cache_set_limits(c, 0, 0, 0, 100);
	T_OK(get(c, "zero.example", NULL, 0) == CACHE_PROBED &&
	    get(c, "zero.example", NULL, 0) == CACHE_PROBED,
	    "ttl 0: never served from the cache");
	cache_free(c);
	probe_kind = CACHE_OK;
}

/* A shared verdict's memory copy lives at most its remaining TTL
 * (max_ttl_ms), never longer than the kind's own lifetime. */
static void
test_max_ttl(void)
{
	struct cache	*c = cache_new(fake_clock);

	probe_delay_ms = 0;
	n_runs = 0;
	probe_kind = CACHE_OK;
	cache_set_limits(c, 10000, 10000, 10000, 100);
	probe_max_ttl = 3000;
	(void)get(c, "shared.example", NULL, 0);
	probe_max_ttl = 60000;
	(void)get(c, "long.example", NULL, 0);
	fake_now += 2000;
	T_OK(get(c, "shared.example", NULL, 0) == CACHE_HIT && n_runs == 2,
	    "max_ttl_ms 3 s: fresh after 2 s");
	fake_now += 1000;
	cache_drain(c);
	T_OK(get(c, "shared.example", NULL, 0) == CACHE_PROBED && n_runs == 3,
	    "max_ttl_ms 3 s: expired after 3 s (ok ttl 10 s)");
	fake_now += 7000;
	cache_drain(c);
	T_OK(get(c, "long.example", NULL, 0) == CACHE_PROBED,
	    "max_ttl_ms longer than the kind's ttl: the kind's ttl wins");
	probe_max_ttl = 0;
	cache_free(c);
}

static void
test_lru(void)
{
	struct cache	*c = cache_new(fake_clock);
	char		 key[32];
	int		 i;

	probe_delay_ms = 0;
	cache_set_limits(c, 100000, 100000, 100000, 3);
	(void)get(c, "a.example", NULL, 0);
	(void)get(c, "b.example", NULL, 0);
	(void)get(c, "c.example", NULL, 0);
	(void)get(c, "a.example", NULL, 0);	/* a is now recent */
	(void)get(c, "d.example", NULL, 0);	/* evicts b */
	cache_drain(c);
	T_OK(cache_count(c) == 3, "bound of 3 entries kept (%zu)",
	    cache_count(c));
	T_OK(get(c, "a.example", NULL, 0) == CACHE_HIT,
	    "recently used entry survives");
	T_OK(get(c, "c.example", NULL, 0) == CACHE_HIT,
	    "entry newer than the evicted one survives");
	T_OK(get(c, "b.example", NULL, 0) == CACHE_PROBED,
	    "least recently used entry was evicted");
	for (i = 0; i < 500; i++) {
		(void)snprintf(key, sizeof(key), "d%d.example", i);
		(void)get(c, key, NULL, 0);
	}
	cache_drain(c);
	T_OK(cache_count(c) == 3, "500 more domains: still 3 entries");
	cache_free(c);
}

static void
test_deadline(void)
{
	struct cache	*c = cache_new(fake_clock);
	struct cache_probe saved = probe;
	char		 text[64];
	long		 t0;
	enum cache_rc	 rc;

	probe_delay_ms = 600;
	n_runs = 0;
	probe.wait_ms = 100;
	t0 = real_ms();
	rc = get(c, "slow.example", NULL, 0);
	T_OK(rc == CACHE_TIMEOUT, "slow probe: the waiter times out");
	T_OK(real_ms() - t0 < 450, "and returns near its deadline (%ld ms)",
	    real_ms() - t0);
	rc = get(c, "slow.example", NULL, 0);
	T_OK(rc == CACHE_TIMEOUT && n_runs <= 1,
	    "a second waiter joins the same background probe");
	cache_drain(c);
	rc = get(c, "slow.example", text, sizeof(text));
	T_OK(rc == CACHE_HIT && strcmp(text, "run 1 for slow.example") == 0,
	    "the background probe's answer is cached for the retry (%s)",
	    text);
	T_OK(n_runs == 1, "one probe in all");
	probe = saved;
	cache_free(c);
}

static void
test_refresh(void)
{
	struct cache	*c = cache_new(fake_clock);
	char		 text[64];

	probe_delay_ms = 0;
	n_runs = 0;
	cache_set_limits(c, 10000, 10000, 10000, 100);
	(void)get(c, "busy.example", NULL, 0);
	cache_drain(c);
	fake_now += 8000;	/* 80% of life: no refresh yet */
	(void)get(c, "busy.example", NULL, 0);
	cache_drain(c);
	T_OK(n_runs == 1, "used at 80%% of its life: no re-probe");
	fake_now += 1500;	/* 95% */
	probe_delay_ms = 300;
	T_OK(get(c, "busy.example", text, sizeof(text)) == CACHE_HIT &&
	    strcmp(text, "run 1 for busy.example") == 0,
	    "used at 95%%: the old answer is served at once");
	(void)get(c, "busy.example", NULL, 0);
	cache_drain(c);
	T_OK(n_runs == 2, "exactly one background re-probe (%u runs)", n_runs);
	fake_now += 1000;	/* old entry would have expired */
	T_OK(get(c, "busy.example", text, sizeof(text)) == CACHE_HIT &&
	    strcmp(text, "run 2 for busy.example") == 0,
	    "the refreshed answer replaced the old one (%s)", text);
	cache_free(c);
}

static void
test_peek(void)
{
	struct cache		*c = cache_new(fake_clock);
	struct cache_answer	*a;
	unsigned long		 before;

	probe_delay_ms = 0;
	n_runs = 0;
	cache_set_limits(c, 10000, 10000, 10000, 100);
	before = cache_probes(c);
	T_OK(cache_peek(c, "peek.example", &probe, &a) == CACHE_TIMEOUT &&
	    a == NULL, "peek: a cold key is no hit");
	cache_drain(c);
	T_OK(cache_probes(c) == before && cache_count(c) == 0,
	    "peek: nothing started nor inserted for a cold key");
	(void)get(c, "peek.example", NULL, 0);
	cache_drain(c);
	T_OK(cache_peek(c, "peek.example", &probe, &a) == CACHE_HIT &&
	    a != NULL && strcmp(a->text, "run 1 for peek.example") == 0,
	    "peek: a fresh entry is a hit");
	cache_answer_unref(a);
	fake_now += 9500;	/* 95% of its life: refresh ahead */
	T_OK(cache_peek(c, "peek.example", &probe, &a) == CACHE_HIT,
	    "peek: served at 95%% of its life");
	cache_answer_unref(a);
	cache_drain(c);
	T_OK(n_runs == 2, "peek: started the refresh ahead (%u runs)",
	    n_runs);
	fake_now += 20000;	/* expired */
	T_OK(cache_peek(c, "peek.example", &probe, &a) == CACHE_TIMEOUT &&
	    a == NULL, "peek: an expired entry is no hit");
	cache_drain(c);
	T_OK(n_runs == 2, "peek: no probe for an expired entry");
	cache_free(c);
}

static int
keep_not_b(const char *domain, const char *key, void *arg)
{
	return strcmp(domain, "b.example") != 0;
}

static void
test_prune(void)
{
	struct cache	*c = cache_new(fake_clock);

	probe_delay_ms = 0;
	(void)get(c, "a.example", NULL, 0);
	(void)get(c, "b.example", NULL, 0);
	cache_drain(c);
	cache_prune(c, keep_not_b, NULL);
	T_OK(cache_count(c) == 1, "prune dropped one entry");
	T_OK(get(c, "a.example", NULL, 0) == CACHE_HIT &&
	    get(c, "b.example", NULL, 0) == CACHE_PROBED,
	    "the dropped key is probed again, the kept one is a hit");
	cache_free(c);
}

static void
test_stale_if_error(void)
{
	struct cache	*c = cache_new(fake_clock);
	char		 text[64];

	probe_delay_ms = 0;
	n_runs = 0;
	probe_kind = CACHE_OK;
	cache_set_limits(c, 10000, 10000, 10000, 100);
	(void)get(c, "sie.example", NULL, 0);
	cache_drain(c);
	fake_now += 9500;		/* 95%: refresh ahead */
	probe_kind = CACHE_TEMP;	/* ... which fails temporarily */
	(void)get(c, "sie.example", NULL, 0);
	cache_drain(c);
	T_OK(n_runs == 2, "a refresh ran (%u runs)", n_runs);
	T_OK(get(c, "sie.example", text, sizeof(text)) == CACHE_HIT &&
	    strcmp(text, "run 1 for sie.example") == 0,
	    "its temporary failure did not replace the verified answer (%s)",
	    text);
	fake_now += 600;		/* the verified answer expired */
	T_OK(get(c, "sie.example", text, sizeof(text)) == CACHE_PROBED &&
	    strcmp(text, "run 3 for sie.example") == 0,
	    "once expired, the temporary answer is given (%s)", text);
	probe_kind = CACHE_OK;
	cache_free(c);
}

static void
test_epoch(void)
{
	struct cache	*c = cache_new(fake_clock);
	struct cache_probe saved = probe;
	char		 text[64];

	probe_delay_ms = 0;
	n_runs = 0;
	cache_flush(c, 2);		/* a reload: trust epoch 2 */
	probe.epoch = 1;		/* a message of the old configuration */
	T_OK(get(c, "old.example", text, sizeof(text)) == CACHE_PROBED &&
	    strcmp(text, "run 1 for old.example") == 0,
	    "a request of the old epoch gets its own answer");
	probe.epoch = 2;
	T_OK(get(c, "old.example", text, sizeof(text)) == CACHE_PROBED &&
	    strcmp(text, "run 2 for old.example") == 0,
	    "which was not stored for the new epoch (%s)", text);
	probe.epoch = 1;
	T_OK(get(c, "old.example", text, sizeof(text)) == CACHE_HIT &&
	    strcmp(text, "run 2 for old.example") == 0,
	    "the new epoch's answer is served to everyone after");
	probe = saved;
	cache_free(c);
}

struct q_arg {
	struct cache	*c;
	char		 key[32];
	enum cache_rc	 rc;
};

static void *
q_thread(void *p)
{
	struct q_arg	*a = p;

	a->rc = get(a->c, a->key, NULL, 0);
	return NULL;
}

static unsigned		q_now, q_max;

static struct cache_answer *
count_run(void *held, const char *domain, long deadline_ms)
{
	unsigned	n = __atomic_add_fetch(&q_now, 1, __ATOMIC_SEQ_CST);
	unsigned	m = __atomic_load_n(&q_max, __ATOMIC_SEQ_CST);
	struct cache_answer *a;

	while (n > m && !__atomic_compare_exchange_n(&q_max, &m, n, 0,
	    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
	a = fake_run(held, domain, deadline_ms);
	__atomic_sub_fetch(&q_now, 1, __ATOMIC_SEQ_CST);
	return a;
}

static void
test_bounded_probes(void)
{
	struct cache	*c = cache_new(fake_clock);
	struct cache_probe saved = probe;
	struct q_arg	 a[12];
	pthread_t	 t[12];
	int		 i, probed = 0;

	probe_delay_ms = 100;
	n_runs = 0;
	probe.run = count_run;
	cache_set_probes(c, 3);
	for (i = 0; i < 12; i++) {
		a[i].c = c;
		(void)snprintf(a[i].key, sizeof(a[i].key), "q%d.example", i);
		pthread_create(&t[i], NULL, q_thread, &a[i]);
	}
	for (i = 0; i < 12; i++) {
		pthread_join(t[i], NULL);
		probed += a[i].rc == CACHE_PROBED;
	}
	T_OK(q_max == 3, "12 cold domains, max_probes 3: at most 3 at once "
	    "(%u)", q_max);
	T_OK(probed == 12 && n_runs == 12, "the queued ones were probed "
	    "within the wait (%d answers, %u runs)", probed, n_runs);
	probe = saved;
	cache_free(c);
}

static void
test_unread_kept(void)
{
	struct cache	*c = cache_new(fake_clock);
	struct cache_probe saved = probe;
	char		 key[32];
	int		 i;

	probe_delay_ms = 300;
	n_runs = 0;
	cache_set_limits(c, 10000, 10000, 10000, 2);
	probe.wait_ms = 10;		/* the waiter leaves: background */
	(void)get(c, "bg.example", NULL, 0);
	probe.wait_ms = 2000;
	probe_delay_ms = 0;
	for (i = 0; i < 4; i++) {	/* keep the cache over its bound */
		(void)snprintf(key, sizeof(key), "f%d.example", i);
		(void)get(c, key, NULL, 0);
	}
	cache_drain(c);
	probe_delay_ms = 0;
	T_OK(get(c, "bg.example", NULL, 0) == CACHE_HIT,
	    "a background answer nobody read yet was not evicted");
	probe = saved;
	cache_free(c);
}

int
main(void)
{
	test_single_flight();
	test_ttls();
	test_max_ttl();
	test_lru();
	test_deadline();
	test_refresh();
	test_peek();
	test_prune();
	test_stale_if_error();
	test_epoch();
	test_bounded_probes();
	test_unread_kept();
	T_OK(n_holds == n_releases && n_holds > 0,
	    "every hold released (%u/%u)", n_holds, n_releases);
	return T_DONE();
}
