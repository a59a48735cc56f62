/*
 * policyload.c - `make bench` item 6: a load client for the policy
 * service's socketmap protocol (SPEC 10), as Postfix uses it: many
 * persistent connections, one request in flight on each (no pipelining).
 *
 *	policyload [-c CONNS] [-t THREADS] [-r RATE] [-w WARMUP_S]
 *	    [-d SECONDS] [-e PREFIX] [-p PID] ADDR REQUEST...
 *
 * ADDR is "IPv4:PORT" or a unix socket path (it contains a '/'). Opens
 * CONNS connections (default 50, at most 4096), shared by THREADS threads
 * (default 1, at most 64), each running an epoll loop over its share: on
 * a complete reply the next request is sent at once on that connection
 * (closed loop: the server's throughput; by Little's law the mean latency
 * is then CONNS / throughput). With -r RATE (lookups/s in all) each
 * connection instead sends at random times (exponential gaps, mean
 * CONNS / RATE seconds, as independent delivery agents would), still one
 * request in flight: a request that falls due while the previous one is
 * unanswered is sent when its reply arrives (a "late" send).
 * REQUESTs ("tlspolicy example.com") are sent in turn. For WARMUP_S
 * seconds (default 1) nothing is counted, then for SECONDS (default 3)
 * every reply is timed from the send() of its request to the recv() that
 * completed it (CLOCK_MONOTONIC), and checked: it must be a netstring
 * whose payload begins with PREFIX (default "OK "), else exit 1.
 * Around the counted interval the client's CPU time (getrusage
 * RUSAGE_SELF: every thread) and, with -p, that of process PID
 * (/proc/PID/stat utime + stime, clock ticks) are read.
 *
 * Output: one JSON object on stdout: lookups, seconds, per_s, p50_us,
 * p90_us, p99_us, p999_us, max_us, client_cpu_ms, server_cpu_ms (-1
 * without -p), rate (0: closed loop), late. Limits: a reply longer than 16,000 bytes is an error; at
 * most 64 REQUESTs of at most 1,000 bytes each.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PL_MAXCONNS	4096
#define PL_MAXTHREADS	64
#define PL_MAXREQS	64
#define PL_REQMAX	1000
#define PL_BUF		16384

struct pl_conn {
	int		 fd;
	size_t		 next;		/* request index */
	long long	 sent_ns;
	long long	 due_ns;	/* -r: next send; 0: none pending */
	unsigned	 seed;
	size_t		 inlen;
	char		 in[PL_BUF];
};

struct pl_thread {
	pthread_t	 tid;
	struct pl_conn	*conns;
	int		 nconns;
	long long	*lat;		/* counted latencies, ns */
	size_t		 nlat, caplat;
	unsigned long	 late;
	int		 err;
	char		 why[200];
};

static char		 pl_req[PL_MAXREQS][PL_REQMAX + 16];
static size_t		 pl_reqlen[PL_MAXREQS];
static size_t		 pl_nreq;
static const char	*pl_prefix = "OK ";
static long long	 pl_t0;		/* start of the counted interval */
static double		 pl_gap_ns;	/* -r: mean gap per connection */
static atomic_int	 pl_phase;	/* 0 warm-up, 1 counting, 2 stop */

