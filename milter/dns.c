/*
 * dns.c - the DNS lookups a probe needs, on libresolv (see dns.h).
 *
 * dns_open() makes one resolver state (res_ninit) per context; the
 * nameserver comes from [dns] nameserver (IPv4, or IPv6 through the
 * _u._ext.nsaddrs slot that res_ninit itself uses for IPv6 servers) or
 * else from /etc/resolv.conf. dns_close() undoes it (res_nclose).
 *
 * Every query sets retrans = min([dns] timeout, time left on the deadline)
 * in whole seconds, at least 1 (libresolv cannot wait less), and retry = 1;
 * a passed deadline returns DNS_TEMP without asking. Queries go out with
 * res_nquery() (never res_nsearch: names are fully qualified) into a 64 KiB
 * buffer. Truncated UDP answers: libresolv's own TCP retry has no timeout,
 * so the context asks with RES_IGNTC and repeats a question whose answer
 * has the TC bit over TCP itself (dns_tcp.c), bounded like any query.
 *
 * Results: NXDOMAIN -> DNS_NOTFOUND, NOERROR without a record of the type ->
 * DNS_NODATA, SERVFAIL/timeout/connection refused -> DNS_TEMP, REFUSED /
 * FORMERR / NOTIMP (NO_RECOVERY) -> DNS_TEMP with that reason. glibc hides
 * the answer of a SERVFAIL or REFUSED (it tries the next server and then
 * reports TRY_AGAIN), so the reason for those says "SERVFAIL/REFUSED or
 * timeout" unless errno tells "connection refused".
 *
 * Every lookup is dns_query() (res_nquery into the context's buffer)
 * followed by dns_parse_answer() (dns_parse.c, also the fuzzer's entry).
 *
 * No static mutable state: each context carries its own error text.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_int.h"
#include "xalloc.h"



void
dns_seterr(struct dns_ctx *ctx, const char *s)
{
	(void)snprintf(ctx->err, sizeof(ctx->err), "%s", s);	/* cut ok */
}

static void
dns_set_ns6(struct __res_state *res, const struct conf *conf)
{
	struct sockaddr_in6	*sa6;

	sa6 = xcalloc(1, sizeof(*sa6));
	sa6->sin6_family = AF_INET6;
	sa6->sin6_addr = conf->nameserver.u.v6;
	sa6->sin6_port = htons((uint16_t)conf->nameserver_port);
	/* libresolv reads _ext.nsaddrs[n] when nsaddr_list[n] has family 0 */
	res->nsaddr_list[0].sin_family = 0;
	res->_u._ext.nsaddrs[0] = sa6;		/* freed by res_nclose */
}

/* Replace the servers from resolv.conf by the configured one. */
static void
dns_set_nameserver(struct __res_state *res, const struct conf *conf)
{
	int	i;

	for (i = 0; i < MAXNS; i++) {
		free(res->_u._ext.nsaddrs[i]);
		res->_u._ext.nsaddrs[i] = NULL;
	}
	res->_u._ext.nscount = 0;
	res->nscount = 1;
	memset(&res->nsaddr_list[0], 0, sizeof(res->nsaddr_list[0]));
	if (conf->nameserver.family == AF_INET6) {
		dns_set_ns6(res, conf);
		return;
	}
	res->nsaddr_list[0].sin_family = AF_INET;
	res->nsaddr_list[0].sin_addr = conf->nameserver.u.v4;
	res->nsaddr_list[0].sin_port = htons((uint16_t)conf->nameserver_port);
}

