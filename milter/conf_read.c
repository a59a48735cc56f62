/*
 * conf_read.c - the line reader that conf.c gives libinih (conf_int.h).
 *
 * conf_load() feeds libinih through ini_parse_stream() with its own line
 * reader, conf_reader(), because Debian's libinih silently splits a line
 * longer than its buffer (INI_MAX_LINE 200) and parses the tail as a new
 * line. The reader reads whole lines with getline() and, before libinih
 * sees a line:
 *   - rejects a line longer than the buffer libinih offers (num - 2 bytes
 *     without the line end; 198 with Debian's build) and a NUL byte;
 *   - strips "\n" / "\r\n";
 *   - classifies the line exactly as libinih will (blank or comment,
 *     continuation, [section], key = value), so the handler knows whether
 *     a call continues the previous key (libinih passes the previous key's
 *     name again, truncated to 49 bytes) or is a repeated key;
 *   - checks section lines itself (libinih never reports an empty unknown
 *     section and ignores text after ']') and key lines (libinih also
 *     accepts "key: value"; we require '=').
 * Continuation lines append to lists (route lists, skip_mailers) and are
 * an error under any other key; their inline "; comment" is stripped here
 * (libinih 55 strips it only on key lines).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

static int
conf_section_line(struct conf_parse *p, const char *start)
{
	const char	*end, *q;
	size_t		 len, i;

	if ((end = strchr(start + 1, ']')) == NULL)
		return conf_fail(p, p->lineno, "section header without ']'");
	for (q = end + 1; isspace((unsigned char)*q); q++)
		;
	if (*q != '\0' && *q != ';')
		return conf_fail(p, p->lineno,
		    "unexpected text after ']' in section header");
	len = (size_t)(end - start - 1);
	for (i = 1; i < CONF_NSECTS; i++)
		if (strlen(conf_sect_names[i]) == len &&
		    strncmp(conf_sect_names[i], start + 1, len) == 0)
			break;
	if (i == CONF_NSECTS)
		return conf_fail(p, p->lineno, "unknown section [%.*s]",
		    (int)(len > 50 ? 50 : len), start + 1);
	p->sect = (enum conf_sect)i;
	p->have_prev = 0;
	return 0;
}

/* Where libinih's find_chars_or_comment(start, "=:") stops. */
static int
conf_key_line(struct conf_parse *p, const char *start)
{
	const char	*q;
	int		 was_space = 0;

	for (q = start; *q != '\0' && *q != '=' && *q != ':' &&
	    !(was_space && *q == ';'); q++)
		was_space = isspace((unsigned char)*q);
	if (*q == '=') {
		p->have_prev = 1;
		return 0;
	}
	if (*q == ':')
		return conf_fail(p, p->lineno,
		    "expected '=' after the key (write 'key = value')");
	return conf_fail(p, p->lineno,
	    "expected 'key = value' or '[section]'");
}

/* Classify p->line the way libinih's ini_parse_stream() will. */
static int
conf_classify(struct conf_parse *p)
{
	const char	*s = p->line, *start;

	p->cont = 0;
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	for (start = s; isspace((unsigned char)*start); start++)
		;
	if (*start == '\0' || *start == ';' || *start == '#')
		return 0;
	if (p->have_prev && start > p->line) {
		p->cont = 1;
		return 0;
	}
	conf_route_close(p);	/* a new key or section ends a list */
	if (p->has_err)
		return -1;
	if (*start == '[')
		return conf_section_line(p, start);
	return conf_key_line(p, start);
}

char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse	*p = stream;
	ssize_t			 n;
	size_t			 len;

	if (p->has_err)
		return NULL;
	errno = 0;
	if ((n = getline(&p->line, &p->linecap, p->fp)) == -1) {
		if (ferror(p->fp))
			(void)conf_fail(p, p->lineno + 1, "read error: %s",
			    strerror(errno));
		else
			conf_route_close(p);
		return NULL;
	}
	p->lineno++;
	len = (size_t)n;
	if (memchr(p->line, '\0', len) != NULL) {
		(void)conf_fail(p, p->lineno, "NUL byte in line");
		return NULL;
	}
	if (len > 0 && p->line[len - 1] == '\n')
		len--;
	if (len > 0 && p->line[len - 1] == '\r')
		len--;
	p->line[len] = '\0';
	if (num < 3 || len > (size_t)num - 2) {
		(void)conf_fail(p, p->lineno, "line longer than %d bytes "
		    "(continue long lists on indented lines)", num - 2);
		return NULL;
	}
	if (conf_classify(p) == -1)
		return NULL;
	memcpy(str, p->line, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

