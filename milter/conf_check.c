/*
 * conf_check.c - syntax checks of single configuration values (conf_int.h):
 * conf_check_value() (no control bytes, no '#' comment after a value),
 * conf_check_socket() (libmilter's unix:/local:/inet:/inet6: forms, the
 * port 1-65535), conf_check_header() (a header field name of 1-76 printable
 * bytes without ':'), conf_check_helo() (a host name or [address]),
 * conf_check_word() (1-64 letters, digits, '-' or '_': a Postfix transport
 * name), conf_has_space(). Each returns 0, or -1 after conf_fail().
 * conf_check_dnssec() checks the whole file once it is read (SPEC 12):
 * dnssec = yes needs a loopback nameserver (the AD bit is trusted only
 * from a validating resolver on this machine), and the settings that need
 * DNSSEC (dane, dane-only, auto) are refused without dnssec = yes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"
#include "name.h"

/* Checks every value: no control bytes, no '#' comment after a value. */
int
conf_check_value(struct conf_parse *p, const char *v)
{
	const char	*q;

	for (q = v; *q != '\0'; q++) {
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return conf_fail(p, p->lineno,
			    "control character in value");
		if (*q == 0x7f)
			return conf_fail(p, p->lineno,
			    "control character in value");
		if (*q == '#' && (q == v || isspace((unsigned char)q[-1])))
			return conf_fail(p, p->lineno, "'#' after a value: "
			    "only ';' starts a comment after a value");
	}
	return 0;
}

int
conf_has_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s))
			return 1;
	return 0;
}

/* "unix:PATH", "local:PATH", "inet:PORT[@HOST]", "inet6:PORT[@HOST]". */
int
conf_check_socket(struct conf_parse *p, const char *v)
{
	static const char *const pfx[] = { "unix:", "local:", "inet:",
	    "inet6:" };
	char		 port[16];
	size_t		 i, n;
	unsigned	 u;

	if (*v == '\0' || conf_has_space(v))
		return conf_fail(p, p->lineno,
		    "socket: expected unix:PATH or inet:PORT@HOST");
	for (i = 0; i < 4; i++)
		if (strncmp(v, pfx[i], strlen(pfx[i])) == 0 &&
		    v[strlen(pfx[i])] != '\0')
			break;
	if (i == 4)
		return conf_fail(p, p->lineno, "socket: '%.100s': expected "
		    "unix:PATH, local:PATH, inet:PORT@HOST or "
		    "inet6:PORT@HOST", v);
	if (i < 2)
		return 0;
	v += strlen(pfx[i]);
	n = strcspn(v, "@");
	if (n >= sizeof(port) || (v[n] == '@' && v[n + 1] == '\0'))
		return conf_fail(p, p->lineno, "socket: bad inet port or host");
	memcpy(port, v, n);
	port[n] = '\0';
	return conf_parse_uint(p, "socket port", port, 1, 65535, &u);
}

int
conf_check_header(struct conf_parse *p, const char *v)
{
	const char	*q;

	if (*v == '\0' || strlen(v) > 76)
		return conf_fail(p, p->lineno,
		    "header: a header field name of 1-76 bytes is required");
	for (q = v; *q != '\0'; q++)
		if ((unsigned char)*q <= 32 || (unsigned char)*q >= 127 ||
		    *q == ':')
			return conf_fail(p, p->lineno, "header: '%.80s' is not "
			    "a header field name", v);
	return 0;
}

int
conf_check_helo(struct conf_parse *p, const char *v)
{
	char	buf[64];
	size_t	len = strlen(v);

	if (len > 2 && v[0] == '[' && v[len - 1] == ']' &&
	    len - 2 < sizeof(buf)) {
		memcpy(buf, v + 1, len - 2);
		buf[len - 2] = '\0';
		if (name_is_ip_literal(buf))
			return 0;
	}
	if (name_is_hostname(v, len))
		return 0;
	return conf_fail(p, p->lineno,
	    "helo: '%.100s' is not a host name or [address]", v);
}

int
conf_check_word(struct conf_parse *p, const char *key, const char *v)
{
	size_t	n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_");

	if (n == 0 || n > 64 || v[n] != '\0')
		return conf_fail(p, p->lineno, "%s: '%.60s': expected 1-64 "
		    "letters, digits, '-' or '_'", key, v);
	return 0;
}

static int
conf_is_loopback(const struct ipaddr *a)
{
	if (a->family == AF_INET)
		return (ntohl(a->u.v4.s_addr) >> 24) == 127;
	return a->family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->u.v6);
}

int
conf_check_dnssec(struct conf_parse *p)
{
	const struct conf	*c = p->c;
	size_t			 i;

	if (c->dnssec && (!c->has_nameserver ||
	    !conf_is_loopback(&c->nameserver)))
		return conf_fail(p, p->dnssec_line, "dnssec = yes needs "
		    "[dns] nameserver set to a validating resolver on a "
		    "loopback address (127.0.0.0/8 or ::1)");
	if (c->dnssec)
		return 0;
	for (i = 0; i < c->n_dests; i++)	/* the earliest line is kept */
		if (conf_setting_needs_dnssec(c->dests[i].setting))
			(void)conf_fail(p, c->dests[i].line, "'%.60s': "
			    "setting %s needs [dns] dnssec = yes",
			    c->dests[i].key,
			    conf_setting_name(c->dests[i].setting));
	if (c->has_default && conf_setting_needs_dnssec(c->default_setting))
		(void)conf_fail(p, p->default_line, "'default': setting %s "
		    "needs [dns] dnssec = yes",
		    conf_setting_name(c->default_setting));
	return p->has_err ? -1 : 0;
}
