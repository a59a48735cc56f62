/*
 * policy.h - the policy service (SPEC 10): what TLS a delivery must get,
 * answered at delivery time from the same decisions (decide.h) the milter
 * used at RCPT time, over Postfix's socketmap protocol (the framing and
 * the connections are netsrv.h's).
 *
 * policy_lookup(arg, req, reqlen, reply, replylen) is the netsrv handler:
 * req is "NAME KEY", reply the socketmap payload. Maps:
 *  - "tlspolicy KEY" (smtp_tls_policy_maps): KEY a recipient domain,
 *    "[host]", "[host]:port" or "host:port". Keys that begin with '.' or
 *    contain '@': "NOTFOUND ". A domain by its setting: none "OK none";
 *    preferred and preferred-verify "OK may"; required "OK encrypt" (no
 *    probe); required-verify(-hosted) decided (probing when no verdict is
 *    cached, waiting at most [probe] timeout): verified "OK secure
 *    match=NAMES servername=hostname", or "OK fingerprint match=DIGEST"
 *    when Postfix's name rules could not accept the certificate the probe
 *    verified; anything else "TEMP DOMAIN: TEXT". SPEC 12: dane "OK dane"
 *    (no probe: Postfix's own opportunistic DANE); dane-only decided: a
 *    host authenticated by its TLSA "OK dane-only", accepted otherwise
 *    (secure TLSA all unusable) "OK dane", failed or temporary "TEMP
 *    DOMAIN: TEXT" (Postfix defers). A host key answers for
 *    the domains whose exact [smtproutes] entry has a route to that host
 *    and port (a key without a port means [probe] port, as a route without
 *    one does): the strictest of their answers (TEMP > fingerprint >
 *    secure > encrypt > may > none; the first in table order among
 *    equals); a host reached only through a ".parent" routes entry gets
 *    "TEMP" (no verdict names that host: see README); any other host
 *    "NOTFOUND ".
 *  - "transport KEY" (transport_maps): a domain with [smtproutes] (its own
 *    entry or a .parent one) gets "OK TRANSPORT:[host1]:port1, [host2]:
 *    port2, ..." in the probe's order (Postfix >= 3.5 takes a list of
 *    next-hops); a domain without routes "NOTFOUND " (Postfix uses MX, as
 *    the probe does); '.'-keys "NOTFOUND ". A full address is answered by
 *    its domain: Postfix's trivial-rewrite treats a socketmap as a pattern
 *    table and asks it with the full address only.
 *  - any other NAME, or a request without a space: "PERM unknown map".
 * policy_answer(g, req, reply, len) is the same for a given generation
 * (tlsverify-probe --policy uses it).
 */
#ifndef TV_POLICY_H
#define TV_POLICY_H

#include <stddef.h>
#include "gen.h"

void	policy_lookup(void *arg, const char *req, size_t reqlen, char *reply,
	    size_t replylen);
void	policy_answer(struct gen *, const char *req, char *reply, size_t len);

#endif
