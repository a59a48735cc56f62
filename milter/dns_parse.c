/*
 * dns_parse.c - the DNS answer parser (see dns.h, dns_parse_answer()).
 *
 * Parsing limits: the answer is read with ns_initparse()/ns_parserr();
 * only records of the asked type and class IN count (CNAMEs before them
 * are skipped: the recursive server follows them), and only when their
 * owner is the question's name or on the CNAME chain that starts there
 * (at most DNS_MAXCHAIN CNAMEs; case-insensitive): records of any other
 * name are ignored, and traced as such; RDATA lengths are
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
 * broken zone, which a recursive server reports as SERVFAIL; so is one
 * whose chain is longer than DNS_MAXCHAIN ("CNAME chain too long").
 *
 * Null MX (RFC 7505): an answer whose MX records all have the target "."
 * (canonically one record with preference 0) is a null MX. A "." target
 * mixed with real MX hosts is ignored (and traced).
 *
 * TLSA (RFC 6698): RDATA is usage, selector, matching type (one byte
 * each) and the association data; a record with fewer than 3 bytes is
 * malformed (DNS_INVALID), one with more than DNS_TLSA_MAXDATA bytes of
 * data is skipped and traced; at most DNS_MAXTLSA records are kept. The
 * values are not judged here (dane.c does).
 *
 * dns_parse_answer() is what every lookup of dns.c calls after its query,
 * and the entry point of the fuzzer fuzz/fuzz_dns.c.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"
#include "xalloc.h"

/* One parsed answer: the records of the asked type, still in wire form,
 * and the names that may own them (the question name, then its CNAMEs). */
struct dns_ans {
	ns_msg		 msg;
	int		 count;		/* records in the answer section */
	char		(*chain)[NS_MAXDNAME];	/* DNS_MAXCHAIN + 1 names */
	int		 nchain;
	int		 loop;		/* the chain comes back to a name */
	int		 cut;		/* longer than DNS_MAXCHAIN */
	int		 foreign;	/* records skipped: owner off the chain */
};

/* Record i when it has the type and class IN, whatever its owner:
 * 1 (rr filled), 0 (other record), -1 (unparsable). */
static int
dns_rr_at(struct dns_ans *ans, int i, int type, ns_rr *rr)
{
	if (ns_parserr(&ans->msg, ns_s_an, i, rr) < 0)
		return -1;
	if ((int)ns_rr_type(*rr) != type || ns_rr_class(*rr) != ns_c_in)
		return 0;
	return 1;
}

static int	dns_same_name(const char *, const char *);

/* 1 when name is on the chain: the question name or one of its CNAMEs. */
static int
dns_on_chain(const struct dns_ans *ans, const char *name)
{
	int	i;

	for (i = 0; i < ans->nchain; i++)
		if (dns_same_name(ans->chain[i], name))
			return 1;
	return 0;
}

/*
 * Record i of the answer when it has the wanted type and class IN and is
 * owned by a name on the chain: 1 (rr filled), 0 (other record, or one
 * for another name: skip, counted in foreign), -1 (unparsable).
 */
