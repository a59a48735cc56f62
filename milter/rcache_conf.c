/*
 * rcache_conf.c - [cache] backend, redis_timeout and redis_password_file
 * (see rcache.h): rcache_cfg_parse(), rcache_timeout_parse(),
 * rcache_cfg_load(), rcache_cfg_same(), rcache_cfg_free().
 *
 * Limits: a host of at most 253 bytes, a unix path of at most 107 bytes
 * (sun_path), a password of at most RCACHE_MAXPASS bytes without control
 * bytes; the password file is read with O_NOFOLLOW and checked on the open
 * descriptor (fstat), so what is checked is what is read.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcache.h"
#include "xalloc.h"

#define RCACHE_HOSTMAX	253
#define RCACHE_PATHMAX	107

static void
rcache_cfg_clear(struct rcache_cfg *c)
{
	free(c->host);
	free(c->path);
	if (c->password != NULL)
		explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	c->host = c->path = c->password = NULL;
}

static int
rcache_uint(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned long	v = 0;
	size_t		i;

	if (n == 0 || n > 6)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
rcache_printable(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* "unix:PATH[?db=N]" */
static int
rcache_parse_unix(const char *v, struct rcache_cfg *c, char *err,
    size_t errlen)
{
	const char	*q = strchr(v, '?');
	size_t		 n = q != NULL ? (size_t)(q - v) : strlen(v);

	if (n == 0 || v[0] != '/' || n > RCACHE_PATHMAX ||
	    !rcache_printable(v, n)) {
		(void)snprintf(err, errlen, "backend: unix:PATH needs an "
		    "absolute socket path of at most %d bytes", RCACHE_PATHMAX);
		return -1;
	}
	if (q != NULL && (strncmp(q, "?db=", 4) != 0 ||
	    rcache_uint(q + 4, strlen(q + 4), 65535, &c->db) != 0)) {
		(void)snprintf(err, errlen, "backend: after the unix socket "
		    "path only ?db=N (0-65535) may follow");
		return -1;
	}
	c->kind = RCACHE_UNIX;
	c->path = xstrndup(v, n);
	(void)snprintf(c->desc, sizeof(c->desc), "unix:%s?db=%u", c->path,
	    c->db);
	return 0;
}

/* HOST[:PORT][/DB] after "redis://" and an optional ":PASSWORD@". */
static int
rcache_parse_hostport(const char *v, struct rcache_cfg *c)
{
	const char	*h = v, *e, *slash = strchr(v, '/');
	size_t		 hl;

	if (slash != NULL && rcache_uint(slash + 1, strlen(slash + 1), 65535,
	    &c->db) != 0)
		return -1;
	e = slash != NULL ? slash : v + strlen(v);
	if (*h == '[') {			/* [IPv6] */
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL)
			return -1;
		h++;
		hl = (size_t)(rb - h);
		v = rb + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(e - h));

		hl = (size_t)((colon != NULL ? colon : e) - h);
		v = h + hl;
	}
	if (hl == 0 || hl > RCACHE_HOSTMAX || !rcache_printable(h, hl) ||
	    memchr(h, '@', hl) != NULL)
		return -1;
	c->port = 6379;
	if (v < e && (*v != ':' || rcache_uint(v + 1, (size_t)(e - v - 1),
	    65535, &c->port) != 0 || c->port == 0))
		return -1;
	c->host = xstrndup(h, hl);
	(void)snprintf(c->desc, sizeof(c->desc), "redis://%s%s%s:%u/%u",
	    strchr(c->host, ':') ? "[" : "", c->host,
	    strchr(c->host, ':') ? "]" : "", c->port, c->db);
	return 0;
}

int
rcache_cfg_parse(const char *v, struct rcache_cfg *c, char *err,
    size_t errlen)
{
	const char	*at;

	memset(c, 0, sizeof(*c));
	c->timeout_ms = RCACHE_DEFAULT_TIMEOUT;
	if (strcmp(v, "memory") == 0 || *v == '\0') {
		(void)snprintf(c->desc, sizeof(c->desc), "memory");
		return 0;
	}
	if (strncmp(v, "unix:", 5) == 0)
		return rcache_parse_unix(v + 5, c, err, errlen);
	if (strncmp(v, "redis://", 8) != 0)
		goto bad;
	v += 8;
	if (*v == ':' && (at = strrchr(v, '@')) != NULL) {
		if (at - v - 1 < 1 || at - v - 1 > RCACHE_MAXPASS ||
		    !rcache_printable(v + 1, (size_t)(at - v - 1)))
			goto bad;
		c->password = xstrndup(v + 1, (size_t)(at - v - 1));
		v = at + 1;
	}
	if (rcache_parse_hostport(v, c) == 0) {
		c->kind = RCACHE_TCP;
		return 0;
	}
bad:
	rcache_cfg_clear(c);
	(void)snprintf(err, errlen, "backend: expected memory, "
	    "redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:PATH[?db=N]");
	return -1;
}

