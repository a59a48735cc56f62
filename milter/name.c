/*
 * name.c - DNS names: validation and normalisation (see name.h, SPEC 4).
 *
 * name_to_alabel(in, out, outlen)
 *	The one canonical form of a domain or host name, used for every DNS
 *	query, every table lookup and every certificate comparison:
 *	- one trailing dot is removed (a second one makes the name invalid);
 *	- pure ASCII input is only folded to lower case; libidn2 is not
 *	  called for it, so an A-label or an LDH name with an underscore is
 *	  never rejected by an IDNA rule that does not apply to host names
 *	  (libidn2 refuses "_" and some "xn--" spellings);
 *	- input with any byte >= 0x80 must be UTF-8 and is converted to the
 *	  A-label an MTA uses for it: UTS#46 non-transitional processing, as
 *	  Postfix does (ICU uidna_nameToASCII_UTF8, without STD3 rules, bidi
 *	  or CONTEXTJ checks). libidn2 first, with
 *	  idn2_to_ascii_8z(IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL); that also
 *	  applies the IDNA2008 character rules, and refuses labels UTS#46
 *	  maps and the MTA delivers to (U+2603 in "☃.net", emoji, "½", bidi
 *	  labels such as Arabic-Indic digits). For those it falls back to
 *	  IDN2_TRANSITIONAL, which differs from non-transitional processing
 *	  only for the deviation characters U+00DF ß, U+03C2 ς, U+200C and
 *	  U+200D (and U+1E9E ẞ, mapped to ß by later UTS#46 versions): a name
 *	  that contains any of them and was refused is invalid, since the
 *	  transitional form ("ss" for "ß") names a different domain;
 *	- the result is checked with name_is_hostname().
 *	Returns 0, or -1 with out = "" (when outlen > 0) for an invalid name,
 *	input longer than NAME_INMAX bytes, or a result that does not fit.
 *	out is the caller's buffer (NAME_BUFLEN bytes are always enough).
 *
 * name_is_hostname(s, len)
 *	1 when s[0..len) is a host name: labels of 1..63 bytes of letters,
 *	digits, '-' and '_', a label neither starting nor ending with '-',
 *	at most 253 bytes without the one optional trailing dot, no NUL or
 *	any other byte. 0 otherwise (also for "" and ".").
 *
 * name_is_ip_literal(s)
 *	1 when inet_pton() accepts s as IPv4 or IPv6 (no brackets, no zone).
 *
 * Nothing here allocates memory that the caller must free.
 */
#include <arpa/inet.h>
#include <string.h>

#include <idn2.h>

#include "name.h"

/* Longest input name_to_alabel() looks at (U-labels take up to 4 bytes
 * per character, and the A-label result must fit NAME_MAXLEN anyway). */
#define NAME_INMAX	1024

static int
name_is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int
name_is_hostname(const char *s, size_t len)
{
	size_t	 i, label = 0;

	if (s == NULL || len == 0)
		return 0;
	if (s[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAXLEN)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!name_is_ldh(c))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

int
name_is_ip_literal(const char *s)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	if (s == NULL)
		return 0;
	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

int
name_lower(const char *in, size_t len, char *out, size_t outlen)
{
	size_t	i;

	if (len >= outlen)
		return -1;
	for (i = 0; i < len; i++) {
		char c = in[i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return 0;
}

/* UTS#46 deviation characters in UTF-8 (and U+1E9E, see above). */
static int
name_has_deviation(const char *s)
{
	static const char *const dev[] = { "\xc3\x9f", "\xcf\x82",
	    "\xe2\x80\x8c", "\xe2\x80\x8d", "\xe1\xba\x9e" };
	size_t	i;

	for (i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
		if (strstr(s, dev[i]) != NULL)
			return 1;
	return 0;
}

/* UTS#46 non-transitional conversion of in[0..len) (UTF-8) into out. */
static int
name_idna(const char *in, size_t len, char *out, size_t outlen)
{
	char	 tmp[NAME_INMAX + 1];
	char	*res = NULL;
	int	 rv = -1;

	memcpy(tmp, in, len);
	tmp[len] = '\0';
	if (idn2_to_ascii_8z(tmp, &res,
	    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK) {
		idn2_free(res);
		res = NULL;
		if (name_has_deviation(tmp) || idn2_to_ascii_8z(tmp, &res,
		    IDN2_NFC_INPUT | IDN2_TRANSITIONAL) != IDN2_OK)
			goto out;
	}
	rv = name_lower(res, strlen(res), out, outlen);
out:
	idn2_free(res);
	return rv;
}

int
name_to_alabel(const char *in, char *out, size_t outlen)
{
	size_t	 len, i;
	int	 ascii = 1, rv = -1;

	if (out == NULL || outlen == 0)
		return -1;
	out[0] = '\0';
	if (in == NULL || (len = strlen(in)) == 0 || len > NAME_INMAX)
		goto out;
	if (in[len - 1] == '.')
		len--;
	if (len == 0 || in[len - 1] == '.')
		goto out;
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			ascii = 0;
	if ((ascii ? name_lower(in, len, out, outlen) :
	    name_idna(in, len, out, outlen)) == -1)
		goto out;
	if (!name_is_hostname(out, strlen(out)) ||
	    out[strlen(out) - 1] == '.')
		goto out;
	rv = 0;
out:
	if (rv == -1)
		out[0] = '\0';
	return rv;
}
