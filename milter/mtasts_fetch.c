/*
 * mtasts_fetch.c - GET https://mta-sts.DOMAIN:PORT/.well-known/mta-sts.txt
 * (RFC 8461 3.3; SPEC 12); API in mtasts_int.h: mtasts_fetch().
 *
 * A small HTTP/1.0 client over OpenSSL rather than OSSL_HTTP_*: the name
 * must be resolved through the project's resolver ([dns] nameserver, not
 * getaddrinfo), the limits are in milliseconds rather than whole seconds,
 * and every rule below (no redirect, one status, the Content-Type, the
 * size) is checked here in a few lines. HTTP/1.0 so that the server never
 * answers in chunks (RFC 7230 3.3.1); a Transfer-Encoding anyway fails.
 *
 * Steps, all within min([mtasts] timeout, the caller's deadline):
 * A then AAAA of mta-sts.DOMAIN (dns.c); each address in turn until a TCP
 * connection is made (non-blocking, poll); TLS 1.2 or newer with SNI
 * mta-sts.DOMAIN, the chain verified against the context's trust anchors
 * and the leaf checked for that name (X509_check_host rules through
 * SSL_set1_host, no partial wildcards); the request; the response head
 * (at most MTASTS_MAX_HEADER bytes, mtasts_http.c), which must say 200
 * (3xx: "redirect refused"), Content-Type text/plain (parameters
 * allowed), no Transfer-Encoding; the body up to Content-Length or, when
 * there is none, to the TLS close_notify (an EOF without it: truncated,
 * a failure), at most MTASTS_MAX_BODY bytes.
 *
 * Failures: the certificate -> "sts-webpki-invalid"; anything else ->
 * "sts-policy-fetch-error"; out->temp = 1 when the caller's deadline (not
 * [mtasts] timeout) is what ran out. The caller's dns context gets the
 * fetch's limit as its deadline for the A/AAAA lookups and dl back after.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mtasts_int.h"
#include "tlsctx.h"
#include "xalloc.h"

struct fetch {
	struct mtasts_ctx	*ctx;
	char			 host[NAME_BUFLEN + 8];
	int			 fd;
	SSL			*ssl;
	struct deadline		 lim;
	int			 caller_binds;	/* dl is before the timeout */
	struct trace		*trace;
	struct mtasts_fetched	*out;
	char			*buf;		/* head + body */
	size_t			 len;
};

