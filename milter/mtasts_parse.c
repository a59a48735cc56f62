/*
 * mtasts_parse.c - MTA-STS text: the TXT record, the policy body and the
 * mx pattern rule (RFC 8461 3.1, 3.2, 4.1; API in mtasts.h).
 *
 * mtasts_parse_txt(): a record is an MTA-STS record when it starts with
 * "v=STSv1" followed by ';', space/tab or its end (case-sensitive, as the
 * RFC's %s strings). Then: fields "name=value" separated by ';' with
 * optional white space around it, a trailing ';' allowed; the field "id"
 * exactly once, 1-32 ASCII letters and digits; extension names 1-32 of
 * [A-Za-z0-9_.-] starting with a letter or digit, values 1+ bytes of
 * 0x21-0x7e except '=' and ';'. Any other byte (NUL included) makes the
 * record malformed (-1).
 *
 * mtasts_parse_policy(): at most MTASTS_MAX_BODY bytes; lines end in LF or
 * CRLF (the last line may lack it; empty lines are skipped); each line is
 * "key:" optional white space, value, optional trailing white space. Keys
 * are case-sensitive. version must be "STSv1", mode "enforce", "testing"
 * or "none", max_age 1-10 digits and at most MTASTS_MAX_AGE; each of the
 * three exactly once (a repeated one is invalid: choice where the RFC is
 * silent); mx once or more (at most MTASTS_MAX_MX), each a host name
 * (name_is_hostname(): LDH labels, 253 bytes) optionally prefixed "*.",
 * kept in lower case without a trailing dot; at least one mx unless mode
 * is none. Unknown keys are ignored, but every line must still be
 * "key: value" of printable ASCII (and tab): a NUL, another control byte,
 * a byte >= 0x80 or a line without ':' makes the policy invalid.
 *
 * mtasts_pattern_match(): see mtasts.h. No allocation; no state.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts.h"
#include "name.h"
#include "xalloc.h"

/* ---- TXT record (RFC 8461 3.1) ---------------------------------------- */

