/*
 * netsrv.c - the netsrv threads: one I/O thread, a pool of workers;
 * netsrv_start() and netsrv_stop() (see netsrv.h for the contract,
 * netsrv_int.h for the data, netsrv_conn.c for a connection's states,
 * netsrv_frame.c for the framing, netsrv_listen.c for the socket).
 *
 * The I/O thread polls a self-pipe, the listener and every connection,
 * and hands one complete request per connection to the pool as a job. A
 * worker runs the handler, puts the job on the done list and writes a
 * byte to the self-pipe; the I/O thread then queues the reply. The mutex
 * guards only the job lists and the stopping flag, never a handler call.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netsrv_int.h"
#include "xalloc.h"

#define NETSRV_LOG_MS		10000	/* at most one line per kind */
#define NETSRV_ACCEPT_BATCH	64
#define NETSRV_WORKERS_MAX	1024
#define NETSRV_WORKERS_START	4

static long
netsrv_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* 1 when a line may be logged now; *dropped: lines left out before */
int
netsrv_rlog_ok(struct nrlog *rl, long now, unsigned long *dropped)
{
	if (rl->last != 0 && now - rl->last < NETSRV_LOG_MS) {
		rl->dropped++;
		return 0;
	}
	rl->last = now;
	*dropped = rl->dropped;
	rl->dropped = 0;
	return 1;
}

