/*
 * conf.c - the configuration file (SPEC section 8; API in conf.h).
 *
 * conf_load() feeds libinih through ini_parse_stream() with its own line
 * reader, conf_reader() (conf_read.c: it rejects over-long lines, which
 * Debian's libinih would silently split, and tells continuation lines from
 * repeated keys).
 * The handler, conf_handler(), sets [milter] [probe] [dns] [cache] keys
 * from the table conf_keys[]; [destinations], [smtproutes], numbers and
 * [dns] nameserver are in conf_route.c. Parsing stops at the first error; conf_load() returns -1
 * and "FILE:LINE: message" for the error on the earliest line.
 *
 * Limits: a line holds at most 198 bytes (long route lists continue on
 * indented lines); numbers are decimal digits only, within the ranges of
 * conf_keys[]; see conf_int.h for list sizes.
 *
 * conf_load_mem() parses a buffer the same way (fmemopen), for the
 * fuzzer and tests.
 *
 * conf_free() frees a struct conf and everything it points to.
 */
#include <sys/stat.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "conf.h"
#include "conf_int.h"
#include "metrics.h"
#include "name.h"
#include "rcache.h"
#include "xalloc.h"

enum conf_kind {
	K_UINT,		/* unsigned within [min, max] */
	K_PATH,		/* string; empty: unset (NULL) */
	K_USER,		/* word; empty: unset (NULL) */
	K_SOCKET,	/* libmilter socket spec */
	K_SOCKET_OPT,	/* the same, or empty: off (NULL) */
	K_WORD,		/* 1-64 of [A-Za-z0-9_-] */
	K_ONFAIL,	/* defer | reject */
	K_MODE,		/* enforce | monitor */
	K_HEADER,	/* header field name */
	K_HELO,		/* host name or [address]; empty: the FQDN */
	K_NAMESERVER,	/* empty | ADDR | ADDR:PORT | [IPv6]:PORT */
	K_MAILERS,	/* list, continues on indented lines */
	K_REVOCATION,	/* none | crl | ocsp | any */
	K_BOOL,		/* yes | no */
	K_LISTEN,	/* empty | ADDR:PORT | [IPv6]:PORT (metrics.h) */
	K_BACKEND,	/* memory | redis://... | unix:... (rcache.h) */
	K_RTIMEOUT,	/* seconds, up to 3 decimals (rcache.h) */
	K_TEXT,		/* printable ASCII, at most CONF_TEXTMAX bytes;
			   empty: unset (NULL) */
	K_RPTSEND	/* no | mail | https | both */
};

struct conf_key {
	enum conf_sect	 sect;
	const char	*name;
	enum conf_kind	 kind;
	size_t		 off;
	unsigned	 min, max;
};

#define OFF(f)	offsetof(struct conf, f)

