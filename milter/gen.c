/*
 * gen.c - reference-counted generations of (conf, engine) and the current
 * one (see gen.h). A mutex guards the current pointer only; references are
 * atomic counters, so taking one never waits for a reload.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "rcache.h"
#include "xalloc.h"

static pthread_mutex_t	 gen_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gen	*gen_cur;
static unsigned long	 gen_next_id = 1;

struct gen *
gen_load(const char *path, char *err, size_t errlen)
{
	struct conf	*conf = NULL;
	struct engine	*engine;
	struct gen	*g;
	struct rcache_cfg *rcfg;
	char		 eerr[512], fp[TRUSTFP_LEN];

	if (conf_load(path, &conf, err, errlen) != 0)
		return NULL;
	if (rcache_cfg_load(conf, &rcfg, eerr, sizeof(eerr)) != 0) {
		(void)snprintf(err, errlen, "%s: %s", path, eerr);
		conf_free(conf);
		return NULL;
	}
	trustfp_compute(conf, fp);	/* before the engine reads the files */
	eerr[0] = '\0';
	if ((engine = engine_new(conf, eerr, sizeof(eerr))) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path,
		    eerr[0] != '\0' ? eerr : "cannot set up the engine");
		rcache_cfg_free(rcfg);
		conf_free(conf);
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->conf = conf;
	g->engine = engine;
	g->refs = 1;
	g->rcfg = rcfg;
	memcpy(g->trust_fp, fp, sizeof(g->trust_fp));
	pthread_mutex_lock(&gen_mu);
	g->id = gen_next_id++;
	pthread_mutex_unlock(&gen_mu);
	return g;
}

struct gen *
gen_ref(struct gen *g)
{
	if (g != NULL)
		__atomic_add_fetch(&g->refs, 1, __ATOMIC_RELAXED);
	return g;
}

void
gen_unref(struct gen *g)
{
	if (g == NULL || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	engine_free(g->engine);
	rcache_cfg_free(g->rcfg);
	conf_free(g->conf);
	free(g);
}

void
gen_install(struct gen *g)
{
	struct gen	*old;

	pthread_mutex_lock(&gen_mu);
	old = gen_cur;
	gen_cur = g;
	pthread_mutex_unlock(&gen_mu);
	gen_unref(old);
}

struct gen *
gen_current(void)
{
	struct gen	*g;

	pthread_mutex_lock(&gen_mu);
	g = gen_ref(gen_cur);
	pthread_mutex_unlock(&gen_mu);
	return g;
}

char *
gen_cache_key(const struct conf *conf, const char *domain,
    enum tls_setting setting)
{
	const struct route_list	*rl = conf_lookup_routes(conf, domain);
	char			*key, *next;
	size_t			 i;

	key = xasprintf("%s|%s|", domain, conf_setting_name(setting));
	for (i = 0; rl != NULL && i < rl->n; i++) {
		next = xasprintf("%s%s%s:%u/%u", key, i > 0 ? "," : "",
		    rl->routes[i].host, rl->routes[i].port, rl->routes[i].prio);
		free(key);
		key = next;
	}
	return key;
}
