/*
 * test_mtasts.c - the MTA-STS parsers (mtasts.h, mtasts_int.h) on tables
 * of cases with hostile rows: the TXT record, the policy body, the mx
 * pattern rule, the HTTP response head, the cache file reader, TXT
 * answers (dns_txt_parse() on hand-built messages) and the [mtasts]
 * configuration keys.
 */
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "dns.h"
#include "mtasts.h"
#include "mtasts_int.h"
#include "dnsmsg.h"
#include "t.h"

#define S(x)	x, sizeof(x) - 1

/* ---- TXT records ------------------------------------------------------- */

static const struct {
	const char	*txt;
	size_t		 len;
	int		 want;
	const char	*id;
} txt_cases[] = {
	{ S("v=STSv1; id=20160831085700Z"), 1, "20160831085700Z" },
	{ S("v=STSv1;id=abc"), 1, "abc" },
	{ S("v=STSv1; id=abc;"), 1, "abc" },
	{ S("v=STSv1 ;  id=abc ; "), 1, "abc" },
	{ S("v=STSv1; ext=x.y; id=1"), 1, "1" },
	{ S("v=STSv1; id=12345678901234567890123456789012"), 1,
	    "12345678901234567890123456789012" },
	{ S("v=STSv1; id=123456789012345678901234567890123"), -1, NULL },
	{ S("v=STSv1"), -1, NULL },
	{ S("v=STSv1;"), -1, NULL },
	{ S("v=STSv1; id="), -1, NULL },
	{ S("v=STSv1; id=a-b"), -1, NULL },
	{ S("v=STSv1; id=a b"), -1, NULL },
	{ S("v=STSv1; id=1; id=2"), -1, NULL },
	{ S("v=STSv1; id=1;; x=y"), -1, NULL },
	{ S("v=STSv1; =1; id=2"), -1, NULL },
	{ S("v=STSv1; _x=1; id=2"), -1, NULL },
	{ S("v=STSv1; x=a=b; id=2"), -1, NULL },
	{ S("v=STSv1; id=1\0x"), -1, NULL },		/* NUL */
	{ S("v=STSv1; id=1\x80"), -1, NULL },
	{ S("v=STSv1\r; id=1"), 0, NULL },
	{ S("v=STSv10; id=1"), 0, NULL },
	{ S("v=stsv1; id=1"), 0, NULL },
	{ S(" v=STSv1; id=1"), 0, NULL },
	{ S("v=spf1 -all"), 0, NULL },
	{ S(""), 0, NULL },
	{ S("id=1; v=STSv1"), 0, NULL },
};

static void
test_txt(void)
{
	char	id[MTASTS_ID_MAXLEN + 1];
	size_t	i;
	int	r;

	for (i = 0; i < sizeof(txt_cases) / sizeof(txt_cases[0]); i++) {
		r = mtasts_parse_txt(txt_cases[i].txt, txt_cases[i].len, id,
		    sizeof(id));
		T_OK(r == txt_cases[i].want && (r != 1 ||
		    strcmp(id, txt_cases[i].id) == 0), "txt case %zu: %d "
		    "(want %d)", i, r, txt_cases[i].want);
	}
}

/* ---- policy bodies ----------------------------------------------------- */

