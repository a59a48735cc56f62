/*
 * target.c - where the mail for a domain would go (see target.h, SPEC 5).
 *
 * target_build() fills a struct target_list from [smtproutes] or from DNS:
 *  - routes (conf_lookup_routes): in the order of the route list (already
 *    sorted by priority, then configuration order); an IP route becomes a
 *    target without DNS, a host-name route is resolved A then AAAA. The
 *    domain is not looked up, except for its MX names when want_mx_names is
 *    set (a failure there only sets mx_status).
 *  - MX: each host by preference (equal preferences in answer order, see
 *    dns_mx), A then AAAA. mx_names[] is filled here too (all MX names).
 *  - MX NODATA or NXDOMAIN: implicit MX, the domain's own A then AAAA
 *    (NXDOMAIN too, as target.h says: see target_implicit); when those
 *    give no address either: -1, DNS_NOTFOUND ("no MX and no address",
 *    or "domain does not exist (NXDOMAIN)"); a temporary failure there:
 *    -1, DNS_TEMP. MX TEMP or INVALID: -1 with that status.
 *  - null MX: 0 with null_mx = 1 and no targets.
 * Targets are unique per (address, port): a later host leading to an
 * address already listed only adds its name to that target's names[]
 * (names[] holds route host names and MX names, never IP text). For
 * routes, names[] is then made the same for every target of one address,
 * whatever its port and the order of the routes (target_share_names):
 * every host-name route leading to that address, in route order. A
 * VIA_ROUTE_IP target whose address a host-name route also names becomes
 * VIA_ROUTE_HOST with host = the first of those names (SNI, route names
 * as references, no MX names: SPEC 4.2 b); it keeps its place and port.
 * A host without any address gets one target with resolved = 0 and the
 * status of its lookups (TEMP wins over INVALID over NOTFOUND over NODATA).
 * A host whose A (or AAAA) lookup failed temporarily but whose other family
 * resolved gets its addresses and, after them, one unresolved DNS_TEMP
 * target: some of its addresses are unknown, so a verdict must not become
 * permanent because of the ones that were tried.
 *
 * The A and AAAA lookups of all the hosts of one list (MX hosts, host-name
 * routes, the domain itself for an implicit MX) are asked at once
 * (dns_batch.c) and then taken in the order above, so the targets, their
 * order and the trace are those of asking one by one (issue 14).
 *
 * target_via_str(): "route", "route-ip", "mx", "implicit".
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_batch.h"
#include "target.h"
#include "xalloc.h"

/* What leads to a target: a host name and where it came from. */
struct target_src {
	const char	*host;
	enum target_via	 via;
	unsigned	 pref;
	unsigned	 port;
	int		 secure;	/* its A/AAAA answers were validated */
};

const char *
target_via_str(enum target_via v)
{
	switch (v) {
	case VIA_ROUTE_HOST:	return "route";
	case VIA_ROUTE_IP:	return "route-ip";
	case VIA_MX:		return "mx";
	case VIA_IMPLICIT:	return "implicit";
	}
	return "?";
}

static void
target_add_name(struct target *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->n_names; i++)
		if (strcmp(t->names[i], name) == 0)
			return;
	t->names = xreallocarray(t->names, t->n_names + 1, sizeof(*t->names));
	t->names[t->n_names++] = xstrdup(name);
}

/* A new target at the end of the list, or NULL (counted as dropped). */
static struct target *
target_new(struct target_list *tl, const struct target_src *src)
{
	struct target	*t;

	if (tl->n >= TARGET_MAX) {
		tl->n_dropped++;
		return NULL;
	}
	if (tl->t == NULL)
		tl->t = xcalloc(TARGET_MAX, sizeof(*tl->t));
	t = &tl->t[tl->n++];
	memset(t, 0, sizeof(*t));
	/* fits: host names are <= 253 bytes, IP text <= 45 */
	(void)snprintf(t->host, sizeof(t->host), "%s", src->host);
	t->via = src->via;
	t->pref = src->pref;
	t->port = src->port;
	t->dns_status = DNS_OK;
	return t;
}

