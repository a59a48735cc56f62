/*
 * fuzz_conf.c - libFuzzer target: the configuration parser (conf.c,
 * conf_route.c, libinih) on arbitrary bytes.
 *
 * The input is a whole configuration file, read with conf_load_mem() (the
 * same reader and handler as conf_load()). When it loads, the lookups are
 * run for every key it holds and a few fixed domains, and the invariants a
 * caller relies on are checked (abort() on a violation, so the fuzzer
 * reports it): routes sorted by (prio, order), keys lower case.
 * Built with clang -fsanitize=fuzzer (mk/fuzz.mk) and, without libFuzzer,
 * by tests/unit/test_fuzz_corpus.c, which replays tests/fuzz/conf/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_conf_check_routes(const struct route_list *rl)
{
	size_t	i;

	if (rl == NULL)
		return;
	if (rl->n == 0)
		abort();
	for (i = 1; i < rl->n; i++)
		if (rl->routes[i - 1].prio > rl->routes[i].prio ||
		    (rl->routes[i - 1].prio == rl->routes[i].prio &&
		    rl->routes[i - 1].order > rl->routes[i].order))
			abort();
}

static void
fuzz_conf_lookups(const struct conf *c, const char *domain)
{
	const char		*key = NULL;
	enum tls_setting	 s;

	s = conf_lookup_setting(c, domain, &key);
	if ((int)s < 0 || s >= TLS_SETTING_COUNT || key == NULL ||
	    conf_setting_name(s) == NULL)
		abort();
	fuzz_conf_check_routes(conf_lookup_routes(c, domain));
}

static void
fuzz_conf_walk(const struct conf *c)
{
	static const char *const fixed[] = {
		"example.com", "a.b.partner.org", "partner.org", "com", "x"
	};
	size_t	i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		fuzz_conf_lookups(c, fixed[i]);
	for (i = 0; i < c->n_dests; i++) {
		const char *k = c->dests[i].key;

		fuzz_conf_lookups(c, k[0] == '.' ? k + 1 : k);
	}
	for (i = 0; i < c->n_routes; i++) {
		const char *k = c->routes[i].key;

		fuzz_conf_check_routes(&c->routes[i]);
		fuzz_conf_lookups(c, k[0] == '.' ? k + 1 : k);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c = NULL;
	char		 err[512];

	err[0] = '\0';
	if (conf_load_mem((const char *)data, size, "fuzz.conf", &c, err,
	    sizeof(err)) != 0) {
		if (c != NULL || err[0] == '\0' || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	if (c == NULL)
		abort();
	fuzz_conf_walk(c);
	conf_free(c);
	return 0;
}
