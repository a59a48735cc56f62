/*
 * cert.c - Phase I: certificate chain validation (see cert.h).
 *
 * cert_check(ctx, leaf, chain, out) runs X509_verify_cert() itself on the
 * SSL_CTX's trust store (SSL_CTX_get_cert_store: anchors, CRLs and the
 * store's flags from tlsctx.c) with purpose "SSL server", leaf as the
 * target and the peer's chain as untrusted intermediates. A verify
 * callback records every error (up to CERT_MAXERR, with its depth) and
 * lets the verification go on, so an expired AND untrusted certificate is
 * reported as "untrusted", whatever error OpenSSL happened to see last
 * (SSL_get_verify_result() keeps only that one). The reason word follows
 * the precedence in cert.h.
 *
 * out->subject and out->issuer are X509_NAME_print_ex() one-line forms,
 * printable ASCII (non-ASCII escaped by OpenSSL, anything else '?'), cut
 * to fit; the dates are "YYYY-MM-DD HH:MM:SSZ". Nothing is allocated in
 * out; the store is only read, so cert_check() may run in many threads.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cert.h"

#define CERT_MAXERR	32

struct cert_errors {
	int	n;
	int	err[CERT_MAXERR];
	int	depth[CERT_MAXERR];
};

/* Reason words, best (most significant) first: the precedence of cert.h. */
enum cert_class {
	CERT_REVOKED = 0,
	CERT_UNTRUSTED,
	CERT_EXPIRED,
	CERT_NOT_YET_VALID,
	CERT_BAD_SIGNATURE,
	CERT_CRL_UNAVAILABLE,
	CERT_INVALID
};

static const char *cert_words[] = {
	"revoked", "untrusted", "expired", "not-yet-valid", "bad-signature",
	"crl-unavailable", "invalid"
};

static enum cert_class
cert_classify(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_REVOKED:
		return CERT_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
	case X509_V_ERR_INVALID_CA:
		return CERT_UNTRUSTED;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return CERT_NOT_YET_VALID;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
		return CERT_BAD_SIGNATURE;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
		return CERT_CRL_UNAVAILABLE;
	default:
		return CERT_INVALID;
	}
}

/* The verify callback: note the error, go on verifying. */
static int
cert_verify_cb(int ok, X509_STORE_CTX *sctx)
{
	struct cert_errors *e = X509_STORE_CTX_get_app_data(sctx);
	int		    err = X509_STORE_CTX_get_error(sctx);

	if (!ok && e != NULL && err != X509_V_OK && e->n < CERT_MAXERR) {
		e->err[e->n] = err;
		e->depth[e->n] = X509_STORE_CTX_get_error_depth(sctx);
		e->n++;
	}
	return 1;
}

/* Replace every byte outside printable ASCII. */
static void
cert_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static void
cert_name(const X509_NAME *name, char *dst, size_t size)
{
	BIO	*mem;
	int	 n;

	dst[0] = '\0';
	if (name == NULL || (mem = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(mem, name, 0, XN_FLAG_ONELINE) >= 0 &&
	    (n = BIO_read(mem, dst, (int)size - 1)) > 0)
		dst[n] = '\0';
	BIO_free(mem);
	dst[strnlen(dst, size - 1)] = '\0';	/* stop at an embedded NUL */
	cert_printable(dst);
}

static void
cert_time(const ASN1_TIME *t, char *dst, size_t size)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(dst, size, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		(void)snprintf(dst, size, "?");
}

/* Run X509_verify_cert(), collecting every error into e. */
static int
cert_verify(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain,
    struct cert_errors *e)
{
	X509_STORE_CTX	*sctx;
	int		 rc = -1;

	if ((sctx = X509_STORE_CTX_new()) == NULL)
		return -1;
	if (X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), leaf,
	    chain) != 1)
		goto out;
	X509_STORE_CTX_set_app_data(sctx, e);
	X509_STORE_CTX_set_verify_cb(sctx, cert_verify_cb);
	(void)X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER);
	rc = X509_verify_cert(sctx);
	if (rc != 1 && e->n == 0) {
		e->err[0] = X509_STORE_CTX_get_error(sctx);
		e->depth[0] = X509_STORE_CTX_get_error_depth(sctx);
		if (e->err[0] == X509_V_OK)
			e->err[0] = X509_V_ERR_UNSPECIFIED;
		e->n = 1;
	}
out:
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return rc == 1 ? 0 : (e->n > 0 ? 0 : -1);
}

/* Pick the most significant recorded error and describe it. */
static void
cert_choose(const struct cert_errors *e, struct cert_result *out)
{
	enum cert_class	best = CERT_INVALID, c;
	int		i, pick = 0;

	for (i = 0; i < e->n; i++) {
		c = cert_classify(e->err[i]);
		if (i == 0 || c < best) {
			best = c;
			pick = i;
		}
	}
	out->reason = cert_words[best];
	out->temporary = best == CERT_CRL_UNAVAILABLE;
	out->x509_error = e->err[pick];
	(void)snprintf(out->detail, sizeof(out->detail), "%s (error %d at "
	    "depth %d)", X509_verify_cert_error_string(e->err[pick]),
	    e->err[pick], e->depth[pick]);
}

void
cert_check(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain,
    struct cert_result *out)
{
	struct cert_errors	e;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	if (leaf == NULL) {
		out->reason = "no-certificate";
		(void)snprintf(out->detail, sizeof(out->detail),
		    "the server sent no certificate");
		return;
	}
	cert_name(X509_get_subject_name(leaf), out->subject,
	    sizeof(out->subject));
	cert_name(X509_get_issuer_name(leaf), out->issuer,
	    sizeof(out->issuer));
	cert_time(X509_get0_notBefore(leaf), out->not_before,
	    sizeof(out->not_before));
	cert_time(X509_get0_notAfter(leaf), out->not_after,
	    sizeof(out->not_after));
	if (cert_verify(ctx, leaf, chain, &e) != 0) {
		out->reason = "invalid";
		out->x509_error = X509_V_ERR_UNSPECIFIED;
		(void)snprintf(out->detail, sizeof(out->detail),
		    "certificate verification could not run");
		return;
	}
	if (e.n == 0) {
		out->valid = 1;
		out->reason = "valid";
		(void)snprintf(out->detail, sizeof(out->detail), "ok");
		return;
	}
	cert_choose(&e, out);
}