static const struct conf_key conf_keys[] = {
	{ CONF_SECT_MILTER, "socket", K_SOCKET, OFF(socket), 0, 0 },
	{ CONF_SECT_MILTER, "user", K_USER, OFF(user), 0, 0 },
	{ CONF_SECT_MILTER, "pidfile", K_PATH, OFF(pidfile), 0, 0 },
	{ CONF_SECT_MILTER, "on_fail", K_ONFAIL, 0, 0, 0 },
	{ CONF_SECT_MILTER, "mode", K_MODE, 0, 0, 0 },
	{ CONF_SECT_MILTER, "header", K_HEADER, OFF(header), 0, 0 },
	{ CONF_SECT_MILTER, "skip_mailers", K_MAILERS, 0, 0, 0 },
	{ CONF_SECT_PROBE, "port", K_UINT, OFF(probe_port), 1, 65535 },
	{ CONF_SECT_PROBE, "helo", K_HELO, OFF(helo), 0, 0 },
	{ CONF_SECT_PROBE, "timeout", K_UINT, OFF(probe_timeout), 1, 3600 },
	{ CONF_SECT_PROBE, "connect_timeout", K_UINT, OFF(connect_timeout), 1,
	    3600 },
	{ CONF_SECT_PROBE, "command_timeout", K_UINT, OFF(command_timeout), 1,
	    3600 },
	{ CONF_SECT_PROBE, "ca_file", K_PATH, OFF(ca_file), 0, 0 },
	{ CONF_SECT_PROBE, "ca_path", K_PATH, OFF(ca_path), 0, 0 },
	{ CONF_SECT_PROBE, "crl_file", K_PATH, OFF(crl_file), 0, 0 },
	{ CONF_SECT_PROBE, "crl_path", K_PATH, OFF(crl_path), 0, 0 },
	{ CONF_SECT_PROBE, "revocation", K_REVOCATION, 0, 0, 0 },
	{ CONF_SECT_PROBE, "revocation_required", K_BOOL,
	    OFF(revocation_required), 0, 0 },
	{ CONF_SECT_PROBE, "http_timeout", K_UINT, OFF(http_timeout), 1, 300 },
	{ CONF_SECT_PROBE, "max_crl_size", K_UINT, OFF(max_crl_size), 1024,
	    268435456 },
	{ CONF_SECT_DNS, "nameserver", K_NAMESERVER, 0, 0, 0 },
	{ CONF_SECT_DNS, "timeout", K_UINT, OFF(dns_timeout), 1, 3600 },
	{ CONF_SECT_DNS, "dnssec", K_BOOL, OFF(dnssec), 0, 0 },
	{ CONF_SECT_CACHE, "verified_ttl", K_UINT, OFF(verified_ttl), 0, 604800 },
	{ CONF_SECT_CACHE, "failed_ttl", K_UINT, OFF(failed_ttl), 0, 604800 },
	{ CONF_SECT_CACHE, "tempfail_ttl", K_UINT, OFF(tempfail_ttl), 0, 604800 },
	{ CONF_SECT_CACHE, "max_entries", K_UINT, OFF(max_entries), 1, 10000000 },
	{ CONF_SECT_CACHE, "max_probes", K_UINT, OFF(max_probes), 1, 10000 },
	{ CONF_SECT_CACHE, "backend", K_BACKEND, OFF(cache_backend), 0, 0 },
	{ CONF_SECT_CACHE, "redis_password_file", K_PATH,
	    OFF(redis_password_file), 0, 0 },
	{ CONF_SECT_CACHE, "redis_timeout", K_RTIMEOUT, 0, 0, 0 },
	{ CONF_SECT_POLICY, "socket", K_SOCKET_OPT, OFF(policy_socket), 0, 0 },
	{ CONF_SECT_POLICY, "transport", K_WORD, OFF(policy_transport), 0, 0 },
	{ CONF_SECT_QUERY, "socket", K_SOCKET_OPT, OFF(query_socket), 0, 0 },
	{ CONF_SECT_MTASTS, "port", K_UINT, OFF(mtasts_port), 1, 65535 },
	{ CONF_SECT_MTASTS, "ca_file", K_PATH, OFF(mtasts_ca_file), 0, 0 },
	{ CONF_SECT_MTASTS, "timeout", K_UINT, OFF(mtasts_timeout), 1, 300 },
	{ CONF_SECT_MTASTS, "cache_file", K_PATH, OFF(mtasts_cache_file), 0,
	    0 },
	{ CONF_SECT_METRICS, "listen", K_LISTEN, OFF(metrics_listen), 0, 0 },
	{ CONF_SECT_TLSRPT, "spool", K_PATH, OFF(tlsrpt_spool), 0, 0 },
	{ CONF_SECT_TLSRPT, "organization", K_TEXT, OFF(tlsrpt_org), 0, 0 },
	{ CONF_SECT_TLSRPT, "contact", K_TEXT, OFF(tlsrpt_contact), 0, 0 },
	{ CONF_SECT_TLSRPT, "send", K_RPTSEND, 0, 0, 0 },
};
#define CONF_NKEYS	(sizeof(conf_keys) / sizeof(conf_keys[0]))

const char *const conf_sect_names[CONF_NSECTS] = {
	"", "milter", "probe", "dns", "cache", "policy", "query",
	"mtasts", "metrics", "tlsrpt", "destinations", "smtproutes"
};

static const char *const conf_default_mailers[] = {
	"local", "virtual", "lmtp", "error"
};

