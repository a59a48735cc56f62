/*
 * test_netsrv.c - netsrv framing: netstrings, lines and HTTP heads, including hostile
 * rows (NUL bytes, huge or malformed length prefixes, overlong lines).
 *
 * Every call gets an exactly sized heap copy of its input, so a read past
 * len is an ASan report (make check SANITIZE=1). For each row every
 * prefix is parsed too: a valid request is NETSRV_MORE until its last
 * byte, and a refusal comes as soon as the bytes prove it (the "at"
 * column: the shortest prefix that is refused).
 */
#include <stdlib.h>
#include <string.h>

#include "netsrv.h"
#include "t.h"

#define NS(s)	s, sizeof(s) - 1

static const struct {
	const char	*in;
	size_t		 inlen;
	size_t		 max;
	int		 want;	/* for the whole input */
	size_t		 off, len, used;
	const char	*why;	/* NETSRV_BAD: the reason */
	size_t		 at;	/* NETSRV_BAD: shortest refused prefix */
} ns[] = {
	{ NS("19:tlspolicy a.example,"), 10000, NETSRV_REQ, 3, 19, 23, NULL, 0 },
	{ NS("0:,"), 10000, NETSRV_REQ, 2, 0, 3, NULL, 0 },
	{ NS("3:abc,3:def,"), 10000, NETSRV_REQ, 2, 3, 6, NULL, 0 },
	{ NS("5:a:b,c,"), 10000, NETSRV_REQ, 2, 5, 8, NULL, 0 },
	{ NS("3:ab"), 10000, NETSRV_MORE, 0, 0, 0, NULL, 0 },
	{ NS("12345"), 99999, NETSRV_MORE, 0, 0, 0, NULL, 0 },
	{ NS("10000:"), 10000, NETSRV_MORE, 0, 0, 0, NULL, 0 },
	{ NS("10001:x"), 10000, NETSRV_BAD, 0, 0, 0, "request too long", 5 },
	{ NS("99999999999999999999:x,"), 10000, NETSRV_BAD, 0, 0, 0,
	  "request too long", 5 },
	{ NS("000001:x,"), 99999999, NETSRV_BAD, 0, 0, 0,
	  "leading zero in length", 2 },
	{ NS("123456:x"), 99999999, NETSRV_BAD, 0, 0, 0,
	  "length prefix too long", 6 },
	{ NS("01:x,"), 10000, NETSRV_BAD, 0, 0, 0, "leading zero in length", 2 },
	{ NS("00:,"), 10000, NETSRV_BAD, 0, 0, 0, "leading zero in length", 2 },
	{ NS("abc"), 10000, NETSRV_BAD, 0, 0, 0, "length is not a number", 1 },
	{ NS(":x,"), 10000, NETSRV_BAD, 0, 0, 0, "length is not a number", 1 },
	{ NS(" 3:abc,"), 10000, NETSRV_BAD, 0, 0, 0, "length is not a number", 1 },
	{ NS("-1:x,"), 10000, NETSRV_BAD, 0, 0, 0, "length is not a number", 1 },
	{ NS("3x:abc,"), 10000, NETSRV_BAD, 0, 0, 0, "missing ':'", 2 },
	{ NS("3;abc,"), 10000, NETSRV_BAD, 0, 0, 0, "missing ':'", 2 },
	{ NS("3:abcd"), 10000, NETSRV_BAD, 0, 0, 0, "missing ','", 6 },
	{ NS("3:abc;"), 10000, NETSRV_BAD, 0, 0, 0, "missing ','", 6 },
	{ NS("3:abc\n"), 10000, NETSRV_BAD, 0, 0, 0, "missing ','", 6 },
	{ NS("3:a\0c,"), 10000, NETSRV_BAD, 0, 0, 0, "NUL byte", 6 },
	{ NS("\0"), 10000, NETSRV_BAD, 0, 0, 0, "length is not a number", 1 },
	{ NS("3\0:abc,"), 10000, NETSRV_BAD, 0, 0, 0, "missing ':'", 2 },
	{ NS("5:hello,"), 4, NETSRV_BAD, 0, 0, 0, "request too long", 1 },
};

