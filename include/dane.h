/*
 * dane.h - DANE for SMTP (RFC 7672) on OpenSSL's DANE API (SPEC 12).
 *
 * A struct dane_set is the secure TLSA RRset of one MX host, as
 * dns_tlsa() returned it, with the names a DANE-TA(2) chain's leaf may
 * match: the MX host name (also the SNI and OpenSSL's "base domain") and
 * the recipient domain. dane_set_init() counts the usable records:
 * usage DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching type 0, 1
 * (32 bytes) or 2 (64 bytes); PKIX-TA(0) and PKIX-EE(1) are unusable for
 * SMTP (RFC 7672 section 3.1.3), as is anything else.
 *
 * dane_ssl_setup(ssl, set) runs before the handshake: SSL_dane_enable()
 * with the MX name, DANE_FLAG_NO_DANE_EE_NAMECHECKS (DANE-EE: no name
 * check; OpenSSL then ignores the leaf's validity dates too), the domain
 * as a second accepted name (SSL_add1_host), no partial wildcards, and
 * every usable record (SSL_dane_tlsa_add). 0, or -1 when OpenSSL refused
 * (then the session must not go on).
 *
 * dane_collect(ssl, set, res) runs after the handshake: res->depth is
 * SSL_get0_dane_authority() (-1: DANE did not authenticate the peer),
 * res->index the usable record that matched (-1: none), res->verify the
 * verify result, res->peername the name OpenSSL matched (DANE-TA only).
 *
 * dane_tlsa_text(rec, buf, len) writes "U S M hex" (the data cut to
 * DANE_HEXMAX hex digits, then "..."). dane_usable(rec) is the rule above.
 * dane_error_word(x509_error) is a short word for the report's
 * "certificate" key ("tlsa-mismatch", "name-mismatch", "expired", ...).
 */
#ifndef TV_DANE_H
#define TV_DANE_H

#include <stddef.h>
#include <openssl/ssl.h>
#include "dns.h"
#include "name.h"

#define DANE_HEXMAX	512
#define DANE_TEXTLEN	(DANE_HEXMAX + 32)

struct dane_set {
	const struct dns_tlsa	*r;
	size_t			 n;
	size_t			 n_usable;
	const char		*host;		/* MX host name: base domain */
	const char		*domain;	/* recipient domain */
};

struct dane_result {
	int		 depth;		/* SSL_get0_dane_authority(), -1 */
	int		 index;		/* record of set->r that matched, -1 */
	long		 verify;	/* SSL_get_verify_result() */
	char		 peername[NAME_BUFLEN];	/* "" when none */
};

void		 dane_set_init(struct dane_set *, const struct dns_tlsa *,
		    size_t n, const char *host, const char *domain);
int		 dane_usable(const struct dns_tlsa *);
int		 dane_ssl_setup(SSL *, const struct dane_set *);
void		 dane_collect(SSL *, const struct dane_set *,
		    struct dane_result *);
void		 dane_tlsa_text(const struct dns_tlsa *, char *buf, size_t len);
const char	*dane_error_word(long x509_error);

#endif