/* One resolved address of src: a new target or a name on an old one. */
static void
target_add_addr(struct target_list *tl, const struct target_src *src,
    const struct ipaddr *ip)
{
	struct target	*t;
	size_t		 i;

	for (i = 0; i < tl->n; i++) {
		t = &tl->t[i];
		if (t->resolved && t->port == src->port &&
		    conf_ipaddr_eq(&t->ip, ip)) {
			if (src->via != VIA_ROUTE_IP)
				target_add_name(t, src->host);
			return;
		}
	}
	if ((t = target_new(tl, src)) == NULL)
		return;
	t->resolved = 1;
	t->ip = *ip;
	t->secure = src->secure;
	if (src->via != VIA_ROUTE_IP)
		target_add_name(t, src->host);
}

static void
target_add_unresolved(struct target_list *tl, const struct target_src *src,
    enum dns_status st, const char *reason)
{
	struct target	*t;

	if ((t = target_new(tl, src)) == NULL)
		return;
	t->resolved = 0;
	t->dns_status = st;
	(void)snprintf(t->dns_reason, sizeof(t->dns_reason), "%s",
	    reason);	/* cut is meant */
	target_add_name(t, src->host);
}

/* Rank of a failure: the worse one describes an unresolved host. */
static int
target_rank(enum dns_status st)
{
	switch (st) {
	case DNS_TEMP:		return 4;
	case DNS_INVALID:	return 3;
	case DNS_NOTFOUND:	return 2;
	case DNS_NODATA:	return 1;
	default:		return 0;
	}
}

/*
 * Resolve src->host (A, then AAAA) and add its targets. Returns the
 * number of addresses found; *worst and reason get the worst failure.
 */
static size_t
target_resolve(struct dns_ctx *dns, struct dns_batch *batch,
    struct target_list *tl, const struct target_src *src0, enum dns_status *worst, char *reason,
    size_t rlen)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	struct target_src src = *src0;
	struct ipaddr	*a[2] = { NULL, NULL };
	size_t		 n[2] = { 0, 0 }, i, total = 0;
	enum dns_status	 st[2];
	char		 why[2][128];
	int		 f;

	*worst = DNS_OK;
	reason[0] = '\0';
	src.secure = 1;		/* both answers first: secure needs both */
	for (f = 0; f < 2; f++) {
		st[f] = dns_batch_addrs(batch, dns, src.host, fam[f], &a[f],
		    &n[f]);
		src.secure &= dns_last_secure(dns);
		(void)snprintf(why[f], sizeof(why[f]), "%s",
		    dns_last_error(dns));	/* same size */
	}
	for (f = 0; f < 2; f++) {
		if (st[f] == DNS_OK) {
			for (i = 0; i < n[f]; i++)
				target_add_addr(tl, &src, &a[f][i]);
			total += n[f];
			free(a[f]);
		} else if (target_rank(st[f]) > target_rank(*worst)) {
			*worst = st[f];
			(void)snprintf(reason, rlen, "%s %s: %s",
			    fam[f] == AF_INET ? "A" : "AAAA", src.host,
			    why[f]);	/* cut is meant */
		}
	}
	return total;
}

/* Resolve a host and list it even when it has no (or not all) addresses. */
static void
target_host(struct dns_ctx *dns, struct dns_batch *batch,
    struct target_list *tl, const struct target_src *src)
{
	enum dns_status	worst;
	char		reason[sizeof(tl->t[0].dns_reason)];
	size_t		found;

	if (tl->n >= TARGET_MAX) {	/* full: not even looked up */
		tl->n_dropped++;
		return;
	}
	found = target_resolve(dns, batch, tl, src, &worst, reason,
	    sizeof(reason));
	if (found == 0)
		target_add_unresolved(tl, src, worst, reason);
	else if (worst == DNS_TEMP)
		target_add_unresolved(tl, src, worst, reason);
}

