/*
 * test_smtp_reply.c - the pure SMTP reply parser (smtp_reply.c), table
 * driven: each case feeds its lines (without CR LF) and checks the last
 * return value, the code, the STARTTLS flag and the first line's text.
 * Hostile rows: code changes, missing/short codes, bad separators, NUL and
 * control bytes, a line over SMTP_MAXLINE, more than SMTP_MAXLINES lines,
 * more than SMTP_MAXREPLY bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "smtp.h"
#include "t.h"

struct reply_case {
	const char	*name;
	const char	*lines[8];
	int		 want;		/* last smtp_reply_line() return */
	int		 code;
	int		 starttls;
	const char	*text;		/* NULL: not checked */
};

static const struct reply_case cases[] = {
	{ "single line", { "220 mx.example.com ESMTP" }, 1, 220, 0,
	  "mx.example.com ESMTP" },
	{ "code only", { "250" }, 1, 250, 0, "" },
	{ "code and space", { "250 " }, 1, 250, 0, "" },
	{ "EHLO, STARTTLS in the middle", { "250-mx.example.com",
	  "250-PIPELINING", "250-STARTTLS", "250 8BITMIME" }, 1, 250, 1,
	  "mx.example.com" },
	{ "EHLO, STARTTLS at the end", { "250-mx.example.com",
	  "250-SIZE 10240000", "250 STARTTLS" }, 1, 250, 1, NULL },
	{ "EHLO, lower case starttls", { "250-mx", "250-starttls",
	  "250 HELP" }, 1, 250, 1, NULL },
	{ "EHLO, StartTLS with a parameter", { "250-mx",
	  "250 StartTLS x" }, 1, 250, 1, NULL },
	{ "EHLO without STARTTLS", { "250-mx", "250-PIPELINING",
	  "250 8BITMIME" }, 1, 250, 0, NULL },
	{ "STARTTLSX is not STARTTLS", { "250-mx", "250 STARTTLSX" }, 1,
	  250, 0, NULL },
	{ "STARTTLS as the greeting is not the keyword",
	  { "250 STARTTLS" }, 1, 250, 0, "STARTTLS" },
	{ "STARTTLS inside a line is not the keyword", { "250-mx",
	  "250 X-NO STARTTLS" }, 1, 250, 0, NULL },
	{ "continuation pending", { "250-mx", "250-PIPELINING" }, 0, 250,
	  0, NULL },
	{ "code changes mid-reply", { "250-mx", "251 STARTTLS" }, -1, 0, 0,
	  NULL },
	{ "missing code", { "hello" }, -1, 0, 0, NULL },
	{ "empty line", { "" }, -1, 0, 0, NULL },
	{ "two-digit code", { "25 ok" }, -1, 0, 0, NULL },
	{ "two-digit code alone", { "25" }, -1, 0, 0, NULL },
	{ "first digit 6", { "650 ok" }, -1, 0, 0, NULL },
	{ "first digit 1", { "150 ok" }, -1, 0, 0, NULL },
	{ "bad separator", { "250_ok" }, -1, 0, 0, NULL },
	{ "four digits", { "2500 ok" }, -1, 0, 0, NULL },
	{ "bad separator on a later line", { "250-mx", "250+x" }, -1, 0, 0,
	  NULL },
	{ "control bytes made printable", { "220 a\tb\x1b[31mc\x7f\xc3\xa9" },
	  1, 220, 0, "a?b?[31mc???" },
	{ "4xx", { "421 4.3.2 closing" }, 1, 421, 0, "4.3.2 closing" },
	{ "5xx multi-line", { "554-no", "554 service" }, 1, 554, 0, "no" },
};

static int
feed(struct smtp_reply *r, const char *const *lines)
{
	int	rc = -2;
	size_t	i;

	for (i = 0; i < 8 && lines[i] != NULL; i++) {
		rc = smtp_reply_line(r, lines[i], strlen(lines[i]));
		if (rc != 0)
			break;
	}
	return rc;
}

