/*
 * conf_route.c - [destinations] and [smtproutes]: parsing and lookup
 * (part of conf.c; API in conf.h, internals in conf_int.h).
 *
 * Domain keys: "DOMAIN", ".DOMAIN" (its subdomains) or, in [destinations]
 * only, "default". A domain in U-labels or A-labels is stored as a
 * lower-case A-label without a trailing dot (name_to_alabel()); the
 * leading dot of a ".parent" key is kept. An IP address is not a domain.
 *
 * Routes: a comma-separated list; a list may go on over indented lines,
 * each line adding its routes (a comma at the end of a line is allowed).
 *	HOST[:PORT][/PRIO]	host name (U- or A-labels) or IPv4 address
 *	[ADDR][:PORT][/PRIO]	IPv6 (or IPv4) address in brackets
 * A bare IPv6 address is an error (its last group would read as a port).
 * PORT 1-65535 (0 in struct route: the [probe] port), PRIO 0-65535,
 * 0 the highest; at most CONF_MAX_ROUTES routes per domain. Each list is
 * sorted by (prio, order in the file).
 *
 * Both tables are sorted arrays searched with bsearch(): a lookup costs
 * one search per label of the domain, whatever the table's size.
 * Duplicate keys (after normalisation) are found by the sort and reported
 * at the line of the second occurrence.
 *
 * Also here, as they parse the same kind of text: conf_parse_uint()
 * (decimal digits only, at most 10, within [min, max]), conf_nameserver()
 * ([dns] nameserver: empty, IPv4, IPv4:PORT, IPv6, [IPv6] or [IPv6]:PORT;
 * a bare IPv6 address never has a port) and the public helpers
 * conf_setting_name(), conf_setting_parse() (case-insensitive) and
 * conf_ipaddr_str().
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_int.h"
#include "name.h"
#include "xalloc.h"

#define CONF_ROUTE_MAXLEN	255	/* one route's text */

static const char *const conf_setting_names[TLS_SETTING_COUNT] = {
	"none", "preferred", "required", "preferred-verify",
	"required-verify", "required-verify-hosted", "dane", "dane-only",
	"mta-sts", "auto"
};

/* name -> out (NAME_BUFLEN + 1 bytes): ".a-label" or "a-label". */
static int
conf_domain_key(struct conf_parse *p, const char *name, char *out)
{
	int	dot = name[0] == '.';

	if (name_is_ip_literal(name + dot))
		return conf_fail(p, p->lineno, "'%.60s': an IP address is "
		    "not a domain", name);
	if (name_to_alabel(name + dot, out + dot, NAME_BUFLEN) == -1)
		return conf_fail(p, p->lineno, "invalid domain name '%.100s'",
		    name);
	if (dot)
		out[0] = '.';
	return 0;
}

int
conf_route_dest(struct conf_parse *p, const char *name, const char *val)
{
	struct conf		*c = p->c;
	struct dest_entry	*e;
	char			 key[NAME_BUFLEN + 1];
	enum tls_setting	 s;

	p->prev = CONF_PREV_DEST;
	(void)snprintf(p->prev_key, sizeof(p->prev_key), "%s", name);
	if (strcasecmp(name, "default") != 0 &&
	    conf_domain_key(p, name, key) == -1)
		return -1;
	if (conf_setting_parse(val, &s) == -1)
		return conf_fail(p, p->lineno, "'%.60s': unknown TLS setting "
		    "'%.40s' (none, preferred, required, preferred-verify, "
		    "required-verify, required-verify-hosted, dane, dane-only, "
		    "mta-sts, auto)",
		    name, val);
	if (strcasecmp(name, "default") == 0) {
		if (c->has_default)
			return conf_fail(p, p->lineno, "duplicate key "
			    "'default' in [destinations] (first at line %d)",
			    p->default_line);
		c->has_default = 1;
		c->default_setting = s;
		p->default_line = p->lineno;
		return 0;
	}
	if (c->n_dests == p->dest_cap) {
		p->dest_cap = p->dest_cap ? p->dest_cap * 2 : 64;
		c->dests = xreallocarray(c->dests, p->dest_cap, sizeof(*e));
	}
	e = &c->dests[c->n_dests++];
	e->key = xstrdup(key);
	e->setting = s;
	e->line = p->lineno;
	return 0;
}

