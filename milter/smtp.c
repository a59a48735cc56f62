/*
 * smtp.c - the SMTP/STARTTLS client of a probe (see smtp.h; the reply
 * parser is in smtp_reply.c).
 *
 * smtp_probe(ctx, addr, port, sni, helo, lim, deadline, trace, res) runs
 * one session: non-blocking connect, banner (must be 220), EHLO (must be 250;
 * any other reply, 5xx included, is a temporary failure: the server was
 * not judged on TLS, which it may offer to other clients; there is no HELO
 * fallback since HELO cannot lead to STARTTLS), STARTTLS only when the EHLO reply advertises it, the
 * TLS handshake (SNI only for a host name), then QUIT over TLS (its reply
 * is awaited at most 1 s), a best-effort close_notify and close().
 * res is cleared first; the caller frees its certificates with
 * smtp_result_free() whatever the return value.
 *
 * Every wait is a poll() bounded by the current step's limit (smtp_step():
 * lim's connect_ms for the connection, command_ms for the banner, for each
 * command with its reply and for the handshake, never past the probe's
 * deadline; a timeout says which limit ran out), and the reader
 * holds at most one line (SMTP_MAXLINE + CR LF) in a fixed buffer: a
 * silent server, a server dripping a byte a second, endless continuation
 * lines or a 1 MB line all end with a reason by the deadline or sooner.
 * Bytes the server sends after its 220 to STARTTLS, before the handshake,
 * are refused (a plaintext injection, as in CVE-2011-0411).
 *
 * Temporary: timeout, connection refused/reset/closed, a banner other than
 * 220, 4xx replies, a malformed or over-long reply (a broken server is not
 * a permanent verdict). Permanent: EHLO 5xx, STARTTLS not offered, a 5xx
 * to STARTTLS, plaintext after the STARTTLS reply, a TLS alert or protocol
 * error from the server.
 *
 * SIGPIPE: plain writes use send(MSG_NOSIGNAL); TLS runs over
 * tlsctx_bio_new(), which does the same. No signal setup is required.
 * Peer text in reasons and trace lines is printable ASCII, cut to 100
 * bytes. No global state: any number of probes may run in parallel.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "smtp.h"
#include "tlsctx.h"
#include "xalloc.h"

struct smtp_sess {
	int			 fd;
	SSL			*ssl;
	BIO			*bio;		/* owned by ssl once set */
	const struct deadline	*dl;		/* the probe's */
	struct smtp_limits	 lim;
	struct deadline		 step;		/* the current step's */
	char			 why[48];	/* which limit bounds it */
	struct trace		*trace;
	struct smtp_result	*res;
	size_t			 len;		/* bytes in buf */
	char			 buf[SMTP_MAXLINE + 2];
	char			 peer[INET6_ADDRSTRLEN + 8];
};

static const char *smtp_stage_names[] = {
	"dns", "connect", "banner", "ehlo", "starttls", "handshake",
	"certificate", "identity", "done"
};

const char *
smtp_stage_str(enum probe_stage st)
{
	if ((unsigned)st >= sizeof(smtp_stage_names) / sizeof(*smtp_stage_names))
		return "unknown";
	return smtp_stage_names[st];
}

void
smtp_result_free(struct smtp_result *res)
{
	if (res == NULL)
		return;
	X509_free(res->leaf);
	res->leaf = NULL;
	sk_X509_pop_free(res->chain, X509_free);
	res->chain = NULL;
	free(res->ocsp);
	res->ocsp = NULL;
	res->ocsp_len = 0;
}