int
conf_fail(struct conf_parse *p, int line, const char *fmt, ...)
{
	va_list	ap;

	if (p->has_err && line >= p->err_line)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	p->has_err = 1;
	p->err_line = line;
	return -1;
}

/* ---- values (their syntax checks are in conf_check.c) ----------------- */

/* Appends the names in v (separated by commas and/or white space). */
static int
conf_mailers_add(struct conf_parse *p, const char *v)
{
	struct conf	*c = p->c;
	size_t		 n, i;

	while (*v != '\0') {
		v += strspn(v, ", \t");
		if ((n = strcspn(v, ", \t")) == 0)
			break;
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)v[i]) && v[i] != '-' &&
			    v[i] != '_' && v[i] != '.')
				return conf_fail(p, p->lineno, "skip_mailers: "
				    "'%.*s' is not a mailer name",
				    (int)(n > 40 ? 40 : n), v);
		if (c->n_skip_mailers >= CONF_MAX_MAILERS)
			return conf_fail(p, p->lineno, "skip_mailers: more "
			    "than %d names", CONF_MAX_MAILERS);
		c->skip_mailers = xreallocarray(c->skip_mailers,
		    c->n_skip_mailers + 1, sizeof(char *));
		c->skip_mailers[c->n_skip_mailers++] = xstrndup(v, n);
		v += n;
	}
	return 0;
}

static void
conf_mailers_clear(struct conf *c)
{
	size_t	i;

	for (i = 0; i < c->n_skip_mailers; i++)
		free(c->skip_mailers[i]);
	free(c->skip_mailers);
	c->skip_mailers = NULL;
	c->n_skip_mailers = 0;
}

/* [probe] revocation = none | crl | ocsp | any */
static int
conf_set_revocation(struct conf_parse *p, const char *v)
{
	static const char *const words[] = { "none", "crl", "ocsp", "any" };
	size_t	i;

	for (i = 0; i < 4; i++)
		if (strcasecmp(v, words[i]) == 0) {
			p->c->revocation = (enum revocation)(REVOCATION_NONE + i);
			return 0;
		}
	return conf_fail(p, p->lineno, "revocation: '%.40s': expected none, "
	    "crl, ocsp or any", v);
}

static int
conf_set_bool(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	int	*f = (int *)(void *)((char *)p->c + k->off);

	if (strcasecmp(v, "yes") == 0)
		*f = 1;
	else if (strcasecmp(v, "no") == 0)
		*f = 0;
	else
		return conf_fail(p, p->lineno, "%s: '%.40s': expected yes or "
		    "no", k->name, v);
	return 0;
}

/* [cache] backend: its syntax (rcache_cfg_parse()). */
static int
conf_check_backend(struct conf_parse *p, const char *v)
{
	struct rcache_cfg	rc;
	char			err[160];

	if (rcache_cfg_parse(v, &rc, err, sizeof(err)) != 0)
		return conf_fail(p, p->lineno, "%s", err);
	free(rc.host);
	free(rc.path);
	free(rc.password);
	return 0;
}

/* [tlsrpt] send = no | mail | https | both */
static int
conf_set_rptsend(struct conf_parse *p, const char *v)
{
	static const char *const words[] = { "no", "mail", "https", "both" };
	unsigned	i;

	for (i = 0; i < 4; i++)
		if (strcasecmp(v, words[i]) == 0) {
			p->c->tlsrpt_send = i;	/* bits: 1 mail, 2 https */
			return 0;
		}
	return conf_fail(p, p->lineno, "send: '%.40s': expected no, mail, "
	    "https or both", v);
}

/* Free text (organization, contact): printable ASCII, bounded. */
static int
conf_check_text(struct conf_parse *p, const char *key, const char *v)
{
	size_t	i;

	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return conf_fail(p, p->lineno, "%s: only printable "
			    "ASCII is allowed", key);
	if (i > CONF_TEXTMAX)
		return conf_fail(p, p->lineno, "%s: longer than %d bytes",
		    key, CONF_TEXTMAX);
	return 0;
}

/* A string field: NULL when v is empty, else a copy. */
static void
conf_set_str(struct conf *c, size_t off, const char *v)
{
	char	**f = (char **)(void *)((char *)c + off);

	free(*f);
	*f = *v == '\0' ? NULL : xstrdup(v);
}