static const struct {
	const char	*in;
	size_t		 inlen;
	size_t		 max;
	int		 eof;
	int		 want;
	size_t		 len, used;
	const char	*why;
} ln[] = {
	{ NS("rcpt a.example\n"), 1000, 0, NETSRV_REQ, 14, 15, NULL },
	{ NS("rcpt a.example\r\n"), 1000, 0, NETSRV_REQ, 14, 16, NULL },
	{ NS("rcpt a.example\r\nmore\n"), 1000, 0, NETSRV_REQ, 14, 16, NULL },
	{ NS("rcpt a.example"), 1000, 0, NETSRV_MORE, 0, 0, NULL },
	{ NS("rcpt a.example"), 1000, 1, NETSRV_REQ, 14, 14, NULL },
	{ NS("rcpt a.example\r"), 1000, 1, NETSRV_REQ, 14, 15, NULL },
	{ NS(""), 1000, 1, NETSRV_MORE, 0, 0, NULL },
	{ NS("\n"), 1000, 0, NETSRV_REQ, 0, 1, NULL },
	{ NS("a\r\r\n"), 1000, 0, NETSRV_REQ, 2, 4, NULL },
	{ NS("rc\0pt x\n"), 1000, 0, NETSRV_BAD, 0, 0, "NUL byte" },
	{ NS("12345\n"), 5, 0, NETSRV_REQ, 5, 6, NULL },
	{ NS("12345\r\n"), 5, 0, NETSRV_REQ, 5, 7, NULL },
	{ NS("123456\n"), 5, 0, NETSRV_BAD, 0, 0, "line too long" },
	{ NS("12345\r"), 5, 0, NETSRV_MORE, 0, 0, NULL },
	{ NS("12345\rx"), 5, 0, NETSRV_BAD, 0, 0, "line too long" },
	{ NS("1234567"), 5, 0, NETSRV_BAD, 0, 0, "line too long" },
	{ NS("123456"), 5, 1, NETSRV_BAD, 0, 0, "line too long" },
};