struct dns_ctx *
dns_open(const struct conf *conf, char *err, size_t errlen)
{
	struct dns_ctx	*ctx;

	ctx = xcalloc(1, sizeof(*ctx));
	ctx->res = xcalloc(1, sizeof(*ctx->res));
	if (res_ninit(ctx->res) != 0) {
		(void)snprintf(err, errlen, "res_ninit failed: %s",
		    strerror(errno));
		free(ctx->res);
		free(ctx);
		return NULL;
	}
	ctx->res->options &= ~(RES_DNSRCH | RES_DEFNAMES);
	ctx->res->options |= RES_IGNTC;		/* TCP retry: dns_tcp.c */
	if (conf != NULL && conf->dnssec) {	/* SPEC 12: EDNS0 DO, keep AD */
		ctx->res->options |= RES_USE_EDNS0 | RES_USE_DNSSEC |
		    RES_TRUSTAD;
		ctx->dnssec = 1;
	}
	if (conf != NULL && conf->has_nameserver)
		dns_set_nameserver(ctx->res, conf);
	ctx->timeout = conf != NULL && conf->dns_timeout > 0 ?
	    conf->dns_timeout : 5;
	ctx->buf = xmalloc(DNS_ANSLEN);
	return ctx;
}

void
dns_close(struct dns_ctx *ctx)
{
	if (ctx == NULL)
		return;
	res_nclose(ctx->res);
	free(ctx->res);
	free(ctx->buf);
	free(ctx);
}

void
dns_set_deadline(struct dns_ctx *ctx, const struct deadline *d)
{
	ctx->has_deadline = d != NULL;
	if (d != NULL)
		ctx->deadline = *d;
}

void
dns_set_trace(struct dns_ctx *ctx, struct trace *t)
{
	ctx->trace = t;
}

int
dns_last_secure(const struct dns_ctx *ctx)
{
	return ctx->ad;
}

const char *
dns_last_error(const struct dns_ctx *ctx)
{
	return ctx->err;
}

const char *
dns_status_str(enum dns_status s)
{
	switch (s) {
	case DNS_OK:		return "OK";
	case DNS_NOTFOUND:	return "NXDOMAIN";
	case DNS_NODATA:	return "NODATA";
	case DNS_TEMP:		return "TEMP";
	case DNS_INVALID:	return "INVALID";
	}
	return "?";
}

/* The AD bit of the response in ctx->buf (a response: QR set), kept only
 * when the configuration trusts it. NODATA and NXDOMAIN answers are in
 * the buffer too (glibc copies them before it fails). */
static void
dns_set_ad(struct dns_ctx *ctx)
{
	ctx->ad = ctx->dnssec && (ctx->buf[2] & 0x80) &&
	    (ctx->buf[3] & 0x20);
}

static const char *
dns_sec_note(const struct dns_ctx *ctx)
{
	if (!ctx->dnssec)
		return "";
	return ctx->ad ? " (DNSSEC: secure)" : " (DNSSEC: insecure)";
}

/* Map a failed res_nquery() to a status and reason. */
static enum dns_status
dns_map_herrno(struct dns_ctx *ctx, int herr, int err)
{
	switch (herr) {
	case HOST_NOT_FOUND:
		dns_seterr(ctx, "NXDOMAIN");
		return DNS_NOTFOUND;
	case NO_DATA:
		dns_seterr(ctx, "no record of that type");
		return DNS_NODATA;
	case NO_RECOVERY:
		dns_seterr(ctx, "server refused or could not parse the query");
		return DNS_TEMP;
	case TRY_AGAIN:
		if (err == ECONNREFUSED)
			dns_seterr(ctx, "connection refused");
		else
			dns_seterr(ctx, "SERVFAIL/REFUSED or timeout");
		return DNS_TEMP;
	default:
		dns_seterr(ctx, "resolver error");
		return DNS_TEMP;
	}
}