void
netsrv_job_add(struct njob **head, struct njob **tail, struct njob *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void
netsrv_accept(struct netsrv *srv)
{
	unsigned long	dropped;
	int		fd, i;

	for (i = 0; i < NETSRV_ACCEPT_BATCH; i++) {
		fd = accept4(srv->lfd, NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (fd < 0) {	/* EMFILE and friends: pause, do not spin */
			if (netsrv_rlog_ok(&srv->rl_full, srv->now, &dropped))
				log_err("netsrv: accept: %s", strerror(errno));
			srv->accept_pause = srv->now + 100;
			return;
		}
		if (srv->nconns < srv->lim.max_conns) {
			netsrv_conn_add(srv, fd);
			continue;
		}
		close(fd);
		if (netsrv_rlog_ok(&srv->rl_full, srv->now, &dropped))
			log_err("netsrv: %u connections open: new connection "
			    "closed (%lu more not logged)",
			    srv->lim.max_conns, dropped);
	}
}

/* Timers, sweep, the poll set; returns the poll timeout. */
static int
netsrv_prepare(struct netsrv *srv, nfds_t *n)
{
	long		next = 1000, t;
	unsigned	i;

	for (i = 0; i < srv->nconns; i++)
		if ((t = netsrv_conn_timers(srv, srv->conns[i])) < next)
			next = t;
	netsrv_sweep(srv);
	srv->pfd[0].fd = srv->wake[0];
	srv->pfd[0].events = POLLIN;
	srv->pfd[1].fd = srv->lfd;
	srv->pfd[1].events = POLLIN;
	if (srv->accept_pause > srv->now) {
		srv->pfd[1].fd = -1;
		if (srv->accept_pause - srv->now < next)
			next = srv->accept_pause - srv->now;
	}
	for (i = 0; i < srv->nconns; i++) {
		srv->pfd[2 + i].fd = srv->conns[i]->fd;
		srv->pfd[2 + i].events = netsrv_conn_poll(srv->conns[i]);
	}
	*n = 2 + srv->nconns;
	return (int)(next < 0 ? 0 : next);
}

/* 1 when netsrv_stop() was called; else takes the done list */
static int
netsrv_io_take(struct netsrv *srv, struct njob **done)
{
	int	stopping;

	pthread_mutex_lock(&srv->mu);
	stopping = srv->stopping;
	*done = NULL;
	if (!stopping) {
		*done = srv->dhead;
		srv->dhead = srv->dtail = NULL;
	}
	pthread_mutex_unlock(&srv->mu);
	return stopping;
}

static void *
netsrv_io(void *v)
{
	struct netsrv	*srv = v;
	struct njob	*done;
	char		 buf[256];
	nfds_t		 n, i;
	int		 timeout;

	while (!netsrv_io_take(srv, &done)) {
		srv->now = netsrv_now();
		netsrv_done(srv, done);
		timeout = netsrv_prepare(srv, &n);
		if (poll(srv->pfd, n, timeout) < 0) {
			if (errno != EINTR) {
				log_err("netsrv: poll: %s", strerror(errno));
				usleep(100000);
			}
			continue;
		}
		srv->now = netsrv_now();
		if (srv->pfd[0].revents)
			while (read(srv->wake[0], buf, sizeof(buf)) > 0)
				;
		for (i = 2; i < n; i++)
			if (srv->pfd[i].revents)
				netsrv_conn_events(srv, srv->conns[i - 2],
				    srv->pfd[i].revents);
		if (srv->pfd[1].revents)
			netsrv_accept(srv);
	}
	return NULL;
}

static void *
netsrv_worker(void *v)
{
	struct netsrv	*srv = v;
	struct njob	*j;

	pthread_mutex_lock(&srv->mu);
	for (;;) {
		srv->nidle++;
		while (!srv->stopping && srv->qhead == NULL)
			pthread_cond_wait(&srv->cv, &srv->mu);
		srv->nidle--;
		if (srv->stopping)
			break;
		j = srv->qhead;
		if ((srv->qhead = j->next) == NULL)
			srv->qtail = NULL;
		srv->nqueued--;
		pthread_mutex_unlock(&srv->mu);
		j->reply[0] = '\0';
		srv->fn(srv->arg, j->req, j->reqlen, j->reply,
		    srv->replycap);
		pthread_mutex_lock(&srv->mu);
		netsrv_job_add(&srv->dhead, &srv->dtail, j);
		if (write(srv->wake[1], "", 1) < 0 && errno != EAGAIN)
			log_err("netsrv: wake-up pipe: %s", strerror(errno));
	}
	pthread_mutex_unlock(&srv->mu);
	return NULL;
}

static void
netsrv_defaults(struct netsrv *srv, const struct netsrv_limits *l)
{
	int	line = srv->proto == NETSRV_LINE;
	int	http = srv->proto == NETSRV_HTTP;

	if (l != NULL)
		srv->lim = *l;
	srv->replycap = http ? NETSRV_HTTP_REPLY_MAX : NETSRV_REPLY_MAX;
	if (srv->lim.max_conns == 0)
		srv->lim.max_conns = 512;
	if (srv->lim.workers == 0)
		srv->lim.workers = srv->lim.max_conns;
	if (srv->lim.workers > NETSRV_WORKERS_MAX)
		srv->lim.workers = NETSRV_WORKERS_MAX;
	if (srv->lim.max_req == 0)
		srv->lim.max_req = line ? 1000 : http ? 8192 : 10000;
	if (!line && srv->lim.max_req > 99999)	/* 5 digits */
		srv->lim.max_req = 99999;
	if (srv->lim.idle_ms <= 0)
		srv->lim.idle_ms = line || http ? 10000 : 300000;
	if (srv->lim.req_ms <= 0)
		srv->lim.req_ms = 10000;
	/* a line needs max_req + CR LF; netstrings get room to pipeline;
	 * an HTTP head is max_req bytes with its empty line */
	srv->incap = line ? srv->lim.max_req + 2 : http ? srv->lim.max_req :
	    srv->lim.max_req + NETSRV_NETSTRING_DIGITS + 2;
	if (!line && !http && srv->incap < 16384)
		srv->incap = 16384;
}

/*
 * One more worker, unless lim.workers run (mu held, or before the I/O
 * thread starts). Called by the I/O thread, whose signals are blocked, so
 * the worker starts with them blocked too. 0 started, -1 not.
 */
int
netsrv_grow(struct netsrv *srv)
{
	unsigned long	dropped;
	int		rc;

	if (srv->nworkers >= srv->lim.workers)
		return -1;
	rc = pthread_create(&srv->workers[srv->nworkers], NULL,
	    netsrv_worker, srv);
	if (rc != 0) {
		if (netsrv_rlog_ok(&srv->rl_full, srv->now, &dropped))
			log_err("netsrv: cannot start a worker (%u run): %s",
			    srv->nworkers, strerror(rc));
		return -1;
	}
	srv->nworkers++;
	return 0;
}

/* Threads start with every signal blocked: signals go to the caller. */
static int
netsrv_threads(struct netsrv *srv)
{
	sigset_t	all, old;
	int		rc = -1;
	unsigned	i;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	srv->workers = xcalloc(srv->lim.workers, sizeof(pthread_t));
	for (i = 0; i < NETSRV_WORKERS_START; i++)
		if (srv->nworkers < srv->lim.workers && netsrv_grow(srv) != 0)
			goto out;
	if (pthread_create(&srv->io, NULL, netsrv_io, srv) != 0)
		goto out;
	srv->io_started = 1;
	rc = 0;
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		log_err("netsrv: cannot start threads");
	return rc;
}

static void
netsrv_free_jobs(struct njob *j)
{
	struct njob	*next;

	for (; j != NULL; j = next) {
		next = j->next;
		if (j->c->dead)
			netsrv_conn_free(j->c);
		free(j->req);
		free(j);
	}
}

/* Single-threaded again: free every connection and job. */
static void
netsrv_free(struct netsrv *srv)
{
	unsigned	i;

	for (i = 0; i < srv->nconns; i++) {
		if (srv->conns[i]->busy) {
			close(srv->conns[i]->fd);
			srv->conns[i]->fd = -1;
			srv->conns[i]->dead = 1;
		} else
			netsrv_conn_free(srv->conns[i]);
	}
	netsrv_free_jobs(srv->qhead);
	netsrv_free_jobs(srv->dhead);
	close(srv->wake[0]);
	close(srv->wake[1]);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->cv);
	free(srv->workers);
	free(srv->conns);
	free(srv->pfd);
	free(srv->fastreq);
	free(srv);
}

static void
netsrv_join(struct netsrv *srv)
{
	unsigned	i;

	pthread_mutex_lock(&srv->mu);
	srv->stopping = 1;
	pthread_cond_broadcast(&srv->cv);
	if (write(srv->wake[1], "", 1) < 0 && errno != EAGAIN)
		log_err("netsrv: wake-up pipe: %s", strerror(errno));
	pthread_mutex_unlock(&srv->mu);
	if (srv->io_started)
		pthread_join(srv->io, NULL);
	for (i = 0; i < srv->nworkers; i++)
		pthread_join(srv->workers[i], NULL);
}

struct netsrv *
netsrv_start(int fd, enum netsrv_proto proto, const struct netsrv_limits *l,
    netsrv_fn fn, void *arg)
{
	return netsrv_start_fast(fd, proto, l, fn, NULL, arg);
}

struct netsrv *
netsrv_start_fast(int fd, enum netsrv_proto proto,
    const struct netsrv_limits *l, netsrv_fn fn, netsrv_fast_fn fast,
    void *arg)
{
	struct netsrv	*srv;
	int		 fl;

	if (fd < 0 || fn == NULL || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return NULL;
	srv = xcalloc(1, sizeof(*srv));
	srv->lfd = fd;
	srv->proto = proto;
	srv->fn = fn;
	srv->fast = fast;
	srv->arg = arg;
	netsrv_defaults(srv, l);
	if (fast != NULL)
		srv->fastreq = xmalloc(srv->incap + 1);
	if (pipe2(srv->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
		log_err("netsrv: pipe: %s", strerror(errno));
		free(srv);
		return NULL;
	}
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cv, NULL);
	srv->conns = xcalloc(srv->lim.max_conns, sizeof(*srv->conns));
	srv->pfd = xcalloc(srv->lim.max_conns + 2, sizeof(*srv->pfd));
	if (netsrv_threads(srv) != 0) {
		netsrv_join(srv);
		netsrv_free(srv);	/* fd stays the caller's */
		return NULL;
	}
	return srv;
}

void
netsrv_stop(struct netsrv *srv)
{
	if (srv == NULL)
		return;
	netsrv_join(srv);
	close(srv->lfd);
	netsrv_free(srv);
}