int
conf_route_new(struct conf_parse *p, const char *name, const char *val)
{
	struct conf		*c = p->c;
	struct route_list	*rl;
	char			 key[NAME_BUFLEN + 1];

	p->prev = CONF_PREV_NONE;
	if (strcasecmp(name, "default") == 0)
		return conf_fail(p, p->lineno, "there is no default route: "
		    "[smtproutes] keys are domains");
	if (conf_domain_key(p, name, key) == -1)
		return -1;
	if (c->n_routes == p->route_cap) {
		p->route_cap = p->route_cap ? p->route_cap * 2 : 16;
		c->routes = xreallocarray(c->routes, p->route_cap,
		    sizeof(*rl));
	}
	rl = &c->routes[c->n_routes++];
	memset(rl, 0, sizeof(*rl));
	rl->key = xstrdup(key);
	rl->line = p->lineno;
	p->prev = CONF_PREV_ROUTES;
	p->prev_idx = c->n_routes - 1;
	p->prev_line = p->lineno;
	(void)snprintf(p->prev_key, sizeof(p->prev_key), "%s", name);
	return conf_route_more(p, val);
}

/* "[ADDR]" part of a route: fills r, *rest points after ']'. */
static int
conf_route_bracket(struct conf_parse *p, char *s, struct route *r,
    char **rest)
{
	char	*end;

	if ((end = strchr(s, ']')) == NULL)
		return conf_fail(p, p->lineno, "route '%s': missing ']'", s);
	*end = '\0';
	*rest = end + 1;
	if (inet_pton(AF_INET6, s + 1, &r->addr.u.v6) == 1)
		r->addr.family = AF_INET6;
	else if (inet_pton(AF_INET, s + 1, &r->addr.u.v4) == 1)
		r->addr.family = AF_INET;
	else
		return conf_fail(p, p->lineno, "route '[%.100s]': not an IP "
		    "address (brackets are only for addresses)", s + 1);
	r->is_ip = 1;
	return 0;
}

/* A route's host without brackets: IPv4 address or host name. */
static int
conf_route_host(struct conf_parse *p, const char *s, struct route *r)
{
	char		 buf[NAME_BUFLEN];
	const char	*last;

	if (*s == '\0')
		return conf_fail(p, p->lineno, "route: host missing");
	if (inet_pton(AF_INET, s, &r->addr.u.v4) == 1) {
		r->addr.family = AF_INET;
		r->is_ip = 1;
		return 0;
	}
	if (name_to_alabel(s, buf, sizeof(buf)) == -1)
		return conf_fail(p, p->lineno, "route '%.100s': invalid host "
		    "name%s", s, strpbrk(s, " \t") ?
		    " (separate routes with commas)" : "");
	/* checked after the trailing dot is gone: "1.2.3.4." is no name */
	last = strrchr(buf, '.') ? strrchr(buf, '.') + 1 : buf;
	if (strspn(last, "0123456789") == strlen(last))
		return conf_fail(p, p->lineno, "route '%.100s': not an IPv4 "
		    "address nor a host name", s);
	r->host = xstrdup(buf);
	return 0;
}

/* One route text (trimmed, non-empty) into r. */
static int
conf_route_parse(struct conf_parse *p, char *s, struct route *r)
{
	char	*slash, *colon, *rest = NULL;
	char	 ip[INET6_ADDRSTRLEN];

	if ((slash = strrchr(s, '/')) != NULL) {
		*slash = '\0';
		if (conf_parse_uint(p, "route priority", slash + 1, 0,
		    CONF_MAX_PRIO, &r->prio) == -1)
			return -1;
	}
	if (s[0] == '[') {
		if (conf_route_bracket(p, s, r, &rest) == -1)
			return -1;
		if (*rest != '\0' && *rest != ':')
			return conf_fail(p, p->lineno, "route '[%.100s]': "
			    "unexpected text after ']'", s + 1);
		colon = *rest == ':' ? rest : NULL;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return conf_fail(p, p->lineno, "route '%.100s': an "
			    "IPv6 address must be in brackets, e.g. "
			    "[2001:db8::1]:25", s);
		if (colon != NULL)
			*colon = '\0';
		if (conf_route_host(p, s, r) == -1)
			return -1;
	}
	if (colon != NULL && conf_parse_uint(p, "route port", colon + 1, 1,
	    65535, &r->port) == -1)
		return -1;
	if (r->is_ip)
		r->host = xstrdup(conf_ipaddr_str(&r->addr, ip, sizeof(ip)));
	return 0;
}