static size_t
sts_wsp(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

static int
sts_ext_name_ok(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n > 32 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* One "name=value" field at s[*i..); -1 when malformed. */
static int
sts_field(const char *s, size_t len, size_t *i, char *id, size_t idsize,
    int *have_id)
{
	size_t	n0 = *i, eq, v0, k;

	while (*i < len && s[*i] != '=' && s[*i] != ';' && s[*i] != ' ' &&
	    s[*i] != '\t')
		(*i)++;
	if (*i >= len || s[*i] != '=')
		return -1;
	eq = *i;
	v0 = ++(*i);
	while (*i < len && (unsigned char)s[*i] > 0x20 &&
	    (unsigned char)s[*i] < 0x7f && s[*i] != ';' && s[*i] != '=')
		(*i)++;
	if (*i == v0 || !sts_ext_name_ok(s + n0, eq - n0))
		return -1;
	if (eq - n0 != 2 || memcmp(s + n0, "id", 2) != 0)
		return 0;
	if (*have_id || *i - v0 > MTASTS_ID_MAXLEN || *i - v0 >= idsize)
		return -1;
	for (k = v0; k < *i; k++)
		if (!isalnum((unsigned char)s[k]))
			return -1;
	memcpy(id, s + v0, *i - v0);
	id[*i - v0] = '\0';
	*have_id = 1;
	return 0;
}

int
mtasts_parse_txt(const char *s, size_t len, char *id, size_t idsize)
{
	size_t	i = 7;
	int	have_id = 0;

	if (len < 7 || memcmp(s, "v=STSv1", 7) != 0 || (len > 7 &&
	    s[7] != ';' && s[7] != ' ' && s[7] != '\t'))
		return 0;
	if (idsize > 0)
		id[0] = '\0';
	for (;;) {
		i = sts_wsp(s, i, len);
		if (i == len)
			break;
		if (s[i++] != ';')
			return -1;
		i = sts_wsp(s, i, len);
		if (i == len)
			break;
		if (sts_field(s, len, &i, id, idsize, &have_id) == -1)
			return -1;
	}
	return have_id ? 1 : -1;
}

/* ---- policy body (RFC 8461 3.2) --------------------------------------- */

struct sts_seen {
	int	version, mode, max_age;
};

/* "what 'arg'" (arg printable, cut) or "what" into err; returns -1. */
static int
sts_fail(char *err, size_t errlen, const char *what, const char *arg)
{
	char	safe[64];
	size_t	i;

	if (arg == NULL) {
		(void)snprintf(err, errlen, "%s", what);
		return -1;
	}
	(void)snprintf(safe, sizeof(safe), "%s", arg);	/* cut ok */
	for (i = 0; safe[i] != '\0'; i++)
		if ((unsigned char)safe[i] < 0x20 || (unsigned char)safe[i] > 0x7e)
			safe[i] = '?';
	(void)snprintf(err, errlen, "%s '%s'", what, safe);
	return -1;
}

static int
sts_mx_add(struct mtasts_policy *p, const char *v, char *err, size_t errlen)
{
	char	buf[NAME_BUFLEN];
	size_t	n = strlen(v), off = 0;

	if (n >= 2 && v[0] == '*' && v[1] == '.')
		off = 2;
	if (n > 0 && v[n - 1] == '.')
		n--;
	if (n <= off || !name_is_hostname(v + off, n - off) ||
	    name_lower(v, n, buf, sizeof(buf)) == -1)
		return sts_fail(err, errlen, "invalid mx pattern", v);
	if (p->nmx >= MTASTS_MAX_MX)
		return sts_fail(err, errlen, "more than 1000 mx patterns", NULL);
	p->mx = xreallocarray(p->mx, p->nmx + 1, sizeof(char *));
	p->mx[p->nmx++] = xstrdup(buf);
	return 0;
}

static int
sts_max_age(struct mtasts_policy *p, const char *v, char *err, size_t errlen)
{
	unsigned long	x = 0;
	size_t		i, n = strlen(v);

	if (n == 0 || n > 10)
		return sts_fail(err, errlen, "invalid max_age", v);
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return sts_fail(err, errlen, "invalid max_age", v);
		x = x * 10 + (unsigned long)(v[i] - '0');
	}
	if (x > MTASTS_MAX_AGE)
		return sts_fail(err, errlen, "max_age over 31557600:", v);
	p->max_age = x;
	return 0;
}

static int
sts_mode(struct mtasts_policy *p, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "enforce") == 0)
		p->mode = MTASTS_MODE_ENFORCE;
	else if (strcmp(v, "testing") == 0)
		p->mode = MTASTS_MODE_TESTING;
	else if (strcmp(v, "none") == 0)
		p->mode = MTASTS_MODE_NONE;
	else
		return sts_fail(err, errlen, "invalid mode", v);
	return 0;
}

/* One "key: value" pair (both NUL-terminated, trimmed). */
static int
sts_pair(struct mtasts_policy *p, struct sts_seen *seen, const char *k,
    const char *v, char *err, size_t errlen)
{
	int	*once = NULL;

	if (strcmp(k, "version") == 0)
		once = &seen->version;
	else if (strcmp(k, "mode") == 0)
		once = &seen->mode;
	else if (strcmp(k, "max_age") == 0)
		once = &seen->max_age;
	else if (strcmp(k, "mx") == 0)
		return sts_mx_add(p, v, err, errlen);
	else
		return 0;			/* unknown keys are ignored */
	if ((*once)++)
		return sts_fail(err, errlen, "duplicate key", k);
	if (once == &seen->version)
		return strcmp(v, "STSv1") == 0 ? 0 :
		    sts_fail(err, errlen, "unsupported version", v);
	if (once == &seen->mode)
		return sts_mode(p, v, err, errlen);
	return sts_max_age(p, v, err, errlen);
}