static const struct {
	const char	*body;
	size_t		 len;
	int		 ok;
	int		 mode;
	unsigned long	 max_age;
	size_t		 nmx;
	const char	*why;		/* part of the error */
} pol_cases[] = {
	{ S("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\n"
	    "mx: *.example.net\r\nmax_age: 86400\r\n"), 1,
	    MTASTS_MODE_ENFORCE, 86400, 2, NULL },
	{ S("version: STSv1\nmode: testing\nmx: MX.Example.COM.\n"
	    "max_age: 0"), 1, MTASTS_MODE_TESTING, 0, 1, NULL },
	{ S("version:STSv1\nmode:none\nmax_age:31557600\n\n\n"), 1,
	    MTASTS_MODE_NONE, 31557600, 0, NULL },
	{ S("mx: a.example\nmax_age: 5\nfoo: bar baz\nmode: enforce\n"
	    "version: STSv1\n"), 1, MTASTS_MODE_ENFORCE, 5, 1, NULL },
	{ S("version: STSv1 \t\nmode: enforce\t\nmx: a.example \n"
	    "max_age: 5\n"), 1, MTASTS_MODE_ENFORCE, 5, 1, NULL },
	{ S("version: STSv1\nmode: enforce\nmax_age: 5\n"), 0, 0, 0, 0,
	    "no mx pattern" },
	{ S("version: STSv1\nmode: enforce\nmx: a.example\n"), 0, 0, 0, 0,
	    "missing max_age" },
	{ S("mode: enforce\nmx: a.example\nmax_age: 5\n"), 0, 0, 0, 0,
	    "missing version" },
	{ S("version: STSv1\nmx: a.example\nmax_age: 5\n"), 0, 0, 0, 0,
	    "missing mode" },
	{ S("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 5\n"), 0,
	    0, 0, 0, "unsupported version" },
	{ S("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 5\n"), 0,
	    0, 0, 0, "invalid mode" },
	{ S("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601"),
	    0, 0, 0, 0, "over 31557600" },
	{ S("version: STSv1\nmode: enforce\nmx: a.example\n"
	    "max_age: 99999999999\n"), 0, 0, 0, 0, "invalid max_age" },
	{ S("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n"),
	    0, 0, 0, 0, "invalid max_age" },
	{ S("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: \n"),
	    0, 0, 0, 0, "invalid max_age" },
	{ S("version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\n"
	    "max_age: 5\n"), 0, 0, 0, 0, "duplicate key" },
	{ S("version: STSv1\nmode: enforce\nmx: mx*.example\nmax_age: 5\n"),
	    0, 0, 0, 0, "invalid mx pattern" },
	{ S("version: STSv1\nmode: enforce\nmx: *.\nmax_age: 5\n"),
	    0, 0, 0, 0, "invalid mx pattern" },
	{ S("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 5\n"),
	    0, 0, 0, 0, "invalid mx pattern" },
	{ S("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 5\n"),
	    0, 0, 0, 0, "invalid mx pattern" },
	{ S("version: STSv1\nmode: enforce\nmx: 127.0.0.1:25\nmax_age: 5\n"),
	    0, 0, 0, 0, "invalid mx pattern" },
	{ S("version: STSv1\nmode: enforce\nmx: a.example\0b\nmax_age: 5\n"),
	    0, 0, 0, 0, "control or non-ASCII" },
	{ S("version: STSv1\nmode: enforce\nmx: a.ex\xc3\xa4mple\n"
	    "max_age: 5\n"), 0, 0, 0, 0, "control or non-ASCII" },
	{ S("version: STSv1\nmode: enforce\nmx a.example\nmax_age: 5\n"),
	    0, 0, 0, 0, "line without" },
	{ S(": x\nversion: STSv1\n"), 0, 0, 0, 0, "line without" },
	{ S("<html>hello</html>"), 0, 0, 0, 0, "line without" },
	{ S(""), 0, 0, 0, 0, "missing version" },
};

static void
test_policy(void)
{
	struct mtasts_policy	p;
	char			err[256];
	size_t			i;
	int			r;

	for (i = 0; i < sizeof(pol_cases) / sizeof(pol_cases[0]); i++) {
		err[0] = '\0';
		r = mtasts_parse_policy(pol_cases[i].body, pol_cases[i].len,
		    &p, err, sizeof(err));
		if (pol_cases[i].ok)
			T_OK(r == 0 && (int)p.mode == pol_cases[i].mode &&
			    p.max_age == pol_cases[i].max_age &&
			    p.nmx == pol_cases[i].nmx, "policy case %zu parses "
			    "(%s)", i, err);
		else
			T_OK(r == -1 && p.nmx == 0 && p.mx == NULL &&
			    strstr(err, pol_cases[i].why) != NULL,
			    "policy case %zu invalid: %s", i, err);
		mtasts_policy_free(&p);
	}
}

