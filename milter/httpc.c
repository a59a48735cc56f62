/*
 * httpc.c - one bounded HTTPS exchange (API in httpc.h). Used by TLS-RPT
 * to POST reports; written to be the shared client of the project's
 * HTTPS uses (mtasts_fetch.c has its own copy of these steps today).
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

#include "httpc.h"
#include "text.h"
#include "tlsctx.h"
#include "xalloc.h"

struct hx {
	const struct httpc_req	*req;
	struct deadline		 lim;
	int			 fd;
	SSL			*ssl;
	char			*err;
	size_t			 errlen;
};

static int hx_fail(struct hx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
hx_fail(struct hx *h, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(h->err, h->errlen, fmt, ap);
	va_end(ap);
	(void)text_safe(h->err);
	return -1;
}

static int
hx_wait(struct hx *h, short events)
{
	struct pollfd	pfd;
	long		ms;
	int		n;

	for (;;) {
		if ((ms = deadline_left_ms(&h->lim)) == 0)
			return -1;
		pfd.fd = h->fd;
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
hx_connect1(struct hx *h, const struct ipaddr *a)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;
	socklen_t		sl, el = sizeof(int);
	int			e = 0;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)h->req->port);
		s4->sin_addr = a->u.v4;
		sl = sizeof(*s4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)h->req->port);
		s6->sin6_addr = a->u.v6;
		sl = sizeof(*s6);
	}
	if ((h->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(h->fd, (struct sockaddr *)&ss, sl) != 0) {
		if (errno != EINPROGRESS || hx_wait(h, POLLOUT) == -1 ||
		    getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 ||
		    e != 0) {
			close(h->fd);
			h->fd = -1;
			return -1;
		}
	}
	return 0;
}

static int
hx_connect(struct hx *h, struct dns_ctx *dns)
{
	static const int	 fam[2] = { AF_INET, AF_INET6 };
	struct ipaddr		*a;
	size_t			 k, i, tried = 0;
	int			 j;

	for (j = 0; j < 2 && h->fd < 0; j++) {
		if (dns_addrs(dns, h->req->host, fam[j], &a, &k) != DNS_OK)
			continue;
		for (i = 0; i < k && h->fd < 0; i++, tried++)
			(void)hx_connect1(h, &a[i]);
		free(a);
	}
	if (h->fd >= 0)
		return 0;
	if (tried == 0)
		return hx_fail(h, "no address for %s (%s)", h->req->host,
		    dns_last_error(dns));
	return hx_fail(h, "cannot connect to %s port %u%s", h->req->host,
	    h->req->port, deadline_passed(&h->lim) ? ": timed out" : "");
}

static int
hx_retry(struct hx *h, int rc)
{
	switch (SSL_get_error(h->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return hx_wait(h, POLLIN);
	case SSL_ERROR_WANT_WRITE:
		return hx_wait(h, POLLOUT);
	default:
		return -1;
	}
}

static int
hx_handshake(struct hx *h)
{
	BIO	*bio;
	long	 v;
	int	 rc;

	if ((h->ssl = SSL_new(h->req->ssl)) == NULL ||
	    (bio = tlsctx_bio_new(h->fd)) == NULL)
		return hx_fail(h, "out of memory");
	SSL_set_bio(h->ssl, bio, bio);
	SSL_set_hostflags(h->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set_tlsext_host_name(h->ssl, h->req->host) != 1 ||
	    SSL_set1_host(h->ssl, h->req->host) != 1)
		return hx_fail(h, "bad host name");
	while ((rc = SSL_connect(h->ssl)) != 1) {
		if (hx_retry(h, rc) == 0)
			continue;
		if ((v = SSL_get_verify_result(h->ssl)) != X509_V_OK)
			return hx_fail(h, "certificate not valid for %s: %s",
			    h->req->host, X509_verify_cert_error_string(v));
		return hx_fail(h, "TLS handshake with %s failed%s",
		    h->req->host, deadline_passed(&h->lim) ? ": timed out" :
		    "");
	}
	return 0;
}

static int
hx_write(struct hx *h, const void *buf, size_t len)
{
	size_t	off = 0;
	int	rc;

	while (off < len) {
		rc = SSL_write(h->ssl, (const char *)buf + off,
		    (int)(len - off > 65536 ? 65536 : len - off));
		if (rc > 0)
			off += (size_t)rc;
		else if (hx_retry(h, rc) == -1)
			return hx_fail(h, "sending the request failed%s",
			    deadline_passed(&h->lim) ? ": timed out" : "");
	}
	return 0;
}

/* Read until the head ends (or EOF); parse the status line. */
static int
hx_response(struct hx *h, struct httpc_resp *resp)
{
	char	buf[HTTPC_MAX_HEAD + 1];
	size_t	len = 0, n;
	int	rc, code;

	while (len < HTTPC_MAX_HEAD) {
		rc = SSL_read(h->ssl, buf + len, (int)(HTTPC_MAX_HEAD - len));
		if (rc > 0) {
			len += (size_t)rc;
			buf[len] = '\0';
			if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
				break;
		} else if (SSL_get_error(h->ssl, rc) == SSL_ERROR_ZERO_RETURN ||
		    hx_retry(h, rc) == -1)
			break;
	}
	buf[len] = '\0';
	n = strcspn(buf, "\r\n");
	(void)text_printable(resp->line, sizeof(resp->line), buf, n, NULL);
	if (n < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' ||
	    sscanf(buf + 9, "%3d", &code) != 1 || code < 100 || code > 599)
		return hx_fail(h, "no HTTP response from %s%s", h->req->host,
		    deadline_passed(&h->lim) ? " (timed out)" : "");
	resp->status = code;
	return 0;
}

int
httpc_exchange(struct dns_ctx *dns, const struct httpc_req *req,
    struct httpc_resp *resp, char *err, size_t errlen)
{
	struct hx	h;
	int		rv = -1;

	memset(&h, 0, sizeof(h));
	memset(resp, 0, sizeof(*resp));
	h.req = req;
	h.fd = -1;
	h.err = err;
	h.errlen = errlen;
	err[0] = '\0';
	deadline_init(&h.lim, req->timeout_ms);
	dns_set_deadline(dns, &h.lim);
	if (hx_connect(&h, dns) == 0 && hx_handshake(&h) == 0 &&
	    hx_write(&h, req->head, strlen(req->head)) == 0 &&
	    hx_write(&h, req->body, req->len) == 0 &&
	    hx_response(&h, resp) == 0)
		rv = 0;
	dns_set_deadline(dns, NULL);
	if (h.ssl != NULL) {
		(void)SSL_shutdown(h.ssl);
		SSL_free(h.ssl);
	}
	if (h.fd >= 0)
		close(h.fd);
	ERR_clear_error();
	return rv;
}
