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
 * buffer; a truncated UDP answer is retried over TCP by libresolv.
 *
 * Results: NXDOMAIN -> DNS_NOTFOUND, NOERROR without a record of the type ->
 * DNS_NODATA, SERVFAIL/timeout/connection refused -> DNS_TEMP, REFUSED /
 * FORMERR / NOTIMP (NO_RECOVERY) -> DNS_TEMP with that reason. glibc hides
 * the answer of a SERVFAIL or REFUSED (it tries the next server and then
 * reports TRY_AGAIN), so the reason for those says "SERVFAIL/REFUSED or
 * timeout" unless errno tells "connection refused".
 *
 * Parsing limits: the answer is read with ns_initparse()/ns_parserr();
 * only records of the asked type and class IN count (CNAMEs before them
 * are skipped: the recursive server follows them); RDATA lengths are
 * checked before each read (A: 4, AAAA: 16, MX: >= 3 and the name must end
 * exactly at the end of the RDATA, PTR: the name must fill the RDATA); names
 * are expanded with dn_expand() inside the message, must pass
 * name_is_hostname(), and are folded to lower case. At most DNS_MAXRR
 * records are kept. An invalid MX name makes the whole MX answer
 * DNS_INVALID; an invalid PTR name is skipped (traced) and only when no
 * valid PTR name is left is the answer DNS_INVALID.
 *
 * An answer without a record of the asked type whose CNAMEs, followed from
 * the question name, loop is DNS_INVALID ("CNAME loop"), not NODATA: a
 * broken zone, which a recursive server reports as SERVFAIL.
 *
 * Null MX (RFC 7505): an answer whose MX records all have the target "."
 * (canonically one record with preference 0) is a null MX. A "." target
 * mixed with real MX hosts is ignored (and traced).
 *
 * The parsing is dns_parse_answer() (exported for the fuzzer
 * fuzz/fuzz_dns.c): every lookup is dns_query() (res_nquery into the
 * context's buffer) followed by it.
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

#include "dns.h"
#include "xalloc.h"

#define DNS_ANSLEN	65536

struct dns_ctx {
	struct __res_state	*res;
	unsigned char		*buf;		/* DNS_ANSLEN bytes */
	unsigned		 timeout;	/* seconds per query */
	int			 has_deadline;
	struct deadline		 deadline;	/* copied by dns_set_deadline */
	struct trace		*trace;
	char			 err[128];
};

/* One parsed answer: the records of the asked type, still in wire form. */
struct dns_ans {
	ns_msg		 msg;
	int		 count;		/* records in the answer section */
};

static void
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

/*
 * Ask one question. DNS_OK with the answer in ctx->buf[0..*len); the
 * caller parses it with dns_parse_answer().
 */
static enum dns_status
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
	ctx->res->retrans = secs < 1 ? 1 : (int)secs;
	ctx->res->retry = 1;
	errno = 0;
	n = res_nquery(ctx->res, name, ns_c_in, type, ctx->buf, DNS_ANSLEN);
	if (n < 0)
		return dns_map_herrno(ctx, ctx->res->res_h_errno, errno);
	*len = (size_t)n;
	return DNS_OK;
}

/*
 * Record i of the answer when it has the wanted type and class IN:
 * 1 (rr filled), 0 (other record: skip), -1 (unparsable).
 */
static int
dns_get_rr(struct dns_ans *ans, int i, int type, ns_rr *rr)
{
	if (ns_parserr(&ans->msg, ns_s_an, i, rr) < 0)
		return -1;
	if ((int)ns_rr_type(*rr) != type || ns_rr_class(*rr) != ns_c_in)
		return 0;
	return 1;
}

/*
 * Expand the name at p, which must end exactly at end (the end of its
 * RDATA), into out: lower case, no trailing dot ("" for the root).
 * 0 on success, -1 malformed, -2 not a host name.
 */
static int
dns_get_name(const ns_msg *msg, const unsigned char *p,
    const unsigned char *end, char *out, size_t outlen)
{
	int	n;
	size_t	len;

	n = dn_expand(ns_msg_base(*msg), ns_msg_end(*msg), p, out, (int)outlen);
	if (n < 0 || p + n != end)
		return -1;
	len = strlen(out);
	if (len > 0 && out[len - 1] == '.')
		out[--len] = '\0';
	if (len == 0)
		return 0;
	if (!name_is_hostname(out, len))
		return -2;
	for (; *out != '\0'; out++)
		*out = (char)tolower((unsigned char)*out);
	return 0;
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
		trace_add(ctx->trace, "%s %s: NXDOMAIN", what, name);
	else if (st == DNS_NODATA)
		trace_add(ctx->trace, "%s %s: NODATA (no %s record)", what,
		    name, what);
	else
		trace_add(ctx->trace, "%s %s: %s (%s)", what, name,
		    dns_status_str(st), ctx->err);
}