/* Seconds with up to 3 decimals: "0.5", "2", "0.050"; 1 ms to 60 s. */
int
rcache_timeout_parse(const char *v, long *ms)
{
	const char	*dot = strchr(v, '.');
	unsigned	 sec = 0, frac = 0;
	size_t		 il = dot != NULL ? (size_t)(dot - v) : strlen(v), fl;

	if (il > 0 && rcache_uint(v, il, 60, &sec) != 0)
		return -1;
	if (dot != NULL) {
		fl = strlen(dot + 1);
		if (fl == 0 || fl > 3 || rcache_uint(dot + 1, fl, 999,
		    &frac) != 0)
			return -1;
		while (fl++ < 3)
			frac *= 10;
	} else if (il == 0)
		return -1;
	*ms = (long)sec * 1000L + (long)frac;
	return *ms >= 1 && *ms <= 60000 ? 0 : -1;
}

/* The uid the daemon runs as: [milter] user when started as root. */
static int
rcache_daemon_uid(const struct conf *conf, uid_t *uid, char *err,
    size_t errlen)
{
	struct passwd	*pw;

	*uid = geteuid();
	if (conf->user == NULL || *uid != 0)
		return 0;
	if ((pw = getpwnam(conf->user)) == NULL) {
		(void)snprintf(err, errlen, "redis_password_file: [milter] "
		    "user %.60s: no such user", conf->user);
		return -1;
	}
	*uid = pw->pw_uid;
	return 0;
}

/* The first line of path, checked as rcache.h says. */
static int
rcache_password_read(const char *path, uid_t uid, char **out, char *err,
    size_t errlen)
{
	char		 buf[RCACHE_MAXPASS + 2];
	struct stat	 st;
	ssize_t		 n;
	size_t		 l;
	int		 fd, rv = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		(void)snprintf(err, errlen, "redis_password_file %.200s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		(void)snprintf(err, errlen, "redis_password_file %.200s: not "
		    "a regular file", path);
	else if (st.st_uid != uid)
		(void)snprintf(err, errlen, "redis_password_file %.200s: "
		    "owned by uid %lu, not by the daemon's user (uid %lu)",
		    path, (unsigned long)st.st_uid, (unsigned long)uid);
	else if ((st.st_mode & 077) != 0)
		(void)snprintf(err, errlen, "redis_password_file %.200s: "
		    "mode %04o lets group or others read or write it; "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	else if ((n = read(fd, buf, sizeof(buf) - 1)) < 0)
		(void)snprintf(err, errlen, "redis_password_file %.200s: %s",
		    path, strerror(errno));
	else {
		buf[n] = '\0';
		l = strcspn(buf, "\r\n");
		if (l == 0 || l > RCACHE_MAXPASS || !rcache_printable(buf, l))
			(void)snprintf(err, errlen, "redis_password_file "
			    "%.200s: expected a password of 1-%d printable "
			    "bytes on the first line", path, RCACHE_MAXPASS);
		else {
			*out = xstrndup(buf, l);
			rv = 0;
		}
	}
	explicit_bzero(buf, sizeof(buf));
	(void)close(fd);
	return rv;
}

int
rcache_cfg_load(const struct conf *conf, struct rcache_cfg **out, char *err,
    size_t errlen)
{
	struct rcache_cfg	*c = xcalloc(1, sizeof(*c));
	uid_t			 uid;

	*out = NULL;
	if (rcache_cfg_parse(conf->cache_backend != NULL ?
	    conf->cache_backend : "memory", c, err, errlen) != 0)
		goto fail;
	if (c->kind == RCACHE_MEMORY) {
		free(c);
		return 0;
	}
	c->timeout_ms = conf->redis_timeout_ms > 0 ? conf->redis_timeout_ms :
	    RCACHE_DEFAULT_TIMEOUT;
	if (conf->redis_password_file != NULL) {
		if (c->password != NULL) {
			(void)snprintf(err, errlen, "redis_password_file and "
			    "a password in [cache] backend: choose one");
			goto fail;
		}
		if (rcache_daemon_uid(conf, &uid, err, errlen) != 0 ||
		    rcache_password_read(conf->redis_password_file, uid,
		    &c->password, err, errlen) != 0)
			goto fail;
	}
	*out = c;
	return 0;
fail:
	rcache_cfg_free(c);
	return -1;
}

static int
rcache_streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

int
rcache_cfg_same(const struct rcache_cfg *a, const struct rcache_cfg *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->kind == b->kind && a->port == b->port && a->db == b->db &&
	    a->timeout_ms == b->timeout_ms && rcache_streq(a->host, b->host) &&
	    rcache_streq(a->path, b->path) &&
	    rcache_streq(a->password, b->password);
}

void
rcache_cfg_free(struct rcache_cfg *c)
{
	if (c == NULL)
		return;
	rcache_cfg_clear(c);
	free(c);
}
