/*
 * revoke.c - revocation status of a verified leaf: the order of the
 * sources and OCSP (see revoke.h; CRLs in revoke_crl.c, HTTP and the
 * cache in revoke_fetch.c).
 *
 * revoke_check() asks OCSP (modes ocsp, any) and then CRLs (modes crl,
 * any) and stops at the first definite answer. OCSP for the leaf, whose
 * issuer is vchain[1] (no issuer: unknown):
 *   1. the stapled response, when the server sent one;
 *   2. a cached answer (key "ocsp " + hex DER of the SHA-1 cert id);
 *   3. each "http://" URL of the leaf's AIA OCSP entries (at most
 *      REVOKE_MAX_URLS): a POST of a one-certificate request without a
 *      nonce (RFC 5019: responders commonly serve pre-signed responses),
 *      response at most REVOKE_OCSP_MAX bytes.
 * A response is judged by revoke_ocsp_judge(): successful, a basic
 * response whose signature verifies (OCSP_basic_verify, flags 0: the
 * signer must chain to the store and be the issuer or its delegated
 * OCSP signer), an entry for the cert id, thisUpdate/nextUpdate current
 * within REVOKE_SKEW seconds. Definite answers (good, revoked) with a
 * nextUpdate are cached until then.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "revoke.h"
#include "revoke_int.h"
#include "xalloc.h"

const char *
revoke_status_str(enum revoke_status st)
{
	switch (st) {
	case REVOKE_GOOD:	return "good";
	case REVOKE_REVOKED:	return "revoked";
	default:		return "unknown";
	}
}

const char *
revoke_mode_str(enum revocation m)
{
	switch (m) {
	case REVOCATION_CRL:	return "crl";
	case REVOCATION_OCSP:	return "ocsp";
	case REVOCATION_ANY:	return "any";
	case REVOCATION_NONE:	return "none";
	default:		return "auto";
	}
}

/* Why OCSP_basic_verify() failed, from OpenSSL's error queue. */
static void
revoke_ossl_why(char *why, size_t whylen, const char *what)
{
	unsigned long	e = ERR_peek_last_error();
	const char	*r = e != 0 ? ERR_reason_error_string(e) : NULL;

	(void)snprintf(why, whylen, "%s%s%s", what, r ? ": " : "",
	    r ? r : "");
	ERR_clear_error();
}