/* The answer came truncated: ask again over TCP, bounded (dns_tcp.c). */
static enum dns_status
dns_query_tcp(struct dns_ctx *ctx, const char *name, int type, size_t *len)
{
	const HEADER	*h = (const HEADER *)ctx->buf;
	long		 ms = (long)ctx->timeout * 1000L;
	int		 n;

	if (ctx->has_deadline)
		ms = deadline_min_ms(&ctx->deadline, ms);
	n = dns_tcp_query(ctx->res, name, type, ms, ctx->buf,
	    DNS_ANSLEN, ctx->err, sizeof(ctx->err));
	if (n < 0)
		return DNS_TEMP;
	if (h->rcode == ns_r_nxdomain) {
		dns_seterr(ctx, "NXDOMAIN");
		return DNS_NOTFOUND;
	}
	if (h->rcode != ns_r_noerror) {
		dns_seterr(ctx, "SERVFAIL/REFUSED (over TCP)");
		return DNS_TEMP;
	}
	if (ntohs(h->ancount) == 0) {
		dns_seterr(ctx, "no record of that type");
		return DNS_NODATA;
	}
	*len = (size_t)n;
	return DNS_OK;
}

/*
 * Ask one question. DNS_OK with the answer in ctx->buf[0..*len); the
 * caller parses it with dns_parse_answer() (or dns_txt.c's parser).
 */
enum dns_status
dns_query(struct dns_ctx *ctx, const char *name, int type, size_t *len)
{
	long	secs = ctx->timeout;
	int	n;

	*len = 0;
	if (!name_is_hostname(name, strlen(name))) {
		dns_seterr(ctx, "invalid name in query");
		return DNS_INVALID;
	}
	if (ctx->has_deadline) {
		if (deadline_passed(&ctx->deadline)) {
			dns_seterr(ctx, "deadline passed");
			return DNS_TEMP;
		}
		secs = deadline_min_ms(&ctx->deadline, secs * 1000L) / 1000L;
	}
	/* glibc waits about retrans per server in turn (send_dg): share the
	 * time out among the servers so that one query stays within it */
	if (ctx->res->nscount > 1)
		secs /= ctx->res->nscount;
	ctx->res->retrans = secs < 1 ? 1 : (int)secs;
	ctx->res->retry = 1;
	errno = 0;
	memset(ctx->buf, 0, HFIXEDSZ);		/* no stale header below */
	ctx->ad = 0;
	n = res_nquery(ctx->res, name, ns_c_in, type, ctx->buf, DNS_ANSLEN);
	if ((ctx->buf[2] & 0x82) == 0x82) {	/* a response with TC */
		enum dns_status st = dns_query_tcp(ctx, name, type, len);

		dns_set_ad(ctx);
		return st;
	}
	dns_set_ad(ctx);
	if (n < 0)
		return dns_map_herrno(ctx, ctx->res->res_h_errno, errno);
	*len = (size_t)n;
	return DNS_OK;
}

/* Append sep (when line is not empty) and s to line (cut is meant). */
static void
dns_cat(char *line, size_t size, const char *sep, const char *s)
{
	size_t	len = strlen(line);

	if (len + 1 >= size)
		return;
	(void)snprintf(line + len, size - len, "%s%s", len ? sep : "", s);
}

static void
dns_trace_fail(struct dns_ctx *ctx, const char *what, const char *name,
    enum dns_status st)
{
	if (st == DNS_NOTFOUND)
		trace_add(ctx->trace, "%s %s: NXDOMAIN%s", what, name,
		    dns_sec_note(ctx));
	else if (st == DNS_NODATA)
		trace_add(ctx->trace, "%s %s: NODATA (no %s record)%s", what,
		    name, what, dns_sec_note(ctx));
	else
		trace_add(ctx->trace, "%s %s: %s (%s)", what, name,
		    dns_status_str(st), ctx->err);
}

static void
dns_mx_trace(struct dns_ctx *ctx, const char *domain, struct dns_mx *mx,
    size_t n, size_t nroot)
{
	char	line[TRACE_LINELEN], one[NAME_BUFLEN + 8];
	size_t	i;

	line[0] = '\0';
	for (i = 0; i < n; i++) {
		(void)snprintf(one, sizeof(one), "%u %s", mx[i].pref,
		    mx[i].name);	/* fits */
		dns_cat(line, sizeof(line), ", ", one);
	}
	if (nroot > 0)
		dns_cat(line, sizeof(line), " ",
		    "(MX \".\" beside host names ignored)");
	trace_add(ctx->trace, "MX %s: %s%s", domain, line, dns_sec_note(ctx));
}

