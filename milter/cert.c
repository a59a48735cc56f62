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
 * cert_check_rev() verifies the same way without any CRL flag, and when
 * that finds no error asks revoke_check() (revoke.h) with the verified
 * chain; a revoked leaf is recorded as X509_V_ERR_CERT_REVOKED at depth 0
 * and an unanswered one, under revocation_required, as
 * X509_V_ERR_OCSP_CERT_UNKNOWN ("revocation-unknown"), so the precedence
 * of cert.h applies unchanged.
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
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "text.h"
#include "revoke.h"

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
	CERT_WEAK,
	CERT_CRL_UNAVAILABLE,
	CERT_REV_UNKNOWN,
	CERT_INVALID
};

static const char *cert_words[] = {
	"revoked", "untrusted", "expired", "not-yet-valid", "bad-signature",
	"weak-crypto", "crl-unavailable", "revocation-unknown", "invalid"
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
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return CERT_WEAK;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
		return CERT_CRL_UNAVAILABLE;
	case X509_V_ERR_OCSP_CERT_UNKNOWN:
		return CERT_REV_UNKNOWN;
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
	(void)text_printable(dst, size, dst, strlen(dst), NULL);
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

/* Run X509_verify_cert() with flags, collecting every error into e;
 * the built chain goes to *vchain when vchain is not NULL. */
static int
cert_verify(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain,
    unsigned long flags, struct cert_errors *e, STACK_OF(X509) **vchain)
{
	X509_STORE_CTX	*sctx;
	int		 rc = -1;

	if ((sctx = X509_STORE_CTX_new()) == NULL)
		return -1;
	if (X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), leaf,
	    chain) != 1)
		goto out;
	/* the key sizes and digests the handshake's own security level
	 * accepts (as the MTA's TLS would judge the chain) */
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(sctx),
	    SSL_CTX_get_security_level(ctx));
	X509_STORE_CTX_set_app_data(sctx, e);
	X509_STORE_CTX_set_verify_cb(sctx, cert_verify_cb);
	(void)X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER);
	if (flags != 0)
		X509_STORE_CTX_set_flags(sctx, flags);
	rc = X509_verify_cert(sctx);
	if (vchain != NULL)
		*vchain = X509_STORE_CTX_get1_chain(sctx);
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
	out->temporary = best == CERT_CRL_UNAVAILABLE ||
	    best == CERT_REV_UNKNOWN;
	out->x509_error = e->err[pick];
	(void)snprintf(out->detail, sizeof(out->detail), "%s (error %d at "
	    "depth %d)", X509_verify_cert_error_string(e->err[pick]),
	    e->err[pick], e->depth[pick]);
}

/* Names and dates; 0, or -1 when there is no certificate at all. */
static int
cert_start(X509 *leaf, struct cert_result *out)
{
	memset(out, 0, sizeof(*out));
	out->revocation = "not-checked";
	if (leaf == NULL) {
		out->reason = "no-certificate";
		(void)snprintf(out->detail, sizeof(out->detail),
		    "the server sent no certificate");
		return -1;
	}
	cert_name(X509_get_subject_name(leaf), out->subject,
	    sizeof(out->subject));
	cert_name(X509_get_issuer_name(leaf), out->issuer,
	    sizeof(out->issuer));
	cert_time(X509_get0_notBefore(leaf), out->not_before,
	    sizeof(out->not_before));
	cert_time(X509_get0_notAfter(leaf), out->not_after,
	    sizeof(out->not_after));
	return 0;
}

/* The reason from the recorded errors (none: valid). */
static void
cert_finish(const struct cert_errors *e, struct cert_result *out)
{
	char	tmp[sizeof(out->detail)];

	if (e->n == 0) {
		out->valid = 1;
		out->reason = "valid";
		(void)snprintf(out->detail, sizeof(out->detail), "ok");
		return;
	}
	cert_choose(e, out);
	if (out->x509_error == X509_V_ERR_OCSP_CERT_UNKNOWN ||
	    (out->x509_error == X509_V_ERR_CERT_REVOKED &&
	    out->revocation_detail[0] != '\0')) {
		(void)snprintf(tmp, sizeof(tmp), "%s", out->revocation_detail);
		(void)snprintf(out->detail, sizeof(out->detail), "%s%s",
		    out->x509_error == X509_V_ERR_CERT_REVOKED ?
		    "certificate revoked: " : "revocation status unknown: ",
		    tmp);
	}
}