/* Trimmed copy of s[0..n) into buf; -1 when too long. */
static int
conf_trim(const char *s, size_t n, char *buf, size_t len)
{
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= len)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* One line's worth of a route list: appended to the current list. */
int
conf_route_more(struct conf_parse *p, const char *val)
{
	struct route_list	*rl = &p->c->routes[p->prev_idx];
	char			 buf[CONF_ROUTE_MAXLEN + 1];
	size_t			 n;
	struct route		*r;

	for (;;) {
		n = strcspn(val, ",");
		if (conf_trim(val, n, buf, sizeof(buf)) == -1)
			return conf_fail(p, p->lineno, "route too long");
		if (buf[0] == '\0' && val[n] == '\0')
			return 0;	/* end of line, or trailing comma */
		if (buf[0] == '\0')
			return conf_fail(p, p->lineno, "empty route in list "
			    "(two commas?)");
		if (rl->n >= CONF_MAX_ROUTES)
			return conf_fail(p, p->lineno, "more than %d routes "
			    "for '%.100s'", CONF_MAX_ROUTES, rl->key);
		rl->routes = xreallocarray(rl->routes, rl->n + 1,
		    sizeof(*r));
		r = &rl->routes[rl->n];
		memset(r, 0, sizeof(*r));
		r->order = (unsigned)rl->n++;
		if (conf_route_parse(p, buf, r) == -1)
			return -1;
		if (val[n] == '\0')
			return 0;
		val += n + 1;
	}
}

/* A route list ends (new key, section or end of file): not empty. */
void
conf_route_close(struct conf_parse *p)
{
	if (p->prev == CONF_PREV_ROUTES &&
	    p->c->routes[p->prev_idx].n == 0)
		(void)conf_fail(p, p->prev_line, "'%.100s': no routes given",
		    p->prev_key);
	p->prev = CONF_PREV_NONE;
}

static int
conf_cmp_dest(const void *a, const void *b)
{
	const struct dest_entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static int
conf_cmp_list(const void *a, const void *b)
{
	const struct route_list *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->line > y->line) - (x->line < y->line);
}

static int
conf_cmp_route(const void *a, const void *b)
{
	const struct route *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Sorts both tables and reports the earliest duplicate key. */
void
conf_route_finish(struct conf_parse *p)
{
	struct conf	*c = p->c;
	size_t		 i;

	if (c->n_dests > 1)
		qsort(c->dests, c->n_dests, sizeof(*c->dests), conf_cmp_dest);
	for (i = 1; i < c->n_dests; i++)
		if (strcmp(c->dests[i].key, c->dests[i - 1].key) == 0)
			(void)conf_fail(p, c->dests[i].line, "duplicate domain "
			    "'%s' in [destinations] (first at line %d)",
			    c->dests[i].key, c->dests[i - 1].line);
	for (i = 0; i < c->n_routes; i++)
		if (c->routes[i].n > 1)
			qsort(c->routes[i].routes, c->routes[i].n,
			    sizeof(struct route), conf_cmp_route);
	if (c->n_routes > 1)
		qsort(c->routes, c->n_routes, sizeof(*c->routes),
		    conf_cmp_list);
	for (i = 1; i < c->n_routes; i++)
		if (strcmp(c->routes[i].key, c->routes[i - 1].key) == 0)
			(void)conf_fail(p, c->routes[i].line, "duplicate domain "
			    "'%s' in [smtproutes] (first at line %d)",
			    c->routes[i].key, c->routes[i - 1].line);
}

void
conf_route_free(struct conf *c)
{
	size_t	i, j;

	for (i = 0; i < c->n_dests; i++)
		free(c->dests[i].key);
	free(c->dests);
	for (i = 0; i < c->n_routes; i++) {
		for (j = 0; j < c->routes[i].n; j++)
			free(c->routes[i].routes[j].host);
		free(c->routes[i].routes);
		free(c->routes[i].key);
	}
	free(c->routes);
}

/* ---- numbers, [dns] nameserver, settings, addresses -------------------- */

int
conf_parse_uint(struct conf_parse *p, const char *what, const char *s,
    unsigned min, unsigned max, unsigned *out)
{
	unsigned long long	v = 0;
	size_t			i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return conf_fail(p, p->lineno,
			    "%s: '%.40s' is not a number", what, s);
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0)
		return conf_fail(p, p->lineno, "%s: a number is required",
		    what);
	if (v < min || v > max)
		return conf_fail(p, p->lineno,
		    "%s: %llu is out of range (%u-%u)", what, v, min, max);
	*out = (unsigned)v;
	return 0;
}

