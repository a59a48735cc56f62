/*
 * text.c - peer- or user-supplied text made safe to show (see text.h).
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
