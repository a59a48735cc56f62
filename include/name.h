/*
 * name.h - DNS names: validation and normalisation (SPEC section 4).
 *
 * name_to_alabel(in, out, outlen): the canonical form used for every DNS
 * query and every comparison: U-labels converted to A-labels with libidn2
 * as an MTA does (UTS#46 non-transitional, as Postfix: "☃.net" is
 * "xn--n3h.net"; see name.c), ASCII folded to lower case, one trailing dot
 * removed, then checked with name_is_hostname(). Returns 0 or -1 (invalid
 * name or does not fit; out is then "").
 *
 * name_is_hostname(s, len): 1 when s[0..len) is a valid host name in the
 * LDH rule (labels of 1..63 letters, digits and hyphens, not starting or
 * ending with '-'; total <= 253 bytes; no NUL; one trailing dot allowed).
 * Underscore is allowed too (seen in real MX names). 0 otherwise.
 *
 * name_is_ip_literal(s): 1 when s parses as an IPv4 or IPv6 address.
 *
 * name_lower(in, len, out, outlen): in[0..len) with ASCII letters folded to
 * lower case (other bytes kept) into out, NUL-terminated; out may be in.
 * -1 (out untouched) when len >= outlen, else 0. The one case fold of the
 * project: names are compared after it.
 */
#ifndef TV_NAME_H
#define TV_NAME_H

#include <stddef.h>

#define NAME_MAXLEN	253
#define NAME_BUFLEN	256

int	name_to_alabel(const char *in, char *out, size_t outlen);
int	name_is_hostname(const char *s, size_t len);
int	name_is_ip_literal(const char *s);
int	name_lower(const char *in, size_t len, char *out, size_t outlen);

#endif
