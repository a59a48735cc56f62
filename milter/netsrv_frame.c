/*
 * netsrv_frame.c - netstring, line and HTTP head framing for netsrv (see
 * netsrv.h).
 *
 * Pure functions over a byte buffer that may hold a partial request: they
 * never read past len, decide as early as the bytes allow (a too-long
 * length prefix is refused before any of the body arrives), and name
 * the reason of a refusal with static text.
 */
#include <stdio.h>
#include <string.h>

#include "netsrv.h"

static enum netsrv_parse
netsrv_bad(struct netsrv_frame *f, const char *why)
{
	f->why = why;
	return NETSRV_BAD;
}

enum netsrv_parse
netsrv_netstring(const char *buf, size_t len, size_t max,
    struct netsrv_frame *f)
{
	size_t	i, n = 0;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (i == NETSRV_NETSTRING_DIGITS)
			return netsrv_bad(f, "length prefix too long");
		if (i == 1 && buf[0] == '0')
			return netsrv_bad(f, "leading zero in length");
		n = n * 10 + (size_t)(buf[i] - '0');
		if (n > max)
			return netsrv_bad(f, "request too long");
	}
	if (i == len)
		return NETSRV_MORE;
	if (i == 0)
		return netsrv_bad(f, "length is not a number");
	if (buf[i] != ':')
		return netsrv_bad(f, "missing ':' after length");
	/* i + 1 + n + 1 <= len, without overflow: n <= max, i <= 5 */
	if (len - i - 1 < n + 1)
		return NETSRV_MORE;
	if (buf[i + 1 + n] != ',')
		return netsrv_bad(f, "missing ',' after data");
	if (memchr(buf + i + 1, '\0', n) != NULL)
		return netsrv_bad(f, "NUL byte in request");
	f->off = i + 1;
	f->len = n;
	f->used = i + 1 + n + 1;
	return NETSRV_REQ;
}

enum netsrv_parse
netsrv_line(const char *buf, size_t len, size_t max, int eof,
    struct netsrv_frame *f)
{
	size_t		 scan = len < max + 2 ? len : max + 2;
	const char	*nl = memchr(buf, '\n', scan);
	size_t		 n;

	memset(f, 0, sizeof(*f));
	if (nl != NULL) {
		n = (size_t)(nl - buf);
		f->used = n + 1;
	} else if (len >= max + 2) {
		return netsrv_bad(f, "line too long");
	} else if (eof && len > 0) {
		n = len;
		f->used = len;
	} else
		return NETSRV_MORE;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > max)
		return netsrv_bad(f, "line too long");
	if (memchr(buf, '\0', n) != NULL)
		return netsrv_bad(f, "NUL byte in request");
	f->len = n;
	return NETSRV_REQ;
}

/* The request line must begin with a method: 1-16 of [A-Z], a space. */
static int
netsrv_http_method_bad(const char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len && i <= NETSRV_HTTP_METHOD_MAX; i++) {
		if (buf[i] == ' ')
			return i == 0;
		if (buf[i] < 'A' || buf[i] > 'Z')
			return 1;
	}
	return i > NETSRV_HTTP_METHOD_MAX;
}

enum netsrv_parse
netsrv_http(const char *buf, size_t len, size_t max, struct netsrv_frame *f)
{
	size_t	scan = len < max ? len : max, i;

	memset(f, 0, sizeof(*f));
	if (netsrv_http_method_bad(buf, scan))
		return netsrv_bad(f, "not an HTTP request");
	if (memchr(buf, '\0', scan) != NULL)
		return netsrv_bad(f, "NUL byte in request");
	for (i = 0; i < scan; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < scan && buf[i + 1] == '\n') {
			f->used = i + 2;
			break;
		}
		if (i + 2 < scan && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			f->used = i + 3;
			break;
		}
	}
	if (f->used == 0)
		return len >= max ? netsrv_bad(f, "request too long") :
		    NETSRV_MORE;
	f->len = i + 1;
	return NETSRV_REQ;
}

size_t
netsrv_netstring_fmt(char *dst, size_t dstlen, const char *data, size_t len)
{
	int	h = snprintf(dst, dstlen, "%zu:", len);

	if (h < 0 || (size_t)h >= dstlen || dstlen - (size_t)h < len + 1)
		return 0;
	memcpy(dst + h, data, len);
	dst[h + len] = ',';
	return (size_t)h + len + 1;
}