/* The status words of one OCSP response for id. *until: nextUpdate. */
static enum revoke_status
revoke_ocsp_judge(OCSP_RESPONSE *resp, OCSP_CERTID *id, X509_STORE *store,
    STACK_OF(X509) *helpers, time_t *until, char *why, size_t whylen)
{
	OCSP_BASICRESP		*bs = NULL;
	ASN1_GENERALIZEDTIME	*thisupd = NULL, *nextupd = NULL, *rev;
	enum revoke_status	 st = REVOKE_UNKNOWN;
	int			 rc, status, reason;

	*until = 0;
	if ((rc = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL)
		(void)snprintf(why, whylen, "responder status %s",
		    OCSP_response_status_str(rc));
	else if ((bs = OCSP_response_get1_basic(resp)) == NULL)
		(void)snprintf(why, whylen, "not a basic OCSP response");
	else if (OCSP_basic_verify(bs, helpers, store, 0) <= 0)
		revoke_ossl_why(why, whylen, "signature not verified");
	else if (OCSP_resp_find_status(bs, id, &status, &reason, &rev,
	    &thisupd, &nextupd) != 1)
		(void)snprintf(why, whylen, "no answer for this certificate");
	else if (OCSP_check_validity(thisupd, nextupd, REVOKE_SKEW,
	    nextupd == NULL ? REVOKE_MAXAGE : -1) != 1)
		(void)snprintf(why, whylen, "response not current "
		    "(thisUpdate/nextUpdate)");
	else if (status == V_OCSP_CERTSTATUS_GOOD) {
		st = REVOKE_GOOD;
		(void)snprintf(why, whylen, "good");
	} else if (status == V_OCSP_CERTSTATUS_REVOKED) {
		st = REVOKE_REVOKED;
		(void)snprintf(why, whylen, "revoked (reason %s)",
		    reason >= 0 ? OCSP_crl_reason_str(reason) : "not given");
	} else
		(void)snprintf(why, whylen, "the responder does not know "
		    "the certificate");
	if (st != REVOKE_UNKNOWN && nextupd != NULL)
		*until = revoke_time(nextupd);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return st;
}

/* "ocsp " + hex of the DER cert id: the cache key (caller frees). */
static char *
revoke_ocsp_key(OCSP_CERTID *id)
{
	unsigned char	*der = NULL;
	char		*key;
	int		 len, i;

	if ((len = i2d_OCSP_CERTID(id, &der)) <= 0)
		return NULL;
	key = xmalloc(6 + (size_t)len * 2);
	memcpy(key, "ocsp ", 5);
	for (i = 0; i < len; i++)
		(void)snprintf(key + 5 + i * 2, 3, "%02x", der[i]);
	OPENSSL_free(der);
	return key;
}

/* One POST to one responder URL. */
static enum revoke_status
revoke_ocsp_ask(const char *url, OCSP_CERTID *id, X509_STORE *store,
    STACK_OF(X509) *helpers, const struct revoke_opts *o, time_t *until,
    char *why, size_t whylen)
{
	OCSP_REQUEST		*req = OCSP_REQUEST_new();
	OCSP_CERTID		*rid = OCSP_CERTID_dup(id);
	OCSP_RESPONSE		*resp = NULL;
	BIO			*rb = NULL, *body = NULL;
	enum revoke_status	 st = REVOKE_UNKNOWN;

	if (req == NULL || rid == NULL || OCSP_request_add0_id(req,
	    rid) == NULL) {
		OCSP_CERTID_free(rid);
		(void)snprintf(why, whylen, "cannot build an OCSP request");
		goto out;
	}
	rb = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST),
	    (ASN1_VALUE *)req);
	if (rb == NULL)
		(void)snprintf(why, whylen, "cannot encode the OCSP request");
	else if (revoke_http(url, "application/ocsp-request", rb,
	    REVOKE_OCSP_MAX, o, &body, why, whylen) != 0)
		;
	else if ((resp = d2i_OCSP_RESPONSE_bio(body, NULL)) == NULL)
		(void)snprintf(why, whylen, "%.120s: not an OCSP response",
		    url);
	else
		st = revoke_ocsp_judge(resp, id, store, helpers, until, why,
		    whylen);
	trace_add(o->trace, "revocation: OCSP responder %.200s: %s", url, why);
out:
	OCSP_REQUEST_free(req);
	OCSP_RESPONSE_free(resp);
	BIO_free(rb);
	BIO_free(body);
	ERR_clear_error();
	return st;
}

/* The leaf's AIA responders, in order, until one answers. */
static enum revoke_status
revoke_ocsp_query(X509 *leaf, OCSP_CERTID *id, X509_STORE *store,
    STACK_OF(X509) *helpers, const struct revoke_opts *o, time_t *until,
    char *why, size_t whylen)
{
	STACK_OF(OPENSSL_STRING) *aia = X509_get1_ocsp(leaf);
	enum revoke_status	 st = REVOKE_UNKNOWN;
	const char		*url;
	int			 i, tried = 0;

	(void)snprintf(why, whylen, "no http:// OCSP responder in the "
	    "certificate");
	for (i = 0; i < sk_OPENSSL_STRING_num(aia) && tried <
	    REVOKE_MAX_URLS && st == REVOKE_UNKNOWN; i++) {
		url = sk_OPENSSL_STRING_value(aia, i);
		if (!revoke_url_ok(url, strlen(url)))
			continue;
		tried++;
		st = revoke_ocsp_ask(url, id, store, helpers, o, until, why,
		    whylen);
	}
	X509_email_free(aia);
	return st;
}