/* What the CRL-only check of cert_check() said about revocation. */
static void
cert_crl_words(const struct cert_errors *e, struct cert_result *out)
{
	enum cert_class	c;
	int		i, unknown = 0;

	for (i = 0; i < e->n; i++) {
		c = cert_classify(e->err[i]);
		if (c == CERT_REVOKED) {
			out->revocation = "revoked";
			out->revocation_source = "crl";
			return;
		}
		unknown |= c == CERT_CRL_UNAVAILABLE;
	}
	if (unknown)
		out->revocation = "unknown";
	else if (e->n == 0) {
		out->revocation = "good";
		out->revocation_source = "crl";
	}
}

void
cert_check(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain,
    struct cert_result *out)
{
	struct cert_errors	e;
	unsigned long		flags;

	memset(&e, 0, sizeof(e));
	if (cert_start(leaf, out) != 0)
		return;
	flags = X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(ctx)) &
	    (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (cert_verify(ctx, leaf, chain, flags, &e, NULL) != 0) {
		out->reason = "invalid";
		out->x509_error = X509_V_ERR_UNSPECIFIED;
		out->temporary = 1;	/* an internal failure: not judged */
		(void)snprintf(out->detail, sizeof(out->detail),
		    "certificate verification could not run");
		return;
	}
	if (flags != 0)
		cert_crl_words(&e, out);
	cert_finish(&e, out);
}

/* Ask revoke_check() about a chain that verified; note its answer. */
static void
cert_revocation(SSL_CTX *ctx, STACK_OF(X509) *vchain, STACK_OF(X509) *chain,
    const struct cert_revopts *ro, struct cert_errors *e,
    struct cert_result *out)
{
	struct revoke_opts	o;
	struct revoke_result	r;

	memset(&o, 0, sizeof(o));
	o.mode = ro->conf->revocation;
	o.http_timeout = ro->conf->http_timeout;
	o.max_crl_size = ro->conf->max_crl_size;
	o.dl = ro->dl;
	o.staple = ro->staple;
	o.staple_len = ro->staple_len;
	o.trace = ro->trace;
	revoke_check(SSL_CTX_get_cert_store(ctx), vchain, chain, &o, &r);
	out->revocation = revoke_status_str(r.status);
	out->revocation_source = r.source;
	(void)snprintf(out->revocation_detail,
	    sizeof(out->revocation_detail), "%s", r.detail);
	if (r.status == REVOKE_REVOKED)
		e->err[e->n++] = X509_V_ERR_CERT_REVOKED;
	else if (r.status == REVOKE_UNKNOWN && ro->conf->revocation_required)
		e->err[e->n++] = X509_V_ERR_OCSP_CERT_UNKNOWN;
}

void
cert_check_rev(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain,
    const struct cert_revopts *ro, struct cert_result *out)
{
	struct cert_errors	 e;
	STACK_OF(X509)		*vchain = NULL;

	if (ro == NULL || ro->conf == NULL ||
	    ro->conf->revocation == REVOCATION_AUTO) {
		cert_check(ctx, leaf, chain, out);
		return;
	}
	memset(&e, 0, sizeof(e));
	if (cert_start(leaf, out) != 0)
		return;
	if (cert_verify(ctx, leaf, chain, 0, &e, &vchain) != 0) {
		out->reason = "invalid";
		out->x509_error = X509_V_ERR_UNSPECIFIED;
		out->temporary = 1;	/* an internal failure: not judged */
		(void)snprintf(out->detail, sizeof(out->detail),
		    "certificate verification could not run");
	} else {
		if (e.n == 0 && ro->conf->revocation != REVOCATION_NONE)
			cert_revocation(ctx, vchain, chain, ro, &e, out);
		cert_finish(&e, out);
	}
	sk_X509_pop_free(vchain, X509_free);
}

void
cert_spki_sha256(X509 *leaf, char out[CERT_FPRLEN])
{
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned	 mdlen = 0, i;
	int		 len;

	out[0] = '\0';
	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der)) <= 0)
		return;
	if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1)
		for (i = 0; i < mdlen && 3 * i + 3 <= CERT_FPRLEN; i++)
			(void)snprintf(out + 3 * i, 4, "%02X%s", md[i],
			    i + 1 < mdlen ? ":" : "");
	OPENSSL_free(der);
}