static void
test_policy_limits(void)
{
	struct mtasts_policy	 p;
	char			 err[256], *big;
	size_t			 n = 0, i;
	int			 r;

	big = malloc(MTASTS_MAX_BODY + 2);
	n += (size_t)sprintf(big, "version: STSv1\nmode: enforce\n"
	    "max_age: 5\n");
	for (i = 0; i < 1001; i++)
		n += (size_t)sprintf(big + n, "mx: m%zu.e\n", i);
	r = mtasts_parse_policy(big, n, &p, err, sizeof(err));
	T_OK(r == -1 && strstr(err, "more than 1000") != NULL,
	    "1001 mx patterns refused: %s", err);
	memset(big, 'x', MTASTS_MAX_BODY + 1);
	r = mtasts_parse_policy(big, MTASTS_MAX_BODY + 1, &p, err, sizeof(err));
	T_OK(r == -1 && strstr(err, "over 65536") != NULL, "body over 64 KiB "
	    "refused: %s", err);
	r = mtasts_parse_policy("version: STSv1\nmode: enforce\nmx: a.b\n"
	    "max_age: 5", 30, &p, err, sizeof(err));
	T_OK(r == -1, "a cut body does not read past its length: %s", err);
	free(big);
}

/* ---- mx patterns ------------------------------------------------------- */

static const struct {
	const char	*pattern, *host;
	int		 want;
} match_cases[] = {
	{ "mx1.example.com", "mx1.example.com", 1 },
	{ "mx1.example.com", "MX1.Example.Com", 1 },
	{ "mx1.example.com", "mx1.example.com.", 1 },
	{ "mx1.example.com", "mx1.example.com..", 0 },
	{ "mx1.example.com", "mx2.example.com", 0 },
	{ "mx1.example.com", "a.mx1.example.com", 0 },
	{ "*.example.net", "mx.example.net", 1 },
	{ "*.example.net", "MX.EXAMPLE.NET.", 1 },
	{ "*.example.net", "example.net", 0 },
	{ "*.example.net", "a.b.example.net", 0 },
	{ "*.example.net", ".example.net", 0 },
	{ "*.example.net", "*.example.net", 0 },
	{ "*.example.net", "mx.example.net\n", 0 },
	{ "*.example.net", "mx.example.netx", 0 },
	{ "*.net", "example.net", 0 },
	{ "*.example.net", "", 0 },
	{ "mx.example.net", "127.0.0.1", 0 },
};

static const char	match_body[] = "version: STSv1\nmode: enforce\n"
    "mx: MX1.Example.com.\nmx: *.Mx.Example.Net\nmax_age: 9\n";

static void
test_match(void)
{
	struct mtasts_policy	p;
	char			err[128];
	size_t			i;
	int			r;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		r = mtasts_pattern_match(match_cases[i].pattern,
		    match_cases[i].host);
		T_OK(r == match_cases[i].want, "match %s ~ %s: %d",
		    match_cases[i].pattern, match_cases[i].host, r);
	}
	r = mtasts_parse_policy(match_body, sizeof(match_body) - 1, &p, err, sizeof(err));
	T_OK(r == 0 && p.nmx == 2 && strcmp(p.mx[0], "mx1.example.com") == 0 &&
	    strcmp(p.mx[1], "*.mx.example.net") == 0, "patterns kept folded "
	    "(%s)", err);
	T_OK(mtasts_mx_match(&p, "mx1.example.com") &&
	    mtasts_mx_match(&p, "a.mx.example.net") &&
	    !mtasts_mx_match(&p, "mx.example.net") &&
	    !mtasts_mx_match(&p, "example.com") &&
	    !mtasts_mx_match(NULL, "mx1.example.com"), "mtasts_mx_match");
	mtasts_policy_free(&p);
}

/* ---- HTTP response heads ----------------------------------------------- */

