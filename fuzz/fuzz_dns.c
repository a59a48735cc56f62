/*
 * fuzz_dns.c - libFuzzer target: the DNS answer parser (dns.c,
 * dns_parse_answer(), on libresolv's ns_initparse/ns_parserr/dn_expand).
 *
 * Input: byte 0 selects the record type asked for (MX, A, AAAA, PTR:
 * low two bits), the rest is the whole DNS message as a server would send
 * it. Checked on DNS_OK (abort() otherwise): at most DNS_MAXRR records,
 * MX sorted by preference with valid lower-case host names, a null MX has
 * no hosts, address families match the type, PTR names are host names.
 * One resolver context (dns_open(NULL)) is made on first use and kept.
 * Built with clang -fsanitize=fuzzer (mk/fuzz.mk) and, without libFuzzer,
 * by tests/unit/test_fuzz_corpus.c, which replays tests/fuzz/dns/.
 */
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "name.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct dns_ctx *fuzz_dns_ctx;

static void
fuzz_dns_name_ok(const char *s)
{
	size_t	i, n = strlen(s);

	if (!name_is_hostname(s, n) || (n > 0 && s[n - 1] == '.'))
		abort();
	for (i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			abort();
}

static void
fuzz_dns_check(const struct dns_answer *a, int type)
{
	size_t	i;

	if (a->n > DNS_MAXRR)
		abort();
	if (type == ns_t_mx) {
		if (a->null_mx && a->n != 0)
			abort();
		for (i = 0; i < a->n; i++) {
			fuzz_dns_name_ok(a->mx[i].name);
			if (i > 0 && a->mx[i - 1].pref > a->mx[i].pref)
				abort();
		}
	} else if (type == ns_t_ptr) {
		for (i = 0; i < a->n; i++)
			fuzz_dns_name_ok(a->names[i]);
	} else {
		for (i = 0; i < a->n; i++)
			if (a->addrs[i].family !=
			    (type == ns_t_a ? AF_INET : AF_INET6))
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 types[4] = { ns_t_mx, ns_t_a, ns_t_aaaa,
				    ns_t_ptr };
	struct dns_answer	 a;
	enum dns_status		 st;
	char			 err[128];
	int			 type;

	if (fuzz_dns_ctx == NULL &&
	    (fuzz_dns_ctx = dns_open(NULL, err, sizeof(err))) == NULL)
		abort();
	if (size < 1)
		return 0;
	type = types[data[0] & 3];
	st = dns_parse_answer(fuzz_dns_ctx, data + 1, size - 1, type,
	    "fuzz.example", &a);
	if (st == DNS_OK)
		fuzz_dns_check(&a, type);
	else if (st != DNS_NODATA && st != DNS_INVALID)
		abort();
	else if (a.mx != NULL || a.addrs != NULL || a.names != NULL)
		abort();
	if (dns_last_error(fuzz_dns_ctx) == NULL)
		abort();
	dns_answer_free(&a);
	return 0;
}
