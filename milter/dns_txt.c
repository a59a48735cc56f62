/*
 * dns_txt.c - TXT lookups (MTA-STS discovery, RFC 8461 3.1); API in dns.h.
 *
 * dns_txt(ctx, name, &out, &n) asks one TXT question through the context's
 * bounded dns_query() (dns.c) and parses the answer with dns_txt_parse().
 * Results as every lookup of dns.h: DNS_OK (n >= 1), DNS_NOTFOUND,
 * DNS_NODATA, DNS_TEMP, DNS_INVALID.
 *
 * Parsing limits: only TXT records of class IN whose owner is the question
 * name or a name of the CNAME chain that starts there (at most
 * DNS_MAXCHAIN CNAMEs, case-insensitive) count; each RDATA must be a
 * sequence of <length><bytes> character-strings that ends exactly at the
 * end of the RDATA (else the whole answer is DNS_INVALID, as a malformed
 * MX is); the strings of one record are concatenated (at most 65535
 * bytes: the RDATA's own limit). At most DNS_MAXRR records are kept.
 * Text is copied as sent (NUL bytes included, len says how long): its
 * reader (mtasts_parse.c) judges it.
 *
 * The caller frees the array with dns_txt_free(out, n).
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_int.h"
#include "xalloc.h"

/* The chain of names that may own the records: qname, then its CNAMEs. */
struct txt_chain {
	char	names[DNS_MAXCHAIN + 1][NS_MAXDNAME];
	int	n;
};

static int
txt_on_chain(const struct txt_chain *c, const char *name)
{
	int	i;

	for (i = 0; i < c->n; i++)
		if (strcasecmp(c->names[i], name) == 0)
			return 1;
	return 0;
}

/* Follow CNAMEs from the question name (bounded); 0, or -1 when broken. */
static int
txt_chain_build(ns_msg *msg, const char *qname, struct txt_chain *c)
{
	ns_rr	rr;
	int	i, count = ns_msg_count(*msg, ns_s_an), grown;
	char	target[NS_MAXDNAME];

	(void)snprintf(c->names[0], NS_MAXDNAME, "%s", qname);
	c->n = 1;
	do {
		grown = 0;
		for (i = 0; i < count; i++) {
			if (ns_parserr(msg, ns_s_an, i, &rr) < 0)
				return -1;
			if (ns_rr_type(rr) != ns_t_cname ||
			    strcasecmp(ns_rr_name(rr), c->names[c->n - 1]) != 0)
				continue;
			if (dn_expand(ns_msg_base(*msg), ns_msg_end(*msg),
			    ns_rr_rdata(rr), target, sizeof(target)) < 0)
				return -1;
			if (txt_on_chain(c, target) || c->n > DNS_MAXCHAIN)
				return -1;	/* loop, or too long */
			(void)snprintf(c->names[c->n++], NS_MAXDNAME, "%s",
			    target);
			grown = 1;
			break;
		}
	} while (grown);
	return 0;
}

/* One TXT RDATA into out (allocated); -1 when malformed. */
static int
txt_rdata(const unsigned char *p, size_t rdlen, struct dns_txt *out)
{
	size_t	off = 0, len = 0, l;
	char	*t = xmalloc(rdlen + 1);

	while (off < rdlen) {
		l = p[off++];
		if (l > rdlen - off) {
			free(t);
			return -1;
		}
		memcpy(t + len, p + off, l);
		len += l;
		off += l;
	}
	if (rdlen == 0) {		/* RFC 1035: at least one string */
		free(t);
		return -1;
	}
	t[len] = '\0';
	out->text = t;
	out->len = len;
	return 0;
}

enum dns_status
dns_txt_parse(struct dns_ctx *ctx, const unsigned char *msg, size_t len,
    const char *qname, struct dns_txt **out, size_t *n)
{
	struct txt_chain	*c = NULL;
	struct dns_txt		*t = NULL;
	enum dns_status		 st = DNS_INVALID;
	ns_msg			 m;
	ns_rr			 rr;
	size_t			 k = 0;
	int			 i, count;

	*out = NULL;
	*n = 0;
	if (len > DNS_ANSLEN || ns_initparse(msg, (int)len, &m) < 0) {
		dns_seterr(ctx, "malformed DNS message");
		return DNS_INVALID;
	}
	c = xmalloc(sizeof(*c));
	if (txt_chain_build(&m, qname, c) == -1) {
		dns_seterr(ctx, "malformed answer or CNAME loop/chain too long");
		goto out;
	}
	count = ns_msg_count(m, ns_s_an);
	t = xcalloc(DNS_MAXRR, sizeof(*t));
	for (i = 0; i < count && k < DNS_MAXRR; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0) {
			dns_seterr(ctx, "malformed resource record");
			goto out;
		}
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in ||
		    !txt_on_chain(c, ns_rr_name(rr)))
			continue;
		if (txt_rdata(ns_rr_rdata(rr), ns_rr_rdlen(rr), &t[k]) == -1) {
			dns_seterr(ctx, "malformed TXT record");
			goto out;
		}
		k++;
	}
	if (k == 0) {
		dns_seterr(ctx, "no record of that type");
		st = DNS_NODATA;
		goto out;
	}
	*out = t;
	*n = k;
	t = NULL;
	st = DNS_OK;
out:
	dns_txt_free(t, k);
	free(c);
	return st;
}

void
dns_txt_free(struct dns_txt *t, size_t n)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < n; i++)
		free(t[i].text);
	free(t);
}

enum dns_status
dns_txt(struct dns_ctx *ctx, const char *name, struct dns_txt **out,
    size_t *n)
{
	enum dns_status	st;
	size_t		len;

	*out = NULL;
	*n = 0;
	st = dns_query(ctx, name, ns_t_txt, &len);
	if (st == DNS_OK)
		st = dns_txt_parse(ctx, ctx->buf, len, name, out, n);
	if (st == DNS_OK)
		trace_add(ctx->trace, "TXT %s: %zu record(s)", name, *n);
	else if (st == DNS_NOTFOUND)
		trace_add(ctx->trace, "TXT %s: NXDOMAIN", name);
	else if (st == DNS_NODATA)
		trace_add(ctx->trace, "TXT %s: NODATA (no TXT record)", name);
	else
		trace_add(ctx->trace, "TXT %s: %s (%s)", name,
		    dns_status_str(st), ctx->err);
	return st;
}
