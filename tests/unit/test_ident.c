/*
 * test_ident.c - Phase II identity: the matcher table (hostile rows
 * included), presented-identifier extraction from certificates built here
 * with the OpenSSL API (NUL bytes, bad bytes, 2,000 SANs), and the two
 * procedures of SPEC 4 with the SPEC 6 worked example.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ident.h"
#include "t.h"

/* ---- matcher table ---- */

static char	lab63[128], lab64[128], n253[300], n253dot[400], n254[400];
static char	wild253[400], ref253[400], n300[400];

struct mrow {
	const char	*p, *r;
	int		 want;
};

static const struct mrow mrows[] = {
	/* exact and case */
	{ "mx.example.com", "mx.example.com", 1 },
	{ "MX.Example.COM", "mx.example.com", 1 },
	{ "mx.example.com", "MX.EXAMPLE.COM", 1 },
	{ "mx-1.example.com", "mx-1.example.com", 1 },
	{ "mx.example.com", "mx.example.org", 0 },
	{ "mx.example.com", "example.com", 0 },
	{ "example.com", "mx.example.com", 0 },
	{ "example.com", "example.co", 0 },
	/* trailing dots */
	{ "mx.example.com.", "mx.example.com", 1 },
	{ "mx.example.com", "mx.example.com.", 1 },
	{ "mx.example.com.", "mx.example.com.", 1 },
	{ "mx.example.com..", "mx.example.com", 0 },
	{ "mx.example.com", "mx.example.com..", 0 },
	{ "*.example.com.", "mx.example.com", 1 },
	{ "*.example.com", "mx.example.com.", 1 },
	{ ".", ".", 0 },
	/* SPEC 6 seed example */
	{ "*.emailhosted.not", "mx0a.emailhosted.not", 1 },
	{ "*.emailhosted.not", "emailhosted.not", 0 },
	{ "*.emailhosted.not", "mx01.subd.emailhosted.not", 0 },
	{ "emailhosted.not", "mx0a.emailhosted.not", 0 },
	{ "*.emailhosted.not", "example.com", 0 },
	{ "*.EMAILHOSTED.not", "MX0B.emailhosted.NOT", 1 },
	/* wildcard over a single remaining label, bare wildcard */
	{ "*.com", "example.com", 0 },
	{ "*.com", "com", 0 },
	{ "*", "com", 0 },
	{ "*", "example", 0 },
	{ "*.", "com", 0 },
	{ "*.co.uk", "foo.co.uk", 1 },	/* no public-suffix list */
	/* partial wildcards, wildcards elsewhere, double wildcards */
	{ "mx*.example.com", "mx1.example.com", 0 },
	{ "*mx.example.com", "amx.example.com", 0 },
	{ "f*o.example.com", "foo.example.com", 0 },
	{ "a.*.example.com", "a.b.example.com", 0 },
	{ "*.*.example.com", "a.b.example.com", 0 },
	{ "**.example.com", "ab.example.com", 0 },
	{ "*.example.*", "a.example.com", 0 },
	{ "example.*", "example.com", 0 },
	{ "mx.example.com*", "mx.example.com", 0 },
	/* a reference containing '*' never matches */
	{ "*.example.com", "*.example.com", 0 },
	{ "mx.example.com", "*.example.com", 0 },
	{ "*", "*", 0 },
	/* empty labels */
	{ "mx..example.com", "mx..example.com", 0 },
	{ ".example.com", "mx.example.com", 0 },
	{ "mx.example.com", ".example.com", 0 },
	{ ".example.com", ".example.com", 0 },
	{ "*.example.com", ".example.com", 0 },
	{ "*..example.com", "a..example.com", 0 },
	{ "", "", 0 },
	{ "", "example.com", 0 },
	{ "example.com", "", 0 },
	/* IP literals on either side */
	{ "127.0.0.1", "127.0.0.1", 0 },
	{ "192.0.2.1.", "192.0.2.1", 0 },
	{ "mx.example.com", "192.0.2.1", 0 },
	{ "192.0.2.1", "mx.example.com", 0 },
	{ "*.0.0.1", "127.0.0.1", 0 },
	{ "*.0.2.1", "a.0.2.1", 0 },
	{ "127.1", "127.1", 0 },
	{ "mx.example.123", "mx.example.123", 0 },
	{ "::1", "::1", 0 },
	{ "2001:db8::1", "2001:db8::1", 0 },
	{ "mx.example.com", "2001:db8::25", 0 },
	{ "::ffff:127.0.0.1", "::ffff:127.0.0.1", 0 },
	/* A-labels: a whole-label wildcard may stand for an A-label */
	{ "*.example.com", "xn--bcher-kva.example.com", 1 },
	{ "xn--bcher-kva.example.com", "XN--BCHER-KVA.example.com", 1 },
	{ "*.xn--bcher-kva.example", "mx.xn--bcher-kva.example", 1 },
	{ "xn--*.example.com", "xn--bcher-kva.example.com", 0 },
	{ "*-kva.example.com", "xn--bcher-kva.example.com", 0 },
	{ "b\xc3\xbc" "cher.example.com", "xn--bcher-kva.example.com", 0 },
	{ "b\xc3\xbc" "cher.example.com", "b\xc3\xbc" "cher.example.com", 0 },
	/* spaces, underscores, other bytes */
	{ "mx .example.com", "mx .example.com", 0 },
	{ " mx.example.com", "mx.example.com", 0 },
	{ "mx.example.com ", "mx.example.com", 0 },
	{ "mx.example.com", "mx.example.com ", 0 },
	{ "mx\t.example.com", "mx\t.example.com", 0 },
	{ "mx/1.example.com", "mx/1.example.com", 0 },
	{ "mx@example.com", "mx@example.com", 0 },
	{ "_mta-sts.example.com", "_mta-sts.example.com", 1 },
	{ "mx_1.example.com", "MX_1.example.com", 1 },
	{ "*.example.com", "_srv.example.com", 1 },
	/* lengths (filled in by fill_long()) */
	{ lab63, lab63, 1 },
	{ lab64, lab64, 0 },
	{ n253, n253, 1 },
	{ n253dot, n253, 1 },
	{ n253, n253dot, 1 },
	{ n254, n254, 0 },
	{ wild253, ref253, 1 },
	{ n300, n300, 0 },
};