static void
target_fail(struct target_list *tl, enum dns_status st, const char *what,
    const char *domain, const char *why)
{
	tl->status = st;
	(void)snprintf(tl->reason, sizeof(tl->reason), "%s %s: %s", what,
	    domain, why);	/* cut is meant */
}

/* Copy the MX names into tl->mx_names. */
static void
target_set_mx_names(struct target_list *tl, const struct dns_mx *mx,
    size_t n)
{
	size_t	i;

	if (n == 0)
		return;
	tl->mx_names = xcalloc(n, sizeof(*tl->mx_names));
	for (i = 0; i < n; i++)
		tl->mx_names[i] = xstrdup(mx[i].name);
	tl->n_mx = n;
}

/* Every route name leading to t's address, on any port, in list order,
 * into a new array (*n names). */
static char **
target_ip_names(const struct target_list *tl, const struct target *t,
    size_t *n)
{
	struct target	 all;
	size_t		 j, k;

	memset(&all, 0, sizeof(all));
	for (j = 0; j < tl->n; j++) {
		if (!tl->t[j].resolved || !conf_ipaddr_eq(&tl->t[j].ip, &t->ip))
			continue;
		for (k = 0; k < tl->t[j].n_names; k++)
			target_add_name(&all, tl->t[j].names[k]);
	}
	*n = all.n_names;
	return all.names;
}

/*
 * SPEC 5: the route names that lead to one address are one set, whatever
 * the port and the order of the routes: every target of that address gets
 * them all. A target made by an IP route whose address a host-name route
 * names too is reached through that name (the first in route order): SNI
 * and route names as reference identifiers, as for any host-name route.
 */
static void
target_share_names(struct target_list *tl)
{
	char	**names[TARGET_MAX];
	size_t	  n[TARGET_MAX], i;
	struct target *t;

	for (i = 0; i < tl->n; i++)
		names[i] = tl->t[i].resolved ?
		    target_ip_names(tl, &tl->t[i], &n[i]) : NULL;
	for (i = 0; i < tl->n; i++) {
		t = &tl->t[i];
		if (!t->resolved)
			continue;
		dns_names_free(t->names, t->n_names);
		t->names = names[i];
		t->n_names = n[i];
		if (t->via == VIA_ROUTE_IP && t->n_names > 0) {
			t->via = VIA_ROUTE_HOST;
			/* fits: a host name is <= 253 bytes */
			(void)snprintf(t->host, sizeof(t->host), "%s",
			    t->names[0]);
		}
	}
}

static void
target_routes(struct dns_ctx *dns, const struct conf *conf,
    const struct route_list *rl, struct target_list *tl)
{
	struct target_src	 src;
	const struct route	*r;
	const char		**names;
	struct dns_batch	*batch;
	size_t			 i, n = 0;

	tl->via_routes = 1;
	memset(&src, 0, sizeof(src));
	names = xcalloc(rl->n + 1, sizeof(*names));
	for (i = 0; i < rl->n && n < TARGET_MAX; i++)
		if (!rl->routes[i].is_ip)
			names[n++] = rl->routes[i].host;
	batch = dns_batch_start(dns, conf, names, n);
	for (i = 0; i < rl->n; i++) {
		r = &rl->routes[i];
		src.host = r->host;
		src.via = r->is_ip ? VIA_ROUTE_IP : VIA_ROUTE_HOST;
		src.pref = r->prio;
		src.port = r->port != 0 ? r->port : conf->probe_port;
		if (src.port == 0)
			src.port = 25;
		if (r->is_ip)
			target_add_addr(tl, &src, &r->addr);
		else
			target_host(dns, batch, tl, &src);
	}
	dns_batch_free(batch);
	free(names);
	target_share_names(tl);
}

/* The MX names of a domain that has routes (SPEC 4.2 c). */
static void
target_routes_mx(struct dns_ctx *dns, const char *domain,
    struct target_list *tl)
{
	struct dns_mx	*mx;
	size_t		 n;
	int		 null_mx;

	tl->mx_status = dns_mx(dns, domain, &mx, &n, &null_mx);
	if (tl->mx_status == DNS_OK)
		target_set_mx_names(tl, mx, n);
	free(mx);
}

