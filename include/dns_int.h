/*
 * dns_int.h - what dns.c, dns_parse.c and dns_tcp.c share; not an API.
 */
#ifndef TV_DNS_INT_H
#define TV_DNS_INT_H

#include <arpa/nameser.h>
#include <resolv.h>

#include "dns.h"

#define DNS_ANSLEN	65536

struct dns_ctx {
	struct __res_state	*res;
	unsigned char		*buf;		/* DNS_ANSLEN bytes */
	unsigned		 timeout;	/* seconds per query */
	int			 has_deadline;
	struct deadline		 deadline;	/* copied by dns_set_deadline */
	struct trace		*trace;
	int			 dnssec;	/* [dns] dnssec = yes */
	int			 ad;		/* last answer had AD (dnssec) */
	char			 err[128];
};

void	dns_seterr(struct dns_ctx *, const char *);
int	dns_tcp_query(struct __res_state *, const char *name, int type,
	    long timeout_ms, unsigned char *ans, size_t anslen,
	    char *err, size_t errlen);
/* dns.c: one bounded question; the answer is in ctx->buf[0..*len). */
enum dns_status dns_query(struct dns_ctx *, const char *name, int type,
	    size_t *len);

#endif
