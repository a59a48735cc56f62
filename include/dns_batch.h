/*
 * dns_batch.h - the A and AAAA lookups of several host names, asked at once
 * (issue 14: on a real network each sequential lookup is a round trip).
 *
 * dns_batch_start(ctx, conf, names, n) starts at most DNS_BATCH_THREADS
 * threads, each with its own resolver (dns_open(conf)) bounded by ctx's
 * deadline, that take the questions A then AAAA of each name in name
 * order. Traces are kept only when ctx has one.
 * It returns NULL when nothing could be started; callers then ask as before.
 *
 * dns_batch_addrs(b, ctx, name, family, out, n) is dns_addrs() for a name
 * of the batch: it waits for that answer and gives the same result, error
 * text (dns_last_error(ctx)), DNSSEC state (dns_last_secure(ctx)) and trace
 * lines (into ctx's trace, in the order
 * of the calls, so a trace reads as if asked one by one). A name not in the
 * batch, a NULL batch, or a question no thread could ask: dns_addrs(ctx).
 * dns_batch_free() takes the questions not yet asked away, waits for the
 * threads (a question under way is bounded by [dns] timeout and the
 * deadline) and frees everything (NULL ok).
 */
#ifndef TV_DNS_BATCH_H
#define TV_DNS_BATCH_H

#include "dns.h"

#define DNS_BATCH_THREADS	8

struct dns_batch;

struct dns_batch *dns_batch_start(const struct dns_ctx *,
		    const struct conf *, const char *const *names, size_t n);
enum dns_status	 dns_batch_addrs(struct dns_batch *, struct dns_ctx *,
		    const char *name, int family, struct ipaddr **, size_t *);
void		 dns_batch_free(struct dns_batch *);

#endif