/* Query and parse: the common part of every lookup. */
static enum dns_status
dns_lookup(struct dns_ctx *ctx, const char *name, int type,
    const char *what, struct dns_answer *out)
{
	enum dns_status	st;
	size_t		len;

	memset(out, 0, sizeof(*out));
	if ((st = dns_query(ctx, name, type, &len)) != DNS_OK)
		return st;
	return dns_parse_answer(ctx, ctx->buf, len, type, what, out);
}

enum dns_status
dns_mx(struct dns_ctx *ctx, const char *domain, struct dns_mx **out,
    size_t *n, int *null_mx)
{
	struct dns_answer	ans;
	enum dns_status		st;

	*out = NULL;
	*n = 0;
	*null_mx = 0;
	st = dns_lookup(ctx, domain, ns_t_mx, domain, &ans);
	if (st != DNS_OK) {
		dns_trace_fail(ctx, "MX", domain, st);
		return st;
	}
	if (ans.null_mx) {
		dns_answer_free(&ans);
		*null_mx = 1;
		trace_add(ctx->trace, "MX %s: null MX (0 .): the domain "
		    "accepts no mail", domain);
		return DNS_OK;
	}
	dns_mx_trace(ctx, domain, ans.mx, ans.n, ans.nroot);
	*out = ans.mx;
	*n = ans.n;
	return DNS_OK;
}

/* A or AAAA records of name, without tracing. */
static enum dns_status
dns_addrs_run(struct dns_ctx *ctx, const char *name, int family,
    struct ipaddr **out, size_t *n)
{
	struct dns_answer	ans;
	enum dns_status		st;

	*out = NULL;
	*n = 0;
	st = dns_lookup(ctx, name, family == AF_INET6 ? ns_t_aaaa : ns_t_a,
	    name, &ans);
	if (st != DNS_OK)
		return st;
	*out = ans.addrs;
	*n = ans.n;
	return DNS_OK;
}

/* "127.0.0.2, 127.0.0.3" into line (cut is meant). */
static void
dns_addrs_text(const struct ipaddr *a, size_t n, char *line, size_t size)
{
	char	ip[INET6_ADDRSTRLEN];
	size_t	i;

	line[0] = '\0';
	for (i = 0; i < n; i++) {
		dns_cat(line, size, ", ", conf_ipaddr_str(&a[i], ip,
		    sizeof(ip)));
	}
}

enum dns_status
dns_addrs(struct dns_ctx *ctx, const char *name, int family,
    struct ipaddr **out, size_t *n)
{
	const char	*what = family == AF_INET6 ? "AAAA" : "A";
	char		 line[TRACE_LINELEN];
	enum dns_status	 st;

	st = dns_addrs_run(ctx, name, family, out, n);
	if (st != DNS_OK) {
		dns_trace_fail(ctx, what, name, st);
		return st;
	}
	dns_addrs_text(*out, *n, line, sizeof(line));
	trace_add(ctx->trace, "%s %s: %s%s", what, name, line,
	    dns_sec_note(ctx));
	return DNS_OK;
}

/* The reverse name of ip: "4.3.2.1.in-addr.arpa" or 32 nibbles.ip6.arpa. */
static void
dns_ptr_qname(const struct ipaddr *ip, char *q, size_t size)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*b;
	char			*p = q;
	int			 i;

	if (ip->family == AF_INET) {
		b = (const unsigned char *)&ip->u.v4;
		(void)snprintf(q, size, "%u.%u.%u.%u.in-addr.arpa",
		    b[3], b[2], b[1], b[0]);	/* size >= NAME_BUFLEN */
		return;
	}
	b = ip->u.v6.s6_addr;
	for (i = 15; i >= 0; i--) {
		*p++ = hex[b[i] & 0xf];
		*p++ = '.';
		*p++ = hex[b[i] >> 4];
		*p++ = '.';
	}
	(void)snprintf(p, size - (size_t)(p - q), "ip6.arpa");
}

