/*
 * tlsctx.c - the client SSL_CTX shared by every probe, and its socket BIO
 * (see tlsctx.h).
 *
 * tlsctx_new() builds the SSL_CTX once at start-up (and at reload):
 *  - TLS_client_method(), minimum version TLS 1.0: mail servers are often
 *    old, and the probe must see what the MTA would see. The security level
 *    is left at the library default (OpenSSL 3.0: level 1, which refuses
 *    the SHA-1 signatures TLS 1.0/1.1 need, exactly as the MTA on this
 *    host does); the system openssl.cnf may raise it further.
 *  - SSL_VERIFY_NONE: the handshake always completes so that Phase I can
 *    be judged (cert.c) and reported with the certificate's names.
 *  - trust anchors: ca_file and/or ca_path; the system default paths when
 *    both are unset or empty. ca_path must be a readable directory.
 *  - CRLs: every CRL in crl_file (PEM, several allowed, or one DER), and
 *    every regular file in crl_path whose name does not start with '.'
 *    (each PEM or DER, each must hold a CRL), loaded whatever [probe]
 *    revocation says (a broken file is always an error). When any of the
 *    two is set and revocation is crl, any or unset (REVOCATION_AUTO, a
 *    struct conf not made by conf_load()), X509_V_FLAG_CRL_CHECK is set on
 *    the SSL_CTX's verify parameters, not on the store: cert_check() and
 *    the handshake's verify result check the leaf against them, while
 *    cert_check_rev() (revoke.c) decides per [probe] revocation and
 *    OCSP_basic_verify() on the store needs no CRL for a responder.
 *  - no session cache, no tickets: each probe is an independent session.
 * A file or directory that cannot be used gives NULL and a reason naming
 * it in err. The SSL_CTX is read-only afterwards; share it between threads.
 *
 * tlsctx_bio_new() is a minimal socket BIO whose writes use MSG_NOSIGNAL.
 * Its BIO_METHOD is created once (pthread_once) and never changed, so the
 * module has no mutable global state.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tlsctx.h"
#include "xalloc.h"

/* OpenSSL's last queued error as text, or fallback. Clears the queue. */
static const char *
tlsctx_ssl_error(char *buf, size_t len, const char *fallback)
{
	unsigned long	e = ERR_peek_last_error();

	if (e == 0)
		(void)snprintf(buf, len, "%s", fallback);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static int
tlsctx_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Read every CRL of one file (PEM, or a single DER) into the store. */
static int
tlsctx_load_crl_file(X509_STORE *store, const char *path,
    char *err, size_t errlen)
{
	X509_CRL	*crl;
	BIO		*in;
	char		 why[160];
	int		 n = 0, rv = -1;

	if ((in = BIO_new_file(path, "rb")) == NULL) {
		(void)snprintf(err, errlen, "cannot read CRL file %s: %s",
		    path, strerror(errno));
		ERR_clear_error();
		return -1;
	}
	while ((crl = PEM_read_bio_X509_CRL(in, NULL, NULL, NULL)) != NULL) {
		n += X509_STORE_add_crl(store, crl) == 1;
		X509_CRL_free(crl);
	}
	ERR_clear_error();
	if (n == 0 && BIO_reset(in) == 0 &&
	    (crl = d2i_X509_CRL_bio(in, NULL)) != NULL) {
		n += X509_STORE_add_crl(store, crl) == 1;
		X509_CRL_free(crl);
	}
	if (n == 0) {
		(void)snprintf(err, errlen, "no CRL in %s: %s", path,
		    tlsctx_ssl_error(why, sizeof(why), "not PEM or DER"));
		goto out;
	}
	rv = 0;
out:
	BIO_free(in);
	return rv;
}

/* Every regular file of a directory (not dot-files) is a CRL file. */
static int
tlsctx_load_crl_dir(X509_STORE *store, const char *dir,
    char *err, size_t errlen)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	char		*path;
	int		 rv = 0;

	if ((d = opendir(dir)) == NULL) {
		(void)snprintf(err, errlen, "cannot read crl_path %s: %s",
		    dir, strerror(errno));
		return -1;
	}
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rv = tlsctx_load_crl_file(store, path, err, errlen);
		free(path);
	}
	closedir(d);
	return rv;
}

static int
tlsctx_load_trust(SSL_CTX *ctx, const struct conf *conf,
    char *err, size_t errlen)
{
	const char	*file = tlsctx_set(conf->ca_file) ? conf->ca_file : NULL;
	const char	*path = tlsctx_set(conf->ca_path) ? conf->ca_path : NULL;
	struct stat	 st;
	char		 why[160];

	if (file == NULL && path == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			(void)snprintf(err, errlen, "cannot load the system "
			    "trust anchors: %s", tlsctx_ssl_error(why,
			    sizeof(why), "unknown error"));
			return -1;
		}
		return 0;
	}
	if (path != NULL && stat(path, &st) != 0) {
		(void)snprintf(err, errlen, "cannot read ca_path %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (path != NULL && !S_ISDIR(st.st_mode)) {
		(void)snprintf(err, errlen, "cannot read ca_path %s: "
		    "not a directory", path);
		return -1;
	}
	if (file != NULL && access(file, R_OK) != 0) {
		(void)snprintf(err, errlen, "cannot read ca_file %s: %s", file,
		    strerror(errno));
		return -1;
	}
	if (file != NULL && SSL_CTX_load_verify_locations(ctx, file,
	    NULL) != 1) {
		(void)snprintf(err, errlen, "cannot read ca_file %s: %s", file,
		    tlsctx_ssl_error(why, sizeof(why), "no certificate"));
		return -1;
	}
	if (path != NULL && SSL_CTX_load_verify_locations(ctx, NULL,
	    path) != 1) {
		(void)snprintf(err, errlen, "cannot use ca_path %s: %s", path,
		    tlsctx_ssl_error(why, sizeof(why), "unknown error"));
		return -1;
	}
	return 0;
}

