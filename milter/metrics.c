/*
 * metrics.c - the counters and their text exposition (see metrics.h; the
 * HTTP side is metrics_http.c).
 *
 * Every counter is a C11 atomic in a fixed array indexed by small enums
 * (setting x result x action, map x answer, ...): counting is one relaxed
 * atomic add, a scrape reads each cell once. A scrape may see one counter
 * of an event and not yet another (the histogram's sum before its
 * bucket); each series on its own only grows. The histogram's _count is
 * the sum of the buckets read, so it always equals the +Inf bucket.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "decide.h"
#include "metrics.h"

#ifndef TV_VERSION
#define TV_VERSION "unknown"
#endif

static const char *const m_results[] = {
	"verified", "unverified", "plain", "unknown", "null-mx", "no-host",
	"not-probed", "other"
};
#define M_NRESULTS	(sizeof(m_results) / sizeof(m_results[0]))

static const char *const m_actions[] = {
	"accept", "tag", "defer", "reject", "would-defer", "would-reject"
};
#define M_NACTIONS	(sizeof(m_actions) / sizeof(m_actions[0]))

static const char *const m_maps[] = { "tlspolicy", "transport", "other" };
#define M_NMAPS		(sizeof(m_maps) / sizeof(m_maps[0]))

static const char *const m_panswers[] = {
	"none", "may", "encrypt", "secure", "fingerprint", "ok", "temp",
	"notfound", "perm", "other"
};
#define M_NPANSWERS	(sizeof(m_panswers) / sizeof(m_panswers[0]))

static const char *const m_qanswers[] = {
	"accept", "tag", "defer", "reject", "none", "may", "encrypt", "secure",
	"other"
};
#define M_NQANSWERS	(sizeof(m_qanswers) / sizeof(m_qanswers[0]))

/* histogram buckets: upper bounds in ms and as "le" label values */
static const long m_le_ms[] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 60000
};
static const char *const m_le[] = {
	"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "60"
};
#define M_NBUCKETS	(sizeof(m_le_ms) / sizeof(m_le_ms[0]))

static atomic_ulong	m_verdicts[TLS_SETTING_COUNT][M_NRESULTS][M_NACTIONS];
static atomic_ulong	m_cache[2];		/* miss, hit */
static atomic_ulong	m_hist[M_NBUCKETS + 1];	/* per bucket, +Inf last */
static atomic_ulong	m_hist_ms;
static atomic_long	m_inflight;
static atomic_ulong	m_policy[M_NMAPS][M_NPANSWERS];
static atomic_ulong	m_query[M_NQANSWERS];
static atomic_int	m_redis = -1;		/* -1: never set */

#define M_ADD(x)	atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define M_GET(x)	atomic_load_explicit(&(x), memory_order_relaxed)

/* Index of the word w (length n) in t, or the last entry ("other"). */
static size_t
metrics_index(const char *const *t, size_t nt, const char *w, size_t n)
{
	size_t	i;

	for (i = 0; i + 1 < nt; i++)
		if (strlen(t[i]) == n && strncmp(t[i], w, n) == 0)
			return i;
	return nt - 1;
}

void
metrics_verdict(enum tls_setting s, const char *result, enum action a,
    int would)
{
	size_t	r, ai;

	if ((unsigned)s >= TLS_SETTING_COUNT)
		return;
	r = metrics_index(m_results, M_NRESULTS, result ? result : "",
	    result ? strlen(result) : 0);
	if (would == ACTION_DEFER || would == ACTION_REJECT)
		ai = would == ACTION_DEFER ? 4 : 5;
	else
		ai = (unsigned)a < 4 ? (size_t)a : 2;
	M_ADD(m_verdicts[s][r][ai]);
}

/* The result= word of log fields, or "other". */
static void
metrics_result_word(const char *fields, char *w, size_t wlen)
{
	const char	*p = NULL;
	size_t		 n;

	if (fields != NULL && strncmp(fields, "result=", 7) == 0)
		p = fields + 7;
	else if (fields != NULL && (p = strstr(fields, " result=")) != NULL)
		p += 8;
	n = p != NULL ? strcspn(p, " ") : 0;
	if (p == NULL || n == 0 || n >= wlen)
		p = "other", n = 5;
	memcpy(w, p, n);
	w[n] = '\0';
}

void
metrics_decision(const struct decision *d)
{
	char	w[32];

	if (!d->judged)
		return;
	if (d->timeout || d->a == NULL)
		(void)snprintf(w, sizeof(w), "unknown");
	else
		metrics_result_word(d->a->logline, w, sizeof(w));
	metrics_verdict(d->setting, w, d->action, d->would);
	metrics_cache(d->cached);
}