static int
dns_get_rr(struct dns_ans *ans, int i, int type, ns_rr *rr)
{
	int	r;

	if ((r = dns_rr_at(ans, i, type, rr)) != 1)
		return r;
	if (!dns_on_chain(ans, ns_rr_name(*rr))) {
		ans->foreign++;
		return 0;
	}
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
	(void)name_lower(out, len, out, outlen);	/* in place, fits */
	return 0;
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

/* TLSA records into out (see the file comment for the limits). */
static enum dns_status
dns_tlsa_answer(struct dns_ctx *ctx, struct dns_ans *ans, const char *q,
    struct dns_answer *out)
{
	ns_rr			 rr;
	const unsigned char	*rd;
	struct dns_tlsa		*t;
	size_t			 len;
	int			 i, r;

	out->tlsa = xcalloc(DNS_MAXTLSA, sizeof(*out->tlsa));
	for (i = 0; i < ans->count && out->n < DNS_MAXTLSA; i++) {
		if ((r = dns_get_rr(ans, i, ns_t_tlsa, &rr)) == 0)
			continue;
		if (r < 0 || ns_rr_rdlen(rr) < 3) {
			dns_seterr(ctx, "malformed TLSA record");
			return DNS_INVALID;
		}
		rd = ns_rr_rdata(rr);
		len = (size_t)ns_rr_rdlen(rr) - 3;
		if (len > DNS_TLSA_MAXDATA) {
			trace_add(ctx->trace, "TLSA %s: ignored a record with "
			    "%zu bytes of data (limit %d)", q, len,
			    DNS_TLSA_MAXDATA);
			continue;
		}
		t = &out->tlsa[out->n++];
		t->usage = rd[0];
		t->selector = rd[1];
		t->mtype = rd[2];
		t->len = len;
		memcpy(t->data, rd + 3, len);
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
		if (dns_rr_at(ans, i, ns_t_cname, &rr) != 1 ||
		    !dns_same_name(ns_rr_name(rr), name))
			continue;
		rd = ns_rr_rdata(rr);
		return dn_expand(ns_msg_base(ans->msg), ns_msg_end(ans->msg),
		    rd, out, (int)outlen) > 0;
	}
	return 0;
}

/*
 * The names that may own an answer record: the question name, then the
 * CNAME chain that starts there (a name already on the chain ends it:
 * a loop, which a recursive server reports as SERVFAIL; more than
 * DNS_MAXCHAIN CNAMEs: cut). No question: no name, no record is used.
 * Bounded: DNS_MAXCHAIN steps, each a pass over DNS_MAXRR records.
 */
static void
dns_chain_build(struct dns_ans *ans)
{
	ns_rr	rr;
	char	next[NS_MAXDNAME];

	ans->chain = xcalloc(DNS_MAXCHAIN + 1, sizeof(*ans->chain));
	if (ns_msg_count(ans->msg, ns_s_qd) < 1 ||
	    ns_parserr(&ans->msg, ns_s_qd, 0, &rr) < 0)
		return;
	(void)snprintf(ans->chain[0], NS_MAXDNAME, "%s", ns_rr_name(rr));
	ans->nchain = 1;
	while (dns_cname_next(ans, ans->chain[ans->nchain - 1], next,
	    sizeof(next))) {
		if (dns_on_chain(ans, next)) {
			ans->loop = 1;
			return;
		}
		if (ans->nchain > DNS_MAXCHAIN) {
			ans->cut = 1;
			return;
		}
		memcpy(ans->chain[ans->nchain++], next, NS_MAXDNAME);
	}
}

static const char *
dns_type_word(int type)
{
	switch (type) {
	case ns_t_mx:	return "MX";
	case ns_t_a:	return "A";
	case ns_t_aaaa:	return "AAAA";
	case ns_t_ptr:	return "PTR";
	case ns_t_tlsa:	return "TLSA";
	default:	return "?";
	}
}

/* Entry point for the fuzzer and tests as well (see dns.h). */
enum dns_status
dns_parse_answer(struct dns_ctx *ctx, const unsigned char *msg, size_t len,
    int type, const char *what, struct dns_answer *out)
{
	struct dns_ans	ans;
	enum dns_status	st;

	memset(out, 0, sizeof(*out));
	memset(&ans, 0, sizeof(ans));
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
	dns_chain_build(&ans);
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
	case ns_t_tlsa:
		st = dns_tlsa_answer(ctx, &ans, what, out);
		break;
	default:
		dns_seterr(ctx, "record type not supported");
		st = DNS_INVALID;
	}
	if (ans.foreign > 0)
		trace_add(ctx->trace, "%s %s: ignored %d answer record(s) of "
		    "another name than the question's", dns_type_word(type),
		    what, ans.foreign);
	if (st == DNS_NODATA && (ans.loop || ans.cut)) {
		dns_seterr(ctx, ans.loop ? "CNAME loop" : "CNAME chain too long");
		st = DNS_INVALID;
	}
	free(ans.chain);
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
	free(a->tlsa);
	if (a->names != NULL)
		dns_names_free(a->names, a->n);
	memset(a, 0, sizeof(*a));
}
