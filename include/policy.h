/*
 * policy.h - the policy service (SPEC 10): what TLS a delivery must get,
 * answered at delivery time from the same decisions (decide.h) the milter
 * used at RCPT time, over Postfix's socketmap protocol, which Sendmail's
 * socket map speaks too (the framing and the connections are netsrv.h's).
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
 *    verified; anything else "TEMP DOMAIN: TEXT" ("OK may" in monitor
 *    mode, SPEC 13). SPEC 12: dane "OK dane"
 *    (no probe: Postfix's own opportunistic DANE); dane-only decided: a
 *    host authenticated by its TLSA "OK dane-only", accepted otherwise
 *    (secure TLSA all unusable) "OK dane", failed or temporary "TEMP
 *    DOMAIN: TEXT" (Postfix defers). mta-sts and auto decided: a top host
 *    authenticated by TLSA "OK dane-only" (secure TLSA all unusable: "OK
 *    dane"); else an enforced MTA-STS policy that the verdict met "OK
 *    secure match=P1:P2... servername=hostname" with the policy's mx
 *    patterns ("*.example.net" as ".example.net": Postfix's subdomain
 *    form); a testing or none policy, or none at all, "OK may" (also
 *    when the testing verdict was tagged); failed or temporary "TEMP
 *    DOMAIN: TEXT". A host key answers for
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
 *  - "access KEY" (Sendmail's FEATURE(`access_db', `socket ...'), whose
 *    tls_rcpt ruleset asks "TLS_Rcpt:user@domain", "TLS_Rcpt:user@",
 *    "TLS_Rcpt:domain" and its parents, then "TLS_Rcpt:", folded to lower
 *    case): "TLS_Rcpt:DOMAIN" (tag in any case) is answered by DOMAIN's
 *    setting: none, preferred, preferred-verify "OK OK" (an entry
 *    without requirement, so no parent entry applies); required "OK
 *    ENCR:128"; required-verify(-hosted) decided as for tlspolicy:
 *    verified "OK VERIFY:128", plus "+CN:NAME" when the match used the
 *    certificate's CN NAME (Sendmail compares the subject CN only; it
 *    cannot check dNSNames); anything else "TEMP DOMAIN: TEXT" (with the
 *    map's -T<TMPF>, tls_rcpt defers the recipient with 4.3.0). Every
 *    other key (other tags, '@' or '.' keys, "TLS_Rcpt:" alone, untagged
 *    keys): "NOTFOUND ".
 *  - any other NAME, or a request without a space: "PERM unknown map".
 * policy_answer(g, req, reply, len) is the same for a given generation
 * (tlsverify-probe --policy uses it).
 *
 * policy_decide(g, raw, via, pr) is the one computation behind a domain's
 * "tlspolicy" answer, for every protocol that gives it (the socketmap
 * above, Exim's line protocol in query.h): pr->lvl is the level (none,
 * may, encrypt without probing; secure or fingerprint with pr->arg
 * "match=... [servername=hostname]"; POL_TEMP otherwise, with pr->code
 * and pr->xcode the decision's when it is a 4xx, else "450" "4.7.5" (a
 * delivery never fails permanently on a verdict), and pr->text the
 * decision's text), pr->domain the A-label. via names the front-end in
 * decide_domain()'s log line. policy_word(lvl) is the level's word
 * ("none" ... "fingerprint", "defer" for POL_TEMP). With nowait set,
 * policy_decide() never probes nor waits: a required-verify* domain whose
 * fresh verdict is not cached gives POL_WAIT (decide_cached()).
 *
 * policy_lookup_nowait(...) is the netsrv fast handler (netsrv_start_fast):
 * the same answer when it is at hand without a probe or a wait (any map
 * but a required-verify* domain, or one whose fresh verdict is cached);
 * returns 1 then, else 0 (policy_lookup() answers it in a worker).
 */
#ifndef TV_POLICY_H
#define TV_POLICY_H

#include <stddef.h>
#include "decide.h"
#include "gen.h"

/* Strictness of an answer, for host keys shared by several domains. */
enum policy_level {
	POL_WAIT = -1,	/* nowait: the answer needs a probe or a wait */
	POL_NONE = 0, POL_MAY, POL_DANE, POL_ENCRYPT, POL_DANE_ONLY,
	POL_SECURE, POL_FPR, POL_TEMP
};

#define POLICY_ARGLEN	4096

struct policy_res {
	enum policy_level	lvl;
	char			arg[POLICY_ARGLEN];	/* "" or "match=..." */
	char			domain[NAME_BUFLEN];
	char			code[4];		/* POL_TEMP */
	char			xcode[16];
	char			text[DECIDE_TEXTLEN];
	char			cn[NAME_BUFLEN];	/* secure/fingerprint:
							   the CN the probe's
							   match used, or "" */
};

void	policy_lookup(void *arg, const char *req, size_t reqlen, char *reply,
	    size_t replylen);
void	policy_answer(struct gen *, const char *req, char *reply, size_t len);
void	policy_decide(struct gen *, const char *raw, const char *via,
	    int nowait, struct policy_res *);
int	policy_lookup_nowait(void *arg, const char *req, size_t reqlen,
	    char *reply, size_t replylen);
const char *policy_word(enum policy_level);

#endif
