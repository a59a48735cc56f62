/*
 * ident.h - Phase II: server identity (SPEC section 4).
 *
 * ident_extract() takes the presented identifiers from a leaf certificate:
 * every subjectAltName dNSName (DNS-ID) and every subject Common Name
 * (CN-ID). Each name's length comes from its ASN.1 string; a name with a NUL
 * byte, a byte outside the host-name alphabet (letters, digits, '-', '.',
 * '_' and a whole left-most '*'), or longer than NAME_MAXLEN is not used: it
 * is counted in n_rejected_* and listed in rejected[] for the report
 * (printable, cut). Names are stored lower-cased, one trailing dot removed.
 * At most IDENT_MAXNAMES of each kind are kept. Returns 0, or -1 when the
 * certificate cannot be read at all. ident_presented_free() frees it.
 * Details (ident.c): a name must also pass ident_name_valid() (no empty
 * label, labels <= 63 bytes); a CN must convert to UTF-8, and a CN in
 * U-labels is kept as its A-label (libidn2; SPEC 4: compared as
 * A-labels; a left-most "*" label is kept as it is), refused when it does
 * not convert; a dNSName with a byte >= 0x80 is refused (an IA5String
 * holds A-labels, RFC 5280 4.2.1.6). Valid names beyond IDENT_MAXNAMES
 * are counted in n_rejected_* too. rejected[] holds at most
 * IDENT_MAXREJECT entries (n_rejected of them), each escaped (\xHH for
 * bytes outside '!'..'~' and for '\') and cut to about 100 bytes
 * ("..." appended); the counters count all. A subjectAltName extension
 * that is present but cannot be decoded, or is present twice, makes the
 * certificate unreadable (-1).
 *
 * ident_match(presented, reference) is the SPEC 4 matcher: exact (ASCII
 * case-insensitive, one trailing dot ignored on either side) or a wildcard
 * that is the whole left-most label and stands for exactly one label; never
 * partial wildcards ("mx*.example.com"), wildcards elsewhere, wildcards over
 * a single remaining label ("*.com"), names with invalid bytes, or an IP
 * address on either side. Returns 1 match, 0 no match.
 *
 * ident_check() applies a procedure to presented identifiers and a list of
 * reference identifiers (each tagged with its source):
 *  IDENT_VERIFY: DNS-IDs against references of source REF_DOMAIN only;
 *    if none matched, CN-IDs against REF_DOMAIN then REF_PTR references.
 *  IDENT_HOSTED: DNS-IDs when there is at least one (CN ignored), else the
 *    CN-IDs; against every reference of source REF_DOMAIN, REF_ROUTE and
 *    REF_MX, in the order given.
 *  References of sources the procedure does not accept are never compared.
 * It records every comparison made (at most IDENT_MAXCMP; n_cmp_total
 * counts all) and the first match. Returns 1 when a match was found, else 0.
 * Order (deterministic): references are the outer loop, in the order given
 * (IDENT_VERIFY's CN step: every REF_DOMAIN one, then every REF_PTR one);
 * for each, the presented names in certificate order. The first match ends
 * the check, so "match" is the first reference any name matches.
 * IDENT_HOSTED falls back to CN-IDs only when the certificate has no
 * dNSName at all (n_dns == 0 and n_rejected_dns == 0): a certificate whose
 * dNSNames were all rejected does not get its CN used instead.
 * used_cn is 1 when CN-IDs were compared (there was at least one).
 *
 * ident_name_valid(s, len, wildcard) (ident_match.c): 1 when s[0..len) is
 * a name this module uses: one trailing dot allowed; then 1..NAME_MAXLEN
 * bytes of labels of 1..63 letters, digits, '-', '_'; with wildcard set,
 * the left-most label may be exactly "*". 0 otherwise (NUL included).
 */
#ifndef TV_IDENT_H
#define TV_IDENT_H

#include <stddef.h>
#include <openssl/x509.h>
#include "name.h"

#define IDENT_MAXNAMES	256
#define IDENT_MAXCMP	64
#define IDENT_MAXREJECT	32	/* entries kept in presented.rejected[] */

enum ident_type { IDENT_DNSNAME = 0, IDENT_CN };
enum ident_mode { IDENT_VERIFY = 0, IDENT_HOSTED };
enum ref_source { REF_DOMAIN = 0, REF_PTR, REF_ROUTE, REF_MX };

struct presented {
	char	**dns;		/* DNS-IDs */
	size_t	  n_dns;
	char	**cn;		/* CN-IDs */
	size_t	  n_cn;
	size_t	  n_rejected_dns;
	size_t	  n_rejected_cn;
	char	**rejected;	/* printable copies for the report */
	size_t	  n_rejected;
};

struct refid {
	const char	*name;	/* A-label, lower case, no trailing dot */
	enum ref_source	 source;
};

struct ident_cmp {
	enum ident_type	 type;
	char		 presented[NAME_BUFLEN];
	char		 reference[NAME_BUFLEN];
	enum ref_source	 source;
	int		 matched;
};

struct ident_result {
	int		 matched;
	struct ident_cmp match;		/* valid when matched */
	struct ident_cmp cmp[IDENT_MAXCMP];
	size_t		 n_cmp;
	size_t		 n_cmp_total;
	int		 used_cn;	/* the procedure fell back to CN-IDs */
};

int	ident_extract(X509 *, struct presented *out);
void	ident_presented_free(struct presented *);
int	ident_match(const char *presented, const char *reference);
int	ident_check(const struct presented *, const struct refid *refs,
	    size_t nrefs, enum ident_mode, struct ident_result *out);
int	ident_name_valid(const char *s, size_t len, int wildcard);
const char *ident_type_str(enum ident_type);	/* "dNSName", "CN" */
const char *ident_source_str(enum ref_source);	/* "domain","ptr","route","mx" */

#endif
