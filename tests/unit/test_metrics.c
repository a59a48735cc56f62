/*
 * test_metrics.c - the metrics module without sockets: counting (also
 * from 8 threads at once: the totals are exact), the text format
 * (samples, label escaping, the histogram's buckets), [metrics] listen
 * parsing with hostile rows, and the HTTP handler's status lines.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "decide.h"
#include "metrics.h"
#include "netsrv.h"
#include "t.h"

static char	out[NETSRV_HTTP_REPLY_MAX];

static int
has(const char *line)
{
	char	want[512];

	(void)snprintf(want, sizeof(want), "\n%s\n", line);
	return strstr(out, want) != NULL;
}

static void
render(void)
{
	out[0] = '\n';
	if (metrics_render(out + 1, sizeof(out) - 1) == 0)
		out[1] = '\0';
}

static void
test_counts(void)
{
	struct decision	 d;
	const char	*str[CA_NSTR] = { "", "result=verified action=accept "
			    "host=mx ip=127.0.0.1", "", "", "", "" };

	metrics_reset();
	metrics_verdict(TLS_REQUIRED_VERIFY, "verified", ACTION_ACCEPT, 0);
	metrics_verdict(TLS_REQUIRED_VERIFY, "verified", ACTION_ACCEPT, 0);
	metrics_verdict(TLS_REQUIRED, "plain", ACTION_ACCEPT, ACTION_DEFER);
	metrics_verdict(TLS_REQUIRED, "bogus\"\n", ACTION_REJECT, 0);
	metrics_verdict(TLS_SETTING_COUNT, "plain", ACTION_ACCEPT, 0);
	memset(&d, 0, sizeof(d));
	d.setting = TLS_PREFERRED;
	metrics_decision(&d);			/* not judged: not counted */
	d.setting = TLS_PREFERRED_VERIFY;
	d.judged = 1;
	d.action = ACTION_TAG;
	d.timeout = 1;
	metrics_decision(&d);
	d.timeout = 0;
	d.action = ACTION_ACCEPT;
	d.cached = 1;
	d.a = cache_answer_new(CACHE_OK, ACTION_ACCEPT, "", "", str);
	metrics_decision(&d);
	cache_answer_unref(d.a);
	render();
	T_OK(has("tlsverify_verdicts_total{setting=\"required-verify\","
	    "result=\"verified\",action=\"accept\"} 2"), "verdict counted");
	T_OK(has("tlsverify_verdicts_total{setting=\"required\",result="
	    "\"plain\",action=\"would-defer\"} 1"), "monitor: would-defer");
	T_OK(has("tlsverify_verdicts_total{setting=\"required\",result="
	    "\"other\",action=\"reject\"} 1"), "unknown result word: other");
	T_OK(has("tlsverify_verdicts_total{setting=\"preferred-verify\","
	    "result=\"unknown\",action=\"tag\"} 1") &&
	    has("tlsverify_verdicts_total{setting=\"preferred-verify\","
	    "result=\"verified\",action=\"accept\"} 1"),
	    "decisions: timeout unknown, answer's result word");
	T_OK(strstr(out, "setting=\"preferred\"") == NULL,
	    "unjudged decision not counted");
	T_OK(has("tlsverify_cache_lookups_total{result=\"hit\"} 1") &&
	    has("tlsverify_cache_lookups_total{result=\"miss\"} 1"),
	    "cache hit and miss of the two judged decisions");
	T_OK(has("tlsverify_cache_entries 0"), "no cache: 0 entries");
	T_OK(has("tlsverify_build_info{version=\"" TV_VERSION "\"} 1"),
	    "build info");
	T_OK(strstr(out, "redis") == NULL, "redis_up absent until set");
	metrics_redis_up(0);
	render();
	T_OK(has("# TYPE tlsverify_redis_up gauge") &&
	    has("tlsverify_redis_up 0"), "redis_up 0 once set");
}