void
metrics_cache(int hit)
{
	M_ADD(m_cache[hit ? 1 : 0]);
}

void
metrics_probe_start(void)
{
	atomic_fetch_add_explicit(&m_inflight, 1, memory_order_relaxed);
}

void
metrics_probe_end(long ms)
{
	size_t	i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < M_NBUCKETS && ms > m_le_ms[i]; i++)
		;
	M_ADD(m_hist[i]);
	atomic_fetch_add_explicit(&m_hist_ms, (unsigned long)ms,
	    memory_order_relaxed);
	atomic_fetch_sub_explicit(&m_inflight, 1, memory_order_relaxed);
}

void
metrics_policy(const char *req, const char *reply)
{
	size_t		 map, ans, n;
	const char	*w;

	map = metrics_index(m_maps, M_NMAPS, req, strcspn(req, " "));
	if (strncmp(reply, "OK ", 3) == 0) {
		w = reply + 3;
		n = strcspn(w, " ");
		ans = map == 0 ? metrics_index(m_panswers, 5 + 1, w, n) : 5;
	} else if (strncmp(reply, "TEMP", 4) == 0)
		ans = 6;
	else if (strncmp(reply, "NOTFOUND", 8) == 0)
		ans = 7;
	else if (strncmp(reply, "PERM", 4) == 0)
		ans = 8;
	else
		ans = M_NPANSWERS - 1;
	M_ADD(m_policy[map][ans]);
}

void
metrics_query(const char *reply)
{
	M_ADD(m_query[metrics_index(m_qanswers, M_NQANSWERS, reply,
	    strcspn(reply, " \r\n"))]);
}

void
metrics_redis_up(int up)
{
	atomic_store_explicit(&m_redis, up ? 1 : 0, memory_order_relaxed);
}

void
metrics_reset(void)
{
	size_t	s, r, a;

	for (s = 0; s < TLS_SETTING_COUNT; s++)
		for (r = 0; r < M_NRESULTS; r++)
			for (a = 0; a < M_NACTIONS; a++)
				atomic_store(&m_verdicts[s][r][a], 0);
	for (r = 0; r < M_NMAPS; r++)
		for (a = 0; a < M_NPANSWERS; a++)
			atomic_store(&m_policy[r][a], 0);
	for (a = 0; a < M_NQANSWERS; a++)
		atomic_store(&m_query[a], 0);
	for (a = 0; a <= M_NBUCKETS; a++)
		atomic_store(&m_hist[a], 0);
	atomic_store(&m_cache[0], 0);
	atomic_store(&m_cache[1], 0);
	atomic_store(&m_hist_ms, 0);
	atomic_store(&m_inflight, 0);
	atomic_store(&m_redis, -1);
}

int
metrics_label_escape(char *dst, size_t len, const char *src)
{
	size_t	o = 0;

	for (; *src != '\0'; src++) {
		if (*src == '\\' || *src == '"' || *src == '\n') {
			if (o + 2 >= len)
				goto full;
			dst[o++] = '\\';
			dst[o++] = *src == '\n' ? 'n' : *src;
		} else {
			if (o + 1 >= len)
				goto full;
			dst[o++] = *src;
		}
	}
	dst[o] = '\0';
	return 0;
full:
	if (len > 0)
		dst[0] = '\0';
	return -1;
}

/* --- the text format ------------------------------------------------------ */

struct mbuf {
	char	*p;
	size_t	 len, cap;
	int	 full;
};

static void mb_printf(struct mbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->full = 1;
		return;
	}
	b->len += (size_t)n;
}

static void
mb_head(struct mbuf *b, const char *name, const char *type, const char *help)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A sample whose labels are given as "k1", "v1", ..., NULL (escaped). */
static void
mb_sample(struct mbuf *b, const char *name, unsigned long v, ...)
{
	va_list		 ap;
	const char	*k, *sep = "{";
	char		 esc[128];

	mb_printf(b, "%s", name);
	va_start(ap, v);
	while ((k = va_arg(ap, const char *)) != NULL) {
		if (metrics_label_escape(esc, sizeof(esc),
		    va_arg(ap, const char *)) != 0)
			b->full = 1;
		mb_printf(b, "%s%s=\"%s\"", sep, k, esc);
		sep = ",";
	}
	va_end(ap);
	mb_printf(b, "%s %lu\n", *sep == ',' ? "}" : "", v);
}