static const struct {
	const char	*head;
	size_t		 len;
	int		 ok, status;
	const char	*ctype;
	long		 clen;
	int		 coded;
} http_cases[] = {
	{ S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 12"), 1, 200, "text/plain", 12, 0 },
	{ S("HTTP/1.0 200 OK\nContent-Type: Text/Plain ; charset=utf-8"), 1,
	    200, "text/plain", -1, 0 },
	{ S("HTTP/1.1 301 Moved\r\nLocation: https://x/"), 1, 301, "", -1, 0 },
	{ S("HTTP/1.1 200\r\ncontent-type:text/plain\r\n"
	    "Transfer-Encoding: chunked"), 1, 200, "text/plain", -1, 1 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5"), 1,
	    200, "", 5, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6"), 0,
	    0, NULL, 0, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: -5"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999"), 0, 0, NULL,
	    0, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Type: text/html"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 200 OK\r\nContent-Type: ;x"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 200 OK\r\nX: a\0b"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 200 OK\r\n folded"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 200 OK\r\nBad Name: x"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/2 200 OK"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 20 OK"), 0, 0, NULL, 0, 0 },
	{ S("HTTP/1.1 2000 OK"), 0, 0, NULL, 0, 0 },
	{ S("ICY 200 OK"), 0, 0, NULL, 0, 0 },
	{ S(""), 0, 0, NULL, 0, 0 },
};

static void
test_http(void)
{
	struct mtasts_http	h;
	char			err[128];
	size_t			i;
	int			r;

	for (i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
		err[0] = '\0';
		r = mtasts_http_head(http_cases[i].head, http_cases[i].len, &h,
		    err, sizeof(err));
		if (http_cases[i].ok)
			T_OK(r == 0 && h.status == http_cases[i].status &&
			    strcmp(h.ctype, http_cases[i].ctype) == 0 &&
			    h.clen == http_cases[i].clen &&
			    h.coded == http_cases[i].coded, "http case %zu "
			    "(%s)", i, err);
		else
			T_OK(r == -1, "http case %zu malformed: %s", i, err);
	}
}

/* ---- the cache file ---------------------------------------------------- */

static const struct {
	const char	*text;
	size_t		 len;
	int		 ok;
	size_t		 n;
} cache_cases[] = {
	{ S("tlsverify-mta-sts-cache 1\n"), 1, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 10 enforce mx.a\n"
	    "b.example X2 10 10 0 none\n"), 1, 2 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 10 enforce "
	    "*.a.example\n"), 1, 1 },
	{ S(""), 0, 0 },
	{ S("tlsverify-mta-sts-cache 2\n"), 0, 0 },
	{ S("tlsverify-mta-sts-cache 1"), 0, 0 },	/* no line end */
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 10 enforce\n"), 0,
	    0 },						/* no mx */
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 10 bogus mx.a\n"),
	    0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 20 10 10 enforce mx.a\n"),
	    0, 0 },						/* expires first */
	{ S("tlsverify-mta-sts-cache 1\na.example i-d 10 20 10 enforce mx.a\n"),
	    0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 31557601 enforce "
	    "mx.a\n"), 0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 10 enforce MX.A\n"),
	    0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na..example 1 10 20 10 enforce mx.a\n"),
	    0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 1x 20 10 enforce mx.a\n"),
	    0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example 1 10 20 10 enforce m\0x\n"),
	    0, 0 },
	{ S("tlsverify-mta-sts-cache 1\na.example\n"), 0, 0 },
};

static void
test_cache_read(void)
{
	struct mtasts_entry	*e;
	FILE			*fp;
	size_t			 i, n, k;
	int			 r;

	for (i = 0; i < sizeof(cache_cases) / sizeof(cache_cases[0]); i++) {
		fp = tmpfile();
		if (cache_cases[i].len > 0)
			(void)fwrite(cache_cases[i].text, 1, cache_cases[i].len,
			    fp);
		rewind(fp);
		r = mtasts_cache_read(fp, &e, &n);
		fclose(fp);
		if (cache_cases[i].ok)
			T_OK(r == 0 && n == cache_cases[i].n, "cache case %zu: "
			    "%zu entries", i, n);
		else
			T_OK(r == -1 && e == NULL && n == 0, "cache case %zu "
			    "malformed", i);
		for (k = 0; r == 0 && k < n; k++)
			mtasts_entry_free(&e[k]);
		free(e);
	}
}

/* ---- TXT answers ------------------------------------------------------- */

static enum dns_status
txt_parse(struct dns_ctx *ctx, struct msg *m, struct dns_txt **t, size_t *n)
{
	msg_count(m);
	return dns_txt_parse(ctx, m->b, m->len, "_mta-sts.a.example", t, n);
}

