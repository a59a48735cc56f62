/*
 * metrics_http.c - the metrics' HTTP side (see metrics.h): [metrics]
 * listen into a netsrv socket spec, and the netsrv handler that answers
 * one request head.
 *
 * netsrv (NETSRV_HTTP) owns the sockets, the bounds and the timers: the
 * handler sees a complete head of at most 8192 bytes without NUL bytes
 * and only reads its first line. Limits: the method is 1-16 upper-case
 * letters (netsrv), the target at most 2048 bytes, the version
 * "HTTP/1.0" or "HTTP/1.1"; header lines are ignored (no keep-alive, no
 * compression).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "netsrv.h"
#include "xalloc.h"

#define MH_TARGET_MAX	2048
#define MH_HOST_MAX	253
#define MH_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

static int
mh_fail(char *spec, size_t len, const char *why)
{
	(void)snprintf(spec, len, "%s", why);
	return -1;
}

int
metrics_listen_spec(const char *v, char *spec, size_t len)
{
	const char	*colon, *host = v, *p;
	size_t		 hlen;
	unsigned long	 port = 0;
	int		 v6 = *v == '[';

	if (v6) {
		if ((p = strchr(v, ']')) == NULL || p[1] != ':' || p == v + 1)
			return mh_fail(spec, len, "expected [IPv6]:PORT");
		if (strspn(v + 1, "0123456789abcdefABCDEF:.") !=
		    (size_t)(p - v - 1))
			return mh_fail(spec, len, "not an IPv6 address");
		colon = p + 1;
	} else {
		if ((colon = strrchr(v, ':')) == NULL || colon == v)
			return mh_fail(spec, len, "expected ADDR:PORT");
		if (memchr(v, ':', (size_t)(colon - v)) != NULL)
			return mh_fail(spec, len, "write an IPv6 address "
			    "in brackets: [ADDR]:PORT");
		if (strspn(v, "0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-") != (size_t)(colon - v))
			return mh_fail(spec, len, "not an address or host "
			    "name");
	}
	hlen = (size_t)(colon - host);
	if (hlen > MH_HOST_MAX + 2)
		return mh_fail(spec, len, "address too long");
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p != '\0' || port < 1 || port > 65535)
		return mh_fail(spec, len, "port must be 1..65535");
	if ((size_t)snprintf(spec, len, "inet:%lu@%.*s", port, (int)hlen,
	    host) >= len)
		return mh_fail(spec, len, "address too long");
	return 0;
}

static void
mh_reply(char *reply, size_t len, const char *status, const char *extra,
    const char *body)
{
	(void)snprintf(reply, len, "HTTP/1.1 %s\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Length: %zu\r\n%sConnection: close\r\n"
	    "\r\n%s\n", status, strlen(body) + 1, extra, body);
}

/* Request line "METHOD TARGET HTTP/1.x": 0 with its parts, else -1. */
static int
mh_parse(const char *req, size_t reqlen, char *method, size_t mlen,
    char *path, size_t plen)
{
	size_t		 n = strcspn(req, "\r\n"), m, t;
	const char	*tg, *ver;

	m = strcspn(req, " ");
	if (m == 0 || m >= mlen || m >= n)
		return -1;
	tg = req + m + 1;
	t = strcspn(tg, " \r\n");
	if (t == 0 || t > MH_TARGET_MAX || t >= plen || *tg != '/' ||
	    tg[t] != ' ')
		return -1;
	ver = tg + t + 1;
	if ((size_t)(ver - req) + 8 != n || (strncmp(ver, "HTTP/1.0", 8) != 0 &&
	    strncmp(ver, "HTTP/1.1", 8) != 0))
		return -1;
	memcpy(method, req, m);
	method[m] = '\0';
	t = strcspn(tg, "? ");		/* the path, without a query */
	memcpy(path, tg, t);
	path[t] = '\0';
	(void)reqlen;
	return 0;
}

void
metrics_http(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	char	 method[NETSRV_HTTP_METHOD_MAX + 1], path[MH_TARGET_MAX + 1];
	char	*body;
	size_t	 n;
	int	 head;

	if (mh_parse(req, reqlen, method, sizeof(method), path,
	    sizeof(path)) != 0) {
		mh_reply(reply, replylen, "400 Bad Request", "",
		    "malformed request line");
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0) {
		mh_reply(reply, replylen, "405 Method Not Allowed",
		    "Allow: GET, HEAD\r\n", "method not allowed");
		return;
	}
	if (strcmp(path, "/metrics") != 0) {
		mh_reply(reply, replylen, "404 Not Found", "",
		    "not found: try /metrics");
		return;
	}
	if (replylen < 512) {
		reply[0] = '\0';
		return;
	}
	body = xmalloc(replylen);
	if ((n = metrics_render(body, replylen - 256)) == 0)
		mh_reply(reply, replylen, "500 Internal Server Error", "",
		    "metrics do not fit in the reply");
	else if ((size_t)snprintf(reply, replylen, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: " MH_CTYPE "\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", n, head ? "" : body) >= replylen)
		reply[0] = '\0';	/* netsrv: 500 */
	free(body);
}
