/*
 * test_cert.c - Phase I (cert.c) and the trust store (tlsctx.c).
 *
 * Every certificate and CRL is made here, at test time, with the OpenSSL
 * API (EC P-256 keys): a trusted CA, an intermediate, a second CA that is
 * not trusted, a third trusted CA that has no CRL, and leaves that are
 * valid, expired, not yet valid, signed by the untrusted CA, self-signed,
 * forged (CA's name, wrong key), revoked. The CA file and the CRLs are
 * written to a temporary directory and loaded through tlsctx_new() with a
 * hand-built struct conf, exactly as the daemon loads them.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "conf.h"
#include "tlsctx.h"
#include "t.h"

#define DAY	(24L * 3600L)

static char	tmpdir[] = "/tmp/test_cert.XXXXXX";

static EVP_PKEY *
mkkey(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		abort();
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 v3;
	X509_EXTENSION	*ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		abort();
	X509_EXTENSION_free(ext);
}

/* A certificate for cn, valid from now+nb to now+na seconds, signed by
 * ikey in the name of issuer (NULL: self-signed with key). */
static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long nb, long na, int ca, long serial)
{
	X509		*x = X509_new();
	X509_NAME	*name = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), nb);
	X509_gmtime_adj(X509_getm_notAfter(x), na);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"tlsverify test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	else
		add_ext(x, x, NID_subject_alt_name, "DNS:leaf.example");
	if (X509_sign(x, issuer != NULL ? ikey : key, EVP_sha256()) == 0)
		abort();
	return x;
}

/* A CRL of issuer (key ikey) valid from now+lu to now+nu revoking serial
 * (0: none). */
static X509_CRL *
mkcrl(X509 *issuer, EVP_PKEY *ikey, long lu, long nu, long serial)
{
	X509_CRL	*crl = X509_CRL_new();
	X509_REVOKED	*rev;
	ASN1_TIME	*t = ASN1_TIME_new();
	ASN1_INTEGER	*sn = ASN1_INTEGER_new();

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	X509_gmtime_adj(t, lu);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, nu);
	X509_CRL_set1_nextUpdate(crl, t);
	if (serial != 0) {
		rev = X509_REVOKED_new();
		ASN1_INTEGER_set(sn, serial);
		X509_REVOKED_set_serialNumber(rev, sn);
		X509_gmtime_adj(t, -DAY);
		X509_REVOKED_set_revocationDate(rev, t);
		X509_CRL_add0_revoked(crl, rev);
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, ikey, EVP_sha256()) == 0)
		abort();
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(sn);
	return crl;
}

static char *
tmpfile_path(const char *name)
{
	static char	buf[8][256];
	static int	i;
	char		*p = buf[i++ % 8];

	(void)snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static void
write_pem(const char *name, X509 *a, X509 *b, X509_CRL *crl, int der)
{
	FILE	*f = fopen(tmpfile_path(name), "w");

	if (f == NULL)
		abort();
	if (a != NULL)
		PEM_write_X509(f, a);
	if (b != NULL)
		PEM_write_X509(f, b);
	if (crl != NULL && !der)
		PEM_write_X509_CRL(f, crl);
	if (crl != NULL && der)
		i2d_X509_CRL_fp(f, crl);
	fclose(f);
}

static SSL_CTX *
ctx_for(const char *ca_file, const char *crl_file, const char *crl_path,
    char *err, size_t errlen)
{
	struct conf	c;

	memset(&c, 0, sizeof(c));
	c.ca_file = (char *)ca_file;
	c.crl_file = (char *)crl_file;
	c.crl_path = (char *)crl_path;
	err[0] = '\0';
	return tlsctx_new(&c, err, errlen);
}

static void
expect(SSL_CTX *ctx, const char *what, X509 *leaf, STACK_OF(X509) *chain,
    const char *reason, int valid, int temporary)
{
	struct cert_result r;

	cert_check(ctx, leaf, chain, &r);
	T_OK(r.reason != NULL && strcmp(r.reason, reason) == 0 &&
	    r.valid == valid && r.temporary == temporary,
	    "%s: %s valid=%d temporary=%d (got %s valid=%d temporary=%d: %s)",
	    what, reason, valid, temporary, r.reason ? r.reason : "NULL",
	    r.valid, r.temporary, r.detail);
}

static STACK_OF(X509) *
chain_of(X509 *a, X509 *b)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	if (a != NULL) {
		X509_up_ref(a);
		sk_X509_push(sk, a);
	}
	if (b != NULL) {
		X509_up_ref(b);
		sk_X509_push(sk, b);
	}
	return sk;
}

