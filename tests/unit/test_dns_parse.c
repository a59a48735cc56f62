/*
 * test_dns_parse.c - dns_parse_answer() on hand-built DNS messages: an
 * answer record counts only when its owner is the question's name or on
 * the CNAME chain that starts there (as glibc's getanswer() checks), so a
 * forwarder that passes on an unrelated record cannot feed a lookup.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dnsmsg.h"
#include "t.h"

static void
rr_a(struct msg *m, const char *owner, const char *ip)
{
	unsigned char	a[4];

	(void)inet_pton(AF_INET, ip, a);
	rr(m, owner, ns_t_a, a, 4, NULL);
}

static enum dns_status
parse(struct dns_ctx *ctx, struct msg *m, int type, struct dns_answer *out)
{
	msg_count(m);
	return dns_parse_answer(ctx, m->b, m->len, type, "test", out);
}

static void
test_owner(struct dns_ctx *ctx)
{
	static const unsigned char pref[2] = { 0, 10 };
	struct msg		m;
	struct dns_answer	a;
	enum dns_status		st;

	start(&m, "mx0a.emailhosted.not", ns_t_a);
	rr_a(&m, "unrelated.example", "127.0.0.2");
	st = parse(ctx, &m, ns_t_a, &a);
	T_OK(st == DNS_NODATA, "A for another owner only: NODATA (got %s)",
	    dns_status_str(st));
	dns_answer_free(&a);

	start(&m, "mx0a.emailhosted.not", ns_t_a);
	rr_a(&m, "unrelated.example", "127.0.0.9");
	rr_a(&m, "MX0A.EmailHosted.NOT", "127.0.0.2");
	st = parse(ctx, &m, ns_t_a, &a);
	T_OK(st == DNS_OK && a.n == 1 &&
	    a.addrs[0].u.v4.s_addr == htonl(0x7f000002),
	    "the owner is compared case-insensitively; the other one ignored");
	dns_answer_free(&a);

	start(&m, "a.test", ns_t_a);
	rr(&m, "a.test", ns_t_cname, NULL, 0, "b.test");
	rr(&m, "b.test", ns_t_cname, NULL, 0, "c.test");
	rr_a(&m, "c.test", "127.0.0.3");
	rr_a(&m, "d.test", "127.0.0.4");
	st = parse(ctx, &m, ns_t_a, &a);
	T_OK(st == DNS_OK && a.n == 1 &&
	    a.addrs[0].u.v4.s_addr == htonl(0x7f000003),
	    "the target of a CNAME chain from the question owns the answer");
	dns_answer_free(&a);

	start(&m, "a.test", ns_t_a);
	rr(&m, "a.test", ns_t_cname, NULL, 0, "b.test");
	rr(&m, "x.test", ns_t_cname, NULL, 0, "c.test");
	rr_a(&m, "c.test", "127.0.0.3");
	st = parse(ctx, &m, ns_t_a, &a);
	T_OK(st == DNS_NODATA, "a CNAME that does not start at the question "
	    "builds no chain (got %s)", dns_status_str(st));
	dns_answer_free(&a);

	start(&m, "2.0.0.127.in-addr.arpa", ns_t_ptr);
	rr(&m, "3.0.0.127.in-addr.arpa", ns_t_ptr, NULL, 0, "mx.evil.test");
	st = parse(ctx, &m, ns_t_ptr, &a);
	T_OK(st == DNS_NODATA, "PTR for another address: NODATA (got %s)",
	    dns_status_str(st));
	dns_answer_free(&a);

	start(&m, "example.com", ns_t_mx);
	rr(&m, "example.net", ns_t_mx, pref, 2, "mx.evil.test");
	rr(&m, "example.com", ns_t_mx, pref, 2, "mx.example.com");
	st = parse(ctx, &m, ns_t_mx, &a);
	T_OK(st == DNS_OK && a.n == 1 &&
	    strcmp(a.mx[0].name, "mx.example.com") == 0,
	    "MX: only the question's own records");
	dns_answer_free(&a);
}

/* A chain of n CNAMEs from c0.test, then an A record at its end. */
static enum dns_status
chain(struct dns_ctx *ctx, int n, struct dns_answer *a)
{
	struct msg	m;
	char		from[32], to[32];
	int		i;

	start(&m, "c0.test", ns_t_a);
	for (i = 0; i < n; i++) {
		(void)snprintf(from, sizeof(from), "c%d.test", i);
		(void)snprintf(to, sizeof(to), "c%d.test", i + 1);
		rr(&m, from, ns_t_cname, NULL, 0, to);
	}
	rr_a(&m, to, "127.0.0.5");
	return parse(ctx, &m, ns_t_a, a);
}

