/*
 * fuzz_ident.c - libFuzzer target: presented identifiers from DER
 * certificates and the SPEC 4 matcher (ident.c, ident_match.c, name.c).
 *
 * Input: byte 0 chooses the procedure (bit 0: verify / hosted); the rest
 * is tried as a DER certificate (d2i_X509). When it decodes,
 * ident_extract() takes its names and ident_check() runs against a fixed
 * set of reference identifiers (the seed's names) plus each presented name
 * without its wildcard label. When it does not decode, the rest is split
 * at the first NUL into a presented and a reference name for
 * ident_match() and name_to_alabel(). Checked (abort() otherwise): every
 * kept name passes ident_name_valid() and holds no upper case; counts are
 * within IDENT_MAXNAMES / IDENT_MAXREJECT / IDENT_MAXCMP; a match is never
 * on an IP literal, and an exact match without '*' is a case-insensitive
 * equality.
 * Built with clang -fsanitize=fuzzer (mk/fuzz.mk) and, without libFuzzer,
 * by tests/unit/test_fuzz_corpus.c, which replays tests/fuzz/ident/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/x509.h>

#include "ident.h"
#include "name.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_ident_names_ok(char *const *v, size_t n)
{
	size_t	i, j;

	if (n > IDENT_MAXNAMES)
		abort();
	for (i = 0; i < n; i++) {
		if (!ident_name_valid(v[i], strlen(v[i]), 1))
			abort();
		for (j = 0; v[i][j] != '\0'; j++)
			if (v[i][j] >= 'A' && v[i][j] <= 'Z')
				abort();
	}
}

static void
fuzz_ident_result_ok(const struct ident_result *res, int m)
{
	if (m != res->matched || res->n_cmp > IDENT_MAXCMP ||
	    res->n_cmp > res->n_cmp_total)
		abort();
	if (m && (name_is_ip_literal(res->match.reference) ||
	    !ident_match(res->match.presented, res->match.reference)))
		abort();
}

static void
fuzz_ident_cert(X509 *x, enum ident_mode mode)
{
	struct refid		 refs[8 + 4];
	struct presented	 p;
	struct ident_result	 res;
	size_t			 n = 0, i;
	int			 m;

	refs[n++] = (struct refid){ "example.com", REF_DOMAIN };
	refs[n++] = (struct refid){ "mx0a.emailhosted.not", REF_PTR };
	refs[n++] = (struct refid){ "mx01.subd.emailhosted.not", REF_MX };
	refs[n++] = (struct refid){ "smtp1.partner.net", REF_ROUTE };
	if (ident_extract(x, &p) != 0)
		return;
	fuzz_ident_names_ok(p.dns, p.n_dns);
	fuzz_ident_names_ok(p.cn, p.n_cn);
	if (p.n_rejected > IDENT_MAXREJECT ||
	    p.n_rejected > p.n_rejected_dns + p.n_rejected_cn)
		abort();
	for (i = 0; i < p.n_dns && n < 8; i++)
		refs[n++] = (struct refid){ p.dns[i][0] == '*' &&
		    p.dns[i][1] == '.' ? p.dns[i] + 2 : p.dns[i],
		    (enum ref_source)(i % 4) };
	for (i = 0; i < p.n_cn && n < 12; i++)
		refs[n++] = (struct refid){ p.cn[i], REF_PTR };
	m = ident_check(&p, refs, n, mode, &res);
	fuzz_ident_result_ok(&res, m);
	ident_presented_free(&p);
}

static void
fuzz_ident_strings(const char *s, size_t len)
{
	char		 a[512], b[512], out[NAME_BUFLEN];
	const char	*nul = memchr(s, '\0', len);
	size_t		 la = nul ? (size_t)(nul - s) : len, lb;

	lb = nul ? len - la - 1 : 0;
	if (la >= sizeof(a) || lb >= sizeof(b))
		return;
	memcpy(a, s, la);
	a[la] = '\0';
	memcpy(b, nul ? nul + 1 : "", lb);
	b[lb] = '\0';
	if (ident_match(a, b)) {
		if (name_is_ip_literal(a) || name_is_ip_literal(b) ||
		    strchr(b, '*') != NULL)
			abort();
		if (strchr(a, '*') == NULL && strcasecmp(a, b) != 0 &&
		    strlen(a) == strlen(b))
			abort();
	}
	(void)ident_name_valid(a, la, 1);
	if (name_to_alabel(a, out, sizeof(out)) == 0 &&
	    !name_is_hostname(out, strlen(out)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*p;
	X509			*x;

	if (size < 1)
		return 0;
	p = data + 1;
	x = d2i_X509(NULL, &p, (long)(size - 1));
	if (x != NULL) {
		fuzz_ident_cert(x, (data[0] & 1) ? IDENT_HOSTED :
		    IDENT_VERIFY);
		X509_free(x);
	} else
		fuzz_ident_strings((const char *)data + 1, size - 1);
	return 0;
}
