/*
 * rcache_val.c - a verdict as a Redis value and its key (see rcache.h):
 * rcache_encode(), rcache_decode(), rcache_key().
 *
 * A value is data from the network: rcache_decode() trusts nothing in it.
 * It reads the header line through a bounded tokenizer (at most
 * RCACHE_NTOK tokens of at most 20 bytes, decimal digits only where a
 * number is due), then checks that the eight lengths add up to exactly
 * what follows, and each string against its bound and for control bytes
 * before any answer is made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "rcache.h"
#include "verdict.h"

#define RCACHE_MAGIC	"TVV2"	/* 2: the pol string (SPEC 12) */
#define RCACHE_NTOK	14		/* magic, 5 fields, 8 lengths */
#define RCACHE_NSTR	8		/* domain + CA_NSTR */
#define RCACHE_TOKLEN	20
#define RCACHE_MAXLIFE	(604800L * 1000L)

/* Bounds of the strings: domain, then the CA_* order. */
static const size_t rcache_strmax[RCACHE_NSTR] = {
	NAME_BUFLEN - 1,	/* domain */
	1024,			/* text: SMTP reply text */
	RCACHE_MAXSTR,		/* logline */
	1400,			/* hdr: HEADER_ENTRYLEN */
	2048,			/* match */
	128,			/* fpr */
	NAME_BUFLEN - 1,	/* cn */
	16			/* pol */
};

size_t
rcache_encode(const struct cache_answer *a, const char *domain, long life_ms,
    char *buf, size_t len)
{
	const char	*s[RCACHE_NSTR] = { domain, a->text, a->logline, a->hdr,
			    a->match, a->fpr, a->cn, a->pol };
	size_t		 l[RCACHE_NSTR], off, i;
	int		 n;

	for (i = 0; i < RCACHE_NSTR; i++)
		if ((l[i] = strlen(s[i])) > rcache_strmax[i])
			return 0;
	n = snprintf(buf, len, "%s %d %d %s %s %ld %zu %zu %zu %zu %zu %zu "
	    "%zu %zu\n", RCACHE_MAGIC, (int)a->kind, a->action,
	    a->code[0] ? a->code : "-", a->xcode[0] ? a->xcode : "-", life_ms,
	    l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7]);
	if (n < 0 || (size_t)n >= len)
		return 0;
	for (off = (size_t)n, i = 0; i < RCACHE_NSTR; off += l[i], i++) {
		if (off + l[i] > len || off + l[i] > RCACHE_MAXVAL)
			return 0;
		memcpy(buf + off, s[i], l[i]);
	}
	return off;
}

/* Splits the header line [p, e) at single spaces; -1 when malformed. */
static int
rcache_tokens(const char *p, const char *e, char tok[][RCACHE_TOKLEN + 1])
{
	size_t	n = 0, l;

	while (p < e) {
		l = 0;
		while (p + l < e && p[l] != ' ')
			l++;
		if (l == 0 || l > RCACHE_TOKLEN || n == RCACHE_NTOK)
			return -1;
		memcpy(tok[n], p, l);
		tok[n++][l] = '\0';
		p += l;
		if (p < e && ++p == e)		/* a trailing space */
			return -1;
	}
	return n == RCACHE_NTOK ? 0 : -1;
}

/* Decimal digits only, at most max; -1 otherwise. */
static long
rcache_num(const char *t, long max)
{
	long	v = 0;

	if (*t == '\0' || strlen(t) > 9)
		return -1;
	for (; *t != '\0'; t++) {
		if (*t < '0' || *t > '9')
			return -1;
		v = v * 10 + (*t - '0');
	}
	return v <= max ? v : -1;
}

/* 1-3 digits at *p, moved past them; -1 when none or more. */
static int
rcache_digits(const char **p)
{
	size_t	n = 0;

	while (n < 4 && (*p)[n] >= '0' && (*p)[n] <= '9')
		n++;
	*p += n;
	return n >= 1 && n <= 3 ? 0 : -1;
}

