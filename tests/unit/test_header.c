/*
 * test_header.c - the X-TLS-Verify value: entries from verdicts, cleaning
 * of hostile bytes, RFC 5322 folding of long lists, no header when empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "t.h"

/* Every line (first counts "Name: ") within limits, only printable ASCII,
 * continuation lines start with a space; returns the longest line. */
static size_t
check_lines(const char *name, const char *v, int *bad)
{
	size_t		 col = strlen(name) + 2, max = 0;
	const char	*p;

	*bad = 0;
	for (p = v; *p != '\0'; p++) {
		if (*p == '\n') {
			if (p[1] != ' ')
				*bad = 1;
			col = 0;
			continue;
		}
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*bad = 1;
		if (++col > max)
			max = col;
	}
	return max;
}

static char *
unfold(const char *v)
{
	char	*u = strdup(v), *o = u;

	for (; *v != '\0'; v++)
		if (*v != '\n')
			*o++ = *v;
	*o = '\0';
	return u;
}

static void
test_entry(void)
{
	struct verdict	 v;
	struct attempt	 a;
	char		 buf[HEADER_ENTRYLEN];

	memset(&v, 0, sizeof(v));
	memset(&a, 0, sizeof(a));
	strcpy(v.domain, "example.com");
	v.setting = TLS_REQUIRED_VERIFY;
	v.result = "verified";
	strcpy(a.host, "mx01.subd.emailhosted.not");
	a.connected = 1;
	a.ident_checked = 1;
	a.id.matched = 1;
	a.id.match.type = IDENT_CN;
	strcpy(a.id.match.presented, "*.emailhosted.not");
	strcpy(a.id.match.reference, "mx0a.emailhosted.not");
	a.id.match.source = REF_PTR;
	v.attempts = &a;
	v.n_attempts = 1;
	v.best = 0;
	T_OK(header_entry(&v, buf, sizeof(buf)) == 0 && strcmp(buf,
	    "example.com=verified (required-verify; "
	    "host=mx01.subd.emailhosted.not; "
	    "matched=CN:*.emailhosted.not~ptr:mx0a.emailhosted.not)") == 0,
	    "the seed's example entry: %s", buf);
	a.id.matched = 0;
	v.result = "unverified";
	v.setting = TLS_REQUIRED_VERIFY_HOSTED;
	(void)header_entry(&v, buf, sizeof(buf));
	T_OK(strcmp(buf, "example.com=unverified (required-verify-hosted; "
	    "host=mx01.subd.emailhosted.not)") == 0,
	    "no match: no matched= field: %s", buf);
	v.best = -1;
	v.result = "unknown";
	(void)header_entry(&v, buf, sizeof(buf));
	T_OK(strcmp(buf, "example.com=unknown (required-verify-hosted)") == 0,
	    "no host reached: no host= field: %s", buf);
}

static void
test_hostile(void)
{
	char	buf[HEADER_ENTRYLEN], small[40];
	int	bad;

	(void)header_entry_fmt(buf, sizeof(buf), "ex\r\nBcc: x@y.z;(a)=b",
	    "verified", "required", "h\x01st\xff", NULL, "a note; with\nnl");
	(void)check_lines("X", buf, &bad);
	T_OK(!bad && strchr(buf, '\n') == NULL && strchr(buf, '\r') == NULL,
	    "controls and 8-bit bytes cleaned: %s", buf);
	T_OK(strncmp(buf, "ex??Bcc:?x@y.z??a??b=verified (required; "
	    "host=h?st?; note=a note? with?nl)", sizeof(buf)) == 0,
	    "separators inside a field are replaced: %s", buf);
	(void)header_entry_fmt(buf, sizeof(buf), "x\"y\\z", "verified",
	    "required", "h\"=\\", NULL, NULL);
	T_OK(strcmp(buf, "x?y?z=verified (required; host=h??" "?)") == 0,
	    "no quote or backslash from a field: %s", buf);
	T_OK(header_entry_fmt(small, sizeof(small), "a-very-long-domain-name."
	    "example.com", "verified", "required-verify", "mx.example.com",
	    NULL, NULL) == -1 && strlen(small) == sizeof(small) - 1 &&
	    strcmp(small + strlen(small) - 4, "...)") == 0,
	    "a cut entry fits and ends in \"...)\": %s", small);
}

static void
test_fold(void)
{
	const char	*one[] = { "a.example=verified (required-verify)" };
	const char	*many[40] = { NULL };
	char		 e[40][128], *v, *u, *joined;
	size_t		 i, max, jl = 0;
	int		 bad;

	T_OK(header_fold("X-TLS-Verify", many, 0) == NULL,
	    "no entries: no header");
	v = header_fold("X-TLS-Verify", one, 1);
	T_OK(v != NULL && strcmp(v, one[0]) == 0, "one short entry: one "
	    "line, unchanged: %s", v ? v : "(null)");
	free(v);
	joined = calloc(1, 40 * 130);
	for (i = 0; i < 40; i++) {
		(void)snprintf(e[i], sizeof(e[i]), "d%zu.example=verified "
		    "(required-verify; host=mx%zu.example.net; "
		    "matched=dNSName:d%zu.example~domain:d%zu.example)",
		    i, i, i, i);
		many[i] = e[i];
		jl += (size_t)sprintf(joined + jl, "%s%s", i ? ", " : "", e[i]);
	}
	v = header_fold("X-TLS-Verify", many, 40);
	max = check_lines("X-TLS-Verify", v, &bad);
	T_OK(max <= HEADER_LINE && !bad, "40 entries: every line <= 78 "
	    "(longest %zu), continuation lines start with a space", max);
	u = unfold(v);
	T_OK(strcmp(u, joined) == 0, "unfolding gives the \", \"-joined "
	    "entries back");
	T_OK(strstr(v, "\n d1.example=") != NULL || strstr(v, " d1.example=")
	    != NULL, "second entry present");
	free(u);
	free(v);
	free(joined);
}

static void
test_longword(void)
{
	char		 word[1200];
	const char	*one[1] = { word };
	char		*v;
	size_t		 max;
	int		 bad;

	memset(word, 'a', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	memcpy(word, "x.example=", 10);
	word[20] = ' ';		/* "x.example=aaaaaaaaaa aaaa...(1179)" */
	v = header_fold("X-TLS-Verify", one, 1);
	max = check_lines("X-TLS-Verify", v, &bad);
	T_OK(max <= HEADER_HARDMAX && !bad,
	    "a 1179-byte word is cut to stay within 998 (longest %zu)", max);
	free(v);
}

int
main(void)
{
	test_entry();
	test_hostile();
	test_fold();
	test_longword();
	return T_DONE();
}
