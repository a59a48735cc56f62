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
 * the connection through httpc_open() (httpc.h: A then AAAA of
 * mta-sts.DOMAIN through dns.c, each address in turn, TLS 1.2 or newer
 * with SNI mta-sts.DOMAIN, the chain verified against the context's trust
 * anchors and the leaf checked for that name, no partial wildcards); the
 * request; the response head (at most MTASTS_MAX_HEADER bytes, read with
 * httpc_read() and parsed by mtasts_http.c), which must say 200
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "mtasts_int.h"
#include "xalloc.h"

struct fetch {
	struct mtasts_ctx	*ctx;
	char			 host[NAME_BUFLEN + 8];
	struct httpc_conn	*conn;
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

/* The connection and its TLS handshake (httpc.h). */
static int
fetch_connect(struct fetch *f, struct dns_ctx *dns)
{
	static const char *const stage[] = {	/* by -HTTPC_E* */
		"", "address lookup", "connect", "", "TLS handshake"
	};
	char	err[sizeof(f->out->reason)];
	int	rc;

	rc = httpc_open(dns, f->host, f->ctx->port, f->ctx->ssl, &f->lim,
	    f->trace, &f->conn, err, sizeof(err));
	if (rc == HTTPC_OK)
		return 0;
	if (rc == HTTPC_ECERT)
		return fetch_fail(f, "sts-webpki-invalid", "%s", err);
	if (deadline_passed(&f->lim))
		return fetch_timeout(f, stage[-rc]);
	return fetch_fail(f, "sts-policy-fetch-error", "%s", err);
}

static int
fetch_request(struct fetch *f)
{
	char	req[512], port[8] = "";
	int	n;

	if (f->ctx->port != 443)
		(void)snprintf(port, sizeof(port), ":%u", f->ctx->port);
	n = snprintf(req, sizeof(req), "GET /.well-known/mta-sts.txt "
	    "HTTP/1.0\r\nHost: %s%s\r\nUser-Agent: tlsverify-milter/%s\r\n"
	    "Accept: text/plain\r\nConnection: close\r\n\r\n", f->host, port,
	    TV_VERSION);
	if (n < 0 || (size_t)n >= sizeof(req))
		return fetch_fail(f, "sts-policy-fetch-error", "request too long");
	if (httpc_write(f->conn, req, (size_t)n) == -1)
		return deadline_passed(&f->lim) ? fetch_timeout(f, "request") :
		    fetch_fail(f, "sts-policy-fetch-error", "request: "
		    "connection lost");
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
 * Read into f->buf, at most up to cap bytes (EOF: *eof = 1, clean only
 * with close_notify). 0, or -1 (the limit passed).
 */
static int
fetch_read(struct fetch *f, size_t cap, int *eof, int *clean)
{
	ssize_t	n;

	*eof = *clean = 0;
	if (f->len >= cap)
		return 0;
	n = httpc_read(f->conn, f->buf + f->len, cap - f->len, eof, clean);
	if (n < 0)
		return fetch_timeout(f, "response");
	f->len += (size_t)n;
	return 0;
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
	f.trace = trace;
	f.out = out;
	(void)snprintf(f.host, sizeof(f.host), "mta-sts.%s", domain);
	if (!name_is_hostname(f.host, strlen(f.host)))
		return fetch_fail(&f, "sts-policy-fetch-error", "invalid name");
	fetch_limit(&f, dl);
	f.buf = xmalloc(MTASTS_MAX_HEADER + MTASTS_MAX_BODY + 2);
	if (fetch_connect(&f, dns) == 0 && fetch_request(&f) == 0 &&
	    fetch_head(&f, &h, &body) == 0 && fetch_body(&f, &h, body) == 0)
		rv = 0;
	if (rv == 0)
		trace_add(trace, "MTA-STS fetch https://%s:%u/.well-known/"
		    "mta-sts.txt: 200, %zu bytes", f.host, ctx->port, out->len);
	dns_set_deadline(dns, dl);
	httpc_close(f.conn);
	free(f.buf);
	return rv;
}
