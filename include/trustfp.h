/*
 * trustfp.h - what a configuration's verdicts depend on besides their
 * cache key, as one digest (SPEC 7: a reload notices a trust or CRL file
 * changed in place).
 *
 * trustfp_compute(conf, out) writes 64 hex digits (SHA-256) into out
 * (TRUSTFP_LEN bytes with the NUL) over:
 *  - the settings a verdict depends on: on_fail, the probe's port, HELO,
 *    timeouts (probe, connect, command), revocation mode, CRL limits, the
 *    name server;
 *  - the content of ca_file, crl_file and of every regular file in ca_path
 *    and crl_path (names sorted), or, when neither ca_file nor ca_path is
 *    set, of OpenSSL's default trust file and directory (the system store,
 *    SSL_CERT_FILE / SSL_CERT_DIR honoured as OpenSSL does).
 * It is taken when a generation is loaded, so comparing the digests of two
 * generations compares what each was built from. Limits: at most
 * TRUSTFP_MAXFILES files per directory and TRUSTFP_MAXBYTES bytes in all
 * are read; past them a file counts by its name, size and modification
 * time only. A file that cannot be read counts as its error number.
 */
#ifndef TV_TRUSTFP_H
#define TV_TRUSTFP_H

#include "conf.h"

#define TRUSTFP_LEN		65
#define TRUSTFP_MAXFILES	20000
#define TRUSTFP_MAXBYTES	(256L * 1024 * 1024)

void	trustfp_compute(const struct conf *, char out[TRUSTFP_LEN]);

#endif