static void
fill_long(void)
{
	size_t	i;

	memset(lab63, 'a', 63);
	strcpy(lab63 + 63, ".example.com");
	memset(lab64, 'a', 64);
	strcpy(lab64 + 64, ".example.com");
	/* 4 x (62 + '.') = 252, + "c" = 253 bytes */
	for (i = 0; i < 4; i++) {
		memset(n253 + i * 63, 'b', 62);
		n253[i * 63 + 62] = '.';
	}
	strcpy(n253 + 252, "c");
	snprintf(n253dot, sizeof(n253dot), "%s.", n253);
	snprintf(n254, sizeof(n254), "x%s", n253);
	/* "*." + 251 bytes and "a." + the same 251 bytes */
	snprintf(wild253, sizeof(wild253), "*.%s", n253 + 2);
	snprintf(ref253, sizeof(ref253), "a.%s", n253 + 2);
	for (i = 0; i < 300; i++)
		n300[i] = (i % 50 == 49) ? '.' : 'd';
	n300[299] = 'e';
	n300[300] = '\0';
}

static void
test_match_table(void)
{
	size_t	i;

	fill_long();
	T_OK(strlen(n253) == 253 && strlen(n254) == 254 &&
	    strlen(wild253) == 253 && strlen(ref253) == 253 &&
	    strlen(lab64) == 64 + 12, "long-name fixtures have their lengths");
	for (i = 0; i < sizeof(mrows) / sizeof(mrows[0]); i++) {
		int got = ident_match(mrows[i].p, mrows[i].r);

		T_OK(got == mrows[i].want, "match row %zu: \"%.40s\" ~= "
		    "\"%.40s\" -> %d (want %d)", i, mrows[i].p, mrows[i].r,
		    got, mrows[i].want);
	}
	T_OK(sizeof(mrows) / sizeof(mrows[0]) >= 60, "table has %zu rows",
	    sizeof(mrows) / sizeof(mrows[0]));
	T_OK(ident_match(NULL, "a.example.com") == 0 &&
	    ident_match("a.example.com", NULL) == 0, "NULL never matches");
	T_OK(ident_name_valid("good.example\0.evil", 18, 1) == 0,
	    "ident_name_valid refuses an embedded NUL (explicit length)");
	T_OK(ident_name_valid("good.example", 12, 0) == 1 &&
	    ident_name_valid("*.example.com", 13, 0) == 0 &&
	    ident_name_valid("*.example.com", 13, 1) == 1,
	    "ident_name_valid: plain names; '*' only when allowed");
}

