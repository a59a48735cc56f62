/*
 * header.c - the value of the X-TLS-Verify header: one entry per probed
 * domain, joined and folded per RFC 5322 (see header.h).
 *
 * Limits: an entry is at most len-1 bytes (HEADER_ENTRYLEN is enough for
 * 253-byte names in every field); each field is cleaned to printable
 * ASCII without ";(),=", '"' or backslash (no field can open a quoted
 * string, a comment or a new field); a folded line passes HEADER_LINE
 * only when one word is longer, and never HEADER_HARDMAX. The caller
 * frees header_fold()'s result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "header.h"
#include "ident.h"
#include "xalloc.h"

/* Append src to buf at *pos, cleaned; 0, or -1 when it did not fit. */
static int
header_put(char *buf, size_t len, size_t *pos, const char *src, int field,
    int keep_space)
{
	unsigned char	c;

	for (; *src != '\0'; src++) {
		if (*pos + 1 >= len)
			return -1;
		c = (unsigned char)*src;
		if (!field)
			;	/* our own separators */
		else if (c < 0x21 || c > 0x7e)
			c = (keep_space && c == ' ') ? ' ' : '?';
		else if (strchr(";(),=\"\\", c) != NULL)
			c = '?';
		buf[(*pos)++] = (char)c;
	}
	buf[*pos] = '\0';
	return 0;
}

static int
header_field(char *buf, size_t len, size_t *pos, const char *name,
    const char *val, int keep_space)
{
	if (val == NULL || *val == '\0')
		return 0;
	if (header_put(buf, len, pos, "; ", 0, 0) != 0 ||
	    header_put(buf, len, pos, name, 0, 0) != 0 ||
	    header_put(buf, len, pos, "=", 0, 0) != 0)
		return -1;
	return header_put(buf, len, pos, val, 1, keep_space);
}

int
header_entry_fmt(char *buf, size_t len, const char *domain,
    const char *result, const char *setting, const char *host,
    const char *matched, const char *note)
{
	size_t	pos = 0;
	int	rv = -1;

	if (len < 8)
		return -1;
	buf[0] = '\0';
	if (header_put(buf, len - 4, &pos, domain, 1, 0) != 0 ||
	    header_put(buf, len - 4, &pos, "=", 0, 0) != 0 ||
	    header_put(buf, len - 4, &pos, result ? result : "unknown", 1,
	    0) != 0 ||
	    header_put(buf, len - 4, &pos, " (", 0, 0) != 0 ||
	    header_put(buf, len - 4, &pos, setting, 1, 0) != 0 ||
	    header_field(buf, len - 4, &pos, "host", host, 0) != 0 ||
	    header_field(buf, len - 4, &pos, "matched", matched, 0) != 0 ||
	    header_field(buf, len - 4, &pos, "note", note, 1) != 0)
		goto out;
	rv = 0;
out:
	/* len - 4 kept room for "...)" */
	(void)snprintf(buf + pos, len - pos, "%s", rv == 0 ? ")" : "...)");
	return rv;
}

int
header_entry(const struct verdict *v, char *buf, size_t len)
{
	const struct attempt	*a = NULL;
	const struct ident_cmp	*m;
	char			 matched[2 * NAME_BUFLEN + 32];
	const char		*host = NULL, *mp = NULL, *note = NULL;
	char			 tlsa[16];

	if (v->best >= 0 && (size_t)v->best < v->n_attempts)
		a = &v->attempts[v->best];
	if (a != NULL && a->connected)
		host = a->host;
	if (a != NULL && a->ident_checked && a->id.matched) {
		m = &a->id.match;
		(void)snprintf(matched, sizeof(matched), "%s:%s~%s:%s",
		    ident_type_str(m->type), m->presented,
		    ident_source_str(m->source), m->reference);
		mp = matched;
	}
	if (a != NULL && a->tlsa[0] != '\0') {	/* "dane TLSA 3 1 1" */
		(void)snprintf(tlsa, sizeof(tlsa), "dane TLSA %.5s",
		    a->tlsa);
		note = tlsa;
	} else if (a != NULL && a->sts && v->sts_found) {
		/* "sts enforce" / "sts testing" (SPEC 12) */
		(void)snprintf(tlsa, sizeof(tlsa), "sts %s",
		    mtasts_mode_str(v->sts.mode));
		note = tlsa;
	}
	return header_entry_fmt(buf, len,
	    v->domain[0] != '\0' ? v->domain : v->input, v->result,
	    conf_setting_name(v->setting), host, mp, note);
}

/* Append one word (no spaces) after the first, with the space before it,
 * folding before that space when the line would pass HEADER_LINE. */
static void
header_word(char *out, size_t *pos, size_t *col, const char *w, size_t wlen)
{
	if (wlen > HEADER_HARDMAX - 1)
		wlen = HEADER_HARDMAX - 1;
	if (*col + 1 + wlen > HEADER_LINE) {
		out[(*pos)++] = '\n';
		*col = 0;
	}
	out[(*pos)++] = ' ';
	memcpy(out + *pos, w, wlen);
	*pos += wlen;
	*col += 1 + wlen;
}

char *
header_fold(const char *name, const char *const *entries, size_t n)
{
	char		*joined, *out, *w, *sp;
	size_t		 i, total = 1, pos = 0, col, jl;

	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++)
		total += strlen(entries[i]) + 2;
	joined = xmalloc(total);
	joined[0] = '\0';
	for (i = 0, jl = 0; i < n; i++)
		jl += (size_t)snprintf(joined + jl, total - jl, "%s%s",
		    i > 0 ? ", " : "", entries[i]);
	out = xmalloc(2 * total + 2);
	col = strlen(name) + 2;		/* "Name: " */
	if (col > HEADER_LINE)
		col = HEADER_LINE;
	for (w = joined; *w != '\0'; w = sp) {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			break;
		if ((sp = strchr(w, ' ')) == NULL)
			sp = w + strlen(w);
		if (pos == 0) {		/* the first word follows "Name: " */
			pos = (size_t)(sp - w);
			if (pos > HEADER_HARDMAX - col)
				pos = HEADER_HARDMAX - col;
			memcpy(out, w, pos);
			col += pos;
			continue;
		}
		header_word(out, &pos, &col, w, (size_t)(sp - w));
	}
	out[pos] = '\0';
	free(joined);
	return out;
}
