/*
 * test_revoke.c - unit tests of the revocation module's pure parts: URL
 * acceptance, the process-wide cache (expiry, bound, drop, CRL
 * references), refusals of revoke_http() that need no network, and
 * revoke_check() without a usable chain. The network paths are tested
 * end to end in tests/integration/test_revocation.py.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "deadline.h"
#include "revoke.h"
#include "revoke_int.h"
#include "t.h"

static void
test_urls(void)
{
	static const struct {
		const char	*url;
		int		 ok;
	} t[] = {
		{ "http://127.0.0.1:8080/ca.crl", 1 },
		{ "HTTP://crl.example/x.crl", 1 },
		{ "https://crl.example/x.crl", 0 },
		{ "ldap://ldap.example/cn=CA?certificateRevocationList", 0 },
		{ "http://", 0 },
		{ "http://a b/", 0 },
		{ "http://a\x01/", 0 },
		{ "http://\xc3\xa9.example/", 0 },
		{ "", 0 },
	};
	char	long_url[REVOKE_MAX_URLLEN + 20];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_OK(revoke_url_ok(t[i].url, strlen(t[i].url)) == t[i].ok,
		    "URL %zu %s", i, t[i].ok ? "accepted" : "refused");
	T_OK(!revoke_url_ok("http://a.example/\0x", 19),
	    "URL with an embedded NUL refused");
	memset(long_url, 'a', sizeof(long_url) - 1);
	memcpy(long_url, "http://", 7);
	long_url[REVOKE_MAX_URLLEN + 1] = '\0';
	T_OK(!revoke_url_ok(long_url, strlen(long_url)), "URL over %d bytes "
	    "refused", REVOKE_MAX_URLLEN);
}

static void
test_status_cache(void)
{
	enum revoke_status	st = REVOKE_UNKNOWN;
	char			why[64] = "", key[32];
	time_t			now = time(NULL);
	int			i;

	revoke_cache_clear();
	revoke_cache_put_status("ocsp a", REVOKE_REVOKED, "revoked (x)",
	    now + 100);
	T_OK(revoke_cache_get_status("ocsp a", &st, why, sizeof(why)) &&
	    st == REVOKE_REVOKED && strcmp(why, "revoked (x)") == 0,
	    "cached OCSP status found until nextUpdate");
	revoke_cache_put_status("ocsp b", REVOKE_GOOD, "good", now - 1);
	T_OK(!revoke_cache_get_status("ocsp b", &st, why, sizeof(why)),
	    "an answer past its nextUpdate is not cached");
	revoke_cache_put_status("ocsp c", REVOKE_UNKNOWN, "?", now + 100);
	T_OK(!revoke_cache_get_status("ocsp c", &st, why, sizeof(why)),
	    "an unknown status is not cached");
	revoke_cache_drop("ocsp a");
	T_OK(!revoke_cache_get_status("ocsp a", &st, why, sizeof(why)),
	    "dropped entry gone");
	for (i = 0; i < REVOKE_CACHE_MAX + 50; i++) {
		(void)snprintf(key, sizeof(key), "ocsp %d", i);
		revoke_cache_put_status(key, REVOKE_GOOD, "good",
		    now + 1000 + i);
	}
	T_OK(revoke_cache_count() == REVOKE_CACHE_MAX, "cache bounded at %d "
	    "entries (%zu)", REVOKE_CACHE_MAX, revoke_cache_count());
	T_OK(!revoke_cache_get_status("ocsp 0", &st, why, sizeof(why)) &&
	    revoke_cache_get_status("ocsp 299", &st, why, sizeof(why)),
	    "when full, the entry expiring first goes");
	revoke_cache_clear();
	T_OK(revoke_cache_count() == 0, "cache cleared");
}

static void
test_crl_cache(void)
{
	X509_CRL	*crl = X509_CRL_new(), *got;

	revoke_cache_put_crl("crl http://x/a.crl", crl, time(NULL) + 60);
	X509_CRL_free(crl);	/* the cache keeps its own reference */
	got = revoke_cache_get_crl("crl http://x/a.crl");
	T_OK(got == crl, "cached CRL returned with a reference of its own");
	X509_CRL_free(got);
	T_OK(revoke_cache_get_crl("crl http://x/b.crl") == NULL,
	    "other URL: not cached");
	revoke_cache_clear();
	T_OK(revoke_cache_get_crl("crl http://x/a.crl") == NULL,
	    "cleared (and freed: ASan would see a leak otherwise)");
}

static void
test_http_refusals(void)
{
	struct revoke_opts	o;
	struct deadline		dl;
	BIO			*out = (BIO *)1;
	char			err[256];

	memset(&o, 0, sizeof(o));
	T_OK(revoke_http("https://127.0.0.1:1/x", NULL, NULL, 1000, &o, &out,
	    err, sizeof(err)) == -1 && out == NULL &&
	    strstr(err, "not an http:// URL") != NULL,
	    "https URL refused without a connection (%s)", err);
	deadline_init(&dl, 500);
	o.dl = &dl;
	T_OK(revoke_http("http://127.0.0.1:1/x", NULL, NULL, 1000, &o, &out,
	    err, sizeof(err)) == -1 && strstr(err, "deadline") != NULL,
	    "less than 1 s before the deadline: not fetched (%s)", err);
}

static void
test_no_chain(void)
{
	struct revoke_opts	o;
	struct revoke_result	r;
	STACK_OF(X509)		*empty = sk_X509_new_null();

	memset(&o, 0, sizeof(o));
	o.mode = REVOCATION_ANY;
	revoke_check(NULL, empty, NULL, &o, &r);
	T_OK(r.status == REVOKE_UNKNOWN && r.source == NULL &&
	    strcmp(revoke_status_str(r.status), "unknown") == 0,
	    "no verified chain: unknown (%s)", r.detail);
	sk_X509_free(empty);
	T_OK(strcmp(revoke_mode_str(REVOCATION_OCSP), "ocsp") == 0 &&
	    strcmp(revoke_status_str(REVOKE_REVOKED), "revoked") == 0,
	    "mode and status words");
}

int
main(void)
{
	test_urls();
	test_status_cache();
	test_crl_cache();
	test_http_refusals();
	test_no_chain();
	return T_DONE();
}
