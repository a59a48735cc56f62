/*
 * header.h - the X-TLS-Verify header the milter adds at end of message.
 *
 * header_entry(v, buf, len) formats one probed domain from its verdict:
 *   example.com=verified (required-verify; host=mx01.subd.emailhosted.not;
 *   matched=CN:*.emailhosted.not~ptr:mx0a.emailhosted.not)
 * "host=" is left out when no host was reached, "matched=" when nothing
 * matched; a host authenticated by DANE adds "note=dane TLSA U S M" (the
 * setting says dane or dane-only, SPEC 12), a host judged by an MTA-STS
 * policy "note=sts enforce" or "note=sts testing" (TYPE is dNSName or CN, then presented name "~" reference source
 * ":" reference name). header_entry_fmt() is the same from parts (note, when
 * not NULL, is added as "note=NOTE" with spaces kept). Every byte that is not
 * printable ASCII, and any of ";(),=\"\\" inside a field, becomes '?', so the
 * value is always printable ASCII. buf is always NUL-terminated; a cut
 * entry ends in "...)". Returns 0, or -1 when it had to be cut.
 *
 * header_fold(name, entries, n) joins the entries with ", " and folds the
 * result for a header field called name (RFC 5322 section 2.2.3): a line
 * break ("\n", the MTA writes CRLF) is inserted before a space so that every
 * line, counting "Name: " on the first, has at most HEADER_LINE (78)
 * characters where the words allow it; a single word longer than that stays
 * whole on its own line but is cut to HEADER_HARDMAX (998) characters.
 * Unfolding (removing the "\n") gives back the joined text. Returns a string
 * to free(), or NULL when n == 0 (no header is added then).
 */
#ifndef TV_HEADER_H
#define TV_HEADER_H

#include <stddef.h>
#include "verdict.h"

#define HEADER_LINE	78
#define HEADER_HARDMAX	998
#define HEADER_ENTRYLEN	1400

int	 header_entry(const struct verdict *, char *buf, size_t len);
int	 header_entry_fmt(char *buf, size_t len, const char *domain,
	    const char *result, const char *setting, const char *host,
	    const char *matched, const char *note);
char	*header_fold(const char *name, const char *const *entries, size_t n);

#endif
