/*
 * revoke_crl.c - CRL revocation check of a verified leaf (see revoke.h).
 *
 * revoke_crl(store, vchain, peer, opts, why, whylen) takes the leaf's CRL
 * distribution points (fullName URIs; at most REVOKE_MAX_URLS "http://"
 * URLs, each at most REVOKE_MAX_URLLEN bytes, no NUL or non-printable
 * byte; others are counted and skipped), fetches the first one that gives
 * a DER CRL (or takes it from the cache), and runs X509_verify_cert() on
 * the leaf again with X509_V_FLAG_CRL_CHECK, the fetched CRL added with
 * X509_STORE_CTX_set0_crls() beside the store's own CRLs (crl_file,
 * crl_path). OpenSSL checks the CRL's issuer, signature, validity and
 * scope. Since the caller's first verification had no error, any error of
 * this one comes from the CRL check: "certificate revoked" is REVOKED,
 * none is GOOD, anything else (no CRL for the issuer, CRL expired, bad CRL
 * signature) is UNKNOWN, and a fetched CRL that did not give a definite
 * answer is dropped from the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "revoke.h"
#include "revoke_int.h"
#include "xalloc.h"

struct revoke_crl_errs {
	int	n;
	int	first;
	int	revoked;
};

typedef char revoke_url_t[REVOKE_MAX_URLLEN + 1];

static int
revoke_crl_cb(int ok, X509_STORE_CTX *sctx)
{
	struct revoke_crl_errs	*e = X509_STORE_CTX_get_app_data(sctx);
	int			 err = X509_STORE_CTX_get_error(sctx);

	if (!ok && e != NULL && err != X509_V_OK) {
		if (e->n++ == 0)
			e->first = err;
		if (err == X509_V_ERR_CERT_REVOKED &&
		    X509_STORE_CTX_get_error_depth(sctx) == 0)
			e->revoked = 1;
	}
	return 1;
}

/* One GENERAL_NAME: copy an acceptable URI into url. 1 ok, 0 skipped. */
static int
revoke_cdp_uri(const GENERAL_NAME *gn, revoke_url_t url)
{
	const unsigned char	*d;
	int			 len;

	if (gn->type != GEN_URI)
		return 0;
	d = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
	len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	if (d == NULL || len <= 0 || len > REVOKE_MAX_URLLEN)
		return 0;
	memcpy(url, d, (size_t)len);
	url[len] = '\0';
	return revoke_url_ok(url, (size_t)len);
}

/* The leaf's usable CDP URLs; *skipped counts the others. */
static int
revoke_cdp_urls(X509 *leaf, revoke_url_t *urls, int *skipped)
{
	STACK_OF(DIST_POINT)	*dps;
	DIST_POINT		*dp;
	GENERAL_NAMES		*names;
	int			 i, j, n = 0;

	*skipped = 0;
	dps = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
		dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0) {
			(*skipped)++;
			continue;
		}
		names = dp->distpoint->name.fullname;
		for (j = 0; j < sk_GENERAL_NAME_num(names); j++) {
			if (n < REVOKE_MAX_URLS && revoke_cdp_uri(
			    sk_GENERAL_NAME_value(names, j), urls[n]))
				n++;
			else
				(*skipped)++;
		}
	}
	CRL_DIST_POINTS_free(dps);
	ERR_clear_error();
	return n;
}

/* The CRL at url, from the cache or fetched (then cached). */
static X509_CRL *
revoke_crl_fetch(const char *url, const struct revoke_opts *o,
    char *why, size_t whylen)
{
	X509_CRL	*crl;
	BIO		*body = NULL;
	char		*key = xasprintf("crl %s", url);
	size_t		 max = o->max_crl_size ? o->max_crl_size :
			    REVOKE_DEFAULT_MAXCRL;

	if ((crl = revoke_cache_get_crl(key)) != NULL) {
		trace_add(o->trace, "revocation: CRL %.200s: from the cache",
		    url);
		goto out;
	}
	if (revoke_http(url, NULL, NULL, max, o, &body, why, whylen) != 0)
		goto out;
	if ((crl = d2i_X509_CRL_bio(body, NULL)) == NULL) {
		(void)snprintf(why, whylen, "%.120s: not a DER CRL", url);
		goto out;
	}
	trace_add(o->trace, "revocation: CRL %.200s: fetched, %d entries",
	    url, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
	revoke_cache_put_crl(key, crl, revoke_time(
	    X509_CRL_get0_nextUpdate(crl)));
out:
	if (crl == NULL)
		trace_add(o->trace, "revocation: CRL %.200s: %s", url, why);
	BIO_free(body);
	free(key);
	ERR_clear_error();
	return crl;
}

/* X509_verify_cert() with CRL checking of the leaf. */
static enum revoke_status
revoke_crl_verify(X509_STORE *store, X509 *leaf, STACK_OF(X509) *peer,
    STACK_OF(X509_CRL) *crls, char *why, size_t whylen)
{
	struct revoke_crl_errs	 e;
	X509_STORE_CTX		*sctx;
	enum revoke_status	 st = REVOKE_UNKNOWN;

	memset(&e, 0, sizeof(e));
	if ((sctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(sctx, store, leaf, peer) != 1) {
		(void)snprintf(why, whylen, "CRL check could not run");
		goto out;
	}
	X509_STORE_CTX_set0_crls(sctx, crls);
	X509_STORE_CTX_set_flags(sctx, X509_V_FLAG_CRL_CHECK);
	X509_STORE_CTX_set_app_data(sctx, &e);
	X509_STORE_CTX_set_verify_cb(sctx, revoke_crl_cb);
	(void)X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(sctx) != 1 && e.n == 0) {
		e.n = 1;
		e.first = X509_STORE_CTX_get_error(sctx);
	}
	if (e.revoked)
		st = REVOKE_REVOKED;
	else if (e.n == 0)
		st = REVOKE_GOOD;
	else
		(void)snprintf(why, whylen, "%s",
		    X509_verify_cert_error_string(e.first));
out:
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return st;
}

enum revoke_status
revoke_crl(X509_STORE *store, STACK_OF(X509) *vchain, STACK_OF(X509) *peer,
    const struct revoke_opts *o, char *why, size_t whylen)
{
	revoke_url_t		 urls[REVOKE_MAX_URLS];
	STACK_OF(X509_CRL)	*crls = sk_X509_CRL_new_null();
	X509			*leaf = sk_X509_value(vchain, 0);
	X509_CRL		*crl = NULL;
	enum revoke_status	 st;
	char			 fwhy[200] = "", vwhy[200] = "", *key;
	int			 i, n, skipped;

	n = revoke_cdp_urls(leaf, urls, &skipped);
	if (n == 0)
		(void)snprintf(fwhy, sizeof(fwhy), "no http:// CRL "
		    "distribution point%s", skipped ? " (others skipped)" : "");
	for (i = 0; i < n && crl == NULL; i++)
		crl = revoke_crl_fetch(urls[i], o, fwhy, sizeof(fwhy));
	if (crl != NULL && (crls == NULL || !sk_X509_CRL_push(crls, crl)))
		X509_CRL_free(crl);
	st = revoke_crl_verify(store, leaf, peer, crls, vwhy, sizeof(vwhy));
	if (st == REVOKE_UNKNOWN && crl != NULL && i > 0) {
		key = xasprintf("crl %s", urls[i - 1]);
		revoke_cache_drop(key);
		free(key);
	}
	if (st == REVOKE_UNKNOWN)
		(void)snprintf(why, whylen, "CRL: %s%s%s", vwhy,
		    fwhy[0] ? "; " : "", fwhy);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return st;
}
