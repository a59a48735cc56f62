/*
 * text.c - peer- or user-supplied text made safe to show (see text.h):
 * text_printable() for replies and names, text_quoted() for quoted log
 * values, text_safe() for trace lines.
 */
#include <string.h>

#include "text.h"

char *
text_printable(char *dst, size_t dstlen, const char *src, size_t srclen,
    const char *also)
{
	size_t	i;

	if (dstlen == 0)
		return dst;
	for (i = 0; i < srclen && i + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c > 0x7e ||
		    (also != NULL && strchr(also, c) != NULL)) ? '?' : (char)c;
	}
	dst[i] = '\0';
	return dst;
}

char *
text_quoted(char *dst, size_t dstlen, const char *src, size_t maxin)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i, o = 0, need;
	char	esc[4];

	if (dstlen == 0)
		return dst;
	for (i = 0; src != NULL && i < maxin && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			need = 2;
		} else if (c < 0x20 || c > 0x7e) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 0xf];
			need = 4;
		} else {
			esc[0] = (char)c;
			need = 1;
		}
		if (o + need >= dstlen)
			break;
		memcpy(dst + o, esc, need);
		o += need;
	}
	dst[o] = '\0';
	return dst;
}

char *
text_safe(char *s)
{
	unsigned char	*p;

	for (p = (unsigned char *)s; p != NULL && *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return s;
}