/*
 * No MX (mx_st NODATA or NXDOMAIN): the domain's own addresses. 0 or -1
 * (tl->status set). NXDOMAIN on MX is not trusted alone: some servers
 * (dnsmasq with --dns-rr or --address) answer NXDOMAIN for the types a
 * name lacks, so A/AAAA are asked anyway (as target.h says).
 */
static int
target_implicit(struct dns_ctx *dns, const struct conf *conf,
    const char *domain, enum dns_status mx_st, struct target_list *tl)
{
	struct target_src	src;
	struct dns_batch	*batch;
	enum dns_status		worst;
	char			reason[sizeof(tl->t[0].dns_reason)];
	size_t			found;

	memset(&src, 0, sizeof(src));
	src.host = domain;
	src.via = VIA_IMPLICIT;
	src.pref = 0;
	src.port = conf->probe_port != 0 ? conf->probe_port : 25;
	batch = dns_batch_start(dns, conf, &domain, 1);
	found = target_resolve(dns, batch, tl, &src, &worst, reason,
	    sizeof(reason));
	dns_batch_free(batch);
	if (found > 0) {
		if (worst == DNS_TEMP)
			target_add_unresolved(tl, &src, worst, reason);
		return 0;
	}
	if (worst == DNS_TEMP || worst == DNS_INVALID)
		target_fail(tl, worst, "A/AAAA", domain, reason);
	else
		target_fail(tl, DNS_NOTFOUND, "MX", domain,
		    mx_st == DNS_NOTFOUND && worst == DNS_NOTFOUND ?
		    "domain does not exist (NXDOMAIN)" :
		    "no MX and no address");
	return -1;
}

static int
target_mx(struct dns_ctx *dns, const struct conf *conf, const char *domain,
    struct target_list *tl)
{
	struct target_src	 src;
	struct dns_mx		*mx;
	struct dns_batch	*batch;
	const char		**names;
	size_t			 n, i;
	int			 null_mx;
	enum dns_status		 st;

	st = dns_mx(dns, domain, &mx, &n, &null_mx);
	tl->mx_status = st;
	tl->mx_secure = dns_last_secure(dns);
	if (st == DNS_NODATA || st == DNS_NOTFOUND)
		return target_implicit(dns, conf, domain, st, tl);
	if (st != DNS_OK) {
		target_fail(tl, st, "MX", domain, dns_last_error(dns));
		return -1;
	}
	tl->null_mx = null_mx;
	target_set_mx_names(tl, mx, n);
	memset(&src, 0, sizeof(src));
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n && i < TARGET_MAX; i++)
		names[i] = mx[i].name;
	batch = dns_batch_start(dns, conf, names, i);
	for (i = 0; i < n; i++) {
		src.host = mx[i].name;
		src.via = VIA_MX;
		src.pref = mx[i].pref;
		src.port = conf->probe_port != 0 ? conf->probe_port : 25;
		target_host(dns, batch, tl, &src);
	}
	dns_batch_free(batch);
	free(names);
	free(mx);
	return 0;
}

int
target_build(struct dns_ctx *dns, const struct conf *conf, const char *domain,
    int want_mx_names, struct target_list *out)
{
	const struct route_list	*rl;

	memset(out, 0, sizeof(*out));
	out->status = DNS_OK;
	out->mx_status = DNS_OK;
	rl = conf_lookup_routes(conf, domain);
	if (rl == NULL)
		return target_mx(dns, conf, domain, out);
	target_routes(dns, conf, rl, out);
	if (want_mx_names)
		target_routes_mx(dns, domain, out);
	return 0;
}

void
target_list_free(struct target_list *tl)
{
	size_t	i;

	if (tl == NULL)
		return;
	for (i = 0; i < tl->n; i++)
		dns_names_free(tl->t[i].names, tl->t[i].n_names);
	free(tl->t);
	dns_names_free(tl->mx_names, tl->n_mx);
	tl->t = NULL;
	tl->mx_names = NULL;
	tl->n = tl->n_mx = 0;
}