static int
conf_set(struct conf_parse *p, const struct conf_key *k, const char *v)
{
	struct conf	*c = p->c;
	char		 spec[320];

	switch (k->kind) {
	case K_UINT:
		return conf_parse_uint(p, k->name, v, k->min, k->max,
		    (unsigned *)(void *)((char *)c + k->off));
	case K_USER:
		if (conf_has_space(v))
			return conf_fail(p, p->lineno,
			    "user: '%.60s' is not a user name", v);
		break;
	case K_PATH:
		break;
	case K_SOCKET:
		if (conf_check_socket(p, v) == -1)
			return -1;
		break;
	case K_SOCKET_OPT:
		if (*v != '\0' && conf_check_socket(p, v) == -1)
			return -1;
		break;
	case K_WORD:
		if (conf_check_word(p, k->name, v) == -1)
			return -1;
		break;
	case K_HEADER:
		if (conf_check_header(p, v) == -1)
			return -1;
		break;
	case K_HELO:
		if (*v != '\0' && conf_check_helo(p, v) == -1)
			return -1;
		break;
	case K_MODE:
		if (strcasecmp(v, "enforce") == 0)
			c->monitor = 0;
		else if (strcasecmp(v, "monitor") == 0)
			c->monitor = 1;
		else
			return conf_fail(p, p->lineno, "mode: '%.40s': "
			    "expected enforce or monitor", v);
		return 0;
	case K_ONFAIL:
		if (strcasecmp(v, "defer") == 0)
			c->on_fail = ON_FAIL_DEFER;
		else if (strcasecmp(v, "reject") == 0)
			c->on_fail = ON_FAIL_REJECT;
		else
			return conf_fail(p, p->lineno, "on_fail: '%.40s': "
			    "expected defer or reject", v);
		return 0;
	case K_NAMESERVER:
		return conf_nameserver(p, v);
	case K_MAILERS:
		conf_mailers_clear(c);
		return conf_mailers_add(p, v);
	case K_REVOCATION:
		return conf_set_revocation(p, v);
	case K_BOOL:
		return conf_set_bool(p, k, v);
	case K_LISTEN:
		if (*v != '\0' && metrics_listen_spec(v, spec, sizeof(spec)))
			return conf_fail(p, p->lineno, "%s: '%.60s': %s",
			    k->name, v, spec);
		break;
	case K_BACKEND:
		if (conf_check_backend(p, v) == -1)
			return -1;
		break;
	case K_RTIMEOUT:
		if (rcache_timeout_parse(v, &c->redis_timeout_ms) != 0)
			return conf_fail(p, p->lineno, "redis_timeout: '%.40s': "
			    "expected seconds from 0.001 to 60 (e.g. 0.5)", v);
		return 0;
	case K_TEXT:
		if (conf_check_text(p, k->name, v) == -1)
			return -1;
		break;
	case K_RPTSEND:
		return conf_set_rptsend(p, v);
	}
	conf_set_str(c, k->off, v);
	return 0;
}

/* A key line in [milter], [probe], [dns] or [cache]. */
static int
conf_scalar(struct conf_parse *p, const char *name, const char *v)
{
	size_t	i;

	for (i = 0; i < CONF_NKEYS; i++)
		if (conf_keys[i].sect == p->sect &&
		    strcmp(conf_keys[i].name, name) == 0)
			break;
	if (i == CONF_NKEYS)
		return conf_fail(p, p->lineno, "unknown key '%.60s' in [%s]",
		    name, conf_sect_names[p->sect]);
	if (p->seen & (1UL << i))
		return conf_fail(p, p->lineno, "duplicate key '%s' in [%s]",
		    name, conf_sect_names[p->sect]);
	p->seen |= 1UL << i;
	p->prev = conf_keys[i].kind == K_MAILERS ? CONF_PREV_MAILERS :
	    CONF_PREV_SCALAR;
	(void)snprintf(p->prev_key, sizeof(p->prev_key), "%s", name);
	p->prev_line = p->lineno;
	if (conf_keys[i].off == OFF(dnssec) && conf_keys[i].kind == K_BOOL)
		p->dnssec_line = p->lineno;
	return conf_set(p, &conf_keys[i], v);
}

