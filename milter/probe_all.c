/*
 * probe_all.c - tlsverify-probe --all (see probe_all.h): a pool of threads
 * takes the table's domains in order from a shared index and keeps each
 * verdict; the report is printed when all are done. engine_probe() is
 * thread-safe (engine.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_all.h"
#include "report.h"
#include "xalloc.h"

#define PROBE_ALL_WHY	72	/* columns of "why" in the table */

struct probe_all {
	const struct engine	*e;
	int			 setting;
	const char		**doms;
	struct verdict		**v;
	size_t			 n;
	size_t			 next;		/* guarded by mu */
	size_t			 done;
	int			 tty;
	pthread_mutex_t		 mu;
};

int
probe_exit_status(const struct verdict *v)
{
	if (v->action == ACTION_ACCEPT || v->action == ACTION_TAG)
		return 0;
	return v->temporary ? 75 : 1;
}

static int
probe_all_rank(int status)
{
	return status == 75 ? 2 : status;	/* 75 > 1 > 0 */
}

static void *
probe_all_worker(void *arg)
{
	struct probe_all	*pa = arg;
	size_t			 i;

	for (;;) {
		pthread_mutex_lock(&pa->mu);
		i = pa->next < pa->n ? pa->next++ : pa->n;
		pthread_mutex_unlock(&pa->mu);
		if (i == pa->n)
			return NULL;
		pa->v[i] = engine_probe(pa->e, pa->doms[i], pa->setting, 0);
		pthread_mutex_lock(&pa->mu);
		pa->done++;
		if (pa->tty)
			fprintf(stderr, "\r\033[K[%zu/%zu] %.60s", pa->done,
			    pa->n, pa->doms[i]);
		pthread_mutex_unlock(&pa->mu);
	}
}

static int
probe_all_cmp(const void *a, const void *b)
{
	const struct verdict	*va = *(struct verdict *const *)a;
	const struct verdict	*vb = *(struct verdict *const *)b;
	int			 ra = probe_all_rank(probe_exit_status(va));
	int			 rb = probe_all_rank(probe_exit_status(vb));

	if (ra != rb)
		return rb - ra;
	return strcmp(va->domain, vb->domain);
}

static const char *
probe_all_host(const struct verdict *v)
{
	return v->best >= 0 ? v->attempts[v->best].host : "-";
}

static void
probe_all_table(struct verdict **v, size_t n)
{
	int	w[5] = { 6, 7, 6, 6, 4 };
	size_t	i;
	int	l;

	for (i = 0; i < n; i++) {
		if ((l = (int)strlen(v[i]->domain)) > w[0])
			w[0] = l;
		if ((l = (int)strlen(conf_setting_name(v[i]->setting))) > w[1])
			w[1] = l;
		if ((l = (int)strlen(v[i]->result)) > w[2])
			w[2] = l;
		if ((l = (int)strlen(probe_all_host(v[i]))) > w[4])
			w[4] = l;
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", w[0], "DOMAIN", w[1],
	    "SETTING", w[2], "RESULT", w[3], "ACTION", w[4], "HOST", "WHY");
	for (i = 0; i < n; i++)
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %.*s\n", w[0],
		    v[i]->domain, w[1], conf_setting_name(v[i]->setting), w[2],
		    v[i]->result, w[3], verdict_action_str(v[i]->action), w[4],
		    probe_all_host(v[i]), PROBE_ALL_WHY, v[i]->reason);
}

int
probe_all(const struct engine *e, int setting, unsigned jobs, int json)
{
	const struct conf	*c = engine_conf(e);
	struct probe_all	 pa;
	pthread_t		*t;
	size_t			 i, nt;
	int			 worst = 0, st;

	memset(&pa, 0, sizeof(pa));
	pa.e = e;
	pa.setting = setting;
	pa.doms = xcalloc(c->n_dests + 1, sizeof(*pa.doms));
	for (i = 0; i < c->n_dests; i++)
		if (c->dests[i].key[0] != '.')
			pa.doms[pa.n++] = c->dests[i].key;
	pa.v = xcalloc(pa.n + 1, sizeof(*pa.v));
	pa.tty = isatty(STDERR_FILENO);
	pthread_mutex_init(&pa.mu, NULL);
	nt = jobs < pa.n ? jobs : pa.n;
	t = xcalloc(nt + 1, sizeof(*t));
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, probe_all_worker, &pa) != 0)
			break;
	nt = i;
	if (nt == 0)			/* no thread: probe here */
		(void)probe_all_worker(&pa);
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	if (pa.tty && pa.n > 0)
		fputs("\r\033[K", stderr);
	qsort(pa.v, pa.n, sizeof(*pa.v), probe_all_cmp);
	if (!json)
		probe_all_table(pa.v, pa.n);
	for (i = 0; i < pa.n; i++) {
		if (json)
			report_json(stdout, pa.v[i]);
		st = probe_exit_status(pa.v[i]);
		if (probe_all_rank(st) > probe_all_rank(worst))
			worst = st;
		verdict_free(pa.v[i]);
	}
	pthread_mutex_destroy(&pa.mu);
	free(t);
	free(pa.v);
	free(pa.doms);
	return worst;
}
