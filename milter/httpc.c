/*
 * httpc.c - a bounded HTTPS client connection and one exchange over it
 * (API and limits in httpc.h). The one place that resolves, connects and
 * does TLS for the project's HTTPS uses: the MTA-STS policy fetch
 * (mtasts_fetch.c, which reads and judges the response itself) and the
 * TLS-RPT POST (httpc_exchange()).
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

#include "conf.h"
#include "httpc.h"
#include "text.h"
#include "tlsctx.h"
#include "xalloc.h"

struct httpc_conn {
	const char		*host;
	unsigned		 port;
	const struct deadline	*lim;
	struct trace		*trace;
	int			 fd;
	SSL			*ssl;
	int			 sound;		/* handshake done, no fatal error */
};

static int hc_fail(char *, size_t, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
hc_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	(void)text_safe(err);
	return code;
}

/* 0 when fd is ready for events, -1 when the limit passed first. */
static int
hc_wait(struct httpc_conn *c, short events)
{
	struct pollfd	pfd;
	long		ms;
	int		n;

	for (;;) {
		if ((ms = deadline_left_ms(c->lim)) == 0)
			return -1;
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(ms > 60000 ? 60000 : ms));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static socklen_t
hc_sockaddr(const struct ipaddr *a, unsigned port,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr = a->u.v4;
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	s6->sin6_addr = a->u.v6;
	return sizeof(*s6);
}

/* One TCP connection to a: 0, or the errno that stopped it. */
static int
hc_connect1(struct httpc_conn *c, const struct ipaddr *a)
{
	struct sockaddr_storage	ss;
	socklen_t		sl, el = sizeof(int);
	int			e = 0;

	sl = hc_sockaddr(a, c->port, &ss);
	c->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd < 0)
		e = errno;
	else if (connect(c->fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS)
			e = errno;
		else if (hc_wait(c, POLLOUT) == -1)
			e = ETIMEDOUT;
		else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
	}
	if (e != 0 && c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	return e;
}

/* A then AAAA, each address in turn until one connects. */
static int
hc_connect(struct httpc_conn *c, struct dns_ctx *dns, char *err,
    size_t errlen)
{
	static const int	 fam[2] = { AF_INET, AF_INET6 };
	struct ipaddr		*a;
	size_t			 k, i, tried = 0;
	char			 ip[INET6_ADDRSTRLEN];
	int			 j, e = 0;

	for (j = 0; j < 2 && c->fd < 0; j++) {
		if (dns_addrs(dns, c->host, fam[j], &a, &k) != DNS_OK)
			continue;
		for (i = 0; i < k && c->fd < 0; i++, tried++)
			if ((e = hc_connect1(c, &a[i])) != 0)
				trace_add(c->trace, "HTTPS connect %s port "
				    "%u: %s", conf_ipaddr_str(&a[i], ip,
				    sizeof(ip)), c->port, strerror(e));
		free(a);
	}
	if (c->fd >= 0)
		return HTTPC_OK;
	if (tried == 0)
		return hc_fail(err, errlen, HTTPC_ENOADDR, "no address for %s "
		    "(%s)", c->host, dns_last_error(dns));
	return hc_fail(err, errlen, HTTPC_ECONNECT, "cannot connect to %s "
	    "port %u: %s", c->host, c->port, strerror(e));
}

/* After an SSL call returned rc <= 0: 0 to retry, -1 for an error. */
static int
hc_retry(struct httpc_conn *c, int rc)
{
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return hc_wait(c, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return hc_wait(c, POLLOUT);
	case SSL_ERROR_SYSCALL:
	case SSL_ERROR_SSL:
		c->sound = 0;		/* no SSL_shutdown() after these */
		return -1;
	default:
		return -1;
	}
}

static int
hc_handshake(struct httpc_conn *c, SSL_CTX *ctx, char *err, size_t errlen)
{
	BIO	*bio;
	long	 v;
	int	 rc;

	if ((c->ssl = SSL_new(ctx)) == NULL ||
	    (bio = tlsctx_bio_new(c->fd)) == NULL)
		return hc_fail(err, errlen, HTTPC_ETLS, "out of memory");
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(c->ssl, c->host) != 1 ||
	    SSL_set1_host(c->ssl, c->host) != 1)
		return hc_fail(err, errlen, HTTPC_ETLS, "bad host name");
	while ((rc = SSL_connect(c->ssl)) != 1) {
		if (hc_retry(c, rc) == 0)
			continue;
		if (deadline_passed(c->lim))
			return hc_fail(err, errlen, HTTPC_ETLS, "TLS handshake "
			    "with %s: timed out", c->host);
		if ((v = SSL_get_verify_result(c->ssl)) != X509_V_OK)
			return hc_fail(err, errlen, HTTPC_ECERT, "certificate "
			    "not valid for %s: %s", c->host,
			    X509_verify_cert_error_string(v));
		return hc_fail(err, errlen, HTTPC_ETLS, "TLS handshake with %s "
		    "failed", c->host);
	}
	c->sound = 1;
	trace_add(c->trace, "HTTPS TLS %s: %s, certificate valid for %s",
	    c->host, SSL_get_version(c->ssl), c->host);
	return HTTPC_OK;
}

