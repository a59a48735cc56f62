/*
 * dns.h - the DNS lookups a probe needs, on libresolv (res_n*, ns_parserr).
 *
 * A struct dns_ctx is one resolver state (res_ninit); it belongs to one
 * thread at a time. dns_open() reads the nameserver from the configuration
 * ([dns] nameserver = ADDR[:PORT]) or /etc/resolv.conf, and the per-query
 * timeout from [dns] timeout; every query is further bounded by the deadline
 * given to dns_set_deadline() (no query outlives it: it then returns
 * DNS_TEMP).
 *
 * Every lookup returns one of the dns_status values, never a bare int:
 * "not found" (NXDOMAIN) and "no data" (NOERROR, no record of that type) are
 * answers; DNS_TEMP (SERVFAIL, timeout, REFUSED, connection refused,
 * deadline) is never treated as "not found"; DNS_INVALID is an answer that
 * could not be parsed or held an invalid name (it is handled like
 * DNS_TEMP by callers, and its reason says what was wrong).
 *
 * Answers are parsed with ns_initparse()/ns_parserr(); records of other
 * types (CNAMEs before the answer) are skipped; a record is used only when
 * its owner is the question's name or a name of the CNAME chain that
 * starts there (case-insensitive, at most DNS_MAXCHAIN CNAMEs), as
 * glibc's getanswer() does: a record for any other name (a forwarder
 * passing on unrelated data) is ignored and traced; each RDATA length is
 * checked before it is read; names are expanded with dn_expand() and must
 * pass name_is_hostname(). Result arrays are allocated; the caller frees
 * them with free() (dns_ptr's names: dns_names_free()). Limits: at most
 * DNS_MAXRR records are kept per answer, the rest are ignored.
 *
 * Every call appends what it asked and what it got to the trace (may be
 * NULL), e.g. "MX example.com: 10 mx01.subd.emailhosted.not, ..." or
 * "A mx01.subd.emailhosted.not: 127.0.0.2" or "PTR 127.0.0.2: NXDOMAIN".
 *
 * DNSSEC (SPEC 12): with [dns] dnssec = yes every query carries EDNS0 with
 * the DO bit and RES_TRUSTAD, and dns_last_secure() tells whether the last
 * answer (records, NODATA or NXDOMAIN alike) had the AD bit set by the
 * configured (validating, loopback) resolver; trace lines of answers then
 * end in "(DNSSEC: secure)" or "(DNSSEC: insecure)". Without dnssec it is
 * always 0. A resolver's SERVFAIL (bogus data) stays DNS_TEMP.
 */
#ifndef TV_DNS_H
#define TV_DNS_H

#include <stddef.h>
#include "conf.h"
#include "deadline.h"
#include "name.h"
#include "trace.h"

#define DNS_MAXRR	64
#define DNS_MAXCHAIN	16	/* CNAMEs followed from the question name */

enum dns_status {
	DNS_OK = 0,
	DNS_NOTFOUND,		/* NXDOMAIN */
	DNS_NODATA,		/* name exists, no record of that type */
	DNS_TEMP,		/* SERVFAIL, timeout, REFUSED, deadline */
	DNS_INVALID		/* malformed answer or invalid name in it */
};

struct dns_ctx;

/* One TLSA record (RFC 6698); data points into the owning array's block. */
#define DNS_TLSA_MAXDATA	4096	/* longer association data: skipped */
#define DNS_MAXTLSA	16	/* records kept per TLSA answer */
struct dns_tlsa {
	unsigned char	 usage, selector, mtype;
	size_t		 len;
	unsigned char	 data[DNS_TLSA_MAXDATA];
};

struct dns_mx {
	unsigned	pref;
	char		name[NAME_BUFLEN];	/* A-label, no trailing dot */
};

/* NULL on failure with a reason in err. */
struct dns_ctx	*dns_open(const struct conf *, char *err, size_t errlen);
void		 dns_close(struct dns_ctx *);
void		 dns_set_deadline(struct dns_ctx *, const struct deadline *);
void		 dns_set_trace(struct dns_ctx *, struct trace *);

/* 1 when the last answer was validated (AD bit, dnssec = yes only). */
int		 dns_last_secure(const struct dns_ctx *);

