/*
 * ident.c - Phase II: presented identifiers and the two identity
 * procedures (SPEC section 4). The matcher itself is in ident_match.c.
 *
 * ident_extract(cert, out): fills *out with the certificate's dNSName
 *	subjectAltNames and subject CNs (see ident.h for the rules). Every
 *	name's length comes from its ASN.1 string; CNs are converted with
 *	ASN1_STRING_to_UTF8 and refused when the result holds a NUL; a CN
 *	with bytes >= 0x80 (U-labels) is converted to its A-label with
 *	name_to_alabel() (libidn2, as the recipient domain is; a whole
 *	left-most "*" label kept) and refused when that fails or it is longer
 *	than IDENT_CN_INMAX bytes. A dNSName is an IA5String, A-labels by
 *	RFC 5280 4.2.1.6: one with bytes >= 0x80 is refused, never converted.
 *	Limits:
 *	at most IDENT_MAXNAMES names of each kind and IDENT_MAXREJECT rejected
 *	copies are stored (each <= ~100 bytes); work is linear in the number
 *	of entries, so a certificate with thousands of SANs costs one pass.
 *	The caller frees *out with ident_presented_free() (also after -1;
 *	*out is then empty).
 *
 * ident_check(pres, refs, nrefs, mode, res): the "verify" or "hosted"
 *	procedure; fills *res (no allocation). Comparisons are made in a
 *	fixed order, references outer, presented names inner (ident.h).
 *
 * ident_type_str(), ident_source_str(): the names used in reports/JSON.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/x509v3.h>

#include "ident.h"
#include "xalloc.h"

#define IDENT_REJ_CUT	100	/* bytes of an escaped rejected name */
#define IDENT_CN_INMAX	1024	/* bytes of a U-label CN converted */

/* Printable copy of untrusted bytes: \xHH escapes, cut with "...". */
static char *
ident_escape(const unsigned char *s, size_t len)
{
	char	buf[IDENT_REJ_CUT + 8];
	size_t	i, o = 0;

	for (i = 0; i < len; i++) {
		if (o + 4 > IDENT_REJ_CUT) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '\\')
			buf[o++] = (char)s[i];
		else {
			(void)snprintf(buf + o, 5, "\\x%02x", s[i]);
			o += 4;
		}
	}
	buf[o] = '\0';
	return xstrdup(o ? buf : "(empty)");
}

static void
ident_reject(struct presented *out, size_t *counter,
    const unsigned char *s, size_t len)
{
	(*counter)++;
	if (out->n_rejected < IDENT_MAXREJECT)
		out->rejected[out->n_rejected++] = ident_escape(s, len);
}

/*
 * A CN in U-labels (UTF-8, no NUL) as an A-label into out (NAME_BUFLEN):
 * 1 converted, 0 pure ASCII (nothing to do), -1 not convertible. A whole
 * left-most "*" label is kept as it is and the rest converted.
 */
static int
ident_cn_alabel(const unsigned char *s, size_t len, char *out)
{
	char	in[IDENT_CN_INMAX + 1];
	size_t	i, skip = 0;

	for (i = 0; i < len && s[i] < 0x80; i++)
		;
	if (i == len)
		return 0;
	if (len > IDENT_CN_INMAX)
		return -1;
	if (len > 2 && s[0] == '*' && s[1] == '.')
		skip = 2;
	memcpy(in, s + skip, len - skip);
	in[len - skip] = '\0';
	if (name_to_alabel(in, out + skip, NAME_BUFLEN - skip) != 0)
		return -1;
	if (skip)
		memcpy(out, "*.", 2);
	return 1;
}

/* Keep a name (lower-cased, one trailing dot removed) or reject it. */
static void
ident_add(struct presented *out, enum ident_type type,
    const unsigned char *s, size_t len)
{
	char	**arr = type == IDENT_CN ? out->cn : out->dns;
	size_t	 *n = type == IDENT_CN ? &out->n_cn : &out->n_dns;
	size_t	 *nrej = type == IDENT_CN ? &out->n_rejected_cn :
		    &out->n_rejected_dns;
	char	 *copy, alabel[NAME_BUFLEN];
	int	  conv = 0;

	if (type == IDENT_CN && s != NULL && len > 0 &&
	    memchr(s, '\0', len) == NULL &&
	    (conv = ident_cn_alabel(s, len, alabel)) < 0) {
		ident_reject(out, nrej, s, len);
		return;
	}
	if (conv == 1) {
		s = (const unsigned char *)alabel;
		len = strlen(alabel);
	}
	if (s == NULL || len == 0 || memchr(s, '\0', len) != NULL ||
	    !ident_name_valid((const char *)s, len, 1) ||
	    *n >= IDENT_MAXNAMES) {
		ident_reject(out, nrej, s, len);
		return;
	}
	if (s[len - 1] == '.')
		len--;
	copy = xmalloc(len + 1);
	(void)name_lower((const char *)s, len, copy, len + 1);	/* fits */
	arr[(*n)++] = copy;
}

static int
ident_extract_san(X509 *cert, struct presented *out)
{
	GENERAL_NAMES	*gens;
	int		 crit = -1, i, n, len;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL)
		return crit == -1 ? 0 : -1;	/* -2: twice; 0/1: undecodable */
	n = sk_GENERAL_NAME_num(gens);
	for (i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g == NULL || g->type != GEN_DNS || g->d.dNSName == NULL)
			continue;
		len = ASN1_STRING_length(g->d.dNSName);
		ident_add(out, IDENT_DNSNAME,
		    ASN1_STRING_get0_data(g->d.dNSName),
		    len > 0 ? (size_t)len : 0);
	}
	GENERAL_NAMES_free(gens);
	return 0;
}