static int
fetch_fail(struct fetch *f, const char *rpt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fetch_fail(struct fetch *f, const char *rpt, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(f->out->reason, sizeof(f->out->reason), fmt, ap);
	va_end(ap);
	f->out->rpt = rpt;
	trace_add(f->trace, "MTA-STS fetch https://%s: %s", f->host,
	    f->out->reason);
	return -1;
}

/* Time ran out: whose limit was it? */
static int
fetch_timeout(struct fetch *f, const char *what)
{
	f->out->temp = f->caller_binds;
	return fetch_fail(f, "sts-policy-fetch-error", "%s: timed out (%s)",
	    what, f->caller_binds ? "deadline" : "[mtasts] timeout");
}

/* 0 when fd is ready for events, -1 when the limit passed first. */
static int
fetch_wait(struct fetch *f, short events)
{
	struct pollfd	pfd;
	long		ms;
	int		n;

	for (;;) {
		if ((ms = deadline_left_ms(&f->lim)) == 0)
			return -1;
		pfd.fd = f->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(ms > 60000 ? 60000 : ms));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int
fetch_sockaddr(const struct ipaddr *a, unsigned port,
    struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr = a->u.v4;
		*sl = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = a->u.v6;
		*sl = sizeof(*sin6);
	}
	return 0;
}

/* One TCP connection; 0, or -1 with the reason in why. */
static int
fetch_connect1(struct fetch *f, const struct ipaddr *a, char *why,
    size_t wlen)
{
	struct sockaddr_storage	ss;
	socklen_t		sl, el = sizeof(int);
	int			e = 0;

	(void)fetch_sockaddr(a, f->ctx->port, &ss, &sl);
	f->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (f->fd < 0)
		e = errno;
	else if (connect(f->fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS)
			e = errno;
		else if (fetch_wait(f, POLLOUT) == -1)
			e = ETIMEDOUT;
		else if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
	}
	if (e == 0)
		return 0;
	(void)snprintf(why, wlen, "%s", strerror(e));
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	return -1;
}

static void
fetch_addrs(struct fetch *f, struct dns_ctx *dns, struct ipaddr **all,
    size_t *n)
{
	static const int	 fam[2] = { AF_INET, AF_INET6 };
	struct ipaddr		*a;
	size_t			 k, i;
	int			 j;

	*all = NULL;
	*n = 0;
	for (j = 0; j < 2; j++) {
		if (dns_addrs(dns, f->host, fam[j], &a, &k) != DNS_OK)
			continue;
		*all = xreallocarray(*all, *n + k, sizeof(**all));
		for (i = 0; i < k; i++)
			(*all)[(*n)++] = a[i];
		free(a);
	}
}

static int
fetch_connect(struct fetch *f, struct dns_ctx *dns)
{
	struct ipaddr	*a;
	size_t		 n, i;
	char		 ip[INET6_ADDRSTRLEN], why[128] = "";

	fetch_addrs(f, dns, &a, &n);
	if (n == 0 && deadline_passed(&f->lim))
		return fetch_timeout(f, "address lookup");
	if (n == 0)
		return fetch_fail(f, "sts-policy-fetch-error", "no address for "
		    "%s (%s)", f->host, dns_last_error(dns));
	for (i = 0; i < n; i++) {
		if (fetch_connect1(f, &a[i], why, sizeof(why)) == 0)
			break;
		trace_add(f->trace, "MTA-STS connect %s port %u: %s",
		    conf_ipaddr_str(&a[i], ip, sizeof(ip)), f->ctx->port, why);
	}
	free(a);
	if (f->fd >= 0)
		return 0;
	if (deadline_passed(&f->lim))
		return fetch_timeout(f, "connect");
	return fetch_fail(f, "sts-policy-fetch-error", "cannot connect: %s",
	    why);
}

/* After an SSL call returned rc <= 0: 0 to retry, -1 for an error. */
static int
fetch_ssl_retry(struct fetch *f, int rc)
{
	switch (SSL_get_error(f->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return fetch_wait(f, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return fetch_wait(f, POLLOUT);
	default:
		return -1;
	}
}

static int
fetch_handshake(struct fetch *f)
{
	BIO	*bio;
	long	 v;
	int	 rc;

	if ((f->ssl = SSL_new(f->ctx->ssl)) == NULL ||
	    (bio = tlsctx_bio_new(f->fd)) == NULL)
		return fetch_fail(f, "sts-policy-fetch-error", "out of memory");
	SSL_set_bio(f->ssl, bio, bio);
	SSL_set_hostflags(f->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(f->ssl, f->host) != 1 ||
	    SSL_set1_host(f->ssl, f->host) != 1)
		return fetch_fail(f, "sts-policy-fetch-error", "bad SNI name");
	while ((rc = SSL_connect(f->ssl)) != 1) {
		if (fetch_ssl_retry(f, rc) == 0)
			continue;
		if (deadline_passed(&f->lim))
			return fetch_timeout(f, "TLS handshake");
		if ((v = SSL_get_verify_result(f->ssl)) != X509_V_OK)
			return fetch_fail(f, "sts-webpki-invalid", "certificate "
			    "not valid for %s: %s", f->host,
			    X509_verify_cert_error_string(v));
		return fetch_fail(f, "sts-policy-fetch-error", "TLS handshake "
		    "failed");
	}
	trace_add(f->trace, "MTA-STS TLS %s: %s, certificate valid for %s",
	    f->host, SSL_get_version(f->ssl), f->host);
	return 0;
}

static int
fetch_request(struct fetch *f)
{
	char	req[512], port[8] = "";
	int	n, rc, off = 0;

	if (f->ctx->port != 443)
		(void)snprintf(port, sizeof(port), ":%u", f->ctx->port);
	n = snprintf(req, sizeof(req), "GET /.well-known/mta-sts.txt "
	    "HTTP/1.0\r\nHost: %s%s\r\nUser-Agent: tlsverify-milter/%s\r\n"
	    "Accept: text/plain\r\nConnection: close\r\n\r\n", f->host, port,
	    TV_VERSION);
	if (n < 0 || (size_t)n >= sizeof(req))
		return fetch_fail(f, "sts-policy-fetch-error", "request too long");
	while (off < n) {
		if ((rc = SSL_write(f->ssl, req + off, n - off)) > 0) {
			off += rc;
			continue;
		}
		if (fetch_ssl_retry(f, rc) == -1)
			return deadline_passed(&f->lim) ? fetch_timeout(f,
			    "request") : fetch_fail(f, "sts-policy-fetch-error",
			    "request: connection lost");
	}
	return 0;
}

/* The end of the head in f->buf: offset of the body, 0 when not yet. */
static size_t
fetch_head_end(const struct fetch *f, size_t *headlen)
{
	size_t	i;

	for (i = 0; i + 1 < f->len; i++) {
		if (f->buf[i] != '\n')
			continue;
		if (f->buf[i + 1] == '\n') {
			*headlen = i;
			return i + 2;
		}
		if (i + 2 < f->len && f->buf[i + 1] == '\r' &&
		    f->buf[i + 2] == '\n') {
			*headlen = i;
			return i + 3;
		}
	}
	return 0;
}

/*
 * Read into f->buf until want bytes are there (or EOF: *eof = 1, clean
 * only with close_notify), at most cap bytes. 0, or -1 (failed).
 */
static int
fetch_read(struct fetch *f, size_t cap, int *eof, int *clean)
{
	int	rc, e;

	*eof = *clean = 0;
	if (f->len >= cap)
		return 0;
	for (;;) {
		rc = SSL_read(f->ssl, f->buf + f->len, (int)(cap - f->len));
		if (rc > 0) {
			f->len += (size_t)rc;
			return 0;
		}
		e = SSL_get_error(f->ssl, rc);
		if (e == SSL_ERROR_ZERO_RETURN) {
			*eof = *clean = 1;
			return 0;
		}
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (fetch_wait(f, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT) == 0)
				continue;
			return fetch_timeout(f, "response");
		}
		*eof = 1;			/* reset, or EOF without TLS end */
		ERR_clear_error();
		return 0;
	}
}

static int
fetch_check_head(struct fetch *f, const struct mtasts_http *h)
{
	if (h->status >= 300 && h->status < 400)
		return fetch_fail(f, "sts-policy-fetch-error", "HTTP %d: "
		    "redirect refused", h->status);
	if (h->status != 200)
		return fetch_fail(f, "sts-policy-fetch-error", "HTTP %d",
		    h->status);
	if (strcmp(h->ctype, "text/plain") != 0)
		return fetch_fail(f, "sts-policy-fetch-error", "Content-Type "
		    "'%s' is not text/plain", h->ctype);
	if (h->coded)
		return fetch_fail(f, "sts-policy-fetch-error", "Transfer-"
		    "Encoding refused");
	if (h->clen > MTASTS_MAX_BODY)
		return fetch_fail(f, "sts-policy-fetch-error", "body of %ld "
		    "bytes is over 65536", h->clen);
	return 0;
}

/* Read the head; on return f->buf[*body..f->len) is the start of the body. */
static int
fetch_head(struct fetch *f, struct mtasts_http *h, size_t *body)
{
	char	err[128];
	size_t	hl = 0;
	int	eof, clean;

	while ((*body = fetch_head_end(f, &hl)) == 0) {
		if (f->len >= MTASTS_MAX_HEADER)
			return fetch_fail(f, "sts-policy-fetch-error",
			    "response head over %d bytes", MTASTS_MAX_HEADER);
		if (fetch_read(f, MTASTS_MAX_HEADER, &eof, &clean) == -1)
			return -1;
		if (eof)
			return fetch_fail(f, "sts-policy-fetch-error",
			    "connection closed before the response head ended");
	}
	if (mtasts_http_head(f->buf, hl, h, err, sizeof(err)) == -1)
		return fetch_fail(f, "sts-policy-fetch-error", "%s", err);
	return fetch_check_head(f, h);
}

static int
fetch_body(struct fetch *f, const struct mtasts_http *h, size_t body)
{
	size_t	cap = body + MTASTS_MAX_BODY + 1;
	int	eof = 0, clean = 0;

	if (h->clen >= 0)
		cap = body + (size_t)h->clen;
	while (f->len < cap && !eof)
		if (fetch_read(f, cap, &eof, &clean) == -1)
			return -1;
	if (f->len - body > MTASTS_MAX_BODY)
		return fetch_fail(f, "sts-policy-fetch-error", "body over "
		    "65536 bytes");
	if (h->clen >= 0 && f->len < cap)
		return fetch_fail(f, "sts-policy-fetch-error", "body shorter "
		    "than its Content-Length");
	if (h->clen < 0 && !clean)
		return fetch_fail(f, "sts-policy-fetch-error", "connection "
		    "ended without TLS close_notify (body may be truncated)");
	f->out->len = f->len - body;
	f->out->body = xmalloc(f->out->len + 1);
	memcpy(f->out->body, f->buf + body, f->out->len);
	f->out->body[f->out->len] = '\0';
	return 0;
}

static void
fetch_limit(struct fetch *f, const struct deadline *dl)
{
	long	ms = (long)f->ctx->timeout * 1000L;

	f->caller_binds = dl != NULL && deadline_left_ms(dl) < ms;
	if (f->caller_binds)
		f->lim = *dl;
	else
		deadline_init(&f->lim, ms);
}

int
mtasts_fetch(struct mtasts_ctx *ctx, struct dns_ctx *dns, const char *domain,
    const struct deadline *dl, struct trace *trace, struct mtasts_fetched *out)
{
	struct fetch		f;
	struct mtasts_http	h;
	size_t			body;
	int			rv = -1;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	f.fd = -1;
	f.trace = trace;
	f.out = out;
	(void)snprintf(f.host, sizeof(f.host), "mta-sts.%s", domain);
	if (!name_is_hostname(f.host, strlen(f.host)))
		return fetch_fail(&f, "sts-policy-fetch-error", "invalid name");
	fetch_limit(&f, dl);
	dns_set_deadline(dns, &f.lim);
	f.buf = xmalloc(MTASTS_MAX_HEADER + MTASTS_MAX_BODY + 2);
	if (fetch_connect(&f, dns) == 0 && fetch_handshake(&f) == 0 &&
	    fetch_request(&f) == 0 && fetch_head(&f, &h, &body) == 0 &&
	    fetch_body(&f, &h, body) == 0)
		rv = 0;
	if (rv == 0)
		trace_add(trace, "MTA-STS fetch https://%s:%u/.well-known/"
		    "mta-sts.txt: 200, %zu bytes", f.host, ctx->port, out->len);
	dns_set_deadline(dns, dl);
	if (f.ssl != NULL)
		SSL_free(f.ssl);
	if (f.fd >= 0)
		close(f.fd);
	free(f.buf);
	ERR_clear_error();
	return rv;
}