/* Stable insertion sort by preference (n <= DNS_MAXRR). */
static void
dns_mx_sort(struct dns_mx *mx, size_t n)
{
	struct dns_mx	tmp;
	size_t		i, j;

	for (i = 1; i < n; i++) {
		tmp = mx[i];
		for (j = i; j > 0 && mx[j - 1].pref > tmp.pref; j--)
			mx[j] = mx[j - 1];
		mx[j] = tmp;
	}
}

/* Collect the MX records; *nroot counts targets ".". */
static enum dns_status
dns_mx_parse(struct dns_ctx *ctx, struct dns_ans *ans, struct dns_mx *mx,
    size_t *n, size_t *nroot)
{
	ns_rr			 rr;
	const unsigned char	*rd;
	char			 name[NS_MAXDNAME];
	int			 i, r;

	for (i = 0; i < ans->count; i++) {
		if ((r = dns_get_rr(ans, i, ns_t_mx, &rr)) == 0)
			continue;
		if (r < 0 || ns_rr_rdlen(rr) < 3) {
			dns_seterr(ctx, "malformed MX record");
			return DNS_INVALID;
		}
		rd = ns_rr_rdata(rr);
		r = dns_get_name(&ans->msg, rd + 2, rd + ns_rr_rdlen(rr),
		    name, sizeof(name));
		if (r < 0) {
			dns_seterr(ctx, r == -1 ? "malformed MX name" :
			    "MX name is not a valid host name");
			return DNS_INVALID;
		}
		if (name[0] == '\0')
			(*nroot)++;
		else if (*n < DNS_MAXRR) {
			mx[*n].pref = ns_get16(rd);
			/* fits: name_is_hostname() capped it at 253 */
			memcpy(mx[*n].name, name, strlen(name) + 1);
			(*n)++;
		}
	}
	return DNS_OK;
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
	trace_add(ctx->trace, "MX %s: %s", domain, line);
}

/* MX answer into out: sorted hosts, or a null MX, or NODATA. */
static enum dns_status
dns_mx_answer(struct dns_ctx *ctx, struct dns_ans *ans,
    struct dns_answer *out)
{
	enum dns_status	st;

	out->mx = xcalloc(DNS_MAXRR, sizeof(*out->mx));
	st = dns_mx_parse(ctx, ans, out->mx, &out->n, &out->nroot);
	if (st != DNS_OK)
		return st;
	if (out->n == 0 && out->nroot == 0) {
		dns_seterr(ctx, "no record of that type");
		return DNS_NODATA;
	}
	if (out->n == 0)
		out->null_mx = 1;
	dns_mx_sort(out->mx, out->n);
	return DNS_OK;
}

/* A or AAAA records into out (family from type). */
static enum dns_status
dns_addrs_answer(struct dns_ctx *ctx, struct dns_ans *ans, int type,
    struct dns_answer *out)
{
	ns_rr		 rr;
	int		 i, r, family = type == ns_t_aaaa ? AF_INET6 : AF_INET;
	size_t		 want = type == ns_t_aaaa ? 16 : 4, k = 0;
	struct ipaddr	*a;

	a = out->addrs = xcalloc(DNS_MAXRR, sizeof(*a));
	for (i = 0; i < ans->count && k < DNS_MAXRR; i++) {
		if ((r = dns_get_rr(ans, i, type, &rr)) == 0)
			continue;
		if (r < 0 || ns_rr_rdlen(rr) != want) {
			dns_seterr(ctx, "malformed address record");
			return DNS_INVALID;
		}
		a[k].family = family;
		memcpy(family == AF_INET6 ? (void *)&a[k].u.v6 :
		    (void *)&a[k].u.v4, ns_rr_rdata(rr), want);
		out->n = ++k;
	}
	if (k == 0) {
		dns_seterr(ctx, "no record of that type");
		return DNS_NODATA;
	}
	return DNS_OK;
}

/* Collect the valid PTR names; invalid ones are traced and skipped. */
static enum dns_status
dns_ptr_answer(struct dns_ctx *ctx, struct dns_ans *ans, const char *q,
    struct dns_answer *out)
{
	ns_rr			 rr;
	const unsigned char	*rd;
	char			 name[NS_MAXDNAME];
	int			 i, r, bad = 0;

	out->names = xcalloc(DNS_MAXRR, sizeof(*out->names));
	for (i = 0; i < ans->count && out->n < DNS_MAXRR; i++) {
		if ((r = dns_get_rr(ans, i, ns_t_ptr, &rr)) == 0)
			continue;
		if (r < 0) {
			dns_seterr(ctx, "malformed PTR record");
			return DNS_INVALID;
		}
		rd = ns_rr_rdata(rr);
		r = dns_get_name(&ans->msg, rd, rd + ns_rr_rdlen(rr), name,
		    sizeof(name));
		if (r == -1) {
			dns_seterr(ctx, "malformed PTR name");
			return DNS_INVALID;
		}
		if (r == -2 || name[0] == '\0') {
			trace_add(ctx->trace, "PTR %s: ignored a name that is "
			    "not a host name", q);
			bad++;
			continue;
		}
		out->names[out->n++] = xstrdup(name);
	}
	if (out->n == 0 && bad > 0) {
		dns_seterr(ctx, "no valid host name in PTR answer");
		return DNS_INVALID;
	}
	if (out->n == 0) {
		dns_seterr(ctx, "no record of that type");
		return DNS_NODATA;
	}
	return DNS_OK;
}