static void
test_table(void)
{
	struct smtp_reply	r;
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct reply_case *c = &cases[i];

		smtp_reply_init(&r);
		rc = feed(&r, c->lines);
		T_OK(rc == c->want, "%s: returns %d (got %d%s%s)", c->name,
		    c->want, rc, r.error ? ", " : "", r.error ? r.error : "");
		if (rc == -1) {
			T_OK(r.error != NULL, "%s: says why", c->name);
			continue;
		}
		T_OK(r.code == c->code, "%s: code %d (got %d)", c->name,
		    c->code, r.code);
		T_OK(r.starttls == c->starttls, "%s: starttls %d", c->name,
		    c->starttls);
		if (c->text != NULL)
			T_OK(strcmp(r.text, c->text) == 0, "%s: text \"%s\" "
			    "(got \"%s\")", c->name, c->text, r.text);
	}
}

static void
test_nul_and_long_text(void)
{
	struct smtp_reply	r;
	char			line[SMTP_MAXLINE + 2];
	size_t			i;

	smtp_reply_init(&r);
	T_OK(smtp_reply_line(&r, "220 a\0b", 7) == 1 &&
	    strcmp(r.text, "a?b") == 0, "NUL inside the text made printable "
	    "(got \"%s\")", r.text);

	memset(line, 'x', sizeof(line));
	memcpy(line, "220 ", 4);
	smtp_reply_init(&r);
	T_OK(smtp_reply_line(&r, line, SMTP_MAXLINE) == 1, "a line of "
	    "exactly SMTP_MAXLINE bytes is accepted");
	T_OK(strlen(r.text) == sizeof(r.text) - 1, "its text is cut to %zu "
	    "bytes", sizeof(r.text) - 1);
	for (i = 0; i < strlen(r.text); i++)
		if (r.text[i] != 'x')
			break;
	T_OK(i == strlen(r.text), "the cut text is the line's start");

	smtp_reply_init(&r);
	T_OK(smtp_reply_line(&r, line, SMTP_MAXLINE + 1) == -1 &&
	    r.error != NULL && strstr(r.error, "too long") != NULL,
	    "a line over SMTP_MAXLINE is refused (%s)", r.error);
	T_OK(smtp_reply_line(&r, "250 ok", 6) == -1, "the parser stays "
	    "failed after an error");
}

static void
test_line_limits(void)
{
	struct smtp_reply	r;
	char			line[SMTP_MAXLINE + 1];
	size_t			i;
	int			rc = 0;

	smtp_reply_init(&r);
	for (i = 0; i < SMTP_MAXLINES - 1 && rc == 0; i++)
		rc = smtp_reply_line(&r, "250-X", 5);
	T_OK(rc == 0, "%d continuation lines are accepted", SMTP_MAXLINES - 1);
	T_OK(smtp_reply_line(&r, "250 end", 7) == 1, "line %d ends the "
	    "reply", SMTP_MAXLINES);

	smtp_reply_init(&r);
	for (i = 0, rc = 0; i < SMTP_MAXLINES + 5 && rc == 0; i++)
		rc = smtp_reply_line(&r, "250-X", 5);
	T_OK(rc == -1 && i == SMTP_MAXLINES + 1, "line %d of a reply is "
	    "refused (stopped at %zu)", SMTP_MAXLINES + 1, i);
	T_OK(r.error != NULL && strstr(r.error, "lines") != NULL,
	    "the reason names the line count (%s)", r.error);

	/* SMTP_MAXREPLY: 100 lines of 1000 bytes would be 100 kB. */
	memset(line, 'y', sizeof(line));
	memcpy(line, "250-", 4);
	smtp_reply_init(&r);
	for (i = 0, rc = 0; i < SMTP_MAXLINES && rc == 0; i++)
		rc = smtp_reply_line(&r, line, SMTP_MAXLINE);
	T_OK(rc == -1 && r.bytes > SMTP_MAXREPLY && r.error != NULL &&
	    strstr(r.error, "reply too long") != NULL,
	    "a reply over SMTP_MAXREPLY bytes is refused after %zu lines "
	    "(%s)", i, r.error);
}

static void
test_stage_names(void)
{
	T_OK(strcmp(smtp_stage_str(STAGE_DNS), "dns") == 0 &&
	    strcmp(smtp_stage_str(STAGE_STARTTLS), "starttls") == 0 &&
	    strcmp(smtp_stage_str(STAGE_DONE), "done") == 0,
	    "stage names");
	T_OK(strcmp(smtp_stage_str((enum probe_stage)42), "unknown") == 0,
	    "an out-of-range stage is \"unknown\"");
}

int
main(void)
{
	test_table();
	test_nul_and_long_text();
	test_line_limits();
	test_stage_names();
	return T_DONE();
}