/* ---- certificates built at test time ---- */

struct nm {
	const char	*s;
	size_t		 len;
};
#define NM(x)	{ (x), sizeof(x) - 1 }	/* keeps embedded NULs */

static EVP_PKEY	*key;

static void
add_san(X509 *x, const struct nm *san, size_t nsan, int with_ip, int flags)
{
	GENERAL_NAMES		*gens = sk_GENERAL_NAME_new_null();
	static const unsigned char lo[4] = { 127, 0, 0, 1 };
	size_t			 i;

	for (i = 0; i < nsan + (with_ip ? 1 : 0); i++) {
		GENERAL_NAME	*g = GENERAL_NAME_new();
		ASN1_STRING	*s;

		if (i == nsan) {
			s = ASN1_OCTET_STRING_new();
			ASN1_OCTET_STRING_set(s, lo, 4);
			GENERAL_NAME_set0_value(g, GEN_IPADD, s);
		} else {
			s = ASN1_IA5STRING_new();
			ASN1_STRING_set(s, san[i].s, (int)san[i].len);
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
		}
		sk_GENERAL_NAME_push(gens, g);
	}
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, flags) != 1)
		fprintf(stderr, "X509_add1_ext_i2d failed\n");
	GENERAL_NAMES_free(gens);
}

/* A signed certificate with the given CNs (raw UTF8String bytes) and
 * dNSNames, re-read from DER like a certificate from the wire. */
