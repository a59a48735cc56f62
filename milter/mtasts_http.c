/*
 * mtasts_http.c - the head of the HTTP response to an MTA-STS policy
 * request (API in mtasts_int.h: mtasts_http_head()).
 *
 * mtasts_http_head(buf, len, &h, err, errlen) parses buf[0..len), the
 * status line and header lines without the empty line that ends them
 * (the caller finds it; at most MTASTS_MAX_HEADER bytes). Lines end in
 * CRLF or LF. The status line must be "HTTP/1.0 " or "HTTP/1.1 " and three
 * digits; header lines "Name: value" with a token name (folded lines,
 * a NUL or another control byte other than tab: malformed). It keeps the
 * status code, the media type of Content-Type (before any ';', trimmed,
 * lower case, at most 63 bytes; a second Content-Type: malformed),
 * Content-Length (digits only; -1 when absent; two different values:
 * malformed) and whether a Transfer-Encoding other than "identity" was
 * sent. Returns 0, or -1 with a reason in err.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts_int.h"

static int
http_fail(char *err, size_t errlen, const char *what)
{
	(void)snprintf(err, errlen, "malformed HTTP response: %s", what);
	return -1;
}

static int
http_token(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("!#$%&'*+-.^_`|~", s[i]) == NULL)
			return 0;
	return 1;
}

static int
http_status(const char *l, size_t n, struct mtasts_http *h)
{
	if (n < 12 || (memcmp(l, "HTTP/1.0 ", 9) != 0 &&
	    memcmp(l, "HTTP/1.1 ", 9) != 0) || !isdigit((unsigned char)l[9]) ||
	    !isdigit((unsigned char)l[10]) || !isdigit((unsigned char)l[11]) ||
	    (n > 12 && l[12] != ' '))
		return -1;
	h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return 0;
}

static int
http_ctype(const char *v, size_t n, struct mtasts_http *h)
{
	size_t	i, e;

	if (h->ctype[0] != '\0')
		return -1;
	for (e = 0; e < n && v[e] != ';'; e++)
		;
	while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'))
		e--;
	if (e == 0 || e >= sizeof(h->ctype))
		return -1;
	for (i = 0; i < e; i++)
		h->ctype[i] = (char)tolower((unsigned char)v[i]);
	h->ctype[e] = '\0';
	return 0;
}

static int
http_clen(const char *v, size_t n, struct mtasts_http *h)
{
	long	x = 0;
	size_t	i;

	if (n == 0 || n > 12)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (h->clen >= 0 && h->clen != x)
		return -1;
	h->clen = x;
	return 0;
}

/* One header line l[0..n). */
static int
http_header(const char *l, size_t n, struct mtasts_http *h, char *err,
    size_t errlen)
{
	const char	*c = memchr(l, ':', n), *v;
	size_t		 k, vn;

	if (c == NULL || !http_token(l, (size_t)(c - l)))
		return http_fail(err, errlen, "bad header line");
	k = (size_t)(c - l);
	v = c + 1;
	vn = n - k - 1;
	while (vn > 0 && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (k == 12 && strncasecmp(l, "Content-Type", 12) == 0)
		return http_ctype(v, vn, h) == 0 ? 0 :
		    http_fail(err, errlen, "bad or repeated Content-Type");
	if (k == 14 && strncasecmp(l, "Content-Length", 14) == 0)
		return http_clen(v, vn, h) == 0 ? 0 :
		    http_fail(err, errlen, "bad Content-Length");
	if (k == 17 && strncasecmp(l, "Transfer-Encoding", 17) == 0 &&
	    !(vn == 8 && strncasecmp(v, "identity", 8) == 0))
		h->coded = 1;
	return 0;
}

int
mtasts_http_head(const char *buf, size_t len, struct mtasts_http *h,
    char *err, size_t errlen)
{
	const char	*nl;
	size_t		 off = 0, raw, n, i;
	int		 first = 1;

	memset(h, 0, sizeof(*h));
	h->clen = -1;
	if (len > MTASTS_MAX_HEADER)
		return http_fail(err, errlen, "header too long");
	while (off < len) {
		nl = memchr(buf + off, '\n', len - off);
		raw = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		n = raw;
		if (n > 0 && buf[off + n - 1] == '\r')
			n--;
		for (i = 0; i < n; i++)
			if ((unsigned char)buf[off + i] < 0x20 &&
			    buf[off + i] != '\t')
				return http_fail(err, errlen, "control byte");
		if (first) {
			if (http_status(buf + off, n, h) == -1)
				return http_fail(err, errlen, "bad status line");
			first = 0;
		} else if (n == 0 || buf[off] == ' ' || buf[off] == '\t')
			return http_fail(err, errlen, "empty or folded line");
		else if (http_header(buf + off, n, h, err, errlen) == -1)
			return -1;
		off += raw + (nl != NULL);
	}
	if (first)
		return http_fail(err, errlen, "no status line");
	return 0;
}
