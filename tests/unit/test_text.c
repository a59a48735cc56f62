/*
 * test_text.c - text_printable(), text_quoted(), text_safe(): what peers
 * and users send, made safe for replies, quoted log values and terminals.
 */
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "report.h"
#include "text.h"
#include "verdict.h"

static const struct {
	const char	*src;
	size_t		 srclen;
	size_t		 dstlen;
	const char	*also;
	const char	*want;
} rows[] = {
	{ "220 mx.example ESMTP", 20, 64, NULL, "220 mx.example ESMTP" },
	{ "a\r\nb", 4, 64, NULL, "a??b" },
	{ "nul\0after", 9, 64, NULL, "nul?after" },
	{ "\x7f\x80\xff", 3, 64, NULL, "???" },
	{ "100% sure", 9, 64, "%", "100? sure" },
	{ "two words", 9, 64, " ", "two?words" },
	{ "cut here", 8, 4, NULL, "cut" },
	{ "x", 1, 1, NULL, "" },
	{ "b\xc3\xbc" "cher", 7, 64, NULL, "b??cher" },
};

/* text_quoted(): source, maxin, dstlen, expected contents of the quotes */
static const struct {
	const char	*src;
	size_t		 maxin;
	size_t		 dstlen;
	const char	*want;
} qrows[] = {
	{ "220 mx.example ESMTP", 200, 64, "220 mx.example ESMTP" },
	{ "554 x\" result=verified action=accept", 200, 64,
	    "554 x\\\" result=verified action=accept" },
	{ "a\\b", 200, 64, "a\\\\b" },
	{ "\x1b[31mred", 200, 64, "\\x1b[31mred" },
	{ "a\r\nb\x7f", 200, 64, "a\\x0d\\x0ab\\x7f" },
	{ "b\xc3\xbc" "cher", 200, 64, "b\\xc3\\xbccher" },
	{ "abcdef", 3, 64, "abc" },			/* maxin */
	{ "ab\"", 200, 4, "ab" },			/* no half \" */
	{ "ab\x01", 200, 6, "ab" },			/* no half \xHH */
	{ "ab\x01", 200, 7, "ab\\x01" },
	{ "", 200, 1, "" },
};

/* A key=value parser as a log reader has it: values bare or "quoted" with
 * backslash escapes. The number of keys named key in line. */
static int
count_key(const char *line, const char *key)
{
	const char	*p = line, *eq;
	size_t		 klen = strlen(key);
	int		 n = 0;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if ((eq = strchr(p, '=')) == NULL)
			break;
		if ((size_t)(eq - p) == klen && strncmp(p, key, klen) == 0)
			n++;
		p = eq + 1;
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '"')
				p++;
		} else
			while (*p != '\0' && *p != ' ')
				p++;
	}
	return n;
}

static void
test_quoted(void)
{
	char	buf[64], line[256];
	size_t	i;

	for (i = 0; i < sizeof(qrows) / sizeof(qrows[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		(void)text_quoted(buf, qrows[i].dstlen, qrows[i].src,
		    qrows[i].maxin);
		T_OK(strcmp(buf, qrows[i].want) == 0, "quoted row %zu: "
		    "\"%s\" (got \"%s\")", i, qrows[i].want, buf);
	}
	(void)text_quoted(buf, sizeof(buf), "554 x\" result=verified "
	    "action=accept \x1b[2J", 200);
	(void)snprintf(line, sizeof(line), "result=unknown action=defer "
	    "reason=\"%s\" ms=1", buf);
	T_OK(count_key(line, "result") == 1 && count_key(line, "action") == 1
	    && count_key(line, "ms") == 1 && strchr(line, 0x1b) == NULL,
	    "a quoted hostile reply adds no field: %s", line);
	strcpy(buf, "ok \x1b[2J\x9b\x01 done");
	T_OK(strcmp(text_safe(buf), "ok ?[2J?? done") == 0,
	    "text_safe: control and 8-bit bytes become '?': %s", buf);
}

/* The milter's log line of a verdict whose reason holds a hostile reply. */
static void
test_logline(void)
{
	struct verdict	v;
	struct attempt	a;
	char		line[2048];

	memset(&v, 0, sizeof(v));
	memset(&a, 0, sizeof(a));
	strcpy(v.domain, "example.com");
	v.setting = TLS_REQUIRED_VERIFY;
	v.outcome = OUTCOME_TEMP;
	strcpy(a.host, "mx.example.com");
	strcpy(a.ip, "127.0.0.2");
	v.attempts = &a;
	v.n_attempts = 1;
	v.best = 0;
	strcpy(v.reason, "banner: 554 x\" result=verified action=accept "
	    "host=evil \\\x1b[2J");
	verdict_decide(&v, ON_FAIL_DEFER);
	report_logline(&v, line, sizeof(line));
	T_OK(count_key(line, "result") == 1 && count_key(line, "action") == 1
	    && count_key(line, "host") == 1 && count_key(line, "domain") == 1 &&
	    strstr(line, "result=unknown action=defer host=mx.example.com ") &&
	    strchr(line, 0x1b) == NULL && strstr(line, "reason=\"banner: 554 "
	    "x\\\" result=verified action=accept host=evil \\\\\\x1b[2J\" "),
	    "log line: the reason stays one quoted field: %s", line);
}

int
main(void)
{
	char	buf[64];
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		(void)text_printable(buf, rows[i].dstlen, rows[i].src,
		    rows[i].srclen, rows[i].also);
		T_OK(strcmp(buf, rows[i].want) == 0, "row %zu: \"%s\" "
		    "(got \"%s\")", i, rows[i].want, buf);
	}
	strcpy(buf, "in\tplace");
	T_OK(strcmp(text_printable(buf, sizeof(buf), buf, strlen(buf), NULL),
	    "in?place") == 0, "in place: %s", buf);
	test_quoted();
	test_logline();
	return T_DONE();
}