/* HTTP heads; at: the shortest prefix that decides (REQ or BAD) */
static const struct {
	const char	*in;
	size_t		 inlen;
	size_t		 max;
	int		 want;
	size_t		 len, used;
	const char	*why;
	size_t		 at;
} hh[] = {
	{ NS("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), 8192, NETSRV_REQ,
	  32, 34, NULL, 34 },
	{ NS("GET /metrics HTTP/1.0\n\n"), 8192, NETSRV_REQ, 22, 23, NULL, 23 },
	{ NS("HEAD / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n"), 8192,
	  NETSRV_REQ, 17, 19, NULL, 19 },
	{ NS("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), 8192,
	  NETSRV_REQ, 37, 39, NULL, 39 },
	{ NS("GET /metrics HTTP/1.1\r\n"), 8192, NETSRV_MORE, 0, 0, NULL, 0 },
	{ NS("GET /metrics HTTP/1.1\r\n\r"), 8192, NETSRV_MORE, 0, 0, NULL, 0 },
	{ NS("GET / HTTP/1.0\r\n\r\n"), 18, NETSRV_REQ, 16, 18, NULL, 18 },
	{ NS("GET / HTTP/1.0\r\n\r\n"), 17, NETSRV_BAD, 0, 0,
	  "request too long", 17 },
	{ NS("get / HTTP/1.0\r\n\r\n"), 8192, NETSRV_BAD, 0, 0,
	  "not an HTTP request", 1 },
	{ NS(" GET / HTTP/1.0\r\n\r\n"), 8192, NETSRV_BAD, 0, 0,
	  "not an HTTP request", 1 },
	{ NS("\r\n\r\n"), 8192, NETSRV_BAD, 0, 0, "not an HTTP request", 1 },
	{ NS("\x16\x03\x01\x02\x00"), 8192, NETSRV_BAD, 0, 0,
	  "not an HTTP request", 1 },
	{ NS("GE\0T / HTTP/1.0\r\n\r\n"), 8192, NETSRV_BAD, 0, 0,
	  "not an HTTP request", 3 },
	{ NS("GET /\0 HTTP/1.0\r\n\r\n"), 8192, NETSRV_BAD, 0, 0, "NUL byte",
	  6 },
	{ NS("ABCDEFGHIJKLMNOP / HTTP/1.0\r\n\r\n"), 8192, NETSRV_REQ, 29, 31,
	  NULL, 31 },
	{ NS("ABCDEFGHIJKLMNOPQ / HTTP/1.0\r\n\r\n"), 8192, NETSRV_BAD, 0, 0,
	  "not an HTTP request", 17 },
};

static enum netsrv_parse
parse_ns(const char *in, size_t len, size_t max, struct netsrv_frame *f)
{
	char			*copy = malloc(len ? len : 1);
	enum netsrv_parse	 r;

	memcpy(copy, in, len);
	r = netsrv_netstring(copy, len, max, f);
	free(copy);
	return r;
}

static enum netsrv_parse
parse_ln(const char *in, size_t len, size_t max, int eof,
    struct netsrv_frame *f)
{
	char			*copy = malloc(len ? len : 1);
	enum netsrv_parse	 r;

	memcpy(copy, in, len);
	r = netsrv_line(copy, len, max, eof, f);
	free(copy);
	return r;
}

/* the shortest prefix that is not NETSRV_MORE, and what it gave */
static size_t
first_decision(size_t i, enum netsrv_parse *r)
{
	struct netsrv_frame	f;
	size_t			n;

	for (n = 0; n <= ns[i].inlen; n++)
		if ((*r = parse_ns(ns[i].in, n, ns[i].max, &f)) != NETSRV_MORE)
			return n;
	return n;
}

static void
test_netstrings(void)
{
	struct netsrv_frame	f;
	enum netsrv_parse	r, r0;
	size_t			i, at;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		r = parse_ns(ns[i].in, ns[i].inlen, ns[i].max, &f);
		if (ns[i].want == NETSRV_BAD) {
			T_OK(r == NETSRV_BAD && f.why != NULL &&
			    strstr(f.why, ns[i].why) != NULL,
			    "netstring row %zu refused: %s (got %d %s)", i,
			    ns[i].why, r, f.why ? f.why : "-");
			at = first_decision(i, &r0);
			T_OK(r0 == NETSRV_BAD && at == ns[i].at,
			    "netstring row %zu refused after %zu bytes "
			    "(got %zu)", i, ns[i].at, at);
			continue;
		}
		T_OK(r == ns[i].want && f.off == ns[i].off &&
		    f.len == ns[i].len && f.used == ns[i].used,
		    "netstring row %zu: %d off %zu len %zu used %zu (got %d "
		    "%zu %zu %zu)", i, ns[i].want, ns[i].off, ns[i].len,
		    ns[i].used, r, f.off, f.len, f.used);
		at = first_decision(i, &r0);
		T_OK(ns[i].want == NETSRV_MORE ? at > ns[i].inlen :
		    (r0 == NETSRV_REQ && at == ns[i].used),
		    "netstring row %zu: no decision before byte %zu", i,
		    ns[i].used);
	}
}

static void
test_lines(void)
{
	struct netsrv_frame	f;
	enum netsrv_parse	r;
	size_t			i;

	for (i = 0; i < sizeof(ln) / sizeof(ln[0]); i++) {
		r = parse_ln(ln[i].in, ln[i].inlen, ln[i].max, ln[i].eof, &f);
		if (ln[i].want == NETSRV_BAD)
			T_OK(r == NETSRV_BAD && f.why != NULL &&
			    strstr(f.why, ln[i].why) != NULL,
			    "line row %zu refused: %s (got %d %s)", i,
			    ln[i].why, r, f.why ? f.why : "-");
		else
			T_OK(r == ln[i].want && f.off == 0 &&
			    f.len == ln[i].len && f.used == ln[i].used,
			    "line row %zu: %d len %zu used %zu (got %d %zu "
			    "%zu)", i, ln[i].want, ln[i].len, ln[i].used, r,
			    f.len, f.used);
	}
}

static enum netsrv_parse
parse_hh(const char *in, size_t len, size_t max, struct netsrv_frame *f)
{
	char			*copy = malloc(len ? len : 1);
	enum netsrv_parse	 r;

	memcpy(copy, in, len);
	r = netsrv_http(copy, len, max, f);
	free(copy);
	return r;
}

static void
test_http(void)
{
	struct netsrv_frame	f;
	enum netsrv_parse	r, r0 = NETSRV_MORE;
	size_t			i, n;

	for (i = 0; i < sizeof(hh) / sizeof(hh[0]); i++) {
		r = parse_hh(hh[i].in, hh[i].inlen, hh[i].max, &f);
		if (hh[i].want == NETSRV_BAD)
			T_OK(r == NETSRV_BAD && f.why != NULL &&
			    strstr(f.why, hh[i].why) != NULL,
			    "http row %zu refused: %s (got %d %s)", i,
			    hh[i].why, r, f.why ? f.why : "-");
		else
			T_OK(r == hh[i].want && f.off == 0 &&
			    f.len == hh[i].len && f.used == hh[i].used,
			    "http row %zu: %d len %zu used %zu (got %d %zu "
			    "%zu)", i, hh[i].want, hh[i].len, hh[i].used, r,
			    f.len, f.used);
		if (hh[i].want == NETSRV_MORE)
			continue;
		for (n = 0; n <= hh[i].inlen; n++)
			if ((r0 = parse_hh(hh[i].in, n, hh[i].max, &f)) !=
			    NETSRV_MORE)
				break;
		T_OK(n == hh[i].at && r0 == hh[i].want,
		    "http row %zu decided after %zu bytes (got %zu)", i,
		    hh[i].at, n);
	}
}

/* A 10,000-byte request passes at max 10000; one byte more is refused. */
static void
test_sizes(void)
{
	struct netsrv_frame	f;
	char			*buf = malloc(10010);
	char			 out[64];
	size_t			 n;

	memcpy(buf, "10000:", 6);
	memset(buf + 6, 'k', 10000);
	buf[10006] = ',';
	T_OK(parse_ns(buf, 10007, 10000, &f) == NETSRV_REQ && f.len == 10000,
	    "10000-byte request accepted at max 10000");
	T_OK(parse_ns(buf, 10007, 9999, &f) == NETSRV_BAD,
	    "10000-byte request refused at max 9999");
	memset(buf, 'x', 1000);
	buf[1000] = '\n';
	T_OK(parse_ln(buf, 1001, 1000, 0, &f) == NETSRV_REQ && f.len == 1000,
	    "1000-byte line accepted at max 1000");
	T_OK(parse_ln(buf, 1001, 999, 0, &f) == NETSRV_BAD,
	    "1000-byte line refused at max 999");
	free(buf);
	n = netsrv_netstring_fmt(out, sizeof(out), "OK secure", 9);
	T_OK(n == 12 && memcmp(out, "9:OK secure,", 12) == 0,
	    "reply framed as 9:OK secure,");
	T_OK(netsrv_netstring_fmt(out, 11, "OK secure", 9) == 0 &&
	    netsrv_netstring_fmt(out, 12, "OK secure", 9) == 12,
	    "framing refuses a too small buffer");
	T_OK(netsrv_netstring_fmt(out, sizeof(out), "", 0) == 3 &&
	    memcmp(out, "0:,", 3) == 0, "empty reply framed as 0:,");
}

int
main(void)
{
	test_netstrings();
	test_lines();
	test_http();
	test_sizes();
	return T_DONE();
}
