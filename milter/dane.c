/*
 * dane.c - DANE for SMTP (RFC 7672) on OpenSSL's DANE API (see dane.h).
 *
 * OpenSSL does the matching: SSL_CTX_dane_enable() (tlsctx.c) once, then
 * per session SSL_dane_enable() and SSL_dane_tlsa_add() for each usable
 * record; the handshake runs with SSL_VERIFY_NONE, so the session always
 * completes and the verify result says whether a record authenticated the
 * peer (X509_V_OK with SSL_get0_dane_authority() >= 0) or why not
 * (X509_V_ERR_DANE_NO_MATCH, X509_V_ERR_HOSTNAME_MISMATCH, ...).
 */
#include <stdio.h>
#include <string.h>
#include <openssl/x509v3.h>

#include "dane.h"

int
dane_usable(const struct dns_tlsa *t)
{
	if (t->usage != 2 && t->usage != 3)
		return 0;
	if (t->selector > 1)
		return 0;
	switch (t->mtype) {
	case 0:	return t->len > 0;
	case 1:	return t->len == 32;
	case 2:	return t->len == 64;
	default: return 0;
	}
}

void
dane_set_init(struct dane_set *s, const struct dns_tlsa *r, size_t n,
    const char *host, const char *domain)
{
	size_t	i;

	memset(s, 0, sizeof(*s));
	s->r = r;
	s->n = n;
	s->host = host;
	s->domain = domain;
	for (i = 0; i < n; i++)
		s->n_usable += dane_usable(&r[i]);
}

int
dane_ssl_setup(SSL *ssl, const struct dane_set *s)
{
	size_t	i;
	int	added = 0;

	if (SSL_dane_enable(ssl, s->host) <= 0)
		return -1;
	(void)SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (s->domain != NULL && strcmp(s->domain, s->host) != 0 &&
	    SSL_add1_host(ssl, s->domain) != 1)
		return -1;
	for (i = 0; i < s->n; i++) {
		if (!dane_usable(&s->r[i]))
			continue;
		if (SSL_dane_tlsa_add(ssl, s->r[i].usage, s->r[i].selector,
		    s->r[i].mtype, s->r[i].data, s->r[i].len) > 0)
			added++;
	}
	return added > 0 ? 0 : -1;
}

void
dane_collect(SSL *ssl, const struct dane_set *s, struct dane_result *res)
{
	uint8_t			 u, sel, m;
	unsigned const char	*data = NULL;
	size_t			 dlen = 0, i;
	const char		*peer;

	memset(res, 0, sizeof(*res));
	res->index = -1;
	res->verify = SSL_get_verify_result(ssl);
	res->depth = SSL_get0_dane_authority(ssl, NULL, NULL);
	if (res->depth < 0 || res->verify != X509_V_OK) {
		res->depth = -1;
		return;
	}
	if (SSL_get0_dane_tlsa(ssl, &u, &sel, &m, &data, &dlen) >= 0 &&
	    data != NULL)
		for (i = 0; i < s->n && res->index < 0; i++)
			if (s->r[i].usage == u && s->r[i].selector == sel &&
			    s->r[i].mtype == m && s->r[i].len == dlen &&
			    memcmp(s->r[i].data, data, dlen) == 0)
				res->index = (int)i;
	if ((peer = SSL_get0_peername(ssl)) != NULL)
		(void)snprintf(res->peername, sizeof(res->peername), "%s",
		    peer);	/* a checked name, cut is meant */
}

void
dane_tlsa_text(const struct dns_tlsa *t, char *buf, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			pos, i;
	int			n;

	n = snprintf(buf, len, "%u %u %u ", t->usage, t->selector, t->mtype);
	if (n < 0 || (size_t)n >= len)
		return;
	pos = (size_t)n;
	for (i = 0; i < t->len && pos + 3 < len; i++) {
		if (2 * i >= DANE_HEXMAX) {
			(void)snprintf(buf + pos, len - pos, "...");
			return;
		}
		buf[pos++] = hex[t->data[i] >> 4];
		buf[pos++] = hex[t->data[i] & 0xf];
	}
	buf[pos] = '\0';
}

const char *
dane_error_word(long e)
{
	switch (e) {
	case X509_V_OK:				return "valid";
	case X509_V_ERR_DANE_NO_MATCH:		return "tlsa-mismatch";
	case X509_V_ERR_HOSTNAME_MISMATCH:	return "name-mismatch";
	case X509_V_ERR_CERT_HAS_EXPIRED:	return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:	return "not-yet-valid";
	default:				return "untrusted";
	}
}