/* Line line[0..n) (no line end); it is copied to be cut in place. */
static int
sts_line(struct mtasts_policy *p, struct sts_seen *seen, const char *line,
    size_t n, char *err, size_t errlen)
{
	char	*l, *v;
	size_t	 i, e;
	int	 rv;

	for (i = 0; i < n; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
		    (unsigned char)line[i] >= 0x7f)
			return sts_fail(err, errlen, "control or non-ASCII "
			    "byte in the policy", NULL);
	l = xstrndup(line, n);
	if ((v = strchr(l, ':')) == NULL || v == l) {
		rv = sts_fail(err, errlen, "line without 'key:':", l);
		goto out;
	}
	*v++ = '\0';
	v += strspn(v, " \t");
	for (e = strlen(v); e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t'); e--)
		v[e - 1] = '\0';
	rv = sts_pair(p, seen, l, v, err, errlen);
out:
	free(l);
	return rv;
}

int
mtasts_parse_policy(const char *body, size_t len, struct mtasts_policy *p,
    char *err, size_t errlen)
{
	struct sts_seen	 seen = { 0, 0, 0 };
	const char	*nl;
	size_t		 off = 0, n, raw;

	memset(p, 0, sizeof(*p));
	if (len > MTASTS_MAX_BODY)
		return sts_fail(err, errlen, "policy over 65536 bytes", NULL);
	while (off < len) {
		nl = memchr(body + off, '\n', len - off);
		raw = nl != NULL ? (size_t)(nl - (body + off)) : len - off;
		n = raw;
		if (n > 0 && body[off + n - 1] == '\r')
			n--;
		if (n > 0 && sts_line(p, &seen, body + off, n, err, errlen) != 0)
			goto bad;
		off += raw + (nl != NULL);
	}
	if (!seen.version || !seen.mode || !seen.max_age) {
		(void)sts_fail(err, errlen, !seen.version ? "missing version" :
		    !seen.mode ? "missing mode" : "missing max_age", NULL);
		goto bad;
	}
	if (p->nmx == 0 && p->mode != MTASTS_MODE_NONE) {
		(void)sts_fail(err, errlen, "no mx pattern", NULL);
		goto bad;
	}
	return 0;
bad:
	mtasts_policy_free(p);
	return -1;
}

void
mtasts_policy_free(struct mtasts_policy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	memset(p, 0, sizeof(*p));
}

void
mtasts_policy_copy(struct mtasts_policy *dst, const struct mtasts_policy *src)
{
	size_t	i;

	*dst = *src;
	dst->mx = src->nmx ? xcalloc(src->nmx, sizeof(char *)) : NULL;
	for (i = 0; i < src->nmx; i++)
		dst->mx[i] = xstrdup(src->mx[i]);
}

/* ---- mx patterns (RFC 8461 4.1) --------------------------------------- */

int
mtasts_pattern_match(const char *pattern, const char *host)
{
	char		 h[NAME_BUFLEN];
	const char	*dot;
	size_t		 n;

	if (pattern == NULL || host == NULL)
		return 0;
	n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || !name_is_hostname(host, n) ||
	    name_lower(host, n, h, sizeof(h)) == -1)
		return 0;
	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, h) == 0;
	pattern += 2;
	if (strchr(pattern, '.') == NULL)	/* "*.tld": never (SPEC 4) */
		return 0;
	if ((dot = strchr(h, '.')) == NULL || dot == h)
		return 0;
	return strcasecmp(dot + 1, pattern) == 0;
}

int
mtasts_mx_match(const struct mtasts_policy *p, const char *mxhost)
{
	size_t	i;

	for (i = 0; p != NULL && i < p->nmx; i++)
		if (mtasts_pattern_match(p->mx[i], mxhost))
			return 1;
	return 0;
}

const char *
mtasts_mode_str(enum mtasts_mode m)
{
	switch (m) {
	case MTASTS_MODE_ENFORCE:	return "enforce";
	case MTASTS_MODE_TESTING:	return "testing";
	case MTASTS_MODE_NONE:		return "none";
	}
	return "?";
}

const char *
mtasts_status_str(enum mtasts_status s)
{
	switch (s) {
	case MTASTS_POLICY:	return "policy";
	case MTASTS_NOPOLICY:	return "none";
	case MTASTS_TEMP:	return "temp";
	}
	return "?";
}
