/*
 * fuzz_mtasts.c - libFuzzer target: the MTA-STS parsers (mtasts_parse.c,
 * mtasts_http.c, mtasts_cache.c's reader) on arbitrary bytes.
 *
 * The first byte chooses the parser (mod 6, so the digits '0'..'5' name
 * them): the TXT record, the policy body, the HTTP response head, the
 * cache file (through fmemopen), the mx pattern rule (the rest split at
 * the first NUL into pattern and host), or a TXT answer (dns_txt_parse()
 * on the rest as a DNS message, question "_mta-sts.a.example"). Checked: return values in range, an id of 1-32 letters and
 * digits, every kept mx pattern a lower-case host name (optionally "*."),
 * a refusal with a reason, and the cache reader's entries consistent
 * (abort() otherwise). Built with clang -fsanitize=fuzzer (mk/fuzz.mk)
 * and, without libFuzzer, by tests/unit/test_fuzz_corpus.c, which replays
 * tests/fuzz/mtasts/.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "mtasts.h"
#include "mtasts_int.h"
#include "name.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_mtasts_policy_check(const struct mtasts_policy *p)
{
	size_t		 i, j, n, off;
	const char	*m;

	if (p->max_age > MTASTS_MAX_AGE || p->nmx > MTASTS_MAX_MX ||
	    (p->nmx == 0 && p->mode != MTASTS_MODE_NONE))
		abort();
	for (i = 0; i < p->nmx; i++) {
		m = p->mx[i];
		n = strlen(m);
		off = strncmp(m, "*.", 2) == 0 ? 2 : 0;
		if (n <= off || !name_is_hostname(m + off, n - off))
			abort();
		for (j = 0; j < n; j++)
			if (isupper((unsigned char)m[j]))
				abort();
	}
}

static void
fuzz_mtasts_txt(const char *s, size_t n)
{
	char	id[MTASTS_ID_MAXLEN + 1];
	size_t	i, l;
	int	r = mtasts_parse_txt(s, n, id, sizeof(id));

	if (r < -1 || r > 1)
		abort();
	if (r != 1)
		return;
	l = strlen(id);
	if (l == 0 || l > MTASTS_ID_MAXLEN)
		abort();
	for (i = 0; i < l; i++)
		if (!isalnum((unsigned char)id[i]))
			abort();
}

static void
fuzz_mtasts_body(const char *s, size_t n)
{
	struct mtasts_policy	p;
	char			err[256];

	err[0] = '\0';
	if (mtasts_parse_policy(s, n, &p, err, sizeof(err)) == 0)
		fuzz_mtasts_policy_check(&p);
	else if (err[0] == '\0' || p.mx != NULL || p.nmx != 0)
		abort();
	mtasts_policy_free(&p);
}

static void
fuzz_mtasts_http(const char *s, size_t n)
{
	struct mtasts_http	h;
	char			err[128];

	err[0] = '\0';
	if (mtasts_http_head(s, n, &h, err, sizeof(err)) == 0) {
		if (h.status < 0 || h.status > 999 || h.clen < -1 ||
		    strnlen(h.ctype, sizeof(h.ctype)) == sizeof(h.ctype))
			abort();
	} else if (err[0] == '\0')
		abort();
}

static void
fuzz_mtasts_cache(const char *s, size_t n)
{
	struct mtasts_entry	*e;
	FILE			*fp;
	size_t			 k, i;

	if (n == 0 || (fp = fmemopen((void *)(uintptr_t)s, n, "r")) == NULL)
		return;
	if (mtasts_cache_read(fp, &e, &k) == 0) {
		for (i = 0; i < k; i++) {
			if (e[i].expires < e[i].fetched_at ||
			    !name_is_hostname(e[i].domain, strlen(e[i].domain)))
				abort();
			fuzz_mtasts_policy_check(&e[i].policy);
			mtasts_entry_free(&e[i]);
		}
		free(e);
	} else if (e != NULL || k != 0)
		abort();
	fclose(fp);
}

static void
fuzz_mtasts_match(const char *s, size_t n)
{
	char	*buf = malloc(n + 2);
	size_t	 pl;
	int	 r;

	if (buf == NULL)
		abort();
	memcpy(buf, s, n);
	buf[n] = buf[n + 1] = '\0';
	pl = strlen(buf);
	r = mtasts_pattern_match(buf, buf + (pl < n ? pl + 1 : n));
	if (r != 0 && r != 1)
		abort();
	free(buf);
}

static void
fuzz_mtasts_dns(const char *s, size_t n)
{
	static struct dns_ctx	*ctx;
	struct dns_txt		*t;
	size_t			 k, i;
	char			 err[128];

	if (ctx == NULL && (ctx = dns_open(NULL, err, sizeof(err))) == NULL)
		abort();
	if (dns_txt_parse(ctx, (const unsigned char *)s, n,
	    "_mta-sts.a.example", &t, &k) != DNS_OK) {
		if (t != NULL || k != 0)
			abort();
		return;
	}
	if (k == 0 || k > DNS_MAXRR)
		abort();
	for (i = 0; i < k; i++)
		if (t[i].text[t[i].len] != '\0' || t[i].len >= n)
			abort();
	dns_txt_free(t, k);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data + 1;
	size_t		 n = size - 1;

	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0:
		fuzz_mtasts_txt(s, n);
		break;
	case 1:
		fuzz_mtasts_body(s, n);
		break;
	case 2:
		fuzz_mtasts_http(s, n);
		break;
	case 3:
		fuzz_mtasts_cache(s, n);
		break;
	case 4:
		fuzz_mtasts_match(s, n);
		break;
	default:
		fuzz_mtasts_dns(s, n);
		break;
	}
	return 0;
}