static int
tlsctx_load_crls(SSL_CTX *ctx, const struct conf *conf,
    char *err, size_t errlen)
{
	X509_STORE	*store = SSL_CTX_get_cert_store(ctx);
	int		 any = 0;

	if (tlsctx_set(conf->crl_file)) {
		if (tlsctx_load_crl_file(store, conf->crl_file, err,
		    errlen) != 0)
			return -1;
		any = 1;
	}
	if (tlsctx_set(conf->crl_path)) {
		if (tlsctx_load_crl_dir(store, conf->crl_path, err,
		    errlen) != 0)
			return -1;
		any = 1;
	}
	if (any && (conf->revocation == REVOCATION_AUTO ||
	    conf->revocation == REVOCATION_CRL ||
	    conf->revocation == REVOCATION_ANY))
		X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
		    X509_V_FLAG_CRL_CHECK);
	return 0;
}

SSL_CTX *
tlsctx_new(const struct conf *conf, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	char	 why[160];

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		(void)snprintf(err, errlen, "SSL_CTX_new: %s",
		    tlsctx_ssl_error(why, sizeof(why), "failed"));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1) {
		(void)snprintf(err, errlen, "cannot set TLS 1.0 minimum: %s",
		    tlsctx_ssl_error(why, sizeof(why), "failed"));
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_dane_enable(ctx) <= 0) {	/* used per session: dane.c */
		(void)snprintf(err, errlen, "SSL_CTX_dane_enable failed");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (tlsctx_load_trust(ctx, conf, err, errlen) != 0 ||
	    tlsctx_load_crls(ctx, conf, err, errlen) != 0)
		goto fail;
	ERR_clear_error();
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

/* ---- the socket BIO ---- */

struct tlsctx_bio {
	int	fd;
	int	eof;
	int	err;
};

static int
tlsctx_bio_write(BIO *b, const char *buf, int len)
{
	struct tlsctx_bio *s = BIO_get_data(b);
	ssize_t		   n;

	BIO_clear_retry_flags(b);
	n = send(s->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_write(b);
	else
		s->err = errno;
	return -1;
}

static int
tlsctx_bio_read(BIO *b, char *buf, int len)
{
	struct tlsctx_bio *s = BIO_get_data(b);
	ssize_t		   n;

	BIO_clear_retry_flags(b);
	n = recv(s->fd, buf, (size_t)len, 0);
	if (n > 0)
		return (int)n;
	if (n == 0) {
		s->eof = 1;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		BIO_set_retry_read(b);
	else
		s->err = errno;
	return -1;
}

static int
tlsctx_bio_puts(BIO *b, const char *str)
{
	return tlsctx_bio_write(b, str, (int)strlen(str));
}

static long
tlsctx_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tlsctx_bio *s = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return s->eof;
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = s->fd;
		return s->fd;
	default:
		return 0;
	}
}

static int
tlsctx_bio_destroy(BIO *b)
{
	free(BIO_get_data(b));
	BIO_set_data(b, NULL);
	BIO_set_init(b, 0);
	return 1;
}

static BIO_METHOD *tlsctx_bio_method;	/* set once, then read-only */
static pthread_once_t tlsctx_bio_once = PTHREAD_ONCE_INIT;

static void
tlsctx_bio_init_method(void)
{
	BIO_METHOD	*m;

	m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
	    BIO_TYPE_DESCRIPTOR, "tlsverify socket");
	if (m == NULL)
		return;
	BIO_meth_set_write(m, tlsctx_bio_write);
	BIO_meth_set_read(m, tlsctx_bio_read);
	BIO_meth_set_puts(m, tlsctx_bio_puts);
	BIO_meth_set_ctrl(m, tlsctx_bio_ctrl);
	BIO_meth_set_destroy(m, tlsctx_bio_destroy);
	tlsctx_bio_method = m;
}

BIO *
tlsctx_bio_new(int fd)
{
	struct tlsctx_bio *s;
	BIO		  *b;

	(void)pthread_once(&tlsctx_bio_once, tlsctx_bio_init_method);
	if (tlsctx_bio_method == NULL ||
	    (b = BIO_new(tlsctx_bio_method)) == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	BIO_set_data(b, s);
	BIO_set_init(b, 1);
	return b;
}

int
tlsctx_bio_errno(BIO *b)
{
	struct tlsctx_bio *s = b != NULL ? BIO_get_data(b) : NULL;

	return s != NULL ? s->err : 0;
}

int
tlsctx_bio_eof(BIO *b)
{
	struct tlsctx_bio *s = b != NULL ? BIO_get_data(b) : NULL;

	return s != NULL ? s->eof : 0;
}
