/*
 * tlsrpt_int.h - what the TLS-RPT files share; not an API (tlsrpt.h is).
 *
 * A store (tlsrpt_store.c) holds rows, one per (UTC day, policy domain,
 * policy type), each with its session counts and failure-details rows.
 * tlsrpt_store_add() adds n sessions described by s (merging equal
 * details); tlsrpt_store_merge() adds a whole store; tlsrpt_store_free()
 * empties one. Limits: TLSRPT_MAX_ROWS rows (sessions of a new row beyond
 * it are dropped and counted in st->dropped), TLSRPT_MAX_DETAILS details
 * in all and TLSRPT_MAX_ROW_DETAILS per row (beyond, the failure is
 * counted in the summary only, st->lost_details).
 *
 * The counts file: tlsrpt_store_read(fp, st) reads a file written by
 * tlsrpt_store_write(); 0, or -1 when it is malformed (st then holds
 * nothing). Format, one record per line, single spaces:
 *   tlsverify-tlsrpt-counts 1
 *   R DAY TYPE OK FAIL DOMAIN [POLICY-STRING]
 *   F DAY TYPE COUNT RESULT DOMAIN MX IP SENDING-IP REASON
 * DAY is the day's first second (UTC, a multiple of 86400); TYPE 0 tlsa,
 * 1 sts, 2 no-policy-found; "-" stands for an empty MX, IP or SENDING-IP;
 * REASON (printable ASCII, may hold spaces) runs to the end of the line.
 * Reading is defensive: a file over TLSRPT_FILEMAX bytes, a line over
 * TLSRPT_LINEMAX bytes, an unknown first line or record, a number that is
 * not 1-15 digits, a day that is no multiple of 86400, a domain or MX
 * that is no host name, an IP that does not parse, an unknown result type
 * or an F line before its R line makes the whole file malformed.
 *
 * tlsrpt.c: tlsrpt_mem_take() hands over (and empties) the counts made
 * since the last save; tlsrpt_mem_return() gives back what could not be
 * saved.
 * tlsrpt_spool.c: tlsrpt_spool_open() takes the lock SPOOL/tlsrpt.lock
 * (waits at most TLSRPT_LOCK_WAIT_MS) and reads SPOOL/tlsrpt.counts
 * into st (none: empty; malformed: renamed to tlsrpt.counts.bad, logged,
 * empty): 0 and *lockfd, or -1 (no lock). tlsrpt_spool_close() writes st
 * (unless st is NULL) to a temporary file renamed over the counts file
 * and drops the lock: 0, or -1 when the write failed.
 *
 * tlsrpt_json.c: tlsrpt_json() writes the RFC 8460 report of the rows
 * r[0..n) (one domain, one day) into *buf (free()); tlsrpt_gzip() gzips
 * it (zlib, gzip format); tlsrpt_rua_parse() reads the rua URIs of a
 * _smtp._tls TXT answer.
 *
 * tlsrpt_send.c: tlsrpt_mail() hands a report to `sendmail -t`,
 * tlsrpt_post() POSTs it to an https: URI (httpc.h).
 */
#ifndef TV_TLSRPT_INT_H
#define TV_TLSRPT_INT_H

#include <netinet/in.h>
#include <stdio.h>
#include <time.h>

#include "conf.h"
#include "dane.h"
#include "dns.h"
#include "name.h"
#include "tlsrpt.h"

#define TLSRPT_MAX_ROWS		10000
#define TLSRPT_MAX_DETAILS	20000
#define TLSRPT_MAX_ROW_DETAILS	100
#define TLSRPT_REASONLEN	161	/* failure-reason-code, with NUL */
#define TLSRPT_LINEMAX		(2 * NAME_BUFLEN + DANE_TEXTLEN + 256)
#define TLSRPT_FILEMAX		(64L * 1024 * 1024)
#define TLSRPT_KEEP_DAYS	7	/* days kept while DNS fails */
#define TLSRPT_MAX_RUA		8	/* rua URIs used per domain */
#define TLSRPT_URILEN		512
#define TLSRPT_DAY		86400L
#define TLSRPT_LOCK_WAIT_MS	2000