/* CODE and XCODE both "-" (accept, tag) or "4xx"/"5xx" and "C.D.D" with the
 * class of the code (defer: 4, reject: 5). */
static int
rcache_code_ok(const char *t, const char *x, int action)
{
	const char	*p = x + 2;

	if (strcmp(t, "-") == 0 || strcmp(x, "-") == 0)
		return strcmp(t, x) == 0 && (action == ACTION_ACCEPT ||
		    action == ACTION_TAG);
	if ((action != ACTION_DEFER && action != ACTION_REJECT) ||
	    strlen(t) != 3 || rcache_num(t, 599) < 400 ||
	    (action == ACTION_REJECT) != (t[0] == '5'))
		return 0;
	if (x[0] != t[0] || x[1] != '.' || rcache_digits(&p) != 0 ||
	    *p++ != '.' || rcache_digits(&p) != 0)
		return 0;
	return *p == '\0';
}

static int
rcache_str_ok(const char *s, size_t l, size_t max)
{
	size_t	i;

	if (l > max)
		return 0;
	for (i = 0; i < l; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
rcache_decode(const char *buf, size_t len, const char *domain,
    struct cache_answer **out, long *life_ms)
{
	char		 tok[RCACHE_NTOK][RCACHE_TOKLEN + 1];
	char		*str[RCACHE_NSTR], code[4], xcode[16];
	const char	*nl, *p;
	long		 kind, action, life, l[RCACHE_NSTR], total = 0;
	size_t		 i;
	int		 rv = -1;

	*out = NULL;
	memset(str, 0, sizeof(str));
	if (len > RCACHE_MAXVAL || (nl = memchr(buf, '\n', len > 256 ? 256 :
	    len)) == NULL || rcache_tokens(buf, nl, tok) != 0 ||
	    strcmp(tok[0], RCACHE_MAGIC) != 0)
		return -1;
	kind = rcache_num(tok[1], CACHE_TEMP);
	action = rcache_num(tok[2], ACTION_REJECT);
	life = rcache_num(tok[5], RCACHE_MAXLIFE);
	if (kind < 0 || action < 0 || life <= 0 ||
	    !rcache_code_ok(tok[3], tok[4], (int)action) ||
	    (kind == CACHE_OK && action != ACTION_ACCEPT) ||
	    (kind == CACHE_FAILED && action == ACTION_ACCEPT))
		return -1;
	for (i = 0; i < RCACHE_NSTR; i++) {
		if ((l[i] = rcache_num(tok[6 + i], RCACHE_MAXVAL)) < 0)
			return -1;
		total += l[i];
	}
	p = nl + 1;
	if ((size_t)total != len - (size_t)(p - buf))
		return -1;
	for (i = 0; i < RCACHE_NSTR; p += l[i], i++) {
		if (!rcache_str_ok(p, (size_t)l[i], rcache_strmax[i]))
			goto out;
		str[i] = strndup(p, (size_t)l[i]);
		if (str[i] == NULL || strlen(str[i]) != (size_t)l[i])
			goto out;
	}
	if (strcmp(str[0], domain) != 0)
		goto out;
	(void)snprintf(code, sizeof(code), "%s", strcmp(tok[3], "-") ?
	    tok[3] : "");
	(void)snprintf(xcode, sizeof(xcode), "%s", strcmp(tok[4], "-") ?
	    tok[4] : "");
	*out = cache_answer_new((enum cache_kind)kind, (int)action, code,
	    xcode, (const char *const *)&str[1]);
	*life_ms = life;
	rv = 0;
out:
	for (i = 0; i < RCACHE_NSTR; i++)
		free(str[i]);
	return rv;
}

int
rcache_key(const char *trust_fp, const char *cache_key, const char *domain,
    char *out, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 hex[33];
	size_t		 i;
	int		 n;

	if (EVP_Digest(cache_key, strlen(cache_key), md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen < 16)
		return -1;
	for (i = 0; i < 16; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", md[i]);
	n = snprintf(out, len, "v2:%.32s:%s:%s", trust_fp, domain, hex);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
