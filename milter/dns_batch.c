/*
 * dns_batch.c - A and AAAA of several names asked at once (see dns_batch.h).
 *
 * Jobs are (name, family) pairs in the order the caller will consume them;
 * worker threads take the next job under the batch mutex, ask it with
 * dns_addrs() on their own dns_ctx (libresolv states are per context, so
 * nothing is shared but the job list), and keep the answer, the error text
 * and the trace lines in the job. The consumer waits on the condition
 * variable for the one job it needs and replays it into its own context.
 * A worker whose dns_open() failed marks the jobs it takes as skipped: the
 * consumer asks those itself, as without a batch.
 */
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_batch.h"
#include "dns_int.h"
#include "xalloc.h"

enum { JOB_WAITING, JOB_RUNNING, JOB_DONE, JOB_SKIPPED, JOB_USED };

struct dns_job {
	const char	*name;		/* the caller's, alive for the batch */
	int		 family;
	int		 state;
	enum dns_status	 st;
	struct ipaddr	*addrs;
	size_t		 n;
	char		 err[128];
	int		 ad;		/* dns_last_secure() of the answer */
	struct trace	 tr;
};

struct dns_batch {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct dns_job	*jobs;
	size_t		 njobs, next, nth;
	pthread_t	 th[DNS_BATCH_THREADS];
	const struct conf *conf;
	int		 has_deadline, tracing;
	struct deadline	 dl;
};

/* The next job to ask, or NULL; marks it running. */
static struct dns_job *
dns_batch_take(struct dns_batch *b)
{
	struct dns_job	*j = NULL;

	pthread_mutex_lock(&b->mu);
	if (b->next < b->njobs) {
		j = &b->jobs[b->next++];
		j->state = JOB_RUNNING;
	}
	pthread_mutex_unlock(&b->mu);
	return j;
}

static void
dns_batch_ask(struct dns_batch *b, struct dns_ctx *ctx, struct dns_job *j)
{
	int	state = JOB_SKIPPED;

	if (ctx != NULL) {
		dns_set_trace(ctx, b->tracing ? &j->tr : NULL);
		j->st = dns_addrs(ctx, j->name, j->family, &j->addrs, &j->n);
		(void)snprintf(j->err, sizeof(j->err), "%s",
		    dns_last_error(ctx));
		j->ad = dns_last_secure(ctx);
		state = JOB_DONE;
	}
	pthread_mutex_lock(&b->mu);
	j->state = state;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static void *
dns_batch_worker(void *arg)
{
	struct dns_batch *b = arg;
	struct dns_ctx	 *ctx;
	struct dns_job	 *j;
	char		  err[128];

	if ((ctx = dns_open(b->conf, err, sizeof(err))) != NULL &&
	    b->has_deadline)
		dns_set_deadline(ctx, &b->dl);
	while ((j = dns_batch_take(b)) != NULL)
		dns_batch_ask(b, ctx, j);
	dns_close(ctx);
	return NULL;
}

struct dns_batch *
dns_batch_start(const struct dns_ctx *ctx, const struct conf *conf,
    const char *const *names, size_t n)
{
	struct dns_batch *b;
	size_t		  i, want;

	if (n == 0)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->jobs = xcalloc(n * 2, sizeof(*b->jobs));
	for (i = 0; i < n * 2; i++) {
		b->jobs[i].name = names[i / 2];
		b->jobs[i].family = i % 2 ? AF_INET6 : AF_INET;
	}
	b->njobs = n * 2;
	b->conf = conf;
	b->has_deadline = ctx->has_deadline;
	b->dl = ctx->deadline;
	b->tracing = ctx->trace != NULL;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	want = b->njobs < DNS_BATCH_THREADS ? b->njobs : DNS_BATCH_THREADS;
	while (b->nth < want && pthread_create(&b->th[b->nth], NULL,
	    dns_batch_worker, b) == 0)
		b->nth++;
	if (b->nth == 0) {
		dns_batch_free(b);
		return NULL;
	}
	return b;
}

/* The unused job for (name, family), or NULL. */
static struct dns_job *
dns_batch_find(struct dns_batch *b, const char *name, int family)
{
	size_t	i;

	for (i = 0; i < b->njobs; i++)
		if (b->jobs[i].state != JOB_USED &&
		    b->jobs[i].family == family &&
		    strcmp(b->jobs[i].name, name) == 0)
			return &b->jobs[i];
	return NULL;
}

enum dns_status
dns_batch_addrs(struct dns_batch *b, struct dns_ctx *ctx, const char *name,
    int family, struct ipaddr **out, size_t *n)
{
	struct dns_job	*j;
	size_t		 i;
	int		 done;

	if (b == NULL)
		return dns_addrs(ctx, name, family, out, n);
	pthread_mutex_lock(&b->mu);
	if ((j = dns_batch_find(b, name, family)) != NULL)
		while (j->state == JOB_WAITING || j->state == JOB_RUNNING)
			pthread_cond_wait(&b->cv, &b->mu);
	done = j != NULL && j->state == JOB_DONE;
	if (j != NULL)
		j->state = JOB_USED;
	pthread_mutex_unlock(&b->mu);
	if (!done)
		return dns_addrs(ctx, name, family, out, n);
	for (i = 0; i < j->tr.n; i++)
		trace_add(ctx->trace, "%s", j->tr.lines[i]);
	if (j->st != DNS_OK)
		dns_seterr(ctx, j->err);
	ctx->ad = j->ad;	/* as if ctx had asked (DNSSEC, SPEC 12) */
	*out = j->addrs;
	*n = j->n;
	j->addrs = NULL;
	return j->st;
}

void
dns_batch_free(struct dns_batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	b->next = b->njobs;		/* nothing more is asked */
	pthread_mutex_unlock(&b->mu);
	for (i = 0; i < b->nth; i++)
		pthread_join(b->th[i], NULL);
	for (i = 0; i < b->njobs; i++) {
		free(b->jobs[i].addrs);
		trace_free(&b->jobs[i].tr);
	}
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->jobs);
	free(b);
}