/* Reason text of the last failed lookup ("SERVFAIL", "timeout", ...). */
const char	*dns_last_error(const struct dns_ctx *);
const char	*dns_status_str(enum dns_status);

/*
 * MX records of domain, sorted by preference; equal preferences keep the
 * order of the answer (documented choice: no shuffling, so that a probe is
 * reproducible). *null_mx is set to 1 (and *n to 0) for a null MX (a single
 * MX record with preference 0 and target "."; RFC 7505).
 */
enum dns_status	 dns_mx(struct dns_ctx *, const char *domain,
		    struct dns_mx **out, size_t *n, int *null_mx);

/* A (family AF_INET) or AAAA (AF_INET6) records of name. */
enum dns_status	 dns_addrs(struct dns_ctx *, const char *name, int family,
		    struct ipaddr **out, size_t *n);

/* PTR names of an address (in-addr.arpa / ip6.arpa). */
enum dns_status	 dns_ptr(struct dns_ctx *, const struct ipaddr *,
		    char ***names, size_t *n);
void		 dns_names_free(char **, size_t);

/*
 * TLSA records of name ("_25._tcp.mx.example"); *secure = 1 when the
 * answer was validated (dns_last_secure()). Records with more than
 * DNS_TLSA_MAXDATA bytes of data, or fewer than 3 bytes of RDATA, are
 * skipped (traced). Free *out with free().
 */
enum dns_status	 dns_tlsa(struct dns_ctx *, const char *name,
		    struct dns_tlsa **out, size_t *n, int *secure);

/*
 * Forward confirmation: *confirmed = 1 when name's A (for an IPv4 ip) or
 * AAAA (IPv6) records contain ip. Returns the status of that lookup.
 */
enum dns_status	 dns_forward_confirm(struct dns_ctx *, const char *name,
		    const struct ipaddr *ip, int *confirmed);

/*
 * The same confirmation known without asking: name's own A/AAAA answer,
 * asked earlier in this probe, gave ip (the caller's target came from it).
 * Only traces that; no query.
 */
void		 dns_forward_known(struct dns_ctx *, const char *name,
		    const struct ipaddr *ip);

/*
 * TXT records of name (dns_txt.c; MTA-STS discovery). Each record's
 * character-strings are concatenated (RFC 8461 3.1); text is
 * NUL-terminated but may hold NUL bytes: len is its length. Free with
 * dns_txt_free(). dns_txt_parse() is the answer parser (tests, fuzzer):
 * msg[0..len) a whole message, qname the question's name.
 */
struct dns_txt {
	char		*text;
	size_t		 len;
};
enum dns_status	 dns_txt(struct dns_ctx *, const char *name,
		    struct dns_txt **out, size_t *n);
enum dns_status	 dns_txt_parse(struct dns_ctx *, const unsigned char *msg,
		    size_t len, const char *qname, struct dns_txt **out,
		    size_t *n);
void		 dns_txt_free(struct dns_txt *, size_t);

/*
 * The answer parser every lookup above uses, exported for the fuzzer
 * (fuzz/fuzz_dns.c) and for tests. msg[0..len) is a whole DNS message as
 * the server sent it (len <= 65536); type is ns_t_mx, ns_t_a, ns_t_aaaa,
 * ns_t_ptr or ns_t_tlsa (another type: DNS_INVALID); what names the question in
 * trace lines. It applies every limit stated above and returns DNS_OK
 * (records in *out), DNS_NODATA or DNS_INVALID; the reason is in
 * dns_last_error(). *out is zeroed first and holds allocations only on
 * DNS_OK; dns_answer_free() frees them (harmless on a zeroed one).
 */
struct dns_answer {
	int		 type;
	struct dns_mx	*mx;		/* MX: sorted by preference */
	struct ipaddr	*addrs;		/* A / AAAA */
	char		**names;	/* PTR */
	struct dns_tlsa	*tlsa;		/* TLSA */
	size_t		 n;		/* entries in the array of type */
	int		 null_mx;	/* MX: a null MX (n is then 0) */
	size_t		 nroot;		/* MX: "." targets seen */
};

enum dns_status	 dns_parse_answer(struct dns_ctx *, const unsigned char *msg,
		    size_t len, int type, const char *what,
		    struct dns_answer *out);
void		 dns_answer_free(struct dns_answer *);

#endif