static X509 *
mkcert2(const struct nm *cn, size_t ncn, const struct nm *san, size_t nsan,
    int with_ip, int dup_san)
{
	X509		*x = X509_new(), *y;
	X509_NAME	*name = X509_get_subject_name(x);
	unsigned char	*der = NULL;
	const unsigned char *p;
	size_t		 i;
	int		 len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	for (i = 0; i < ncn; i++)
		X509_NAME_add_entry_by_NID(name, NID_commonName,
		    V_ASN1_UTF8STRING, (const unsigned char *)cn[i].s,
		    (int)cn[i].len, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	if (nsan > 0 || with_ip)
		add_san(x, san, nsan, with_ip, X509V3_ADD_DEFAULT);
	if (dup_san)
		add_san(x, san, nsan, 0, X509V3_ADD_APPEND);
	X509_sign(x, key, EVP_sha256());
	len = i2d_X509(x, &der);
	X509_free(x);
	p = der;
	y = len > 0 ? d2i_X509(NULL, &p, len) : NULL;
	OPENSSL_free(der);
	if (y == NULL)
		fprintf(stderr, "certificate build failed\n");
	return y;
}

static X509 *
mkcert(const struct nm *cn, size_t ncn, const struct nm *san, size_t nsan)
{
	return mkcert2(cn, ncn, san, nsan, 0, 0);
}

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static int
extract(X509 *x, struct presented *p)
{
	int	rv = ident_extract(x, p);

	X509_free(x);
	return rv;
}

static void
test_extract_basic(void)
{
	struct presented p;
	static const struct nm san[] = { NM("Mx.Example.COM"),
	    NM("*.example.net.") };
	static const struct nm cn[] = { NM("Mail.Example.COM") };
	static const struct nm cns[] = { NM("a.example.com"),
	    NM("b.example.com"), NM("c.example.com") };

	T_OK(extract(mkcert(NULL, 0, san, N(san)), &p) == 0 &&
	    p.n_dns == 2 && p.n_cn == 0 && p.n_rejected == 0 &&
	    strcmp(p.dns[0], "mx.example.com") == 0 &&
	    strcmp(p.dns[1], "*.example.net") == 0,
	    "SAN only, empty subject: lower-cased, trailing dot removed");
	ident_presented_free(&p);
	T_OK(extract(mkcert(cn, 1, NULL, 0), &p) == 0 && p.n_dns == 0 &&
	    p.n_cn == 1 && strcmp(p.cn[0], "mail.example.com") == 0,
	    "CN only");
	ident_presented_free(&p);
	T_OK(extract(mkcert(cn, 1, san, N(san)), &p) == 0 && p.n_dns == 2 &&
	    p.n_cn == 1 && strcmp(p.dns[0], "mx.example.com") == 0,
	    "both SAN and CN");
	ident_presented_free(&p);
	T_OK(extract(mkcert(cns, N(cns), NULL, 0), &p) == 0 && p.n_cn == 3 &&
	    strcmp(p.cn[0], "a.example.com") == 0 &&
	    strcmp(p.cn[2], "c.example.com") == 0,
	    "three CNs, kept in subject order");
	ident_presented_free(&p);
	T_OK(extract(mkcert2(NULL, 0, san, 1, 1, 0), &p) == 0 &&
	    p.n_dns == 1 && p.n_rejected == 0,
	    "an iPAddress SAN is neither a DNS-ID nor rejected");
	ident_presented_free(&p);
	T_OK(ident_extract(NULL, &p) == -1 && p.n_dns == 0,
	    "NULL certificate -> -1");
	ident_presented_free(&p);
	T_OK(extract(mkcert2(NULL, 0, san, N(san), 0, 1), &p) == -1 &&
	    p.n_dns == 0 && p.dns == NULL,
	    "two subjectAltName extensions -> unreadable (-1), empty");
	ident_presented_free(&p);
}

static void
test_extract_hostile(void)
{
	struct presented p;
	static const struct nm cn_nul[] = {
	    NM("good.example\0.evil.example") };
	static const struct nm san_nul[] = {
	    NM("good.example\0.evil.example") };
	static const struct nm san_bad[] = { NM("mx example.com"),
	    NM("mx/1.example.com"), NM("mx*.example.com"), NM(""),
	    NM("a..example.com"), NM("ok.example.com") };
	static const struct nm cn_utf8[] = { NM("b\xc3\xbc" "cher.example"),
	    NM("*.b\xc3\xbc" "cher.example"), NM("B\xc3\x9c" "CHER.example."),
	    NM("\xe2\x92\x88.example"),		/* UTS#46: disallowed */
	    NM("b*\xc3\xbc" "cher.example") };	/* partial wildcard */
	char	big[400];
	struct nm san_big[1];

	T_OK(extract(mkcert(cn_nul, 1, NULL, 0), &p) == 0 && p.n_cn == 0 &&
	    p.n_rejected_cn == 1 && p.n_rejected == 1 &&
	    strcmp(p.rejected[0], "good.example\\x00.evil.example") == 0,
	    "CN with embedded NUL rejected, escaped copy \"%s\"",
	    p.n_rejected ? p.rejected[0] : "");
	ident_presented_free(&p);
	T_OK(extract(mkcert(NULL, 0, san_nul, 1), &p) == 0 && p.n_dns == 0 &&
	    p.n_rejected_dns == 1 &&
	    strstr(p.rejected[0], "\\x00") != NULL,
	    "dNSName with embedded NUL rejected");
	ident_presented_free(&p);
	T_OK(extract(mkcert(NULL, 0, san_bad, N(san_bad)), &p) == 0 &&
	    p.n_dns == 1 && strcmp(p.dns[0], "ok.example.com") == 0 &&
	    p.n_rejected_dns == 5 && p.n_rejected == 5 &&
	    strcmp(p.rejected[0], "mx\\x20example.com") == 0 &&
	    strcmp(p.rejected[3], "(empty)") == 0,
	    "space, '/', partial '*', empty, empty label: rejected");
	ident_presented_free(&p);
	T_OK(extract(mkcert(cn_utf8, N(cn_utf8), NULL, 0), &p) == 0 &&
	    p.n_cn == 3 && p.n_rejected_cn == 2 &&
	    strcmp(p.cn[0], "xn--bcher-kva.example") == 0 &&
	    strcmp(p.cn[1], "*.xn--bcher-kva.example") == 0 &&
	    strcmp(p.cn[2], "xn--bcher-kva.example") == 0,
	    "U-label CNs compared as A-labels: %s %s %s (rejected %zu)",
	    p.n_cn > 0 ? p.cn[0] : "-", p.n_cn > 1 ? p.cn[1] : "-",
	    p.n_cn > 2 ? p.cn[2] : "-", p.n_rejected_cn);
	T_OK(p.n_cn == 3 && ident_match(p.cn[0], "xn--bcher-kva.example") &&
	    ident_match(p.cn[1], "mx.xn--bcher-kva.example") &&
	    !ident_match(p.cn[1], "xn--bcher-kva.example"),
	    "a converted CN matches the A-label reference, its wildcard one "
	    "label");
	ident_presented_free(&p);
	T_OK(extract(mkcert(NULL, 0, cn_utf8, 1), &p) == 0 && p.n_dns == 0 &&
	    p.n_rejected_dns == 1 &&
	    strcmp(p.rejected[0], "b\\xc3\\xbccher.example") == 0,
	    "a dNSName in U-labels (not IA5 A-labels) stays rejected");
	ident_presented_free(&p);
	memset(big, 'a', 300);
	big[299] = '\0';
	big[100] = big[200] = '.';
	san_big[0].s = big;
	san_big[0].len = 299;
	T_OK(extract(mkcert(NULL, 0, san_big, 1), &p) == 0 && p.n_dns == 0 &&
	    p.n_rejected_dns == 1 && strlen(p.rejected[0]) <= 104 &&
	    strcmp(p.rejected[0] + strlen(p.rejected[0]) - 3, "...") == 0,
	    "299-byte dNSName rejected, copy cut to %zu bytes",
	    p.n_rejected ? strlen(p.rejected[0]) : 0);
	ident_presented_free(&p);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
test_extract_many(void)
{
	enum { NSAN = 2000 };
	static char	 names[NSAN][32];
	struct nm	*san = calloc(NSAN, sizeof(*san));
	struct presented p;
	X509		*x;
	double		 t0, dt;
	size_t		 i;
	int		 rv;

	for (i = 0; i < NSAN; i++) {
		snprintf(names[i], sizeof(names[i]), "h%zu.example.com", i);
		san[i].s = names[i];
		san[i].len = strlen(names[i]);
	}
	x = mkcert(NULL, 0, san, NSAN);
	t0 = now();
	rv = ident_extract(x, &p);
	dt = now() - t0;
	X509_free(x);
	T_OK(rv == 0 && p.n_dns == IDENT_MAXNAMES &&
	    p.n_rejected_dns == NSAN - IDENT_MAXNAMES &&
	    p.n_rejected == IDENT_MAXREJECT &&
	    strcmp(p.dns[IDENT_MAXNAMES - 1], names[IDENT_MAXNAMES - 1]) == 0,
	    "2,000 SANs: %zu kept, %zu counted as rejected, %zu copies",
	    p.n_dns, p.n_rejected_dns, p.n_rejected);
	T_OK(dt < 1.0, "2,000 SANs extracted in %.3f s", dt);
	ident_presented_free(&p);
	free(san);
}

/* ---- procedures ---- */

static const struct nm seed_cn[] = { NM("*.emailhosted.not") };
static const struct nm seed_san[] = { NM("*.emailhosted.not"),
    NM("emailhosted.not") };

static int
only_domain_for_dns(const struct ident_result *r)
{
	size_t	i;

	for (i = 0; i < r->n_cmp; i++)
		if (r->cmp[i].type == IDENT_DNSNAME &&
		    r->cmp[i].source != REF_DOMAIN)
			return 0;
	return 1;
}

static void
test_seed(void)
{
	struct presented	p;
	struct ident_result	r;
	const struct refid	vrefs[] = { { "mx0a.emailhosted.not", REF_PTR },
				    { "example.com", REF_DOMAIN } };
	const struct refid	hrefs[] = { { "example.com", REF_DOMAIN },
				    { "mx0a.emailhosted.not", REF_PTR },
				    { "mx01.subd.emailhosted.not", REF_MX } };
	size_t			i;
	int			ptr_seen = 0;

	extract(mkcert(seed_cn, 1, seed_san, 2), &p);
	T_OK(ident_check(&p, vrefs, 2, IDENT_VERIFY, &r) == 1 && r.matched &&
	    r.match.type == IDENT_CN && r.match.source == REF_PTR &&
	    strcmp(r.match.presented, "*.emailhosted.not") == 0 &&
	    strcmp(r.match.reference, "mx0a.emailhosted.not") == 0 &&
	    r.used_cn == 1, "seed verify: CN matches PTR mx0a -> %s/%s",
	    ident_type_str(r.match.type), ident_source_str(r.match.source));
	T_OK(r.n_cmp == 4 && r.n_cmp_total == 4 &&
	    r.cmp[0].type == IDENT_DNSNAME && !r.cmp[0].matched &&
	    strcmp(r.cmp[0].reference, "example.com") == 0 &&
	    r.cmp[1].type == IDENT_DNSNAME &&
	    r.cmp[2].type == IDENT_CN && r.cmp[2].source == REF_DOMAIN &&
	    r.cmp[3].type == IDENT_CN && r.cmp[3].source == REF_PTR &&
	    r.cmp[3].matched, "seed verify: 4 comparisons in SPEC order "
	    "(domain before ptr although given after)");
	T_OK(only_domain_for_dns(&r), "seed verify: DNS-IDs only vs domain");
	T_OK(ident_check(&p, hrefs, 3, IDENT_HOSTED, &r) == 0 && !r.matched &&
	    r.used_cn == 0 && r.n_cmp_total == 4,
	    "seed hosted: not matched, %zu comparisons", r.n_cmp_total);
	for (i = 0; i < r.n_cmp; i++) {
		ptr_seen |= r.cmp[i].source == REF_PTR;
		ptr_seen |= r.cmp[i].type == IDENT_CN;
	}
	T_OK(!ptr_seen && strcmp(r.cmp[3].reference,
	    "mx01.subd.emailhosted.not") == 0 && r.cmp[3].source == REF_MX,
	    "seed hosted: CN ignored, PTR never compared, MX compared");
	ident_presented_free(&p);
}

static void
test_verify(void)
{
	struct presented	p;
	struct ident_result	r;
	static const struct nm	san[] = { NM("*.emailhosted.not") };
	static const struct nm	san2[] = { NM("other.example.net") };
	static const struct nm	cn[] = { NM("example.com") };
	static const struct nm	cn_mx[] = { NM("mx.example.com") };
	const struct refid	nodom[] = { { "mx0a.emailhosted.not", REF_PTR },
				    { "mx0a.emailhosted.not", REF_MX },
				    { "mx0a.emailhosted.not", REF_ROUTE } };
	const struct refid	dom[] = { { "example.com", REF_DOMAIN } };
	const struct refid	mxr[] = { { "example.com", REF_DOMAIN },
				    { "mx.example.com", REF_MX },
				    { "mx.example.com", REF_ROUTE } };

	extract(mkcert(NULL, 0, san, 1), &p);
	T_OK(ident_check(&p, nodom, 3, IDENT_VERIFY, &r) == 0 &&
	    r.n_cmp_total == 0, "verify: DNS-ID never compared with "
	    "ptr/mx/route refs (%zu comparisons)", r.n_cmp_total);
	ident_presented_free(&p);
	extract(mkcert(cn, 1, san2, 1), &p);
	T_OK(ident_check(&p, dom, 1, IDENT_VERIFY, &r) == 1 &&
	    r.match.type == IDENT_CN && r.match.source == REF_DOMAIN &&
	    r.n_cmp == 2 && r.cmp[0].type == IDENT_DNSNAME,
	    "verify: DNS-ID fails, CN matches the domain");
	ident_presented_free(&p);
	extract(mkcert(cn, 1, cn, 1), &p);
	T_OK(ident_check(&p, dom, 1, IDENT_VERIFY, &r) == 1 &&
	    r.match.type == IDENT_DNSNAME && r.used_cn == 0 && r.n_cmp == 1,
	    "verify: DNS-ID matches the domain; CN not consulted");
	ident_presented_free(&p);
	extract(mkcert(cn_mx, 1, NULL, 0), &p);
	T_OK(ident_check(&p, mxr, 3, IDENT_VERIFY, &r) == 0 &&
	    r.n_cmp_total == 1 && r.cmp[0].source == REF_DOMAIN,
	    "verify: CN never compared with MX or route names");
	ident_presented_free(&p);
}

static void
test_hosted(void)
{
	struct presented	p;
	struct ident_result	r;
	static const struct nm	cn[] = { NM("mx.partner.net") };
	static const struct nm	cn_dom[] = { NM("example.com") };
	static const struct nm	san_w[] = { NM("*.partner.net") };
	static const struct nm	san_mx[] = { NM("mx01.subd.emailhosted.not") };
	static const struct nm	san_o[] = { NM("other.example") };
	static const struct nm	san_pref[] = { NM("mx.example.com"),
				    NM("example.com") };
	static const struct nm	san_nul[] = { NM("x.example\0.evil") };
	const struct refid	route[] = { { "partner.org", REF_DOMAIN },
				    { "smtp1.partner.net", REF_ROUTE },
				    { "mx.partner.net", REF_ROUTE } };
	const struct refid	mx[] = { { "example.com", REF_DOMAIN },
				    { "mx01.subd.emailhosted.not", REF_MX } };
	const struct refid	dom[] = { { "example.com", REF_DOMAIN } };
	const struct refid	ptr[] = { { "mx.partner.net", REF_PTR } };
	const struct refid	pref[] = { { "example.com", REF_DOMAIN },
				    { "mx.example.com", REF_MX } };

	extract(mkcert(cn, 1, NULL, 0), &p);
	T_OK(ident_check(&p, route, 3, IDENT_HOSTED, &r) == 1 &&
	    r.used_cn && r.match.type == IDENT_CN &&
	    r.match.source == REF_ROUTE &&
	    strcmp(r.match.reference, "mx.partner.net") == 0,
	    "hosted: no DNS-ID, CN matches a route name");
	T_OK(ident_check(&p, ptr, 1, IDENT_HOSTED, &r) == 0 &&
	    r.n_cmp_total == 0, "hosted: a PTR ref is never compared");
	ident_presented_free(&p);
	extract(mkcert(NULL, 0, san_w, 1), &p);
	T_OK(ident_check(&p, route, 3, IDENT_HOSTED, &r) == 1 &&
	    r.match.type == IDENT_DNSNAME &&
	    strcmp(r.match.reference, "smtp1.partner.net") == 0,
	    "hosted: wildcard DNS-ID matches the first route name");
	ident_presented_free(&p);
	extract(mkcert(NULL, 0, san_mx, 1), &p);
	T_OK(ident_check(&p, mx, 2, IDENT_HOSTED, &r) == 1 &&
	    r.match.source == REF_MX, "hosted: DNS-ID matches the MX name");
	ident_presented_free(&p);
	extract(mkcert(cn_dom, 1, san_o, 1), &p);
	T_OK(ident_check(&p, dom, 1, IDENT_HOSTED, &r) == 0 &&
	    r.used_cn == 0 && r.n_cmp_total == 1,
	    "hosted: DNS-IDs exist, matching CN ignored");
	ident_presented_free(&p);
	extract(mkcert(cn_dom, 1, san_nul, 1), &p);
	T_OK(ident_check(&p, dom, 1, IDENT_HOSTED, &r) == 0 &&
	    r.n_cmp_total == 0, "hosted: all dNSNames rejected, CN still "
	    "not used");
	T_OK(ident_check(&p, dom, 1, IDENT_VERIFY, &r) == 1 &&
	    r.match.type == IDENT_CN, "verify: same cert, CN step matches");
	ident_presented_free(&p);
	extract(mkcert(NULL, 0, san_pref, 2), &p);
	T_OK(ident_check(&p, pref, 2, IDENT_HOSTED, &r) == 1 &&
	    r.match.source == REF_DOMAIN &&
	    strcmp(r.match.presented, "example.com") == 0 && r.n_cmp == 2,
	    "hosted: first reference wins over certificate order");
	ident_presented_free(&p);
}

static void
test_bounds(void)
{
	enum { NS = 100 };
	static char		 names[NS + 1][32];
	struct nm		 san[NS + 1];
	struct presented	 p;
	struct ident_result	 r;
	const struct refid	 dom[] = { { "example.com", REF_DOMAIN } };
	size_t			 i;

	for (i = 0; i < NS; i++) {
		snprintf(names[i], sizeof(names[i]), "n%zu.example.net", i);
		san[i].s = names[i];
		san[i].len = strlen(names[i]);
	}
	san[NS].s = "Example.COM";
	san[NS].len = 11;
	extract(mkcert(NULL, 0, san, NS), &p);
	T_OK(ident_check(&p, dom, 1, IDENT_VERIFY, &r) == 0 &&
	    r.n_cmp == IDENT_MAXCMP && r.n_cmp_total == NS,
	    "IDENT_MAXCMP: %zu kept of %zu", r.n_cmp, r.n_cmp_total);
	ident_presented_free(&p);
	extract(mkcert(NULL, 0, san, NS + 1), &p);
	T_OK(ident_check(&p, dom, 1, IDENT_VERIFY, &r) == 1 &&
	    r.n_cmp == IDENT_MAXCMP && r.n_cmp_total == NS + 1 &&
	    strcmp(r.match.presented, "example.com") == 0,
	    "match past the comparison cap is still recorded");
	T_OK(ident_check(&p, dom, 1, (enum ident_mode)7, &r) == 0 &&
	    r.n_cmp_total == 0, "unknown mode compares nothing");
	ident_presented_free(&p);
	T_OK(strcmp(ident_type_str(IDENT_DNSNAME), "dNSName") == 0 &&
	    strcmp(ident_type_str(IDENT_CN), "CN") == 0 &&
	    strcmp(ident_source_str(REF_DOMAIN), "domain") == 0 &&
	    strcmp(ident_source_str(REF_PTR), "ptr") == 0 &&
	    strcmp(ident_source_str(REF_ROUTE), "route") == 0 &&
	    strcmp(ident_source_str(REF_MX), "mx") == 0,
	    "type and source names as in SPEC 9");
}

int
main(void)
{
	key = EVP_EC_gen("P-256");
	if (key == NULL) {
		fprintf(stderr, "key generation failed\n");
		return 1;
	}
	test_match_table();
	test_extract_basic();
	test_extract_hostile();
	test_extract_many();
	test_seed();
	test_verify();
	test_hosted();
	test_bounds();
	EVP_PKEY_free(key);
	return T_DONE();
}