struct pki {
	EVP_PKEY	*cak, *ik, *ca2k, *ca3k, *lk;
	X509		*ca, *inter, *ca2, *ca3;
	X509		*valid, *expired, *future, *foreign, *self, *forged;
	X509		*via_inter, *revoked, *of_ca3, *expired_foreign;
	X509		*revoked_expired, *self_expired, *forged_future;
};

static void
pki_make(struct pki *p)
{
	p->cak = mkkey(); p->ik = mkkey(); p->ca2k = mkkey();
	p->ca3k = mkkey(); p->lk = mkkey();
	p->ca = mkcert("Test CA", p->cak, NULL, NULL, -DAY, 3650 * DAY, 1, 1);
	p->ca2 = mkcert("Untrusted CA", p->ca2k, NULL, NULL, -DAY,
	    3650 * DAY, 1, 1);
	p->ca3 = mkcert("CA without CRL", p->ca3k, NULL, NULL, -DAY,
	    3650 * DAY, 1, 1);
	p->inter = mkcert("Test Intermediate", p->ik, p->ca, p->cak, -DAY,
	    365 * DAY, 1, 2);
	p->valid = mkcert("leaf.example", p->lk, p->ca, p->cak, -DAY,
	    30 * DAY, 0, 100);
	p->expired = mkcert("leaf.example", p->lk, p->ca, p->cak, -30 * DAY,
	    -DAY, 0, 101);
	p->future = mkcert("leaf.example", p->lk, p->ca, p->cak, DAY,
	    30 * DAY, 0, 102);
	p->foreign = mkcert("leaf.example", p->lk, p->ca2, p->ca2k, -DAY,
	    30 * DAY, 0, 103);
	p->expired_foreign = mkcert("leaf.example", p->lk, p->ca2, p->ca2k,
	    -30 * DAY, -DAY, 0, 104);
	p->self = mkcert("leaf.example", p->lk, NULL, NULL, -DAY, 30 * DAY,
	    0, 105);
	p->forged = mkcert("leaf.example", p->lk, p->ca, p->ca2k, -DAY,
	    30 * DAY, 0, 106);
	p->via_inter = mkcert("leaf.example", p->lk, p->inter, p->ik, -DAY,
	    30 * DAY, 0, 107);
	p->revoked = mkcert("leaf.example", p->lk, p->ca, p->cak, -DAY,
	    30 * DAY, 0, 666);
	p->of_ca3 = mkcert("leaf.example", p->lk, p->ca3, p->ca3k, -DAY,
	    30 * DAY, 0, 108);
	p->revoked_expired = mkcert("leaf.example", p->lk, p->ca, p->cak,
	    -30 * DAY, -DAY, 0, 666);
	p->self_expired = mkcert("leaf.example", p->lk, NULL, NULL,
	    -30 * DAY, -DAY, 0, 109);
	p->forged_future = mkcert("leaf.example", p->lk, p->ca, p->ca2k, DAY,
	    30 * DAY, 0, 110);
}

/* A key below the handshake's security level fails as the MTA's TLS
 * would fail it: RSA-1024 is refused at level 2, accepted at level 0. */
