/*
 * text.h - peer- or user-supplied text made safe to show.
 *
 * text_printable(dst, dstlen, src, srclen, also) copies src[0..srclen)
 * into dst, every byte outside printable ASCII (0x20..0x7e, so a NUL too)
 * and every byte in also (NULL: none) replaced by '?'; dst is
 * always NUL-terminated and the copy is cut to dstlen - 1 bytes. dst may
 * be src (the copy never runs ahead of the source). Returns dst.
 * Used for certificate names, SMTP replies, reply texts and log fields.
 */
#ifndef TV_TEXT_H
#define TV_TEXT_H

#include <stddef.h>

char	*text_printable(char *dst, size_t dstlen, const char *src,
	    size_t srclen, const char *also);

#endif