/* A stapled response, the cache, then the responders. */
static enum revoke_status
revoke_ocsp(X509_STORE *store, STACK_OF(X509) *vchain, STACK_OF(X509) *peer,
    const struct revoke_opts *o, const char **source, char *why,
    size_t whylen)
{
	const unsigned char	*p = o->staple;
	OCSP_RESPONSE		*resp;
	OCSP_CERTID		*id = NULL;
	STACK_OF(X509)		*helpers = NULL;
	enum revoke_status	 st = REVOKE_UNKNOWN;
	time_t			 until = 0;
	char			*key = NULL;
	int			 i;

	if (sk_X509_num(vchain) < 2 || (id = OCSP_cert_to_id(NULL,
	    sk_X509_value(vchain, 0), sk_X509_value(vchain, 1))) == NULL ||
	    (key = revoke_ocsp_key(id)) == NULL ||
	    (helpers = sk_X509_dup(vchain)) == NULL) {
		(void)snprintf(why, whylen, "no issuer certificate");
		goto out;
	}
	for (i = 0; peer != NULL && i < sk_X509_num(peer); i++)
		(void)sk_X509_push(helpers, sk_X509_value(peer, i));
	if (p != NULL && o->staple_len > 0 && o->staple_len <= LONG_MAX &&
	    (resp = d2i_OCSP_RESPONSE(NULL, &p, (long)o->staple_len)) !=
	    NULL) {
		st = revoke_ocsp_judge(resp, id, store, helpers, &until, why,
		    whylen);
		OCSP_RESPONSE_free(resp);
		*source = "ocsp-stapled";
		trace_add(o->trace, "revocation: stapled OCSP response: %s",
		    why);
	} else if (p != NULL)
		trace_add(o->trace, "revocation: stapled OCSP response: not "
		    "DER, ignored");
	if (st == REVOKE_UNKNOWN && revoke_cache_get_status(key, &st, why,
	    whylen)) {
		*source = "ocsp";
		trace_add(o->trace, "revocation: OCSP: from the cache: %s", why);
		goto out;
	}
	if (st == REVOKE_UNKNOWN) {
		st = revoke_ocsp_query(sk_X509_value(vchain, 0), id, store,
		    helpers, o, &until, why, whylen);
		*source = "ocsp";
	}
	revoke_cache_put_status(key, st, why, until);
out:
	if (st == REVOKE_UNKNOWN)
		*source = NULL;
	OCSP_CERTID_free(id);
	sk_X509_free(helpers);
	free(key);
	ERR_clear_error();
	return st;
}

void
revoke_check(X509_STORE *store, STACK_OF(X509) *vchain, STACK_OF(X509) *peer,
    const struct revoke_opts *o, struct revoke_result *res)
{
	char	owhy[200] = "", cwhy[200] = "";
	int	ocsp = o->mode == REVOCATION_OCSP || o->mode == REVOCATION_ANY;
	int	crl = o->mode == REVOCATION_CRL || o->mode == REVOCATION_ANY;

	memset(res, 0, sizeof(*res));
	res->status = REVOKE_UNKNOWN;
	if (vchain == NULL || sk_X509_num(vchain) < 1) {
		(void)snprintf(res->detail, sizeof(res->detail),
		    "no verified chain");
		return;
	}
	if (ocsp)
		res->status = revoke_ocsp(store, vchain, peer, o,
		    &res->source, owhy, sizeof(owhy));
	if (res->status == REVOKE_UNKNOWN && crl) {
		res->status = revoke_crl(store, vchain, peer, o, cwhy,
		    sizeof(cwhy));
		res->source = res->status != REVOKE_UNKNOWN ? "crl" : NULL;
	}
	if (res->status == REVOKE_UNKNOWN)
		(void)snprintf(res->detail, sizeof(res->detail), "%s%s%s%s",
		    ocsp ? "OCSP: " : "", owhy, ocsp && crl ? "; " : "", cwhy);
	else if (res->source != NULL && strcmp(res->source, "crl") == 0)
		(void)snprintf(res->detail, sizeof(res->detail), "%s the "
		    "issuer's CRL", res->status == REVOKE_GOOD ?
		    "not listed on" : "listed on");
	else
		(void)snprintf(res->detail, sizeof(res->detail), "%s says %s",
		    res->source != NULL && strcmp(res->source,
		    "ocsp-stapled") == 0 ? "the stapled OCSP response" :
		    "the OCSP responder", owhy);
	trace_add(o->trace, "revocation (%s): %s: %s", revoke_mode_str(o->mode),
	    revoke_status_str(res->status), res->detail);
}