/* Presentation names equal, ASCII case and one trailing dot ignored. */
static int
dns_same_name(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/*
 * The target of the CNAME owned by name among the first DNS_MAXRR answer
 * records, into out: 1 found, 0 none (or unreadable).
 */
static int
dns_cname_next(struct dns_ans *ans, const char *name, char *out,
    size_t outlen)
{
	ns_rr			 rr;
	const unsigned char	*rd;
	int			 i;

	for (i = 0; i < ans->count && i < DNS_MAXRR; i++) {
		if (dns_get_rr(ans, i, ns_t_cname, &rr) != 1 ||
		    !dns_same_name(ns_rr_name(rr), name))
			continue;
		rd = ns_rr_rdata(rr);
		return dn_expand(ns_msg_base(ans->msg), ns_msg_end(ans->msg),
		    rd, out, (int)outlen) > 0;
	}
	return 0;
}

/*
 * 1 when the answer's CNAMEs, followed from the question name, form a
 * loop (a recursive server says SERVFAIL to that; a hostile one answers
 * it). A chain without a loop takes at most one step per CNAME record, so
 * more steps than records is a loop. Bounded: DNS_MAXRR records.
 */
static int
dns_cname_loop(struct dns_ans *ans)
{
	ns_rr	rr;
	char	cur[NS_MAXDNAME], next[NS_MAXDNAME];
	int	i, ncname = 0, steps = 0;

	for (i = 0; i < ans->count && i < DNS_MAXRR; i++)
		if (dns_get_rr(ans, i, ns_t_cname, &rr) == 1)
			ncname++;
	if (ncname == 0 || ns_parserr(&ans->msg, ns_s_qd, 0, &rr) < 0)
		return 0;
	(void)snprintf(cur, sizeof(cur), "%s", ns_rr_name(rr));
	while (dns_cname_next(ans, cur, next, sizeof(next))) {
		if (++steps > ncname)
			return 1;
		memcpy(cur, next, sizeof(cur));
	}
	return 0;
}

/* Entry point for the fuzzer and tests as well (see dns.h). */
enum dns_status
dns_parse_answer(struct dns_ctx *ctx, const unsigned char *msg, size_t len,
    int type, const char *what, struct dns_answer *out)
{
	struct dns_ans	ans;
	enum dns_status	st;

	memset(out, 0, sizeof(*out));
	out->type = type;
	if (len > DNS_ANSLEN || ns_initparse(msg, (int)len, &ans.msg) < 0) {
		dns_seterr(ctx, "malformed answer");
		return DNS_INVALID;
	}
	ans.count = ns_msg_count(ans.msg, ns_s_an);
	if (ans.count <= 0) {
		dns_seterr(ctx, "no record of that type");
		return DNS_NODATA;
	}
	switch (type) {
	case ns_t_mx:
		st = dns_mx_answer(ctx, &ans, out);
		break;
	case ns_t_a:
	case ns_t_aaaa:
		st = dns_addrs_answer(ctx, &ans, type, out);
		break;
	case ns_t_ptr:
		st = dns_ptr_answer(ctx, &ans, what, out);
		break;
	default:
		dns_seterr(ctx, "record type not supported");
		st = DNS_INVALID;
	}
	if (st == DNS_NODATA && dns_cname_loop(&ans)) {
		dns_seterr(ctx, "CNAME loop");
		st = DNS_INVALID;
	}
	if (st != DNS_OK)
		dns_answer_free(out);
	return st;
}

void
dns_answer_free(struct dns_answer *a)
{
	if (a == NULL)
		return;
	free(a->mx);
	free(a->addrs);
	dns_names_free(a->names, a->n);
	memset(a, 0, sizeof(*a));
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
		if (inet_ntop(a[i].family, &a[i].u, ip, sizeof(ip)) == NULL)
			(void)snprintf(ip, sizeof(ip), "?");
		dns_cat(line, size, ", ", ip);
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
	trace_add(ctx->trace, "%s %s: %s", what, name, line);
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
	if (inet_ntop(ip->family, &ip->u, ipt, sizeof(ipt)) == NULL)
		(void)snprintf(ipt, sizeof(ipt), "?");
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

static int
dns_addr_eq(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
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
		if (dns_addr_eq(&a[i], ip))
			*confirmed = 1;
	dns_addrs_text(a, n, line, sizeof(line));
	if (inet_ntop(ip->family, &ip->u, ipt, sizeof(ipt)) == NULL)
		(void)snprintf(ipt, sizeof(ipt), "?");
	trace_add(ctx->trace, "%s %s: %s (%s %s: forward-confirmed %s)", what,
	    name, line, *confirmed ? "contains" : "does not contain", ipt,
	    *confirmed ? "yes" : "no");
	free(a);
	return DNS_OK;
}