/*
 * An indented line: libinih calls us with the previous key's name (cut to
 * 49 bytes, so p->prev_key is used instead). libinih 55 does not strip an
 * inline "; comment" from a continuation line; we do, as on a key line.
 */
static int
conf_continue(struct conf_parse *p, const char *val)
{
	char	*v = xstrdup(val);
	size_t	 n;
	int	 rv;

	for (n = 0; v[n] != '\0'; n++)
		if (v[n] == ';' && n > 0 && isspace((unsigned char)v[n - 1]))
			break;
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	v[n] = '\0';
	switch (p->prev) {
	case CONF_PREV_ROUTES:
		rv = conf_route_more(p, v);
		break;
	case CONF_PREV_MAILERS:
		rv = conf_mailers_add(p, v);
		break;
	case CONF_PREV_DEST:
		rv = conf_fail(p, p->lineno, "indented line continues the "
		    "setting of '%.100s', which takes one setting (remove the "
		    "indentation)", p->prev_key);
		break;
	case CONF_PREV_SCALAR:
		rv = conf_fail(p, p->lineno, "indented line continues the "
		    "value of '%s', which takes one value (remove the "
		    "indentation)", p->prev_key);
		break;
	default:
		rv = conf_fail(p, p->lineno, "unexpected indented line");
		break;
	}
	free(v);
	return rv;
}

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_parse	*p = user;
	int			 rv = -1;

	if (p->has_err || conf_check_value(p, value) == -1)
		return 0;
	if (p->cont)
		rv = conf_continue(p, value);
	else if (p->sect == CONF_SECT_NONE)
		rv = conf_fail(p, p->lineno,
		    "'%.60s' is outside of any [section]", name);
	else if (*name == '\0')
		rv = conf_fail(p, p->lineno, "empty key name");
	else if (p->sect == CONF_SECT_DEST)
		rv = conf_route_dest(p, name, value);
	else if (p->sect == CONF_SECT_ROUTES)
		rv = conf_route_new(p, name, value);
	else
		rv = conf_scalar(p, name, value);
	return rv == 0;
}

/* ---- load / free ------------------------------------------------------ */

static struct conf *
conf_new(const char *path)
{
	struct conf	*c = xcalloc(1, sizeof(*c));
	size_t		 i, n = sizeof(conf_default_mailers) / sizeof(char *);

	c->path = xstrdup(path);
	c->socket = xstrdup("inet:8895@127.0.0.1");
	c->header = xstrdup("X-TLS-Verify");
	c->skip_mailers = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++)
		c->skip_mailers[i] = xstrdup(conf_default_mailers[i]);
	c->n_skip_mailers = n;
	c->on_fail = ON_FAIL_DEFER;
	c->probe_port = 25;
	c->probe_timeout = 20;
	c->connect_timeout = 5;
	c->command_timeout = 10;
	c->nameserver_port = 53;
	c->dns_timeout = 5;
	c->http_timeout = 5;
	c->revocation_required = -1;	/* not set: see conf_load_stream() */
	c->max_crl_size = 10485760;
	c->verified_ttl = 3600;
	c->failed_ttl = 300;
	c->tempfail_ttl = 60;
	c->max_entries = 10000;
	c->max_probes = 64;
	c->redis_timeout_ms = 500;
	c->policy_transport = xstrdup("smtp");
	c->mtasts_port = 443;
	c->mtasts_timeout = 10;
	c->mtasts_cache_file = xstrdup(MTASTS_CACHE_DEFAULT);
	return c;
}

/*
 * helo not set: the host's FQDN, i.e. the canonical name getaddrinfo()
 * (AI_CANONNAME: /etc/hosts, then DNS) gives for gethostname() when that
 * is a valid host name with a dot; else gethostname() itself; else
 * "localhost". (tlsverify-milter -n warns when the result has no dot.)
 */