static void
test_chain(struct dns_ctx *ctx)
{
	struct msg		m;
	struct dns_answer	a;
	enum dns_status		st;

	st = chain(ctx, DNS_MAXCHAIN, &a);
	T_OK(st == DNS_OK && a.n == 1, "a chain of DNS_MAXCHAIN CNAMEs is "
	    "followed (got %s)", dns_status_str(st));
	dns_answer_free(&a);
	st = chain(ctx, DNS_MAXCHAIN + 1, &a);
	T_OK(st == DNS_INVALID && strcmp(dns_last_error(ctx),
	    "CNAME chain too long") == 0, "a longer chain is invalid (got %s: "
	    "%s)", dns_status_str(st), dns_last_error(ctx));
	dns_answer_free(&a);
	start(&m, "l1.test", ns_t_a);
	rr(&m, "l1.test", ns_t_cname, NULL, 0, "l2.test");
	rr(&m, "l2.test", ns_t_cname, NULL, 0, "l1.test");
	st = parse(ctx, &m, ns_t_a, &a);
	T_OK(st == DNS_INVALID && strcmp(dns_last_error(ctx), "CNAME loop")
	    == 0, "a CNAME loop is invalid (got %s)", dns_status_str(st));
	dns_answer_free(&a);
}

/* TLSA: usage/selector/type kept, short RDATA invalid, oversized data
 * skipped, other owners ignored. */
static void
test_tlsa(struct dns_ctx *ctx)
{
	static unsigned char	 big[3 + DNS_TLSA_MAXDATA + 1];
	unsigned char		 rd[3 + 32];
	struct msg		 m;
	struct dns_answer	 a;
	enum dns_status		 st;
	const char		*q = "_25._tcp.mx.dane.test";

	memset(rd, 0xab, sizeof(rd));
	rd[0] = 3; rd[1] = 1; rd[2] = 1;
	start(&m, q, ns_t_tlsa);
	rr(&m, "_25._tcp.other.test", ns_t_tlsa, rd, sizeof(rd), NULL);
	rr(&m, q, ns_t_tlsa, rd, sizeof(rd), NULL);
	st = parse(ctx, &m, ns_t_tlsa, &a);
	T_OK(st == DNS_OK && a.n == 1 && a.tlsa[0].usage == 3 &&
	    a.tlsa[0].selector == 1 && a.tlsa[0].mtype == 1 &&
	    a.tlsa[0].len == 32 && a.tlsa[0].data[31] == 0xab,
	    "TLSA 3 1 1 parsed, the other owner's record ignored (got %s)",
	    dns_status_str(st));
	dns_answer_free(&a);

	start(&m, q, ns_t_tlsa);
	rr(&m, q, ns_t_tlsa, rd, 2, NULL);
	st = parse(ctx, &m, ns_t_tlsa, &a);
	T_OK(st == DNS_INVALID, "TLSA with 2 bytes of RDATA is invalid (got "
	    "%s)", dns_status_str(st));
	dns_answer_free(&a);

	start(&m, q, ns_t_tlsa);
	rr(&m, q, ns_t_tlsa, big, sizeof(big), NULL);
	st = parse(ctx, &m, ns_t_tlsa, &a);
	T_OK(st == DNS_NODATA, "TLSA data over %d bytes is skipped (got %s)",
	    DNS_TLSA_MAXDATA, dns_status_str(st));
	dns_answer_free(&a);
}

int
main(void)
{
	struct dns_ctx	*ctx;
	char		 err[128];

	if ((ctx = dns_open(NULL, err, sizeof(err))) == NULL) {
		T_OK(0, "dns_open: %s", err);
		return T_DONE();
	}
	test_owner(ctx);
	test_chain(ctx);
	test_tlsa(ctx);
	dns_close(ctx);
	return T_DONE();
}