/* Record the failure of the current stage and add it to the trace. */
static int
smtp_fail(struct smtp_sess *s, int temporary, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
smtp_fail(struct smtp_sess *s, int temporary, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(s->res->reason, sizeof(s->res->reason), fmt, ap);
	va_end(ap);
	s->res->temporary = temporary;
	trace_add(s->trace, "%s (%s)", s->res->reason,
	    temporary ? "temporary" : "permanent");
	return -1;
}

/* poll() one event, waiting at most until dl: 1 ready, 0 timeout, -1. */
static int
smtp_wait(int fd, short events, const struct deadline *dl)
{
	struct pollfd	pfd;
	long		ms;
	int		n;

	for (;;) {
		if ((ms = deadline_left_ms(dl)) == 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(ms > 60000 ? 60000 : ms));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static void
smtp_addr_text(struct smtp_sess *s, const struct ipaddr *a, unsigned port)
{
	char	ip[INET6_ADDRSTRLEN];

	(void)conf_ipaddr_str(a, ip, sizeof(ip));
	(void)snprintf(s->peer, sizeof(s->peer),
	    a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/*
 * Start a step that may take ms (0: no limit of its own, named limit):
 * its waits end at min(now + ms, the probe's deadline).
 */
static void
smtp_step(struct smtp_sess *s, long ms, const char *limit)
{
	long	left = deadline_left_ms(s->dl);

	if (ms > 0 && ms < left) {
		deadline_init(&s->step, ms);
		(void)snprintf(s->why, sizeof(s->why), "%s %ld s", limit,
		    (ms + 999) / 1000);
	} else {
		s->step = *s->dl;
		(void)snprintf(s->why, sizeof(s->why), "probe deadline");
	}
}

static int
smtp_connect(struct smtp_sess *s, const struct ipaddr *a, unsigned port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sl, el = sizeof(int);
	int			 e = 0, w;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr = a->u.v4;
		sl = sizeof(*sin);
	} else if (a->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = a->u.v6;
		sl = sizeof(*sin6);
	} else
		return smtp_fail(s, 0, "connect: bad address family");
	smtp_step(s, s->lim.connect_ms, "connect_timeout");
	s->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (s->fd < 0)
		return smtp_fail(s, 1, "connect %s: socket: %s", s->peer,
		    strerror(errno));
	if (connect(s->fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS)
			return smtp_fail(s, 1, "connect %s: %s", s->peer,
			    strerror(errno));
		if ((w = smtp_wait(s->fd, POLLOUT, &s->step)) == 0)
			return smtp_fail(s, 1, "connect %s: timed out (%s)",
			    s->peer, s->why);
		if (w < 0 || getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e,
		    &el) != 0)
			e = errno;
		if (e != 0)
			return smtp_fail(s, 1, "connect %s: %s", s->peer,
			    strerror(e));
	}
	s->res->connected = 1;
	trace_add(s->trace, "connect %s: ok", s->peer);
	return 0;
}

/* Send all of str in plain text, bounded by the deadline. */
static int
smtp_write(struct smtp_sess *s, const char *str, const char *what)
{
	size_t	len = strlen(str), off = 0;
	ssize_t	n;
	int	w;

	while (off < len) {
		n = send(s->fd, str + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return smtp_fail(s, 1, "sending %s: %s", what,
			    strerror(errno));
		if ((w = smtp_wait(s->fd, POLLOUT, &s->step)) == 0)
			return smtp_fail(s, 1, "sending %s: timed out (%s)",
			    what, s->why);
		if (w < 0)
			return smtp_fail(s, 1, "sending %s: %s", what,
			    strerror(errno));
	}
	return 0;
}

/* Fill the buffer once: 1 bytes read, else -1 with the failure noted. */
static int
smtp_fill(struct smtp_sess *s, const char *what)
{
	ssize_t	n;
	int	w;

	for (;;) {
		n = recv(s->fd, s->buf + s->len, sizeof(s->buf) - s->len, 0);
		if (n > 0) {
			s->len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return smtp_fail(s, 1, "connection closed by the "
			    "server while waiting for the %s", what);
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return smtp_fail(s, 1, "reading the %s: %s", what,
			    strerror(errno));
		if ((w = smtp_wait(s->fd, POLLIN, &s->step)) == 0)
			return smtp_fail(s, 1, "timed out waiting for the %s "
			    "(%s)", what, s->why);
		if (w < 0)
			return smtp_fail(s, 1, "reading the %s: %s", what,
			    strerror(errno));
	}
}

/* Read one reply; its lines go to smtp_reply_line(). 0 or -1. */
static int
smtp_read_reply(struct smtp_sess *s, struct smtp_reply *r, const char *what)
{
	char	*nl;
	size_t	 ll, used;
	int	 rc;

	smtp_reply_init(r);
	for (;;) {
		nl = memchr(s->buf, '\n', s->len);
		if (nl == NULL) {
			if (s->len == sizeof(s->buf))
				return smtp_fail(s, 1, "%s: reply line too "
				    "long", what);
			if (smtp_fill(s, what) < 0)
				return -1;
			continue;
		}
		used = (size_t)(nl - s->buf) + 1;
		ll = used - 1;
		if (ll > 0 && s->buf[ll - 1] == '\r')
			ll--;
		rc = smtp_reply_line(r, s->buf, ll);
		memmove(s->buf, s->buf + used, s->len - used);
		s->len -= used;
		if (rc < 0)
			return smtp_fail(s, 1, "%s: %s", what, r->error);
		if (rc == 1)
			return 0;
	}
}

/* Best-effort QUIT in plain text once a dialogue is in step. */
static void
smtp_quit_plain(struct smtp_sess *s)
{
	(void)send(s->fd, "QUIT\r\n", 6, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int
smtp_banner(struct smtp_sess *s)
{
	struct smtp_reply r;

	s->res->stage = STAGE_BANNER;
	smtp_step(s, s->lim.command_ms, "command_timeout");
	if (smtp_read_reply(s, &r, "banner") < 0)
		return -1;
	if (r.code != 220) {
		smtp_quit_plain(s);
		return smtp_fail(s, 1, "banner: %d %.100s", r.code, r.text);
	}
	trace_add(s->trace, "banner: %d %.100s", r.code, r.text);
	return 0;
}

static int
smtp_ehlo(struct smtp_sess *s, const char *helo)
{
	struct smtp_reply r;
	char		  cmd[300];

	s->res->stage = STAGE_EHLO;
	if (helo == NULL || helo[0] == '\0' || strlen(helo) > 255 ||
	    strcspn(helo, "\r\n \t") != strlen(helo))
		helo = "localhost";
	(void)snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	smtp_step(s, s->lim.command_ms, "command_timeout");
	if (smtp_write(s, cmd, "EHLO") < 0 ||
	    smtp_read_reply(s, &r, "EHLO reply") < 0)
		return -1;
	if (r.code != 250) {
		smtp_quit_plain(s);
		return smtp_fail(s, 1, "EHLO %s: %d %.100s", r.code >= 500 ?
		    "rejected" : "refused for now", r.code, r.text);
	}
	s->res->starttls_offered = r.starttls;
	trace_add(s->trace, "EHLO %s: 250, STARTTLS %s", helo,
	    r.starttls ? "offered" : "not offered");
	return 0;
}

static int
smtp_starttls(struct smtp_sess *s)
{
	struct smtp_reply r;

	s->res->stage = STAGE_STARTTLS;
	if (!s->res->starttls_offered) {
		smtp_quit_plain(s);
		return smtp_fail(s, 0, "STARTTLS not offered");
	}
	smtp_step(s, s->lim.command_ms, "command_timeout");
	if (smtp_write(s, "STARTTLS\r\n", "STARTTLS") < 0 ||
	    smtp_read_reply(s, &r, "STARTTLS reply") < 0)
		return -1;
	if (r.code != 220) {
		smtp_quit_plain(s);
		return smtp_fail(s, r.code < 500, "STARTTLS: %d %.100s",
		    r.code, r.text);
	}
	trace_add(s->trace, "STARTTLS: %d %.100s", r.code, r.text);
	if (s->len > 0)
		return smtp_fail(s, 0, "the server sent %zu bytes after its "
		    "STARTTLS reply, before the TLS handshake", s->len);
	return 0;
}

/* SNI only for a host name: not an IPv4 or IPv6 literal, not empty. */
static int
smtp_sni_is_name(const char *sni)
{
	unsigned char	tmp[sizeof(struct in6_addr)];

	if (sni == NULL || sni[0] == '\0' || sni[0] == '[')
		return 0;
	return inet_pton(AF_INET, sni, tmp) != 1 &&
	    inet_pton(AF_INET6, sni, tmp) != 1;
}

/* Why SSL_connect() failed: sets the reason. Always -1. */
static int
smtp_tls_error(struct smtp_sess *s, int err)
{
	unsigned long	e = ERR_peek_last_error();
	const char	*why;
	int		 eno = tlsctx_bio_errno(s->bio);

	if (err == SSL_ERROR_SSL && e != 0 &&
	    ERR_GET_REASON(e) != SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		why = ERR_reason_error_string(e);
		return smtp_fail(s, 0, "TLS handshake failed: %.100s",
		    why != NULL ? why : "unknown error");
	}
	if (tlsctx_bio_eof(s->bio) || (e != 0 &&
	    ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
		return smtp_fail(s, 1, "connection closed by the server "
		    "during the TLS handshake");
	if (eno != 0)
		return smtp_fail(s, 1, "TLS handshake: %s", strerror(eno));
	return smtp_fail(s, 1, "TLS handshake failed (SSL error %d)", err);
}

/* Drive a non-blocking SSL call; rc is its return. 1 again, 0 timeout. */
static int
smtp_tls_wait(struct smtp_sess *s, int err, const struct deadline *dl)
{
	if (err == SSL_ERROR_WANT_READ)
		return smtp_wait(s->fd, POLLIN, dl) > 0;
	if (err == SSL_ERROR_WANT_WRITE)
		return smtp_wait(s->fd, POLLOUT, dl) > 0;
	return -1;
}

static int
smtp_handshake(struct smtp_sess *s, SSL_CTX *ctx, const char *sni)
{
	int	rc, err, w;

	s->res->stage = STAGE_HANDSHAKE;
	smtp_step(s, s->lim.command_ms, "command_timeout");
	ERR_clear_error();
	if ((s->ssl = SSL_new(ctx)) == NULL ||
	    (s->bio = tlsctx_bio_new(s->fd)) == NULL)
		return smtp_fail(s, 1, "TLS: out of memory");
	SSL_set_bio(s->ssl, s->bio, s->bio);
	if (SSL_set_tlsext_status_type(s->ssl, TLSEXT_STATUSTYPE_ocsp) != 1)
		ERR_clear_error();	/* no stapling: not a failure */
	if (smtp_sni_is_name(sni) &&
	    SSL_set_tlsext_host_name(s->ssl, sni) != 1)
		return smtp_fail(s, 0, "TLS: bad SNI name");
	trace_add(s->trace, "TLS: SNI %.100s", smtp_sni_is_name(sni) ? sni :
	    "not sent");
	if (s->lim.dane != NULL && dane_ssl_setup(s->ssl, s->lim.dane) != 0)
		return smtp_fail(s, 1, "TLS: OpenSSL refused the TLSA records");
	for (;;) {
		if ((rc = SSL_connect(s->ssl)) == 1)
			break;
		err = SSL_get_error(s->ssl, rc);
		if ((w = smtp_tls_wait(s, err, &s->step)) < 0)
			return smtp_tls_error(s, err);
		if (w == 0)
			return smtp_fail(s, 1, "TLS handshake timed out (%s)",
			    s->why);
	}
	return 0;
}

/* Keep a stapled OCSP response (bounded), and say whether there was one. */
static void
smtp_staple(struct smtp_sess *s)
{
	const unsigned char	*p = NULL;
	long			 len;

	len = SSL_get_tlsext_status_ocsp_resp(s->ssl, &p);
	if (p == NULL || len <= 0) {
		trace_add(s->trace, "TLS: no OCSP response stapled");
		return;
	}
	if (len > SMTP_MAXSTAPLE) {
		trace_add(s->trace, "TLS: stapled OCSP response of %ld bytes "
		    "ignored (limit %d)", len, SMTP_MAXSTAPLE);
		return;
	}
	s->res->ocsp = xmalloc((size_t)len);
	memcpy(s->res->ocsp, p, (size_t)len);
	s->res->ocsp_len = (size_t)len;
	trace_add(s->trace, "TLS: OCSP response stapled (%ld bytes)", len);
}

static void
smtp_collect(struct smtp_sess *s)
{
	struct smtp_result *res = s->res;
	STACK_OF(X509)	   *chain;
	const char	   *c;

	res->tls = 1;
	(void)snprintf(res->tls_version, sizeof(res->tls_version), "%s",
	    SSL_get_version(s->ssl));
	c = SSL_get_cipher_name(s->ssl);
	(void)snprintf(res->cipher, sizeof(res->cipher), "%s",
	    c != NULL ? c : "?");
	res->leaf = SSL_get1_peer_certificate(s->ssl);
	chain = SSL_get_peer_cert_chain(s->ssl);
	res->chain = chain != NULL ? X509_chain_up_ref(chain) : NULL;
	res->verify_result = SSL_get_verify_result(s->ssl);
	if (s->lim.dane != NULL)
		dane_collect(s->ssl, s->lim.dane, &res->dane);
	trace_add(s->trace, "TLS: %s %s", res->tls_version, res->cipher);
	smtp_staple(s);
	trace_add(s->trace, "TLS: %d certificate(s) sent, OpenSSL verify "
	    "result %ld (%s)", chain != NULL ? sk_X509_num(chain) : 0,
	    res->verify_result,
	    X509_verify_cert_error_string(res->verify_result));
}

/*
 * QUIT over TLS, its reply not awaited (issue 14: a round trip the verdict
 * never needed): QUIT and close_notify are written (at most min(1 s,
 * deadline) for room in the socket), the write side is shut, what the
 * server sent meanwhile (session tickets) is read off unparsed, so that
 * close() sends a FIN, not a reset, before the server has read the QUIT.
 */
static void
smtp_quit_tls(struct smtp_sess *s)
{
	struct deadline	q;
	char		buf[4096];
	int		rc, i;

	deadline_init(&q, deadline_min_ms(s->dl, 1000));
	while ((rc = SSL_write(s->ssl, "QUIT\r\n", 6)) <= 0)
		if (smtp_tls_wait(s, SSL_get_error(s->ssl, rc), &q) <= 0)
			break;
	trace_add(s->trace, rc > 0 ? "QUIT: sent (the reply is not awaited)" :
	    "QUIT: not sent");
	if (rc > 0 && SSL_shutdown(s->ssl) < 0)
		ERR_clear_error();
	ERR_clear_error();
	(void)shutdown(s->fd, SHUT_WR);
	for (i = 0; i < 16; i++)	/* at most 64 KiB, never waits */
		if (recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

int
smtp_probe(SSL_CTX *ctx, const struct ipaddr *addr, unsigned port,
    const char *sni, const char *helo, const struct smtp_limits *lim,
    const struct deadline *dl, struct trace *trace, struct smtp_result *res)
{
	struct smtp_sess s;
	int		 rv = -1;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.dl = dl;
	if (lim != NULL)
		s.lim = *lim;
	s.trace = trace;
	s.res = res;
	smtp_addr_text(&s, addr, port);
	res->stage = STAGE_CONNECT;
	if (smtp_connect(&s, addr, port) < 0 || smtp_banner(&s) < 0 ||
	    smtp_ehlo(&s, helo) < 0 || smtp_starttls(&s) < 0 ||
	    smtp_handshake(&s, ctx, sni) < 0)
		goto out;
	smtp_collect(&s);
	smtp_quit_tls(&s);
	rv = 0;
out:
	SSL_free(s.ssl);	/* frees the BIO too */
	if (s.ssl == NULL && s.bio != NULL)
		BIO_free(s.bio);
	if (s.fd >= 0)
		close(s.fd);
	ERR_clear_error();
	return rv;
}
