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
 *   the issuer, or CRL expired: temporary), "bad-signature", "invalid"
 *   (anything else; detail has OpenSSL's text), "no-certificate".
 * Precedence when several apply: revoked > untrusted > expired >
 * not-yet-valid > bad-signature > crl-unavailable > invalid.
 * temporary = 1 only for "crl-unavailable" (a revocation source that
 * cannot be consulted is never a pass and never a permanent verdict).
 * It also fills printable subject, issuer and validity dates for the report.
 */
#ifndef TV_CERT_H
#define TV_CERT_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

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
};

void	cert_check(SSL_CTX *, X509 *leaf, STACK_OF(X509) *chain,
	    struct cert_result *out);

#endif