static void
test_lookups(void)
{
	metrics_reset();
	metrics_policy("tlspolicy a.test", "OK none");
	metrics_policy("tlspolicy a.test", "OK secure match=a:b "
	    "servername=hostname");
	metrics_policy("tlspolicy a.test", "OK fingerprint match=AA");
	metrics_policy("tlspolicy a.test", "TEMP a.test: no");
	metrics_policy("transport a.test", "OK smtp:[h]:25");
	metrics_policy("transport a.test", "NOTFOUND ");
	metrics_policy("tlspolicyX a.test", "PERM unknown map");
	metrics_policy("nospace", "PERM malformed request");
	metrics_policy("tlspolicy a.test", "");
	metrics_query("accept");
	metrics_query("defer 451 4.7.5 text");
	metrics_query("secure match=a");
	metrics_query("\"evil\"\n");
	render();
	T_OK(has("tlsverify_policy_lookups_total{map=\"tlspolicy\",answer="
	    "\"none\"} 1") && has("tlsverify_policy_lookups_total{map="
	    "\"tlspolicy\",answer=\"secure\"} 1") &&
	    has("tlsverify_policy_lookups_total{map=\"tlspolicy\",answer="
	    "\"fingerprint\"} 1") && has("tlsverify_policy_lookups_total{"
	    "map=\"tlspolicy\",answer=\"temp\"} 1") &&
	    has("tlsverify_policy_lookups_total{map=\"tlspolicy\",answer="
	    "\"other\"} 1"), "policy answers of tlspolicy");
	T_OK(has("tlsverify_policy_lookups_total{map=\"transport\",answer="
	    "\"ok\"} 1") && has("tlsverify_policy_lookups_total{map="
	    "\"transport\",answer=\"notfound\"} 1"), "transport answers");
	T_OK(has("tlsverify_policy_lookups_total{map=\"other\",answer="
	    "\"perm\"} 2"), "unknown maps are \"other\", never echoed");
	T_OK(has("tlsverify_query_lookups_total{answer=\"accept\"} 1") &&
	    has("tlsverify_query_lookups_total{answer=\"defer\"} 1") &&
	    has("tlsverify_query_lookups_total{answer=\"secure\"} 1") &&
	    has("tlsverify_query_lookups_total{answer=\"other\"} 1"),
	    "query answers");
	T_OK(strstr(out, "evil") == NULL, "no input reaches a label");
}

static void
test_histogram(void)
{
	static const long	ms[] = { 0, 50, 51, 999, 1000, 59000, 61000,
				    -5 };
	size_t			i;

	metrics_reset();
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		metrics_probe_start();
		metrics_probe_end(ms[i]);
	}
	metrics_probe_start();
	render();
	T_OK(has("tlsverify_probe_duration_seconds_bucket{le=\"0.05\"} 3") &&
	    has("tlsverify_probe_duration_seconds_bucket{le=\"0.1\"} 4") &&
	    has("tlsverify_probe_duration_seconds_bucket{le=\"1\"} 6") &&
	    has("tlsverify_probe_duration_seconds_bucket{le=\"60\"} 7") &&
	    has("tlsverify_probe_duration_seconds_bucket{le=\"+Inf\"} 8"),
	    "buckets are cumulative, le inclusive");
	T_OK(has("tlsverify_probe_duration_seconds_count 8") &&
	    has("tlsverify_probe_duration_seconds_sum 122.100"),
	    "count and sum in seconds");
	T_OK(has("tlsverify_probes_in_flight 1"), "one probe in flight");
}

static void *
count_thread(void *arg)
{
	int	i;

	(void)arg;
	for (i = 0; i < 100000; i++) {
		metrics_verdict(TLS_REQUIRED_VERIFY, "verified",
		    ACTION_ACCEPT, 0);
		metrics_cache(i & 1);
		metrics_probe_start();
		metrics_probe_end(10);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t	t[8];
	int		i;

	metrics_reset();
	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, count_thread, NULL);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	render();
	T_OK(has("tlsverify_verdicts_total{setting=\"required-verify\","
	    "result=\"verified\",action=\"accept\"} 800000") &&
	    has("tlsverify_cache_lookups_total{result=\"hit\"} 400000") &&
	    has("tlsverify_probe_duration_seconds_count 800000") &&
	    has("tlsverify_probes_in_flight 0"),
	    "8 threads x 100000: exact totals");
}

static void
test_escape(void)
{
	char	b[16];

	T_OK(metrics_label_escape(b, sizeof(b), "a\\b\"c\nd") == 0 &&
	    strcmp(b, "a\\\\b\\\"c\\nd") == 0, "label escape: \\\\ \\\" \\n");
	T_OK(metrics_label_escape(b, 5, "abcd") == 0 &&
	    metrics_label_escape(b, 4, "abcd") == -1 && b[0] == '\0',
	    "label escape: bounded");
	T_OK(metrics_label_escape(b, 3, "a\"") == -1, "escape pair bounded");
	T_OK(metrics_render(out, 100) == 0, "render refuses a small buffer");
}

