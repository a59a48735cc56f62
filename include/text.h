/*
 * text.h - peer- or user-supplied text made safe to show.
 *
 * text_printable(dst, dstlen, src, srclen, also) copies src[0..srclen)
 * into dst, every byte outside printable ASCII (0x20..0x7e, so a NUL too)
 * and every byte in also (NULL: none) replaced by '?'; dst is
 * always NUL-terminated and the copy is cut to dstlen - 1 bytes. dst may
 * be src (the copy never runs ahead of the source). Returns dst.
 * Used for certificate names, SMTP replies, reply texts and log fields.
 *
 * text_quoted(dst, dstlen, src, maxin) writes the contents of a quoted
 * log value (key="..."): the NUL-terminated src, at most maxin of its
 * bytes, with '"' as \" and '\' as \\, and every byte outside printable
 * ASCII (control bytes, DEL, bytes >= 0x80) as \xHH (two lower-case hex
 * digits). So network text inside the quotes can never end the value,
 * add a key=value field, or put a control byte on a terminal. The output
 * is cut before an escape that would not fit whole (never in the middle
 * of one); dst is always NUL-terminated (dstlen > 0). dst and src must not
 * overlap. Returns dst.
 *
 * text_safe(s) replaces, in place, every byte of the NUL-terminated s
 * outside printable ASCII by '?' (the last line of defence of the trace:
 * nothing it keeps can reach a terminal as a control sequence). Returns s.
 */
#ifndef TV_TEXT_H
#define TV_TEXT_H

#include <stddef.h>

char	*text_printable(char *dst, size_t dstlen, const char *src,
	    size_t srclen, const char *also);
char	*text_quoted(char *dst, size_t dstlen, const char *src, size_t maxin);
char	*text_safe(char *s);

#endif