enum tlsrpt_ptype {
	TLSRPT_TLSA = 0,
	TLSRPT_STS,
	TLSRPT_NOPOLICY,
	TLSRPT_NTYPES
};

struct tlsrpt_detail {
	char		 result[32];		/* RFC 8460 result type */
	char		 mx[NAME_BUFLEN];	/* "" when unknown */
	char		 ip[INET6_ADDRSTRLEN];	/* receiving-ip, "" */
	char		 sip[INET6_ADDRSTRLEN];	/* sending-mta-ip, "" */
	char		 reason[TLSRPT_REASONLEN];
	unsigned long	 count;
};

struct tlsrpt_row {
	long		 day;
	enum tlsrpt_ptype type;
	char		 domain[NAME_BUFLEN];
	char		 pstr[DANE_TEXTLEN];	/* policy-string, "" */
	unsigned long	 ok, fail;
	struct tlsrpt_detail *d;
	size_t		 nd;
};

struct tlsrpt_store {
	struct tlsrpt_row *r;
	size_t		 n;
	size_t		 ndetails;
	unsigned long	 dropped;
	unsigned long	 lost_details;
};

/* One session to count: a failure when d.result[0] != '\0'. */
struct tlsrpt_session {
	long		 day;
	enum tlsrpt_ptype type;
	const char	*domain;
	const char	*pstr;			/* NULL or "" when none */
	struct tlsrpt_detail d;
};

/* One rua URI of a policy domain. */
struct tlsrpt_rua {
	int		 https;			/* 0 mailto:, 1 https: */
	char		 uri[TLSRPT_URILEN];	/* as published */
	char		 addr[TLSRPT_URILEN];	/* mailto: the address */
	char		 host[NAME_BUFLEN];	/* https: host, port, path */
	unsigned	 port;
	char		 path[TLSRPT_URILEN];
};

/* What one report is made of and sent with. */
struct tlsrpt_report {
	const char	*domain;
	long		 day;
	char		 sender[NAME_BUFLEN];
	char		 org[CONF_TEXTMAX + 1];
	char		 contact[CONF_TEXTMAX + 1];
	char		 id[2 * NAME_BUFLEN + 48];
	char		 file[2 * NAME_BUFLEN + 64];	/* name in SPOOL */
	unsigned char	*gz;
	size_t		 gzlen;
};

const char *tlsrpt_ptype_str(enum tlsrpt_ptype);
int	tlsrpt_result_known(const char *);

void	tlsrpt_mem_take(struct tlsrpt_store *);
void	tlsrpt_mem_return(const struct tlsrpt_store *);
int	tlsrpt_spool_open(const char *spool, struct tlsrpt_store *, int *lockfd);
int	tlsrpt_spool_close(const char *spool, const struct tlsrpt_store *,
	    int lockfd);

void	tlsrpt_store_add(struct tlsrpt_store *, const struct tlsrpt_session *,
	    unsigned long ok, unsigned long fail);
void	tlsrpt_store_merge(struct tlsrpt_store *, const struct tlsrpt_store *);
void	tlsrpt_store_free(struct tlsrpt_store *);
int	tlsrpt_store_read(FILE *, struct tlsrpt_store *);
int	tlsrpt_store_write(FILE *, const struct tlsrpt_store *);

int	tlsrpt_json(const struct tlsrpt_report *, const struct tlsrpt_row *,
	    size_t n, char **buf, size_t *len);
int	tlsrpt_gzip(const char *in, size_t len, unsigned char **out,
	    size_t *outlen);
size_t	tlsrpt_rua_parse(const struct dns_txt *, size_t n,
	    struct tlsrpt_rua *out, size_t max);

int	tlsrpt_mail(const struct conf *, const struct tlsrpt_report *,
	    const struct tlsrpt_rua *, size_t n, char *err, size_t errlen);
int	tlsrpt_post(const struct conf *, const struct tlsrpt_report *,
	    const struct tlsrpt_rua *, char *err, size_t errlen);

#endif