/* nameserver: ADDR | IPv4:PORT | [ADDR] | [ADDR]:PORT */
int
conf_nameserver(struct conf_parse *p, const char *v)
{
	struct conf	*c = p->c;
	char		 buf[INET6_ADDRSTRLEN + 16], *port = NULL, *end;

	c->has_nameserver = 0;
	c->nameserver_port = 53;
	if (*v == '\0')
		return 0;
	if (strlen(v) >= sizeof(buf))
		goto bad;
	memcpy(buf, v, strlen(v) + 1);
	if (buf[0] == '[') {
		if ((end = strchr(buf, ']')) == NULL ||
		    (end[1] != '\0' && end[1] != ':'))
			goto bad;
		*end = '\0';
		port = end[1] == ':' ? end + 2 : NULL;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
	} else if (inet_pton(AF_INET6, buf, &c->nameserver.u.v6) != 1 &&
	    (end = strchr(buf, ':')) != NULL) {
		*end = '\0';
		port = end + 1;
	}
	if (inet_pton(AF_INET, buf, &c->nameserver.u.v4) == 1)
		c->nameserver.family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &c->nameserver.u.v6) == 1)
		c->nameserver.family = AF_INET6;
	else
		goto bad;
	if (port != NULL && conf_parse_uint(p, "nameserver port", port, 1,
	    65535, &c->nameserver_port) == -1)
		return -1;
	c->has_nameserver = 1;
	return 0;
bad:
	return conf_fail(p, p->lineno, "nameserver: '%.60s': expected "
	    "IPv4, IPv4:PORT, IPv6 or [IPv6]:PORT", v);
}

/* ---- small public helpers --------------------------------------------- */

const char *
conf_setting_name(enum tls_setting s)
{
	if ((unsigned)s >= TLS_SETTING_COUNT)
		return "invalid";
	return conf_setting_names[s];
}

int
conf_setting_needs_dnssec(enum tls_setting s)
{
	return s == TLS_DANE || s == TLS_DANE_ONLY || s == TLS_AUTO;
}

int
conf_setting_parse(const char *s, enum tls_setting *out)
{
	int	i;

	if (s == NULL)
		return -1;
	for (i = 0; i < TLS_SETTING_COUNT; i++)
		if (strcasecmp(s, conf_setting_names[i]) == 0) {
			*out = (enum tls_setting)i;
			return 0;
		}
	return -1;
}

const char *
conf_ipaddr_str(const struct ipaddr *a, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return "";
	if (a == NULL || (a->family != AF_INET && a->family != AF_INET6) ||
	    inet_ntop(a->family, &a->u, buf, (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "(invalid)");
	return buf;
}

int
conf_ipaddr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

/* ---- lookups ----------------------------------------------------------- */

static int
conf_cmp_key_dest(const void *k, const void *e)
{
	return strcmp(k, ((const struct dest_entry *)e)->key);
}

static int
conf_cmp_key_list(const void *k, const void *e)
{
	return strcmp(k, ((const struct route_list *)e)->key);
}

/* Exact, then ".parent" keys from the closest outwards. */
static const void *
conf_find(const void *base, size_t n, size_t size, const char *domain,
    int (*cmp)(const void *, const void *))
{
	const char	*d;
	const void	*e;

	if (base == NULL || n == 0 || domain == NULL || *domain == '\0')
		return NULL;
	if ((e = bsearch(domain, base, n, size, cmp)) != NULL)
		return e;
	for (d = strchr(domain, '.'); d != NULL; d = strchr(d + 1, '.'))
		if ((e = bsearch(d, base, n, size, cmp)) != NULL)
			return e;
	return NULL;
}

enum tls_setting
conf_lookup_setting(const struct conf *c, const char *domain,
    const char **key)
{
	const struct dest_entry	*e;
	const char		*k = "none";
	enum tls_setting	 s = TLS_NONE;

	if ((e = conf_find(c->dests, c->n_dests, sizeof(*e), domain,
	    conf_cmp_key_dest)) != NULL) {
		k = e->key;
		s = e->setting;
	} else if (c->has_default) {
		k = "default";
		s = c->default_setting;
	}
	if (key != NULL)
		*key = k;
	return s;
}

const struct route_list *
conf_lookup_routes(const struct conf *c, const char *domain)
{
	return conf_find(c->routes, c->n_routes, sizeof(struct route_list),
	    domain, conf_cmp_key_list);
}