int
httpc_open(struct dns_ctx *dns, const char *host, unsigned port,
    SSL_CTX *ctx, const struct deadline *lim, struct trace *trace,
    struct httpc_conn **out, char *err, size_t errlen)
{
	struct httpc_conn	*c;
	int			 rc;

	*out = NULL;
	err[0] = '\0';
	c = xcalloc(1, sizeof(*c));
	c->host = host;
	c->port = port;
	c->lim = lim;
	c->trace = trace;
	c->fd = -1;
	dns_set_deadline(dns, lim);
	rc = hc_connect(c, dns, err, errlen);
	dns_set_deadline(dns, NULL);
	if (rc == HTTPC_OK)
		rc = hc_handshake(c, ctx, err, errlen);
	if (rc == HTTPC_OK)
		*out = c;
	else
		httpc_close(c);
	return rc;
}

int
httpc_write(struct httpc_conn *c, const void *buf, size_t len)
{
	size_t	off = 0;
	int	rc;

	while (off < len) {
		rc = SSL_write(c->ssl, (const char *)buf + off,
		    (int)(len - off > 65536 ? 65536 : len - off));
		if (rc > 0)
			off += (size_t)rc;
		else if (hc_retry(c, rc) == -1) {
			c->sound = 0;	/* a record may be half written */
			return -1;
		}
	}
	return 0;
}

ssize_t
httpc_read(struct httpc_conn *c, void *buf, size_t cap, int *eof,
    int *clean)
{
	int	rc, e;

	*eof = *clean = 0;
	if (cap > 65536)
		cap = 65536;
	for (;;) {
		if ((rc = SSL_read(c->ssl, buf, (int)cap)) > 0)
			return rc;
		e = SSL_get_error(c->ssl, rc);
		if (e == SSL_ERROR_ZERO_RETURN) {
			*eof = *clean = 1;
			return 0;
		}
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (hc_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT) == 0)
				continue;
			return -1;
		}
		c->sound = 0;		/* reset, or EOF without TLS end */
		*eof = 1;
		ERR_clear_error();
		return 0;
	}
}

void
httpc_close(struct httpc_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (c->sound)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	free(c);
}

/* Read until the head ends (or the connection does); its status line. */
static int
hc_response(struct httpc_conn *c, struct httpc_resp *resp, char *err,
    size_t errlen)
{
	char	buf[HTTPC_MAX_HEAD + 1];
	size_t	len = 0, n;
	ssize_t	rc;
	int	code, eof, clean;

	while (len < HTTPC_MAX_HEAD) {
		if ((rc = httpc_read(c, buf + len, HTTPC_MAX_HEAD - len, &eof,
		    &clean)) <= 0)
			break;
		len += (size_t)rc;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			break;
	}
	buf[len] = '\0';
	n = strcspn(buf, "\r\n");
	(void)text_printable(resp->line, sizeof(resp->line), buf, n, NULL);
	if (n < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    sscanf(buf + 9, "%3d", &code) != 1 || code < 100 || code > 599)
		return hc_fail(err, errlen, -1, "no HTTP response from %s%s",
		    c->host, deadline_passed(c->lim) ? " (timed out)" : "");
	resp->status = code;
	return 0;
}

int
httpc_exchange(struct dns_ctx *dns, const struct httpc_req *req,
    struct httpc_resp *resp, char *err, size_t errlen)
{
	struct httpc_conn	*c;
	struct deadline		 lim;
	int			 rv = -1;

	memset(resp, 0, sizeof(*resp));
	deadline_init(&lim, req->timeout_ms);
	if (httpc_open(dns, req->host, req->port, req->ssl, &lim, NULL, &c,
	    err, errlen) != HTTPC_OK)
		return -1;
	if (httpc_write(c, req->head, strlen(req->head)) == -1 ||
	    httpc_write(c, req->body, req->len) == -1)
		(void)hc_fail(err, errlen, -1, "sending the request failed%s",
		    deadline_passed(&lim) ? ": timed out" : "");
	else if (hc_response(c, resp, err, errlen) == 0)
		rv = 0;
	httpc_close(c);
	return rv;
}
