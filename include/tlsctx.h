/*
 * tlsctx.h - the client SSL_CTX shared by every probe.
 *
 * tlsctx_new() builds one SSL_CTX from the configuration: trust anchors
 * from [probe] ca_file and/or ca_path (when both are empty: the system
 * default paths), CRLs from crl_file and every file in crl_path (then,
 * unless [probe] revocation is none or ocsp, X509_V_FLAG_CRL_CHECK is set
 * on the SSL_CTX's verify parameters: cert_check() wants a CRL for the
 * leaf's issuer; cert_check_rev() follows [probe] revocation), TLS 1.0
 * or newer, SSL_VERIFY_NONE (Phase I is judged after the handshake, so that
 * a failing chain is still reported with its names), and DANE enabled for
 * the sessions that ask for it (SSL_CTX_dane_enable; dane.h). Returns NULL with a
 * reason in err when a file cannot be read. The SSL_CTX is read-only after
 * this and shared by all threads; free it with SSL_CTX_free().
 */
#ifndef TV_TLSCTX_H
#define TV_TLSCTX_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "conf.h"

SSL_CTX	*tlsctx_new(const struct conf *, char *err, size_t errlen);

/*
 * tlsctx_bio_new(fd) is a socket BIO for SSL_set_bio() that writes with
 * send(MSG_NOSIGNAL), so a peer that resets the connection during a TLS
 * write cannot kill the process with SIGPIPE (no signal disposition is
 * needed in main()). It never closes fd. tlsctx_bio_errno() is the errno
 * of its last failed send/recv (0 when none; 0 also at EOF), and
 * tlsctx_bio_eof() is 1 after recv() returned 0. Returns NULL only when
 * OpenSSL cannot allocate.
 */
BIO	*tlsctx_bio_new(int fd);
int	 tlsctx_bio_errno(BIO *);
int	 tlsctx_bio_eof(BIO *);

#endif