enum dns_status
dns_ptr(struct dns_ctx *ctx, const struct ipaddr *ip, char ***out,
    size_t *n)
{
	struct dns_answer	 ans;
	char			 q[NAME_BUFLEN], ipt[INET6_ADDRSTRLEN];
	char			 line[TRACE_LINELEN];
	size_t			 i;
	enum dns_status		 st;

	*out = NULL;
	*n = 0;
	dns_ptr_qname(ip, q, sizeof(q));
	(void)conf_ipaddr_str(ip, ipt, sizeof(ipt));
	st = dns_lookup(ctx, q, ns_t_ptr, ipt, &ans);
	if (st != DNS_OK) {
		dns_trace_fail(ctx, "PTR", ipt, st);
		return st;
	}
	line[0] = '\0';
	for (i = 0; i < ans.n; i++)
		dns_cat(line, sizeof(line), ", ", ans.names[i]);
	trace_add(ctx->trace, "PTR %s: %s", ipt, line);
	*out = ans.names;
	*n = ans.n;
	return DNS_OK;
}

void
dns_names_free(char **names, size_t n)
{
	size_t	i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

enum dns_status
dns_forward_confirm(struct dns_ctx *ctx, const char *name,
    const struct ipaddr *ip, int *confirmed)
{
	const char	*what = ip->family == AF_INET6 ? "AAAA" : "A";
	struct ipaddr	*a;
	char		 line[TRACE_LINELEN], ipt[INET6_ADDRSTRLEN];
	size_t		 n, i;
	enum dns_status	 st;

	*confirmed = 0;
	if (ip->family != AF_INET && ip->family != AF_INET6) {
		dns_seterr(ctx, "not an IPv4 or IPv6 address");
		return DNS_INVALID;
	}
	st = dns_addrs_run(ctx, name, ip->family, &a, &n);
	if (st != DNS_OK) {
		dns_trace_fail(ctx, what, name, st);
		return st;
	}
	for (i = 0; i < n; i++)
		if (conf_ipaddr_eq(&a[i], ip))
			*confirmed = 1;
	dns_addrs_text(a, n, line, sizeof(line));
	(void)conf_ipaddr_str(ip, ipt, sizeof(ipt));
	trace_add(ctx->trace, "%s %s: %s (%s %s: forward-confirmed %s)", what,
	    name, line, *confirmed ? "contains" : "does not contain", ipt,
	    *confirmed ? "yes" : "no");
	free(a);
	return DNS_OK;
}

void
dns_forward_known(struct dns_ctx *ctx, const char *name,
    const struct ipaddr *ip)
{
	char	ipt[INET6_ADDRSTRLEN];

	(void)conf_ipaddr_str(ip, ipt, sizeof(ipt));
	trace_add(ctx->trace, "%s %s: %s, from its answer earlier in this "
	    "probe (forward-confirmed yes; not asked again)",
	    ip->family == AF_INET6 ? "AAAA" : "A", name, ipt);
}

enum dns_status
dns_tlsa(struct dns_ctx *ctx, const char *name, struct dns_tlsa **out,
    size_t *n, int *secure)
{
	struct dns_answer	ans;
	enum dns_status		st;

	*out = NULL;
	*n = 0;
	*secure = 0;
	st = dns_lookup(ctx, name, ns_t_tlsa, name, &ans);
	if (st != DNS_OK) {
		dns_trace_fail(ctx, "TLSA", name, st);
		return st;
	}
	*secure = ctx->ad;
	trace_add(ctx->trace, "TLSA %s: %zu record(s)%s", name, ans.n,
	    dns_sec_note(ctx));
	*out = ans.tlsa;
	*n = ans.n;
	return DNS_OK;
}