static long long
pl_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long
pl_cpu_us(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((long long)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL
	    + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* utime + stime of pid in ms, or -1 */
static double
pl_proc_cpu_ms(long pid)
{
	char		 path[64], buf[2048], *p;
	unsigned long	 ut, st;
	FILE		*f;
	size_t		 n;
	int		 i;

	if (pid <= 0)
		return -1;
	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 0; i < 12 && p != NULL; i++)	/* to field 14, utime */
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static int
pl_connect(const char *addr)
{
	struct sockaddr_in	 sin;
	struct sockaddr_un	 sun;
	const char		*colon;
	char			 host[64];
	int			 fd, on = 1;

	if (strchr(addr, '/') != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(addr) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, addr);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if ((colon = strrchr(addr, ':')) == NULL ||
	    (size_t)(colon - addr) >= sizeof(host))
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
pl_send(struct pl_thread *t, struct pl_conn *c)
{
	size_t	i = c->next++ % pl_nreq;

	c->sent_ns = pl_ns();
	if (send(c->fd, pl_req[i], pl_reqlen[i], MSG_NOSIGNAL) !=
	    (ssize_t)pl_reqlen[i]) {
		(void)snprintf(t->why, sizeof(t->why), "send: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* 1: a complete reply was consumed, 0: need more, -1: error */
static int
pl_reply(struct pl_thread *t, struct pl_conn *c)
{
	size_t	len = 0, i;

	for (i = 0; i < c->inlen && c->in[i] >= '0' && c->in[i] <= '9'; i++)
		len = len * 10 + (size_t)(c->in[i] - '0');
	if (i == c->inlen)
		return i > 5 ? -1 : 0;
	if (i == 0 || c->in[i] != ':' || len > PL_BUF - 16)
		goto bad;
	if (c->inlen < i + 1 + len + 1)
		return 0;
	if (c->in[i + 1 + len] != ',' || len < strlen(pl_prefix) ||
	    strncmp(c->in + i + 1, pl_prefix, strlen(pl_prefix)) != 0)
		goto bad;
	if (c->inlen != i + len + 2)	/* one request in flight */
		goto bad;
	c->inlen = 0;
	return 1;
bad:
	(void)snprintf(t->why, sizeof(t->why), "unexpected reply: %.*s",
	    (int)(c->inlen < 150 ? c->inlen : 150), c->in);
	return -1;
}

static int
pl_record(struct pl_thread *t, long long sent, long long now)
{
	if (atomic_load(&pl_phase) != 1 || sent < pl_t0)
		return 0;
	if (t->nlat == t->caplat) {
		t->caplat = t->caplat ? t->caplat * 2 : 65536;
		if ((t->lat = realloc(t->lat, t->caplat *
		    sizeof(*t->lat))) == NULL) {
			(void)snprintf(t->why, sizeof(t->why), "out of memory");
			return -1;
		}
	}
	t->lat[t->nlat++] = now - sent;
	return 0;
}

/* -r: an exponential gap after base */
static long long
pl_next_due(struct pl_conn *c, long long base)
{
	double	u = ((double)rand_r(&c->seed) + 1.0) / ((double)RAND_MAX + 2.0);

	return base + (long long)(-log(u) * pl_gap_ns);
}

/* After a reply: send now, or wait for the connection's due time. */
static int
pl_after_reply(struct pl_thread *t, struct pl_conn *c, long long now)
{
	if (pl_gap_ns <= 0)
		return pl_send(t, c);
	if (c->due_ns <= now) {
		if (atomic_load(&pl_phase) == 1 && c->sent_ns >= pl_t0 &&
		    c->due_ns < now - 1000)
			t->late++;
		c->due_ns = pl_next_due(c, now > c->due_ns ? now : c->due_ns);
		return pl_send(t, c);
	}
	return 0;
}

/* -r: send on every idle connection that is due; ns until the next */
static long long
pl_due(struct pl_thread *t)
{
	long long	now = pl_ns(), next = 100000000LL;
	int		i;

	for (i = 0; i < t->nconns; i++) {
		struct pl_conn	*c = &t->conns[i];

		if (c->sent_ns != 0)	/* in flight */
			continue;
		if (c->due_ns <= now) {
			c->due_ns = pl_next_due(c, c->due_ns);
			if (pl_send(t, c) != 0)
				return -1;
			continue;
		}
		if (c->due_ns - now < next)
			next = c->due_ns - now;
	}
	return next;
}

static int
pl_readable(struct pl_thread *t, struct pl_conn *c)
{
	ssize_t		n;
	long long	now;
	int		r;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n <= 0) {
		if (n < 0 && errno == EINTR)
			return 0;
		(void)snprintf(t->why, sizeof(t->why), "recv: %s",
		    n == 0 ? "connection closed" : strerror(errno));
		return -1;
	}
	now = pl_ns();
	c->inlen += (size_t)n;
	if ((r = pl_reply(t, c)) <= 0)
		return r;
	if (pl_record(t, c->sent_ns, now) != 0)
		return -1;
	c->sent_ns = 0;
	return atomic_load(&pl_phase) == 2 ? 0 : pl_after_reply(t, c, now);
}

static void *
pl_run(void *v)
{
	struct pl_thread	*t = v;
	struct epoll_event	 ev, evs[256];
	struct timespec		 ts;
	long long		 next = 100000000LL, now = pl_ns();
	int			 ep, i, n;

	if ((ep = epoll_create1(0)) < 0) {
		t->err = 1;
		return NULL;
	}
	for (i = 0; i < t->nconns; i++) {
		ev.events = EPOLLIN;
		ev.data.ptr = &t->conns[i];
		t->conns[i].seed = (unsigned)(i * 7919 + 17);
		if (pl_gap_ns > 0)
			t->conns[i].due_ns = pl_next_due(&t->conns[i], now);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, t->conns[i].fd, &ev) != 0 ||
		    (pl_gap_ns <= 0 && pl_send(t, &t->conns[i]) != 0))
			goto fail;
	}
	while (atomic_load(&pl_phase) != 2) {
		if (pl_gap_ns > 0 && (next = pl_due(t)) < 0)
			goto fail;
		ts.tv_sec = next / 1000000000LL;
		ts.tv_nsec = next % 1000000000LL;
		if ((n = epoll_pwait2(ep, evs, 256, &ts, NULL)) < 0 &&
		    errno != EINTR)
			goto fail;
		for (i = 0; i < n; i++)
			if (pl_readable(t, evs[i].data.ptr) != 0)
				goto fail;
	}
	close(ep);
	return NULL;
fail:
	t->err = 1;
	atomic_store(&pl_phase, 2);
	close(ep);
	return NULL;
}

static int
pl_cmp(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static double
pl_q(const long long *v, size_t n, double q)
{
	size_t	i = (size_t)(q * (double)(n - 1) + 0.5);

	return (double)v[i < n ? i : n - 1] / 1000.0;
}

static void
pl_sleep(double s)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
pl_usage(void)
{
	fprintf(stderr, "usage: policyload [-c conns] [-t threads] [-r rate] "
	    "[-w warmup_s] [-d seconds] [-e prefix] [-p pid] ADDR "
	    "REQUEST...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct pl_thread	 th[PL_MAXTHREADS];
	struct pl_conn		*conns;
	long long		*all, t1, cpu0, cpu1;
	double			 warm = 1, dur = 3, scpu0, scpu1, secs, rate = 0;
	long			 pid = 0;
	size_t			 n = 0, k;
	unsigned long		 late = 0;
	int			 nconns = 50, nthr = 1, ch, i, bad = 0;

	while ((ch = getopt(argc, argv, "c:t:r:w:d:e:p:")) != -1) {
		switch (ch) {
		case 'r': rate = atof(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 't': nthr = atoi(optarg); break;
		case 'w': warm = atof(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'e': pl_prefix = optarg; break;
		case 'p': pid = atol(optarg); break;
		default: pl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc - 1 > PL_MAXREQS || nconns < 1 ||
	    nconns > PL_MAXCONNS || nthr < 1 || nthr > PL_MAXTHREADS ||
	    nthr > nconns || dur <= 0 || warm < 0 || rate < 0)
		pl_usage();
	if (rate > 0)
		pl_gap_ns = (double)nconns / rate * 1e9;
	for (i = 1; i < argc; i++) {
		if (strlen(argv[i]) > PL_REQMAX)
			pl_usage();
		pl_reqlen[pl_nreq] = (size_t)snprintf(pl_req[pl_nreq],
		    sizeof(pl_req[0]), "%zu:%s,", strlen(argv[i]), argv[i]);
		pl_nreq++;
	}
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL)
		return 1;
	for (i = 0; i < nconns; i++) {
		if ((conns[i].fd = pl_connect(argv[0])) < 0) {
			fprintf(stderr, "policyload: connect %s: %s\n", argv[0],
			    strerror(errno));
			return 1;
		}
		conns[i].next = (size_t)i;
	}
	memset(th, 0, sizeof(th));
	for (i = 0, k = 0; i < nthr; i++) {
		th[i].conns = conns + k;
		th[i].nconns = nconns / nthr + (i < nconns % nthr);
		k += (size_t)th[i].nconns;
	}
	pl_t0 = pl_ns() + (long long)(warm * 1e9);	/* before the start */
	for (i = 0; i < nthr; i++)
		if (pthread_create(&th[i].tid, NULL, pl_run, &th[i]) != 0)
			return 1;
	pl_sleep(warm);
	cpu0 = pl_cpu_us();
	scpu0 = pl_proc_cpu_ms(pid);
	pl_t0 = pl_ns();
	atomic_store(&pl_phase, 1);
	pl_sleep(dur);
	atomic_store(&pl_phase, 2);
	t1 = pl_ns();
	cpu1 = pl_cpu_us();
	scpu1 = pl_proc_cpu_ms(pid);
	for (i = 0; i < nthr; i++) {
		pthread_join(th[i].tid, NULL);
		if (th[i].err) {
			fprintf(stderr, "policyload: %s\n", th[i].why[0] ?
			    th[i].why : "epoll failed");
			bad = 1;
		}
		n += th[i].nlat;
		late += th[i].late;
	}
	if (bad || n == 0)
		return 1;
	if ((all = malloc(n * sizeof(*all))) == NULL)
		return 1;
	for (i = 0, k = 0; i < nthr; i++) {
		memcpy(all + k, th[i].lat, th[i].nlat * sizeof(*all));
		k += th[i].nlat;
		free(th[i].lat);
	}
	qsort(all, n, sizeof(*all), pl_cmp);
	secs = (double)(t1 - pl_t0) / 1e9;
	printf("{\"conns\": %d, \"threads\": %d, \"lookups\": %zu, "
	    "\"seconds\": %.3f, \"per_s\": %.0f, \"p50_us\": %.1f, "
	    "\"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
	    "\"max_us\": %.1f, \"client_cpu_ms\": %.0f, "
	    "\"server_cpu_ms\": %.0f, \"rate\": %.0f, \"late\": %lu}\n",
	    nconns, nthr, n, secs,
	    (double)n / secs, pl_q(all, n, 0.5), pl_q(all, n, 0.9),
	    pl_q(all, n, 0.99), pl_q(all, n, 0.999), pl_q(all, n, 1.0),
	    (double)(cpu1 - cpu0) / 1000.0,
	    scpu0 < 0 || scpu1 < 0 ? -1.0 : scpu1 - scpu0, rate, late);
	for (i = 0; i < nconns; i++)
		close(conns[i].fd);
	free(conns);
	free(all);
	return 0;
}