static void
test_weak(struct pki *p, SSL_CTX *ctx)
{
	EVP_PKEY	*k = EVP_RSA_gen(1024);
	X509		*x;
	int		 level = SSL_CTX_get_security_level(ctx);

	if (k == NULL)
		abort();
	x = mkcert("weak.example", k, p->ca, p->cak, -60, 86400, 0, 77);
	SSL_CTX_set_security_level(ctx, 2);
	expect(ctx, "RSA-1024 leaf at security level 2", x, NULL,
	    "weak-crypto", 0, 0);
	SSL_CTX_set_security_level(ctx, 0);
	expect(ctx, "RSA-1024 leaf at security level 0", x, NULL, "valid",
	    1, 0);
	SSL_CTX_set_security_level(ctx, level);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void
test_phase1(struct pki *p)
{
	STACK_OF(X509)	*ch;
	SSL_CTX		*ctx;
	char		 err[256];

	ctx = ctx_for(tmpfile_path("ca.pem"), NULL, NULL, err, sizeof(err));
	T_OK(ctx != NULL, "tlsctx_new with ca_file (%s)", err);
	if (ctx == NULL)
		return;
	expect(ctx, "leaf of the trusted CA", p->valid, NULL, "valid", 1, 0);
	expect(ctx, "expired leaf", p->expired, NULL, "expired", 0, 0);
	expect(ctx, "leaf valid tomorrow", p->future, NULL, "not-yet-valid",
	    0, 0);
	expect(ctx, "leaf of an untrusted CA, no chain", p->foreign, NULL,
	    "untrusted", 0, 0);
	ch = chain_of(p->foreign, p->ca2);
	expect(ctx, "leaf of an untrusted CA, CA in the chain", p->foreign,
	    ch, "untrusted", 0, 0);
	sk_X509_pop_free(ch, X509_free);
	expect(ctx, "expired AND untrusted: untrusted wins",
	    p->expired_foreign, NULL, "untrusted", 0, 0);
	expect(ctx, "self-signed leaf", p->self, NULL, "untrusted", 0, 0);
	expect(ctx, "self-signed AND expired: untrusted wins",
	    p->self_expired, NULL, "untrusted", 0, 0);
	expect(ctx, "forged AND not yet valid: not-yet-valid wins",
	    p->forged_future, NULL, "not-yet-valid", 0, 0);
	expect(ctx, "forged signature in the CA's name", p->forged, NULL,
	    "bad-signature", 0, 0);
	ch = chain_of(p->via_inter, p->inter);
	expect(ctx, "leaf via an intermediate sent in the chain",
	    p->via_inter, ch, "valid", 1, 0);
	sk_X509_pop_free(ch, X509_free);
	expect(ctx, "leaf via an intermediate that was not sent",
	    p->via_inter, NULL, "untrusted", 0, 0);
	expect(ctx, "no CRL configured: a listed serial is not checked",
	    p->revoked, NULL, "valid", 1, 0);
	expect(ctx, "no leaf", NULL, NULL, "no-certificate", 0, 0);
	test_weak(p, ctx);
	SSL_CTX_free(ctx);
}

static void
test_names(struct pki *p)
{
	struct cert_result r;
	SSL_CTX		  *ctx;
	char		   err[256];

	ctx = ctx_for(tmpfile_path("ca.pem"), NULL, NULL, err, sizeof(err));
	if (ctx == NULL)
		return;
	cert_check(ctx, p->expired, NULL, &r);
	T_OK(strstr(r.subject, "CN = leaf.example") != NULL,
	    "subject printed (%s)", r.subject);
	T_OK(strstr(r.issuer, "CN = Test CA") != NULL, "issuer printed (%s)",
	    r.issuer);
	T_OK(strlen(r.not_before) == 20 && r.not_before[4] == '-' &&
	    r.not_before[10] == ' ' && r.not_before[19] == 'Z' &&
	    strcmp(r.not_before, r.not_after) < 0,
	    "dates as YYYY-MM-DD HH:MM:SSZ (%s .. %s)", r.not_before,
	    r.not_after);
	T_OK(r.x509_error == X509_V_ERR_CERT_HAS_EXPIRED &&
	    strstr(r.detail, "expired") != NULL && strstr(r.detail,
	    "depth 0") != NULL, "detail names the error and depth (%s)",
	    r.detail);
	SSL_CTX_free(ctx);
}

static void
test_crl(struct pki *p)
{
	SSL_CTX	*ctx;
	char	 err[256];

	ctx = ctx_for(tmpfile_path("cas.pem"), tmpfile_path("crl.pem"), NULL,
	    err, sizeof(err));
	T_OK(ctx != NULL, "tlsctx_new with crl_file (%s)", err);
	if (ctx != NULL) {
		expect(ctx, "revoked leaf (crl_file)", p->revoked, NULL,
		    "revoked", 0, 0);
		expect(ctx, "leaf not on the CRL", p->valid, NULL, "valid",
		    1, 0);
		expect(ctx, "CA without a CRL, CRL checking on", p->of_ca3,
		    NULL, "crl-unavailable", 0, 1);
		SSL_CTX_free(ctx);
	}
	ctx = ctx_for(tmpfile_path("ca.pem"), tmpfile_path("old-crl.pem"),
	    NULL, err, sizeof(err));
	T_OK(ctx != NULL, "tlsctx_new with an expired CRL (%s)", err);
	if (ctx != NULL) {
		expect(ctx, "CRL expired", p->valid, NULL, "crl-unavailable",
		    0, 1);
		SSL_CTX_free(ctx);
	}
	ctx = ctx_for(tmpfile_path("ca.pem"), NULL, tmpfile_path("crls"),
	    err, sizeof(err));
	T_OK(ctx != NULL, "tlsctx_new with crl_path holding a DER CRL (%s)",
	    err);
	if (ctx != NULL) {
		expect(ctx, "revoked leaf (crl_path, DER)", p->revoked, NULL,
		    "revoked", 0, 0);
		expect(ctx, "leaf of an untrusted CA, CRL checking on: "
		    "untrusted beats crl-unavailable", p->foreign, NULL,
		    "untrusted", 0, 0);
		expect(ctx, "revoked AND expired: revoked wins",
		    p->revoked_expired, NULL, "revoked", 0, 0);
		SSL_CTX_free(ctx);
	}
}

static void
expect_ctx_error(const char *what, const char *ca, const char *crl,
    const char *crlpath, const char *needle)
{
	SSL_CTX	*ctx;
	char	 err[256];

	ctx = ctx_for(ca, crl, crlpath, err, sizeof(err));
	T_OK(ctx == NULL && strstr(err, needle) != NULL,
	    "%s: refused, reason names %s (%s)", what, needle, err);
	SSL_CTX_free(ctx);
}

static void
test_ctx_errors(void)
{
	char	*missing = tmpfile_path("missing.pem");
	char	*junk = tmpfile_path("junk.pem");
	char	*ca = tmpfile_path("ca.pem");
	FILE	*f;

	expect_ctx_error("missing ca_file", missing, NULL, NULL, missing);
	if ((f = fopen(junk, "w")) != NULL) {
		fputs("this is not a certificate\n", f);
		fclose(f);
	}
	expect_ctx_error("ca_file without certificates", junk, NULL, NULL,
	    junk);
	expect_ctx_error("missing crl_file", ca, missing, NULL, missing);
	expect_ctx_error("crl_file without CRLs", ca, junk, NULL, junk);
	expect_ctx_error("missing crl_path", ca, NULL, missing, missing);
}

/* The socket BIO must never raise SIGPIPE (it would kill this test). */
static void
test_bio_nosigpipe(void)
{
	BIO	*b;
	char	 c;
	int	 sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return;
	(void)close(sv[1]);
	b = tlsctx_bio_new(sv[0]);
	T_OK(b != NULL, "tlsctx_bio_new");
	if (b == NULL)
		return;
	rc = BIO_write(b, "QUIT\r\n", 6);
	T_OK(rc == -1 && !BIO_should_retry(b) &&
	    tlsctx_bio_errno(b) == EPIPE, "BIO write to a closed peer: -1, "
	    "EPIPE, no SIGPIPE (rc %d, errno %d)", rc, tlsctx_bio_errno(b));
	rc = BIO_read(b, &c, 1);
	T_OK(rc == 0 && tlsctx_bio_eof(b) == 1 && BIO_eof(b) == 1,
	    "BIO read at EOF: 0 and eof flag (rc %d)", rc);
	BIO_free(b);
	(void)close(sv[0]);
}

static void
cleanup(void)
{
	static const char *files[] = { "ca.pem", "cas.pem", "crl.pem",
	    "old-crl.pem", "crls/ca.crl", "junk.pem" };
	size_t	i;

	for (i = 0; i < sizeof(files) / sizeof(*files); i++)
		(void)unlink(tmpfile_path(files[i]));
	(void)rmdir(tmpfile_path("crls"));
	(void)rmdir(tmpdir);
}

static void
pki_free(struct pki *p)
{
	X509 *certs[] = { p->ca, p->inter, p->ca2, p->ca3, p->valid,
	    p->expired, p->future, p->foreign, p->self, p->forged,
	    p->via_inter, p->revoked, p->of_ca3, p->expired_foreign,
	    p->revoked_expired, p->self_expired, p->forged_future };
	size_t	i;

	for (i = 0; i < sizeof(certs) / sizeof(*certs); i++)
		X509_free(certs[i]);
	EVP_PKEY_free(p->cak); EVP_PKEY_free(p->ik); EVP_PKEY_free(p->ca2k);
	EVP_PKEY_free(p->ca3k); EVP_PKEY_free(p->lk);
}

int
main(void)
{
	struct pki	 p;
	X509_CRL	*crl, *old;

	if (mkdtemp(tmpdir) == NULL || mkdir(tmpfile_path("crls"), 0700) != 0)
		return 1;
	memset(&p, 0, sizeof(p));
	pki_make(&p);
	crl = mkcrl(p.ca, p.cak, -DAY, 7 * DAY, 666);
	old = mkcrl(p.ca, p.cak, -10 * DAY, -DAY, 0);
	write_pem("ca.pem", p.ca, NULL, NULL, 0);
	write_pem("cas.pem", p.ca, p.ca3, NULL, 0);
	write_pem("crl.pem", NULL, NULL, crl, 0);
	write_pem("old-crl.pem", NULL, NULL, old, 0);
	write_pem("crls/ca.crl", NULL, NULL, crl, 1);

	test_phase1(&p);
	test_names(&p);
	test_crl(&p);
	test_ctx_errors();
	test_bio_nosigpipe();

	X509_CRL_free(crl);
	X509_CRL_free(old);
	pki_free(&p);
	cleanup();
	return T_DONE();
}