static void
ident_extract_cn(X509 *cert, struct presented *out)
{
	const X509_NAME	*subj;
	unsigned char	*u;
	int		 idx = -1, len;

	if ((subj = X509_get_subject_name(cert)) == NULL)
		return;
	while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName,
	    idx)) >= 0) {
		const ASN1_STRING *d =
		    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));

		u = NULL;
		len = d ? ASN1_STRING_to_UTF8(&u, d) : -1;
		if (len < 0 || u == NULL) {
			ident_reject(out, &out->n_rejected_cn,
			    (const unsigned char *)"(unreadable CN)", 15);
		} else if ((size_t)len != strlen((const char *)u)) {
			ident_reject(out, &out->n_rejected_cn, u, (size_t)len);
		} else
			ident_add(out, IDENT_CN, u, (size_t)len);
		OPENSSL_free(u);
	}
}

int
ident_extract(X509 *cert, struct presented *out)
{
	memset(out, 0, sizeof(*out));
	if (cert == NULL)
		return -1;
	out->dns = xcalloc(IDENT_MAXNAMES, sizeof(char *));
	out->cn = xcalloc(IDENT_MAXNAMES, sizeof(char *));
	out->rejected = xcalloc(IDENT_MAXREJECT, sizeof(char *));
	if (ident_extract_san(cert, out) != 0) {
		ident_presented_free(out);
		return -1;
	}
	ident_extract_cn(cert, out);
	return 0;
}

static void
ident_free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
ident_presented_free(struct presented *p)
{
	if (p == NULL)
		return;
	ident_free_list(p->dns, p->n_dns);
	ident_free_list(p->cn, p->n_cn);
	ident_free_list(p->rejected, p->n_rejected);
	memset(p, 0, sizeof(*p));
}

static void
ident_record(struct ident_result *res, enum ident_type type,
    const char *pres, const struct refid *ref, int m)
{
	struct ident_cmp	c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	(void)snprintf(c.presented, sizeof(c.presented), "%s", pres);
	(void)snprintf(c.reference, sizeof(c.reference), "%s", ref->name);
	c.source = ref->source;
	c.matched = m;
	res->n_cmp_total++;
	if (res->n_cmp < IDENT_MAXCMP)
		res->cmp[res->n_cmp++] = c;
	if (m && !res->matched) {
		res->matched = 1;
		res->match = c;
	}
}

#define IDENT_SRC(s)	(1u << (s))

/* References whose source is in srcmask (given order) x names: 1 on the
 * first match. */
static int
ident_pass(struct ident_result *res, enum ident_type type, char *const *names,
    size_t n, const struct refid *refs, size_t nrefs, unsigned srcmask)
{
	size_t	i, j;
	int	m;

	for (j = 0; j < nrefs; j++) {
		if (refs[j].name == NULL || (unsigned)refs[j].source > REF_MX ||
		    !(srcmask & IDENT_SRC(refs[j].source)))
			continue;
		for (i = 0; i < n; i++) {
			m = ident_match(names[i], refs[j].name);
			ident_record(res, type, names[i], &refs[j], m);
			if (m)
				return 1;
		}
	}
	return 0;
}

static int
ident_verify(const struct presented *p, const struct refid *refs,
    size_t nrefs, struct ident_result *res)
{
	if (ident_pass(res, IDENT_DNSNAME, p->dns, p->n_dns, refs, nrefs,
	    IDENT_SRC(REF_DOMAIN)))
		return 1;
	res->used_cn = p->n_cn > 0;
	if (ident_pass(res, IDENT_CN, p->cn, p->n_cn, refs, nrefs,
	    IDENT_SRC(REF_DOMAIN)))
		return 1;
	return ident_pass(res, IDENT_CN, p->cn, p->n_cn, refs, nrefs,
	    IDENT_SRC(REF_PTR));
}

static int
ident_hosted(const struct presented *p, const struct refid *refs,
    size_t nrefs, struct ident_result *res)
{
	unsigned	mask = IDENT_SRC(REF_DOMAIN) | IDENT_SRC(REF_ROUTE) |
			    IDENT_SRC(REF_MX);

	if (p->n_dns > 0 || p->n_rejected_dns > 0)
		return ident_pass(res, IDENT_DNSNAME, p->dns, p->n_dns, refs,
		    nrefs, mask);
	res->used_cn = p->n_cn > 0;
	return ident_pass(res, IDENT_CN, p->cn, p->n_cn, refs, nrefs, mask);
}

int
ident_check(const struct presented *p, const struct refid *refs,
    size_t nrefs, enum ident_mode mode, struct ident_result *res)
{
	memset(res, 0, sizeof(*res));
	if (p == NULL || (refs == NULL && nrefs > 0))
		return 0;
	switch (mode) {
	case IDENT_VERIFY:
		return ident_verify(p, refs, nrefs, res);
	case IDENT_HOSTED:
		return ident_hosted(p, refs, nrefs, res);
	}
	return 0;
}

const char *
ident_type_str(enum ident_type t)
{
	switch (t) {
	case IDENT_DNSNAME:
		return "dNSName";
	case IDENT_CN:
		return "CN";
	}
	return "?";
}

const char *
ident_source_str(enum ref_source s)
{
	switch (s) {
	case REF_DOMAIN:
		return "domain";
	case REF_PTR:
		return "ptr";
	case REF_ROUTE:
		return "route";
	case REF_MX:
		return "mx";
	}
	return "?";
}
