/*
 * cert.h - Phase I: certificate chain validation (SPEC section 3).
 *
 * cert_check() verifies leaf + the peer's chain against the trust store of
 * the SSL_CTX (X509_verify_cert with the store's flags: validity period,
 * complete chain to a trust anchor, CRLs when configured), collecting every
 * error, not only the last. The result names the most significant one with
 * a short reason word used in reports and JSON:
 *   "valid", "expired", "not-yet-valid", "untrusted" (unknown issuer,
 *   self-signed, incomplete chain), "revoked", "crl-unavailable" (no CRL for
 *   the issuer, or CRL expired: temporary), "bad-signature",
 *   "weak-crypto" (a key or signature digest below the SSL_CTX's security
 *   level, which the chain is verified at, as the MTA's TLS would), "invalid"
 *   (anything else; detail has OpenSSL's text; temporary when verification
 *   could not run at all), "no-certificate".
 *   "revocation-unknown" (cert_check_rev() only: revocation_required and
 *   no source gave an answer: temporary).
 * Precedence when several apply: revoked > untrusted > expired >
 * not-yet-valid > bad-signature > weak-crypto > crl-unavailable =
 * revocation-unknown > invalid.
 * temporary = 1 only for "crl-unavailable" and "revocation-unknown" (a
 * revocation source that cannot be consulted is never a pass and never a
 * permanent verdict).
 * It also fills printable subject, issuer and validity dates for the report.
 *
 * cert_check() checks revocation as the SSL_CTX's verify parameters say
 * (tlsctx.c sets X509_V_FLAG_CRL_CHECK there when crl_file/crl_path are
 * set and [probe] revocation is crl, any or unset): the store's CRLs only,
 * and a missing or expired CRL is "crl-unavailable".
 *
 * cert_check_rev() is what the engine uses: revocation as configured
 * (conf->revocation, revocation_required, http_timeout, max_crl_size;
 * see revoke.h). The chain is verified first without revocation; only a
 * chain without any error is checked for revocation (so no URL of an
 * untrusted certificate is ever fetched). revoked: reason "revoked". No
 * answer: with revocation_required "revocation-unknown" (temporary),
 * without it the certificate stays valid and revocation says "unknown".
 * With conf->revocation REVOCATION_AUTO (a struct conf not made by
 * conf_load()) or a NULL opts it is cert_check().
 *
 * revocation is "good", "revoked", "unknown" or "not-checked" (mode none,
 * or the chain already failed), revocation_source "crl", "ocsp",
 * "ocsp-stapled" or NULL; revocation_detail says what was consulted.
 */
#ifndef TV_CERT_H
#define TV_CERT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "conf.h"
#include "deadline.h"
#include "trace.h"

struct cert_result {
	int		valid;
	int		temporary;
	const char	*reason;	/* static string, see above */
	long		x509_error;	/* the error chosen, 0 when valid */
	char		detail[256];	/* OpenSSL's text for it, with depth */
	char		subject[256];
	char		issuer[256];
	char		not_before[32];	/* "2026-11-29 16:14:06Z" */
	char		not_after[32];
	const char	*revocation;		/* static string, see above */
	const char	*revocation_source;	/* static string or NULL */
	char		revocation_detail[256];
};

/* What cert_check_rev() needs besides the chain. */
struct cert_revopts {
	const struct conf	*conf;
	const struct deadline	*dl;		/* the probe's deadline */
	const unsigned char	*staple;	/* stapled OCSP response (DER) */
	size_t			 staple_len;
	struct trace		*trace;		/* may be NULL */
};

/* The SHA-256 digest of leaf's DER subjectPublicKeyInfo as Postfix
 * prints fingerprints ("AB:CD:...", CERT_FPRLEN bytes with the NUL);
 * "" when it cannot be computed. */
#define CERT_FPRLEN	96
void	cert_spki_sha256(X509 *leaf, char out[CERT_FPRLEN]);

void	cert_check(SSL_CTX *, X509 *leaf, STACK_OF(X509) *chain,
	    struct cert_result *out);
void	cert_check_rev(SSL_CTX *, X509 *leaf, STACK_OF(X509) *chain,
	    const struct cert_revopts *, struct cert_result *out);

#endif
