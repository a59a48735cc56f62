/*
 * revoke_int.h - internals shared by revoke.c, revoke_crl.c and
 * revoke_fetch.c; not an API (see revoke.h).
 *
 * revoke_http() fetches one http:// URL (GET when req is NULL, else POST
 * of req with content type ctype); the DER body (at most max bytes) comes
 * back in *out, a memory BIO the caller frees. 0 or -1 with err.
 * revoke_url_ok() accepts an "http://" URL of printable ASCII without
 * spaces, at most REVOKE_MAX_URLLEN bytes, length as given (no NUL).
 * revoke_time() converts an ASN1_TIME to time_t (0 on error).
 * The cache keys are strings; values a CRL (the cache holds a reference;
 * get returns a new one) or a definite OCSP status with its reason.
 */
#ifndef TV_REVOKE_INT_H
#define TV_REVOKE_INT_H

#include <time.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include "revoke.h"

int		 revoke_http(const char *url, const char *ctype, BIO *req,
		    size_t max, const struct revoke_opts *, BIO **out,
		    char *err, size_t errlen);
int		 revoke_url_ok(const char *url, size_t len);
time_t		 revoke_time(const ASN1_TIME *);

X509_CRL	*revoke_cache_get_crl(const char *key);
void		 revoke_cache_put_crl(const char *key, X509_CRL *, time_t until);
int		 revoke_cache_get_status(const char *key,
		    enum revoke_status *, char *why, size_t whylen);
void		 revoke_cache_put_status(const char *key, enum revoke_status,
		    const char *why, time_t until);
void		 revoke_cache_drop(const char *key);

/* revoke_crl.c */
enum revoke_status revoke_crl(X509_STORE *, STACK_OF(X509) *vchain,
		    STACK_OF(X509) *peer, const struct revoke_opts *,
		    char *why, size_t whylen);

#endif
