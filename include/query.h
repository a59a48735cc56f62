/*
 * query.h - Exim's line protocol (SPEC 11): the milter's decisions for
 * ${readsocket}, one request line, one reply line (the framing and the
 * connections are netsrv.h's NETSRV_LINE). A thin translator: every answer
 * comes from decide_domain() or policy_decide(), never from here.
 *
 * query_lookup(arg, req, reqlen, reply, replylen) is the netsrv handler;
 * query_answer(g, req, reply, len) the same for a given generation.
 * Requests (the verb in lower case, one space, the domain as Exim's
 * $domain gives it, at most NAME_BUFLEN * 2 - 1 bytes):
 *  - "rcpt DOMAIN": exactly the milter's verdict for a recipient in that
 *    domain (decide_domain(), via=query: same cache, codes and texts):
 *      accept                     no header entry (none, preferred)
 *      accept ENTRY               accepted, with its X-TLS-Verify entry
 *                                 (verified, or TLS under required)
 *      tag ENTRY                  accepted and tagged (preferred-verify)
 *      defer CODE XCODE TEXT      the milter's 4xx reply
 *      reject CODE XCODE TEXT     the milter's 5xx reply (on_fail=reject)
 *    ENTRY is header.h's entry, printable ASCII; the reader keeps every
 *    ENTRY of the message's accepted recipients, once per domain, and adds
 *    them as one header, as the milter does.
 *  - "tlspolicy DOMAIN": policy_decide()'s level for deliveries, as the
 *    policy service computes it: "none", "may", "encrypt", "secure
 *    match=N1:N2 servername=hostname", "fingerprint match=D1|D2", or
 *    "defer CODE XCODE DOMAIN: TEXT" where Postfix gets TEMP.
 *  - anything else (unknown verb, no domain, a space or '@' in the
 *    domain, a domain starting with '.'): "defer 451 4.3.0 TEXT".
 */
#ifndef TV_QUERY_H
#define TV_QUERY_H

#include <stddef.h>
#include "gen.h"

void	query_lookup(void *arg, const char *req, size_t reqlen, char *reply,
	    size_t replylen);
void	query_answer(struct gen *, const char *req, char *reply, size_t len);

#endif