static const struct {
	const char	*in;
	const char	*want;	/* spec, or NULL: refused */
} ls[] = {
	{ "127.0.0.1:9732", "inet:9732@127.0.0.1" },
	{ "[::1]:9732", "inet:9732@[::1]" },
	{ "localhost:1", "inet:1@localhost" },
	{ "0.0.0.0:65535", "inet:65535@0.0.0.0" },
	{ "127.0.0.1:65536", NULL },
	{ "127.0.0.1:0", NULL },
	{ "127.0.0.1:", NULL },
	{ "127.0.0.1", NULL },
	{ ":9732", NULL },
	{ "::1:9732", NULL },
	{ "[::1]9732", NULL },
	{ "[]:9732", NULL },
	{ "[::1]:97x", NULL },
	{ "[zz]:9732", NULL },
	{ "a b:9732", NULL },
	{ "127.0.0.1:99999999999999999999", NULL },
	{ "inet:9732@127.0.0.1", NULL },
	{ "", NULL },
};

static void
test_listen(void)
{
	char	spec[320];
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof(ls) / sizeof(ls[0]); i++) {
		rc = metrics_listen_spec(ls[i].in, spec, sizeof(spec));
		T_OK(ls[i].want != NULL ? rc == 0 && strcmp(spec,
		    ls[i].want) == 0 : rc == -1 && spec[0] != '\0',
		    "listen '%s': %s (got %d %s)", ls[i].in,
		    ls[i].want ? ls[i].want : "refused", rc, spec);
	}
}

static const struct {
	const char	*req;
	const char	*status;
	int		 body;
} hr[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", "HTTP/1.1 200 OK\r\n", 1 },
	{ "GET /metrics?x=1 HTTP/1.0\n", "HTTP/1.1 200 OK\r\n", 1 },
	{ "HEAD /metrics HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n", 0 },
	{ "GET / HTTP/1.1\r\n", "HTTP/1.1 404 ", 1 },
	{ "GET /metricsx HTTP/1.1\r\n", "HTTP/1.1 404 ", 1 },
	{ "GET /metrics/ HTTP/1.1\r\n", "HTTP/1.1 404 ", 1 },
	{ "POST /metrics HTTP/1.1\r\n", "HTTP/1.1 405 ", 1 },
	{ "GET /metrics HTTP/2.0\r\n", "HTTP/1.1 400 ", 1 },
	{ "GET /metrics\r\n", "HTTP/1.1 400 ", 1 },
	{ "GET  /metrics HTTP/1.1\r\n", "HTTP/1.1 400 ", 1 },
	{ "GET metrics HTTP/1.1\r\n", "HTTP/1.1 400 ", 1 },
	{ "GET /metrics HTTP/1.1 x\r\n", "HTTP/1.1 400 ", 1 },
	{ "GET\r\n/metrics HTTP/1.1\r\n", "HTTP/1.1 400 ", 1 },
};

static void
test_http(void)
{
	size_t		 i;
	const char	*b;

	metrics_reset();
	for (i = 0; i < sizeof(hr) / sizeof(hr[0]); i++) {
		metrics_http(NULL, hr[i].req, strlen(hr[i].req), out,
		    sizeof(out));
		b = strstr(out, "\r\n\r\n");
		T_OK(strncmp(out, hr[i].status, strlen(hr[i].status)) == 0 &&
		    strstr(out, "Connection: close\r\n") != NULL && b != NULL &&
		    (hr[i].body ? b[4] != '\0' : b[4] == '\0'),
		    "http row %zu: %.3s %s", i, hr[i].status + 9,
		    hr[i].body ? "with a body" : "no body");
	}
	metrics_http(NULL, hr[0].req, strlen(hr[0].req), out, sizeof(out));
	b = strstr(out, "\r\n\r\n") + 4;
	T_OK(strstr(out, "Content-Type: text/plain; version=0.0.4; "
	    "charset=utf-8\r\n") != NULL && strstr(out, "Content-Length: ") !=
	    NULL && (size_t)atol(strstr(out, "Content-Length: ") + 16) ==
	    strlen(b) && strncmp(b, "# HELP ", 7) == 0,
	    "200: content type 0.0.4, exact Content-Length");
	metrics_http(NULL, hr[2].req, strlen(hr[2].req), out, sizeof(out));
	T_OK(atol(strstr(out, "Content-Length: ") + 16) > 100,
	    "HEAD: the GET's Content-Length");
}

int
main(void)
{
	test_counts();
	test_lookups();
	test_histogram();
	test_threads();
	test_escape();
	test_listen();
	test_http();
	return T_DONE();
}
