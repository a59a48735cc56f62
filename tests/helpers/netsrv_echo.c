/*
 * netsrv_echo.c - a netsrv with a test handler, for
 * tests/integration/test_netsrv.py.
 *
 *   netsrv_echo [-c MAXCONNS] [-w WORKERS] [-m MAXREQ] [-i IDLE_MS]
 *               [-r REQ_MS] [-f] socketmap|line SPEC
 *
 * The handler answers "NAME KEY" with "OK KEY"; the key "slow" first
 * sleeps 3 s, the key "empty" gets an empty reply (the server turns it
 * into its "no answer" text), a request without a space gets "PERM no
 * key". With -f the server has a fast handler (netsrv_start_fast) that
 * answers keys beginning with "fast" itself, with "FAST KEY", and leaves
 * every other request to the pool. Prints "ready" on stdout once listening; on SIGTERM or SIGINT it
 * calls netsrv_stop(), prints "stopped" and exits 0. A bad SPEC prints
 * the error and exits 2.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netsrv.h"

static void
echo_fn(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	const char	*key = memchr(req, ' ', reqlen);

	(void)arg;
	if (key == NULL) {
		snprintf(reply, replylen, "PERM no key");
		return;
	}
	key++;
	if (strcmp(key, "slow") == 0)
		sleep(3);
	if (strcmp(key, "empty") == 0)
		return;
	snprintf(reply, replylen, "OK %s", key);
}

static int
echo_fast(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	const char	*key = memchr(req, ' ', reqlen);

	(void)arg;
	if (key == NULL || strncmp(key + 1, "fast", 4) != 0)
		return 0;
	snprintf(reply, replylen, "FAST %s", key + 1);
	return 1;
}

static void __attribute__((noreturn))
echo_usage(void)
{
	fprintf(stderr, "usage: netsrv_echo [-c MAXCONNS] [-w WORKERS] "
	    "[-m MAXREQ] [-i IDLE_MS] [-r REQ_MS] [-f] socketmap|line SPEC\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct netsrv_limits	 lim;
	struct netsrv		*srv;
	enum netsrv_proto	 proto;
	sigset_t		 set;
	char			 err[256];
	int			 ch, fd, sig, fast = 0;

	memset(&lim, 0, sizeof(lim));
	while ((ch = getopt(argc, argv, "c:w:m:i:r:f")) != -1) {
		switch (ch) {
		case 'f': fast = 1; break;
		case 'c': lim.max_conns = (unsigned)atoi(optarg); break;
		case 'w': lim.workers = (unsigned)atoi(optarg); break;
		case 'm': lim.max_req = (size_t)atol(optarg); break;
		case 'i': lim.idle_ms = atol(optarg); break;
		case 'r': lim.req_ms = atol(optarg); break;
		default: echo_usage();
		}
	}
	if (argc - optind != 2)
		echo_usage();
	if (strcmp(argv[optind], "socketmap") == 0)
		proto = NETSRV_SOCKETMAP;
	else if (strcmp(argv[optind], "line") == 0)
		proto = NETSRV_LINE;
	else
		echo_usage();
	log_open("netsrv_echo", 0, 1);
	if ((fd = netsrv_listen(argv[optind + 1], err, sizeof(err))) < 0) {
		fprintf(stderr, "netsrv_echo: %s\n", err);
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((srv = netsrv_start_fast(fd, proto, &lim, echo_fn,
	    fast ? echo_fast : NULL, NULL)) == NULL) {
		fprintf(stderr, "netsrv_echo: cannot start\n");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	netsrv_stop(srv);
	printf("stopped\n");
	return 0;
}
