/*
 * mtasts_get.c - run mtasts_policy() once, for tests/integration/
 * test_mtasts.py.
 *
 *   mtasts_get -c CONF [-d MS] [-m MXHOST ...] DOMAIN
 *
 * -d MS: the caller's deadline, MS milliseconds from the start (default
 * [probe] timeout); -m: also say whether MXHOST matches the policy (any
 * number of -m). Prints one JSON object on stdout:
 *   {"status": "policy"|"none"|"temp", "mode": ..., "id": ..., "mx": [...],
 *    "max_age": N, "from_cache": bool, "fetched_at": N, "expires": N,
 *    "rpt": "..."|null, "reason": "...", "match": {"MXHOST": bool, ...},
 *    "ms": elapsed milliseconds}
 * (mode, id, mx, max_age, fetched_at, expires are null unless a policy
 * applies). The trace goes to stderr ("TRACE line"). Exit 0 after any
 * answer, 2 for usage or setup errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "deadline.h"
#include "mtasts.h"
#include "trace.h"

#define MAXM	16

static void
json_str(const char *s)
{
	putchar('"');
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
json_policy(const struct mtasts_result *r)
{
	size_t	i;

	if (r->status != MTASTS_POLICY) {
		printf("\"mode\": null, \"id\": null, \"mx\": null, "
		    "\"max_age\": null, \"fetched_at\": null, "
		    "\"expires\": null, ");
		return;
	}
	printf("\"mode\": \"%s\", \"id\": ", mtasts_mode_str(r->policy.mode));
	json_str(r->id);
	printf(", \"mx\": [");
	for (i = 0; i < r->policy.nmx; i++) {
		printf("%s", i ? ", " : "");
		json_str(r->policy.mx[i]);
	}
	printf("], \"max_age\": %lu, \"fetched_at\": %lld, \"expires\": %lld, ",
	    r->policy.max_age, (long long)r->fetched_at,
	    (long long)r->expires);
}

static void
json_out(const struct mtasts_result *r, char **m, int nm, long ms)
{
	int	i;

	printf("{\"status\": \"%s\", ", mtasts_status_str(r->status));
	json_policy(r);
	printf("\"from_cache\": %s, \"rpt\": ", r->from_cache ? "true" :
	    "false");
	if (r->rpt != NULL)
		json_str(r->rpt);
	else
		printf("null");
	printf(", \"reason\": ");
	json_str(r->reason);
	printf(", \"match\": {");
	for (i = 0; i < nm; i++) {
		printf("%s", i ? ", " : "");
		json_str(m[i]);
		printf(": %s", r->status == MTASTS_POLICY &&
		    mtasts_mx_match(&r->policy, m[i]) ? "true" : "false");
	}
	printf("}, \"ms\": %ld}\n", ms);
}

int
main(int argc, char **argv)
{
	struct conf		*conf = NULL;
	struct mtasts_ctx	*ctx;
	struct mtasts_result	 r;
	struct trace		 trace = { NULL, 0, 0 };
	struct deadline		 dl, t0;
	const char		*cpath = NULL;
	char			 err[512], *m[MAXM];
	long			 ms = -1;
	int			 c, nm = 0;
	size_t			 i;

	while ((c = getopt(argc, argv, "c:d:m:")) != -1) {
		if (c == 'c')
			cpath = optarg;
		else if (c == 'd')
			ms = atol(optarg);
		else if (c == 'm' && nm < MAXM)
			m[nm++] = optarg;
		else
			return 2;
	}
	if (cpath == NULL || optind != argc - 1) {
		fprintf(stderr, "usage: mtasts_get -c CONF [-d MS] [-m MX] "
		    "DOMAIN\n");
		return 2;
	}
	if (conf_load(cpath, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	deadline_init(&t0, 1000000);
	deadline_init(&dl, ms >= 0 ? ms : (long)conf->probe_timeout * 1000L);
	if ((ctx = mtasts_open(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		conf_free(conf);
		return 2;
	}
	(void)mtasts_policy(ctx, NULL, argv[optind], &dl, &trace, &r);
	for (i = 0; i < trace.n; i++)
		fprintf(stderr, "TRACE %s\n", trace.lines[i]);
	json_out(&r, m, nm, 1000000 - deadline_left_ms(&t0));
	mtasts_result_free(&r);
	trace_free(&trace);
	mtasts_close(ctx);
	conf_free(conf);
	return 0;
}
