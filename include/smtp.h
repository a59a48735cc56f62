/*
 * smtp.h - the SMTP/STARTTLS client of a probe.
 *
 * smtp_probe() connects to one address (IPv4 or IPv6; non-blocking connect),
 * reads the banner, sends EHLO (conf helo), issues STARTTLS only when the
 * EHLO reply advertises it, performs the TLS handshake with SNI set to sni
 * (NULL or an IP literal: no SNI) and SSL_VERIFY_NONE, keeps the peer's
 * certificate chain and SSL_get_verify_result(), sends QUIT and closes.
 * Every read, write and handshake step waits at most until the deadline:
 * a silent or slow server cannot hold the probe past it. lim (may be NULL)
 * adds per-step limits below the deadline (SPEC 5: one dead host never
 * costs the whole deadline): connect_ms for the TCP connection, command_ms
 * for the banner, for each command and its reply (EHLO, STARTTLS) and for
 * the TLS handshake as a whole; 0 means "the deadline only". A step that
 * runs out of time ends the session as a temporary failure whose reason
 * names the limit (connect_timeout, command_timeout or the deadline).
 *
 * Untrusted input limits: a reply line longer than SMTP_MAXLINE bytes, more
 * than SMTP_MAXLINES lines in one reply, or more than SMTP_MAXREPLY bytes in
 * one reply ends the session with a reason ("reply line too long", ...).
 * Peer text copied into reasons is cut to 100 bytes and made printable.
 * (SMTP_MAXLINE counts the line without its CR LF.)
 *
 * SIGPIPE: plain writes use send(MSG_NOSIGNAL) and TLS runs over
 * tlsctx_bio_new(), which does the same; callers need no signal setup.
 *
 * The result says how far the session got (stage), whether TLS was
 * negotiated, and for a failure whether it is temporary (timeout, connection
 * refused or reset, EOF, a 4xx reply, banner not 220) or a permanent answer
 * (STARTTLS not offered, 5xx to STARTTLS, TLS handshake refused by an alert
 * or a protocol error). Returns 0 when TLS was negotiated, -1 otherwise.
 * The handshake asks for OCSP stapling (status_request); a stapled
 * response of at most SMTP_MAXSTAPLE bytes is kept in ocsp/ocsp_len (DER,
 * unverified: cert_check_rev() judges it).
 * With lim->dane set the handshake is prepared with dane_ssl_setup() and
 * its outcome kept in dane (dane_collect()).
 * smtp_result_free() frees the certificates and the stapled response
 * (not the struct).
 *
 * smtp_reply_line() is the pure reply parser used by the client (and by the
 * tests and fuzzers): feed it one line without CR LF; it returns 1 when the
 * reply is complete, 0 when more lines follow, -1 when the line is
 * malformed (no 3-digit code, code changes within a reply, bad separator,
 * or a limit above is exceeded).
 */
#ifndef TV_SMTP_H
#define TV_SMTP_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "conf.h"
#include "dane.h"
#include "deadline.h"
#include "trace.h"

#define SMTP_MAXLINE	1000
#define SMTP_MAXLINES	100
#define SMTP_MAXREPLY	65536
#define SMTP_MAXSTAPLE	65536

enum probe_stage {
	STAGE_DNS = 0,		/* the host's address could not be found */
	STAGE_CONNECT,
	STAGE_BANNER,
	STAGE_EHLO,
	STAGE_STARTTLS,
	STAGE_HANDSHAKE,
	STAGE_CERTIFICATE,	/* Phase I failed */
	STAGE_IDENTITY,		/* Phase II failed */
	STAGE_DONE		/* everything the setting asks for passed */
};

struct smtp_reply {
	int		code;		/* 3-digit code, 0 before the first line */
	size_t		lines;
	size_t		bytes;
	int		starttls;	/* an EHLO line "STARTTLS" was seen */
	char		text[128];	/* first line's text, printable, cut */
	const char	*error;		/* why smtp_reply_line() returned -1
					   (static string), NULL before */
};

struct smtp_result {
	int		 connected;
	int		 starttls_offered;
	int		 tls;		/* handshake completed */
	enum probe_stage stage;		/* where it stopped; STAGE_HANDSHAKE
					   with tls = 1 means TLS is up */
	int		 temporary;
	char		 reason[256];
	char		 tls_version[32];
	char		 cipher[64];
	X509		*leaf;		/* owned */
	STACK_OF(X509)	*chain;		/* owned: the peer chain as sent */
	long		 verify_result;	/* SSL_get_verify_result() */
	unsigned char	*ocsp;		/* owned: stapled OCSP response, or NULL */
	size_t		 ocsp_len;
	struct dane_result dane;	/* when limits->dane was set and tls */
};

/* Per-step limits of one session (milliseconds; 0: the deadline only). */
struct smtp_limits {
	long		 connect_ms;
	long		 command_ms;
	const struct dane_set *dane;	/* NULL, or the session is judged
					   by these TLSA records (dane.h) */
};

void	smtp_reply_init(struct smtp_reply *);
int	smtp_reply_line(struct smtp_reply *, const char *line, size_t len);

int	smtp_probe(SSL_CTX *, const struct ipaddr *, unsigned port,
	    const char *sni, const char *helo, const struct smtp_limits *,
	    const struct deadline *, struct trace *, struct smtp_result *);
void	smtp_result_free(struct smtp_result *);
const char *smtp_stage_str(enum probe_stage);

#endif
