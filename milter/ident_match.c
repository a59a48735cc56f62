/*
 * ident_match.c - the SPEC 4 name matcher (part of the ident module).
 *
 * ident_name_valid(s, len, wildcard): 1 when s[0..len) is a name this
 *	module will use: one trailing dot allowed; after it, 1..NAME_MAXLEN
 *	bytes of labels of 1..63 bytes each made of letters, digits, '-' and
 *	'_' (no empty label, no leading dot, no NUL). When wildcard is set,
 *	the left-most label may be exactly "*". Hyphen placement is not
 *	checked (a reference identifier has passed name_to_alabel already).
 *
 * ident_match(presented, reference): 1 match, 0 no match. Both sides are
 *	normalised (ASCII case folded, one trailing dot removed) and must pass
 *	ident_name_valid(); the reference may not contain '*' at all. Never a
 *	match when either side is an IP literal: inet_pton() accepts it as
 *	IPv4 or IPv6, or its last label is all digits (no top-level domain is
 *	numeric; this also catches "127.1"-style shorthands). A presented
 *	"*.rest" matches "label.rest" for exactly one non-empty label, and only
 *	when "rest" has at least two labels ("*.com" and "*" match nothing).
 *	No public-suffix list: "*.co.uk" matches "foo.co.uk".
 *	A-labels: the wildcard may stand for a whole left-most A-label
 *	("*.example.com" matches "xn--bcher-kva.example.com"). RFC 6125 6.4.3
 *	only advises against a wildcard character embedded within an A-label
 *	or U-label ("xn--*"); that is a partial wildcard and never matches
 *	here. A whole-label wildcard grants nothing an A-label would not: the
 *	holder of "*.example.com" controls every label under example.com.
 *
 * Limits: inputs are read up to NAME_MAXLEN + 2 bytes (strnlen); longer
 * strings never match. No allocation.
 */
#include <arpa/inet.h>
#include <string.h>

#include "ident.h"

#define IDENT_LABEL_MAX	63

static int
ident_host_byte(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_');
}

int
ident_name_valid(const char *s, size_t len, int wildcard)
{
	size_t	i, label = 0;

	if (s == NULL)
		return 0;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAXLEN)
		return 0;
	i = 0;
	if (wildcard && s[0] == '*' && (len == 1 || s[1] == '.')) {
		if (len == 1)
			return 1;
		i = 2;			/* "*." consumed, next label must follow */
		if (i == len)
			return 0;
	}
	for (; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!ident_host_byte((unsigned char)s[i]))
			return 0;
		if (++label > IDENT_LABEL_MAX)
			return 0;
	}
	return label > 0;
}

/* Lower-cased copy without the trailing dot into out[NAME_BUFLEN]. */
static int
ident_norm(const char *in, int wildcard, char *out)
{
	size_t	n;

	n = strnlen(in, NAME_MAXLEN + 2);
	if (n > NAME_MAXLEN + 1 || !ident_name_valid(in, n, wildcard))
		return -1;
	if (in[n - 1] == '.')
		n--;
	return name_lower(in, n, out, NAME_BUFLEN);
}

/* An IPv4/IPv6 literal (raw input), or a normalised name that ends in an
 * all-digit label. */
static int
ident_ip_like(const char *raw, const char *norm)
{
	unsigned char	 buf[sizeof(struct in6_addr)];
	const char	*last;
	size_t		 i;

	if (inet_pton(AF_INET, raw, buf) == 1 ||
	    inet_pton(AF_INET6, raw, buf) == 1)
		return 1;
	if (norm == NULL)
		return 0;
	last = strrchr(norm, '.');
	last = last ? last + 1 : norm;
	for (i = 0; last[i] != '\0'; i++)
		if (last[i] < '0' || last[i] > '9')
			return 0;
	return i > 0;
}

int
ident_match(const char *presented, const char *reference)
{
	char		 p[NAME_BUFLEN], r[NAME_BUFLEN];
	const char	*rest, *rdot;

	if (presented == NULL || reference == NULL)
		return 0;
	if (ident_ip_like(presented, NULL) || ident_ip_like(reference, NULL))
		return 0;
	if (ident_norm(presented, 1, p) != 0 ||
	    ident_norm(reference, 0, r) != 0)
		return 0;
	if (ident_ip_like(p, p) || ident_ip_like(r, r))
		return 0;
	if (p[0] != '*')
		return strcmp(p, r) == 0;
	rest = p + 1;			/* ".example.com" or "" */
	if (*rest != '.' || strchr(rest + 1, '.') == NULL)
		return 0;
	rdot = strchr(r, '.');
	if (rdot == NULL || rdot == r)
		return 0;
	return strcmp(rdot, rest) == 0;
}