static void
test_txt_answers(struct dns_ctx *ctx)
{
	static const char	q[] = "_mta-sts.a.example";
	struct dns_txt		*t;
	struct msg		 m;
	unsigned char		 cn[64];
	size_t			 n;
	enum dns_status		 st;

	start(&m, q, ns_t_txt);
	rr(&m, q, ns_t_txt, "\x07v=STSv1\x06; id=1", 15, NULL);
	rr(&m, "other.example", ns_t_txt, "\x03zzz", 4, NULL);
	st = txt_parse(ctx, &m, &t, &n);
	T_OK(st == DNS_OK && n == 1 && t[0].len == 13 &&
	    strcmp(t[0].text, "v=STSv1; id=1") == 0, "strings concatenated, "
	    "other owners ignored");
	dns_txt_free(t, n);

	start(&m, q, ns_t_txt);
	rr(&m, q, ns_t_txt, "\x03" "a\0b", 4, NULL);
	st = txt_parse(ctx, &m, &t, &n);
	T_OK(st == DNS_OK && n == 1 && t[0].len == 3 && t[0].text[1] == '\0',
	    "a NUL byte is kept with its length");
	dns_txt_free(t, n);

	start(&m, q, ns_t_txt);
	rr(&m, q, ns_t_txt, "\x09short", 6, NULL);
	T_OK(txt_parse(ctx, &m, &t, &n) == DNS_INVALID && t == NULL,
	    "a string longer than its RDATA: invalid");

	start(&m, q, ns_t_txt);
	rr(&m, q, ns_t_txt, "", 0, NULL);
	T_OK(txt_parse(ctx, &m, &t, &n) == DNS_INVALID, "empty RDATA: invalid");

	start(&m, q, ns_t_txt);
	m.len = 0;
	putname(&m, "x.example");
	memcpy(cn, m.b, m.len);
	n = m.len;
	start(&m, q, ns_t_txt);
	rr(&m, q, ns_t_cname, cn, n, NULL);
	rr(&m, "x.example", ns_t_txt, "\x02ok", 3, NULL);
	st = txt_parse(ctx, &m, &t, &n);
	T_OK(st == DNS_OK && n == 1 && strcmp(t[0].text, "ok") == 0,
	    "a record at the CNAME target counts");
	dns_txt_free(t, n);

	start(&m, q, ns_t_txt);
	rr(&m, q, ns_t_a, "\x7f\0\0\1", 4, NULL);
	T_OK(txt_parse(ctx, &m, &t, &n) == DNS_NODATA, "no TXT: NODATA");
	T_OK(dns_txt_parse(ctx, m.b, 5, q, &t, &n) == DNS_INVALID,
	    "a cut message: invalid");
}

/* ---- [mtasts] settings ------------------------------------------------- */

static void
test_conf_keys(void)
{
	static const char	good[] = "[mtasts]\nport = 8443\n"
	    "ca_file = /x/ca.pem\ntimeout = 3\ncache_file =\n";
	struct conf		*c = NULL;
	char			 err[256];

	T_OK(conf_load_mem("", 0, "t", &c, err, sizeof(err)) == 0 &&
	    c->mtasts_port == 443 && c->mtasts_timeout == 10 &&
	    c->mtasts_ca_file == NULL && c->mtasts_cache_file != NULL &&
	    strcmp(c->mtasts_cache_file, MTASTS_CACHE_DEFAULT) == 0,
	    "[mtasts] defaults");
	conf_free(c);
	T_OK(conf_load_mem(good, sizeof(good) - 1, "t", &c, err,
	    sizeof(err)) == 0 && c->mtasts_port == 8443 &&
	    c->mtasts_timeout == 3 && strcmp(c->mtasts_ca_file, "/x/ca.pem")
	    == 0 && c->mtasts_cache_file == NULL, "[mtasts] values (%s)", err);
	conf_free(c);
	T_OK(conf_load_mem(S("[mtasts]\ntimeout = 0\n"), "t", &c, err,
	    sizeof(err)) == -1 && strstr(err, "t:2:") != NULL,
	    "timeout 0 refused: %s", err);
	T_OK(conf_load_mem(S("[mtasts]\nport = 65536\n"), "t", &c, err,
	    sizeof(err)) == -1, "port 65536 refused: %s", err);
	T_OK(conf_load_mem(S("[mtasts]\nmode = enforce\n"), "t", &c, err,
	    sizeof(err)) == -1 && strstr(err, "unknown key") != NULL,
	    "unknown key refused: %s", err);
}

int
main(void)
{
	struct dns_ctx	*ctx;
	char		 err[128];

	test_txt();
	test_policy();
	test_policy_limits();
	test_match();
	test_http();
	test_cache_read();
	test_conf_keys();
	if ((ctx = dns_open(NULL, err, sizeof(err))) == NULL)
		T_OK(0, "dns_open: %s", err);
	else {
		test_txt_answers(ctx);
		dns_close(ctx);
	}
	return T_DONE();
}