static void
conf_default_helo(struct conf *c)
{
	struct addrinfo	 hints, *ai = NULL;
	char		 host[NAME_BUFLEN];
	const char	*cn;

	if (c->helo != NULL)
		return;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!name_is_hostname(host, strlen(host))) {
		c->helo = xstrdup("localhost");
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai != NULL &&
	    (cn = ai->ai_canonname) != NULL && strchr(cn, '.') != NULL &&
	    name_is_hostname(cn, strlen(cn)))
		c->helo = xstrdup(cn);
	else
		c->helo = xstrdup(host);
	if (ai != NULL)
		freeaddrinfo(ai);
}

/*
 * revocation not set: "crl" when crl_file or crl_path is set, else "none".
 * revocation_required not set: yes when the mode is "crl" (written or
 * implied: the same thing) and crl_file or crl_path is set (a missing CRL
 * defers, as CRL files always did), else no.
 */
static void
conf_revocation_defaults(struct conf *c)
{
	int	files = c->crl_file != NULL || c->crl_path != NULL;

	if (c->revocation == REVOCATION_AUTO)
		c->revocation = files ? REVOCATION_CRL : REVOCATION_NONE;
	if (c->revocation_required < 0)
		c->revocation_required = c->revocation == REVOCATION_CRL &&
		    files;
}

static int
conf_open(struct conf_parse *p, const char *path)
{
	struct stat	st;

	if ((p->fp = fopen(path, "r")) == NULL)
		return conf_fail(p, 0, "cannot open: %s", strerror(errno));
	if (fstat(fileno(p->fp), &st) == 0 && S_ISDIR(st.st_mode))
		return conf_fail(p, 0, "cannot read: is a directory");
	return 0;
}

/* Parse the stream p->fp (opened by the caller) named path. */
static int
conf_load_stream(struct conf_parse *p, const char *path, struct conf **out,
    char *err, size_t errlen)
{
	int	r, rv = -1;

	if (p->has_err)
		goto out;
	r = ini_parse_stream(conf_reader, p, conf_handler, p);
	conf_route_finish(p);
	if (r == -2)
		(void)conf_fail(p, p->lineno, "out of memory");
	else if (r != 0)
		(void)conf_fail(p, r, "syntax error");
	if (p->has_err)
		goto out;
	if (conf_check_dnssec(p) != 0)
		goto out;
	conf_default_helo(p->c);
	conf_revocation_defaults(p->c);
	*out = p->c;
	p->c = NULL;
	rv = 0;
out:
	if (rv == -1 && err != NULL && errlen > 0)
		(void)snprintf(err, errlen, "%s:%d: %s", path, p->err_line,
		    p->err);
	conf_free(p->c);
	if (p->fp != NULL)
		fclose(p->fp);
	free(p->line);
	return rv;
}

int
conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct conf_parse	 p;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.c = conf_new(path);
	(void)conf_open(&p, path);	/* an error is kept in p */
	return conf_load_stream(&p, path, out, err, errlen);
}

/*
 * conf_load() on a buffer instead of a file (for the fuzzer,
 * fuzz/fuzz_conf.c, and tests): the same parser, read through fmemopen().
 */
int
conf_load_mem(const char *buf, size_t len, const char *name,
    struct conf **out, char *err, size_t errlen)
{
	struct conf_parse	 p;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.path = name;
	p.c = conf_new(name);
	if (len == 0)
		p.fp = fopen("/dev/null", "r");
	else
		p.fp = fmemopen((void *)(uintptr_t)buf, len, "r");
	if (p.fp == NULL)
		(void)conf_fail(&p, 0, "cannot open: %s", strerror(errno));
	return conf_load_stream(&p, name, out, err, errlen);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->socket);
	free(c->user);
	free(c->pidfile);
	free(c->header);
	conf_mailers_clear(c);
	free(c->helo);
	free(c->ca_file);
	free(c->ca_path);
	free(c->crl_file);
	free(c->crl_path);
	free(c->policy_socket);
	free(c->policy_transport);
	free(c->query_socket);
	free(c->mtasts_ca_file);
	free(c->mtasts_cache_file);
	free(c->metrics_listen);
	free(c->tlsrpt_spool);
	free(c->tlsrpt_org);
	free(c->tlsrpt_contact);
	free(c->cache_backend);
	free(c->redis_password_file);
	conf_route_free(c);
	free(c);
}
