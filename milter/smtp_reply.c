/*
 * smtp_reply.c - the pure SMTP reply parser (see smtp.h).
 *
 * smtp_reply_init(r) prepares r for a new reply. smtp_reply_line(r, line,
 * len) takes one reply line WITHOUT its CR LF (it may hold any bytes,
 * NULs included; len is authoritative) and returns 1 when the reply is
 * complete, 0 when more lines follow and -1 when the line is refused; then
 * r->error names the reason (a static string).
 *
 * Accepted line: three digits, the first 2..5 (RFC 5321 4.2), then the end
 * of the line (last line), ' ' (last line) or '-' (more lines follow). The
 * code must be the same on every line of a reply.
 *
 * Limits (untrusted input): a line longer than SMTP_MAXLINE bytes, a reply
 * of more than SMTP_MAXLINES lines, or more than SMTP_MAXREPLY bytes
 * (counting CR LF) is refused.
 *
 * r->text receives the text of the FIRST line (after the separator), every
 * byte outside printable ASCII replaced by '?', cut to fit. r->starttls is
 * set when a line other than the first (RFC 5321 4.1.1.1: the first line
 * of an EHLO reply is the greeting) has the EHLO keyword "STARTTLS" in any
 * case, with or without parameters.
 *
 * No allocation, no global state: safe in any thread.
 */
#include <string.h>
#include <strings.h>

#include "smtp.h"
#include "text.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* Copy len bytes of peer text into dst (size > 0), printable ASCII only. */
/* Is the text of an EHLO line the keyword STARTTLS (parameters allowed)? */
static int
smtp_reply_is_starttls(const char *text, size_t len)
{
	static const char kw[] = "STARTTLS";
	size_t		  kwlen = sizeof(kw) - 1;

	if (len < kwlen || strncasecmp(text, kw, kwlen) != 0)
		return 0;
	return len == kwlen || text[kwlen] == ' ' || text[kwlen] == '\t';
}

/* The code of a line, or -1 when the line does not start with one. */
static int
smtp_reply_code(const char *line, size_t len)
{
	if (len < 3)
		return -1;
	if (line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '9' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

static int
smtp_reply_fail(struct smtp_reply *r, const char *why)
{
	r->error = why;
	return -1;
}

int
smtp_reply_line(struct smtp_reply *r, const char *line, size_t len)
{
	const char	*text;
	size_t		 tlen;
	int		 code, last;

	if (r->error != NULL)
		return -1;
	r->lines++;
	r->bytes += len + 2;
	if (len > SMTP_MAXLINE)
		return smtp_reply_fail(r, "reply line too long");
	if (r->lines > SMTP_MAXLINES)
		return smtp_reply_fail(r, "too many reply lines");
	if (r->bytes > SMTP_MAXREPLY)
		return smtp_reply_fail(r, "reply too long");
	if ((code = smtp_reply_code(line, len)) < 0)
		return smtp_reply_fail(r, "malformed reply: no 3-digit code");
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return smtp_reply_fail(r, "malformed reply: bad separator");
	if (r->code != 0 && code != r->code)
		return smtp_reply_fail(r, "malformed reply: code changed");
	last = len == 3 || line[3] == ' ';
	text = len > 4 ? line + 4 : "";
	tlen = len > 4 ? len - 4 : 0;
	if (r->code == 0)
		(void)text_printable(r->text, sizeof(r->text), text, tlen,
		    NULL);
	else if (smtp_reply_is_starttls(text, tlen))
		r->starttls = 1;
	r->code = code;
	return last ? 1 : 0;
}
