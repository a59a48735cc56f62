/*
 * rcptlat.c - `make bench` items 2 and 3b: the RCPT decision of the milter
 * measured in-process, and the CPU time of a cold probe.
 *
 *	rcptlat [-l syslog|none] [-n COUNT] CONF DOMAIN...
 *
 * Loads CONF as the milter does (gen_load, mlfi_start), then:
 *  1. cold: one mlfi_rcpt() per DOMAIN with an empty cache, so each runs a
 *     real probe (engine in the cache's probe thread); around each call the
 *     wall time (CLOCK_MONOTONIC) and the process CPU time (getrusage
 *     RUSAGE_SELF: every thread, the probe thread included) are taken;
 *  2. warm: COUNT (default 100000) calls of mlfi_rcpt() for recipients
 *     user<i>@DOMAIN[i % ndomains], each timed with CLOCK_MONOTONIC around
 *     the call alone; a new message (mlfi_msg_begin) every 5 recipients,
 *     outside the timed region.
 * Every recipient must get SMFIS_CONTINUE (the domains verify), else exit 1.
 * -l syslog (default) logs the verdict lines to syslog as the daemon does
 * without -f; -l none switches logging off to isolate the decision itself.
 *
 * Output: one JSON object on stdout (times in nanoseconds / microseconds).
 * Limits: at most 64 domains, COUNT at most 10,000,000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "log.h"
#include "mlfi.h"

#define RL_MAXDOM	64
#define RL_MAXCOUNT	10000000L

static long long
rl_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
rl_cpu_us(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL
	    + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int
rl_cmp(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Value at quantile q of a sorted array. */
static long long
rl_q(const long long *v, size_t n, double q)
{
	size_t	i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static int
rl_one(struct mlfi_conn *mc, const char *domain, long i)
{
	struct mlfi_reply	r;
	char			addr[320];

	(void)snprintf(addr, sizeof(addr), "user%ld@%s", i, domain);
	mlfi_rcpt(mc, addr, addr, "smtp", "BENCH0001", &r);
	if (r.rc != SMFIS_CONTINUE) {
		fprintf(stderr, "rcptlat: %s: %s %s %s\n", addr, r.code,
		    r.xcode, r.text);
		return -1;
	}
	return 0;
}

/* Cold probes: one per domain; cpu_us[] and wall_us[] per probe. */
static int
rl_cold(struct mlfi_conn *mc, char **doms, int nd, long long *cpu,
    long long *wall)
{
	long long	c0, w0;
	int		i;

	for (i = 0; i < nd; i++) {
		mlfi_msg_begin(mc);
		c0 = rl_cpu_us();
		w0 = rl_ns();
		if (rl_one(mc, doms[i], 0) != 0)
			return -1;
		wall[i] = (rl_ns() - w0) / 1000;
		cpu[i] = rl_cpu_us() - c0;
	}
	qsort(cpu, (size_t)nd, sizeof(*cpu), rl_cmp);
	qsort(wall, (size_t)nd, sizeof(*wall), rl_cmp);
	return 0;
}

static int
rl_warm(struct mlfi_conn *mc, char **doms, int nd, long count,
    long long *lat)
{
	long long	t0;
	long		i;

	for (i = 0; i < count; i++) {
		if (i % 5 == 0)
			mlfi_msg_begin(mc);
		t0 = rl_ns();
		if (rl_one(mc, doms[i % nd], i) != 0)
			return -1;
		lat[i] = rl_ns() - t0;
	}
	qsort(lat, (size_t)count, sizeof(*lat), rl_cmp);
	return 0;
}

static void
rl_print(const long long *cpu, const long long *wall, int nd,
    const long long *lat, long count)
{
	long double	sum = 0;
	long		i;

	for (i = 0; i < count; i++)
		sum += lat[i];
	printf("{\"cold\": {\"n\": %d, \"cpu_us_median\": %lld, "
	    "\"cpu_us_min\": %lld, \"cpu_us_max\": %lld, "
	    "\"wall_us_median\": %lld, \"wall_us_min\": %lld, "
	    "\"wall_us_max\": %lld},\n", nd, rl_q(cpu, (size_t)nd, 0.5),
	    cpu[0], cpu[nd - 1], rl_q(wall, (size_t)nd, 0.5), wall[0],
	    wall[nd - 1]);
	printf(" \"warm\": {\"n\": %ld, \"p50_ns\": %lld, \"p90_ns\": %lld, "
	    "\"p99_ns\": %lld, \"p999_ns\": %lld, \"max_ns\": %lld, "
	    "\"min_ns\": %lld, \"mean_ns\": %.0Lf}}\n", count,
	    rl_q(lat, (size_t)count, 0.5), rl_q(lat, (size_t)count, 0.9),
	    rl_q(lat, (size_t)count, 0.99), rl_q(lat, (size_t)count, 0.999),
	    lat[count - 1], lat[0], sum / count);
}

static int
rl_usage(void)
{
	fprintf(stderr, "usage: rcptlat [-l syslog|none] [-n COUNT] CONF "
	    "DOMAIN...\n");
	return 64;
}

int
main(int argc, char **argv)
{
	struct gen		*g;
	struct mlfi_conn	*mc;
	long long		 cpu[RL_MAXDOM], wall[RL_MAXDOM], *lat;
	long			 count = 100000;
	int			 ch, nd, to_syslog = 1, rc = 1;
	char			 err[1024];

	while ((ch = getopt(argc, argv, "l:n:")) != -1) {
		if (ch == 'l' && (strcmp(optarg, "syslog") == 0 ||
		    strcmp(optarg, "none") == 0))
			to_syslog = strcmp(optarg, "syslog") == 0;
		else if (ch == 'n')
			count = strtol(optarg, NULL, 10);
		else
			return rl_usage();
	}
	nd = argc - optind - 1;
	if (nd < 1 || nd > RL_MAXDOM || count < 1 || count > RL_MAXCOUNT)
		return rl_usage();
	log_open("rcptlat", to_syslog, 0);
	if ((g = gen_load(argv[optind], err, sizeof(err))) == NULL) {
		fprintf(stderr, "rcptlat: %s\n", err);
		return 78;
	}
	mlfi_start(g);
	mc = mlfi_conn_new();
	lat = calloc((size_t)count, sizeof(*lat));
	if (lat != NULL &&
	    rl_cold(mc, argv + optind + 1, nd, cpu, wall) == 0 &&
	    rl_warm(mc, argv + optind + 1, nd, count, lat) == 0) {
		rl_print(cpu, wall, nd, lat, count);
		rc = 0;
	}
	free(lat);
	mlfi_conn_free(mc);
	mlfi_stop();
	return rc;
}
