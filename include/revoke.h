/*
 * revoke.h - revocation status of a verified leaf certificate (SPEC 3).
 *
 * revoke_check(store, vchain, peer, opts, res) is called by cert.c once
 * X509_verify_cert() has built a trusted chain without any error: vchain
 * is that chain (leaf first, trust anchor last; at least leaf + issuer for
 * a definite answer), peer the chain the server sent (may be NULL). By
 * opts->mode:
 *   REVOCATION_CRL   the leaf is checked by X509_verify_cert() with
 *                    X509_V_FLAG_CRL_CHECK against the store's CRLs
 *                    (crl_file / crl_path) plus the CRL fetched from the
 *                    leaf's first usable CRL distribution point URL;
 *   REVOCATION_OCSP  the stapled response (opts->staple) when there is
 *                    one and it answers for the leaf; else the responder
 *                    of the leaf's AIA (OCSP) extension;
 *   REVOCATION_ANY   OCSP as above, then CRL; the first definite answer
 *                    (good or revoked) wins.
 * An OCSP response counts when it is "successful", its signature verifies
 * (OCSP_basic_verify against the store, with the peer chain and vchain as
 * helpers), it holds the leaf's certificate id, and thisUpdate/nextUpdate
 * are current within REVOKE_SKEW seconds (a response without nextUpdate
 * is current for REVOKE_MAXAGE after thisUpdate). Its status "unknown" is not a
 * definite answer.
 *
 * Network: only "http://" URLs are fetched (https or other schemes give
 * "unknown"), with OpenSSL's HTTP client, never through a proxy, without
 * following redirects, each fetch bounded by min(opts->http_timeout, time
 * left before opts->dl) (whole seconds; less than 1 s left: not fetched)
 * and by a response size (CRL: opts->max_crl_size; OCSP: REVOKE_OCSP_MAX).
 * Fetched CRLs must be DER (RFC 5280 4.2.1.13). Host names in URLs are
 * resolved by the system resolver (getaddrinfo), which that timeout does
 * not bound. At most REVOKE_MAX_URLS URLs of each kind are tried.
 *
 * Cache: fetched CRLs and definite OCSP answers are kept process-wide
 * until their nextUpdate (nothing is cached without one), at most
 * REVOKE_CACHE_MAX entries (the one expiring first is dropped when full),
 * behind one mutex: revoke_check() may run in many threads at once.
 * revoke_cache_clear() empties it (tests, reload).
 *
 * res->status is REVOKE_GOOD, REVOKE_REVOKED or REVOKE_UNKNOWN; source is
 * "crl", "ocsp" or "ocsp-stapled" for a definite answer (NULL otherwise);
 * detail says what was consulted and why nothing answered. Steps are added
 * to opts->trace (may be NULL).
 */
#ifndef TV_REVOKE_H
#define TV_REVOKE_H

#include <stddef.h>
#include <openssl/x509.h>
#include "conf.h"
#include "deadline.h"
#include "trace.h"

#define REVOKE_SKEW		300	/* seconds of clock skew accepted */
#define REVOKE_MAXAGE		(7 * 86400) /* an OCSP response without
					   nextUpdate is current this long */
#define REVOKE_OCSP_MAX		65536	/* bytes of an OCSP response */
#define REVOKE_MAX_URLS		4	/* URLs tried per kind (CDP, OCSP) */
#define REVOKE_MAX_URLLEN	1024
#define REVOKE_CACHE_MAX	256
#define REVOKE_DEFAULT_TIMEOUT	5	/* http_timeout 0 means this */
#define REVOKE_DEFAULT_MAXCRL	10485760 /* max_crl_size 0 means this */

enum revoke_status {
	REVOKE_UNKNOWN = 0,
	REVOKE_GOOD,
	REVOKE_REVOKED
};

struct revoke_opts {
	enum revocation		 mode;		/* CRL, OCSP or ANY */
	unsigned		 http_timeout;	/* seconds, 0: default */
	size_t			 max_crl_size;	/* bytes, 0: default */
	const struct deadline	*dl;		/* NULL: http_timeout only */
	const unsigned char	*staple;	/* DER OCSP response or NULL */
	size_t			 staple_len;
	struct trace		*trace;
};

struct revoke_result {
	enum revoke_status	 status;
	const char		*source;	/* static string or NULL */
	char			 detail[256];
};

void		 revoke_check(X509_STORE *, STACK_OF(X509) *vchain,
		    STACK_OF(X509) *peer, const struct revoke_opts *,
		    struct revoke_result *);
const char	*revoke_status_str(enum revoke_status);
const char	*revoke_mode_str(enum revocation);
void		 revoke_cache_clear(void);
size_t		 revoke_cache_count(void);

#endif
