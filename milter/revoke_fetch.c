/*
 * revoke_fetch.c - HTTP fetches and the process-wide cache of the
 * revocation module (see revoke.h, revoke_int.h).
 *
 * revoke_http(url, ctype, req, max, opts, &out, err, errlen) runs one
 * OSSL_HTTP_transfer(): no proxy ("" for proxy and no_proxy, so
 * http_proxy in the environment is ignored), no redirects (a 3xx is an
 * error), no keep-alive, the body must be one DER item of at most max
 * bytes, the whole exchange bounded by revoke_timeout(). Only "http://"
 * URLs pass revoke_url_ok().
 *
 * The cache is an array of REVOKE_CACHE_MAX entries behind one mutex.
 * Each entry has a key ("crl <url>" or "ocsp <hex cert id>"), an expiry
 * (the nextUpdate of what it holds, wall-clock time) and either a CRL
 * (one reference owned by the cache) or an OCSP status. Expired entries
 * are never returned; when the array is full the entry that expires first
 * is replaced. Nothing here is per-thread; every access holds the mutex.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/x509.h>

#include "revoke.h"
#include "revoke_int.h"
#include "xalloc.h"

/* ---- HTTP ------------------------------------------------------------- */

int
revoke_url_ok(const char *url, size_t len)
{
	size_t	i;

	if (url == NULL || len < 8 || len > REVOKE_MAX_URLLEN ||
	    strlen(url) != len || strncasecmp(url, "http://", 7) != 0)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 ||
		    (unsigned char)url[i] >= 0x7f)
			return 0;
	return 1;
}

/* Seconds one fetch may take: min(http_timeout, whole seconds left). */
static int
revoke_timeout(const struct revoke_opts *o)
{
	long	t = o->http_timeout ? (long)o->http_timeout :
		    REVOKE_DEFAULT_TIMEOUT;
	long	left;

	if (o->dl != NULL) {
		left = deadline_left_ms(o->dl) / 1000;
		if (left < t)
			t = left;
	}
	return (int)t;
}

static void
revoke_ssl_err(char *err, size_t errlen, const char *what, const char *url)
{
	unsigned long	e = ERR_peek_last_error();
	char		buf[160];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		(void)snprintf(buf, sizeof(buf), "failed");
	(void)snprintf(err, errlen, "%s %.120s: %s", what, url, buf);
	ERR_clear_error();
}

int
revoke_http(const char *url, const char *ctype, BIO *req, size_t max,
    const struct revoke_opts *o, BIO **out, char *err, size_t errlen)
{
	char	*host = NULL, *port = NULL, *path = NULL, *query = NULL;
	char	*full = NULL;
	int	 ssl = 0, tmo, rv = -1;

	*out = NULL;
	ERR_clear_error();
	if (!revoke_url_ok(url, strlen(url))) {
		(void)snprintf(err, errlen, "%.120s: not an http:// URL", url);
		return -1;
	}
	if ((tmo = revoke_timeout(o)) <= 0) {
		(void)snprintf(err, errlen, "%.120s: not fetched, probe "
		    "deadline reached", url);
		return -1;
	}
	if (OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path,
	    &query, NULL) != 1 || ssl) {
		revoke_ssl_err(err, errlen, "bad URL", url);
		goto out;
	}
	full = query != NULL && query[0] != '\0' ?
	    xasprintf("%s?%s", path, query) : xstrdup(path);
	*out = OSSL_HTTP_transfer(NULL, host, port, full, 0, "", "", NULL,
	    NULL, NULL, NULL, 0, NULL, ctype, req, NULL, 1, max, tmo, 0);
	if (*out == NULL) {
		revoke_ssl_err(err, errlen, "fetching", url);
		goto out;
	}
	rv = 0;
out:
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	OPENSSL_free(query);
	free(full);
	ERR_clear_error();
	return rv;
}