static void
metrics_render_verdicts(struct mbuf *b)
{
	size_t		s, r, a;
	unsigned long	v;

	mb_head(b, "tlsverify_verdicts_total", "counter", "Judged recipient "
	    "domains by TLS setting, verdict result and action taken.");
	for (s = 0; s < TLS_SETTING_COUNT; s++)
		for (r = 0; r < M_NRESULTS; r++)
			for (a = 0; a < M_NACTIONS; a++)
				if ((v = M_GET(m_verdicts[s][r][a])) != 0)
					mb_sample(b, "tlsverify_verdicts_total",
					    v, "setting", conf_setting_name(
					    (enum tls_setting)s), "result",
					    m_results[r], "action",
					    m_actions[a], NULL);
}

static void
metrics_render_cache(struct mbuf *b)
{
	struct cache	*c = decide_cache();

	mb_head(b, "tlsverify_cache_lookups_total", "counter",
	    "Verdict cache lookups of judged decisions.");
	mb_sample(b, "tlsverify_cache_lookups_total", M_GET(m_cache[1]),
	    "result", "hit", NULL);
	mb_sample(b, "tlsverify_cache_lookups_total", M_GET(m_cache[0]),
	    "result", "miss", NULL);
	mb_head(b, "tlsverify_cache_entries", "gauge",
	    "Verdicts in the memory cache.");
	mb_sample(b, "tlsverify_cache_entries",
	    c != NULL ? (unsigned long)cache_count(c) : 0, NULL);
}

static void
metrics_render_probes(struct mbuf *b)
{
	unsigned long	n[M_NBUCKETS + 1], cum = 0, ms = M_GET(m_hist_ms);
	long		inflight = M_GET(m_inflight);
	size_t		i;

	for (i = 0; i <= M_NBUCKETS; i++)
		n[i] = M_GET(m_hist[i]);
	mb_head(b, "tlsverify_probe_duration_seconds", "histogram",
	    "Duration of network probes of destinations.");
	for (i = 0; i <= M_NBUCKETS; i++) {
		cum += n[i];
		mb_sample(b, "tlsverify_probe_duration_seconds_bucket", cum,
		    "le", i < M_NBUCKETS ? m_le[i] : "+Inf", NULL);
	}
	mb_printf(b, "tlsverify_probe_duration_seconds_sum %lu.%03lu\n",
	    ms / 1000, ms % 1000);
	mb_printf(b, "tlsverify_probe_duration_seconds_count %lu\n", cum);
	mb_head(b, "tlsverify_probes_in_flight", "gauge",
	    "Network probes running now.");
	mb_sample(b, "tlsverify_probes_in_flight",
	    inflight > 0 ? (unsigned long)inflight : 0, NULL);
}

static void
metrics_render_lookups(struct mbuf *b)
{
	size_t		m, a;
	unsigned long	v;
	int		redis = M_GET(m_redis);

	mb_head(b, "tlsverify_policy_lookups_total", "counter",
	    "Policy service (socketmap) lookups by map and answer.");
	for (m = 0; m < M_NMAPS; m++)
		for (a = 0; a < M_NPANSWERS; a++)
			if ((v = M_GET(m_policy[m][a])) != 0)
				mb_sample(b, "tlsverify_policy_lookups_total",
				    v, "map", m_maps[m], "answer",
				    m_panswers[a], NULL);
	mb_head(b, "tlsverify_query_lookups_total", "counter",
	    "Exim query service lookups by answer.");
	for (a = 0; a < M_NQANSWERS; a++)
		if ((v = M_GET(m_query[a])) != 0)
			mb_sample(b, "tlsverify_query_lookups_total", v,
			    "answer", m_qanswers[a], NULL);
	if (redis < 0)
		return;
	mb_head(b, "tlsverify_redis_up", "gauge",
	    "1 when the shared verdict cache (Redis) answers, else 0.");
	mb_sample(b, "tlsverify_redis_up", (unsigned long)redis, NULL);
}

size_t
metrics_render(char *buf, size_t len)
{
	struct mbuf	b = { buf, 0, len, len == 0 };

	mb_head(&b, "tlsverify_build_info", "gauge",
	    "Always 1; the version of tlsverify-milter as a label.");
	mb_sample(&b, "tlsverify_build_info", 1, "version", TV_VERSION, NULL);
	metrics_render_verdicts(&b);
	metrics_render_cache(&b);
	metrics_render_probes(&b);
	metrics_render_lookups(&b);
	return b.full ? 0 : b.len;
}
