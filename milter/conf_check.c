/*
 * conf_check.c - syntax checks of single configuration values (conf_int.h):
 * conf_check_value() (no control bytes, no '#' comment after a value),
 * conf_check_socket() (libmilter's unix:/local:/inet:/inet6: forms, the
 * port 1-65535), conf_check_header() (a header field name of 1-76 printable
 * bytes without ':'), conf_check_helo() (a host name or [address]),
 * conf_check_word() (1-64 letters, digits, '-' or '_': a Postfix transport
 * name), conf_has_space(). Each returns 0, or -1 after conf_fail().
 */
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