time_t
revoke_time(const ASN1_TIME *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* ---- the cache -------------------------------------------------------- */

struct revoke_entry {
	char			*key;		/* NULL: free slot */
	time_t			 until;
	X509_CRL		*crl;
	enum revoke_status	 status;
	char			 why[128];
};

static struct revoke_entry revoke_cache[REVOKE_CACHE_MAX];
static pthread_mutex_t revoke_lock = PTHREAD_MUTEX_INITIALIZER;

static void
revoke_entry_clear(struct revoke_entry *e)
{
	free(e->key);
	X509_CRL_free(e->crl);
	memset(e, 0, sizeof(*e));
}

/* The live entry for key, or NULL; drops it when expired. Locked. */
static struct revoke_entry *
revoke_find(const char *key)
{
	time_t	now = time(NULL);
	size_t	i;

	for (i = 0; i < REVOKE_CACHE_MAX; i++) {
		if (revoke_cache[i].key == NULL ||
		    strcmp(revoke_cache[i].key, key) != 0)
			continue;
		if (revoke_cache[i].until <= now) {
			revoke_entry_clear(&revoke_cache[i]);
			return NULL;
		}
		return &revoke_cache[i];
	}
	return NULL;
}

/* A slot for key: its own, a free one, or the one expiring first. */
static struct revoke_entry *
revoke_slot(const char *key)
{
	struct revoke_entry	*e, *best = NULL;
	size_t			 i;

	for (i = 0; i < REVOKE_CACHE_MAX; i++) {
		e = &revoke_cache[i];
		if (e->key != NULL && strcmp(e->key, key) == 0) {
			best = e;
			break;
		}
		if (best == NULL || (best->key != NULL && (e->key == NULL ||
		    e->until < best->until)))
			best = e;
	}
	revoke_entry_clear(best);
	best->key = xstrdup(key);
	return best;
}

X509_CRL *
revoke_cache_get_crl(const char *key)
{
	struct revoke_entry	*e;
	X509_CRL		*crl = NULL;

	pthread_mutex_lock(&revoke_lock);
	if ((e = revoke_find(key)) != NULL && e->crl != NULL &&
	    X509_CRL_up_ref(e->crl) == 1)
		crl = e->crl;
	pthread_mutex_unlock(&revoke_lock);
	return crl;
}

void
revoke_cache_put_crl(const char *key, X509_CRL *crl, time_t until)
{
	struct revoke_entry	*e;

	if (until <= time(NULL) || X509_CRL_up_ref(crl) != 1)
		return;
	pthread_mutex_lock(&revoke_lock);
	e = revoke_slot(key);
	e->crl = crl;
	e->until = until;
	pthread_mutex_unlock(&revoke_lock);
}

int
revoke_cache_get_status(const char *key, enum revoke_status *st, char *why,
    size_t whylen)
{
	struct revoke_entry	*e;
	int			 found = 0;

	pthread_mutex_lock(&revoke_lock);
	if ((e = revoke_find(key)) != NULL && e->crl == NULL) {
		*st = e->status;
		(void)snprintf(why, whylen, "%s", e->why);
		found = 1;
	}
	pthread_mutex_unlock(&revoke_lock);
	return found;
}

void
revoke_cache_put_status(const char *key, enum revoke_status st,
    const char *why, time_t until)
{
	struct revoke_entry	*e;

	if (until <= time(NULL) || st == REVOKE_UNKNOWN)
		return;
	pthread_mutex_lock(&revoke_lock);
	e = revoke_slot(key);
	e->status = st;
	e->until = until;
	(void)snprintf(e->why, sizeof(e->why), "%s", why);
	pthread_mutex_unlock(&revoke_lock);
}

void
revoke_cache_drop(const char *key)
{
	struct revoke_entry	*e;

	pthread_mutex_lock(&revoke_lock);
	if ((e = revoke_find(key)) != NULL)
		revoke_entry_clear(e);
	pthread_mutex_unlock(&revoke_lock);
}

void
revoke_cache_clear(void)
{
	size_t	i;

	pthread_mutex_lock(&revoke_lock);
	for (i = 0; i < REVOKE_CACHE_MAX; i++)
		revoke_entry_clear(&revoke_cache[i]);
	pthread_mutex_unlock(&revoke_lock);
}

size_t
revoke_cache_count(void)
{
	time_t	now = time(NULL);
	size_t	i, n = 0;

	pthread_mutex_lock(&revoke_lock);
	for (i = 0; i < REVOKE_CACHE_MAX; i++)
		n += revoke_cache[i].key != NULL &&
		    revoke_cache[i].until > now;
	pthread_mutex_unlock(&revoke_lock);
	return n;
}
