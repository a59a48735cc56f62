/*
 * engine_sts.c - a host judged by the domain's MTA-STS policy, under the
 * mta-sts and auto settings (SPEC 12, RFC 8461); the host loop is
 * engine_dane.c's (see engine_int.h).
 *
 * engine_sts_host(p, t, why) judges one host that has no usable DANE
 * (why says why not). The policy is asked for once per probe, at the
 * first such host (mtasts_policy() with the probe's resolver, deadline
 * and trace), and copied into the verdict (sts_found, sts, sts_id, and
 * sts_rpt: the TLS-RPT type of a fetch that failed). Then:
 *  - the policy could not be determined (TXT failed temporarily without
 *    a cached policy, or the deadline cut the fetch): the attempt is
 *    temporary (451 4.4.3 when it decides), never a fallback;
 *  - no policy, or a policy in mode none: the host is opportunistic
 *    ("no-policy", accepted as preferred, not connected);
 *  - enforce or testing: an MX that matches no mx pattern is a failure
 *    without a connection (sts_nomatch, x.7.5); else the host must
 *    negotiate TLS and present a chain valid against [probe]'s trust
 *    anchors (and revocation settings) with a name that matches the MX
 *    host name (dNSNames; the CN only when there is none; RFC 8461 4.2).
 * engine_sts_finish(p) runs after the loop: the verdict's policy is
 * "dane" when its top host was judged by TLSA records, "sts" when by the
 * MTA-STS policy, else none; sts_testing is set when that policy is in
 * testing mode (verdict_decide() then tags instead of failing).
 */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"

static void
engine_sts_lookup(struct probe *p)
{
	struct verdict		*v = p->v;
	struct mtasts_result	 r;

	p->sts_done = 1;
	p->sts_st = mtasts_policy(p->e->sts, p->dns, v->domain, &p->dl,
	    p->tr, &r);
	(void)snprintf(p->sts_reason, sizeof(p->sts_reason), "%s", r.reason);
	v->sts_rpt = r.rpt;
	if (p->sts_st == MTASTS_POLICY) {
		v->sts_found = 1;
		v->sts = r.policy;		/* the verdict owns it now */
		memset(&r.policy, 0, sizeof(r.policy));
		(void)snprintf(v->sts_id, sizeof(v->sts_id), "%s", r.id);
	}
	mtasts_result_free(&r);
}

static struct attempt *
engine_sts_plain(struct probe *p, const struct target *t)
{
	struct attempt	*a = engine_new_attempt(p, t);

	a->trace_to = p->tr ? p->tr->n : 0;
	return a;
}

/* "mx1.example.net, *.example.net" (cut to fit). */
static void
engine_sts_patterns(const struct mtasts_policy *pol, char *buf, size_t len)
{
	size_t	i, used = 0;
	int	n;

	buf[0] = '\0';
	for (i = 0; i < pol->nmx && len > 4; i++) {
		n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		    pol->mx[i]);
		if (n < 0 || (size_t)n >= len - used) {
			(void)memcpy(buf + len - 4, "...", 4);
			return;
		}
		used += (size_t)n;
	}
}

struct attempt *
engine_sts_host(struct probe *p, const struct target *t, const char *why)
{
	struct verdict	*v = p->v;
	struct attempt	*a;
	char		 pats[120], prev[sizeof(a->reason)];

	if (!p->sts_done)
		engine_sts_lookup(p);
	if (p->sts_st == MTASTS_TEMP) {
		a = engine_sts_plain(p, t);
		a->stage = STAGE_DNS;
		a->temporary = 1;
		(void)snprintf(a->reason, sizeof(a->reason), "MTA-STS policy "
		    "of %s could not be determined: %.180s: no fallback to "
		    "weaker checking", v->domain, p->sts_reason);
		return a;
	}
	if (p->sts_st != MTASTS_POLICY || v->sts.mode == MTASTS_MODE_NONE) {
		a = engine_sts_plain(p, t);
		a->no_policy = 1;
		(void)snprintf(a->reason, sizeof(a->reason), "no DANE for %s "
		    "(%.60s) and %s%.120s: opportunistic TLS, as preferred",
		    t->host, why, p->sts_st == MTASTS_POLICY ?
		    "MTA-STS policy mode none: " : "no MTA-STS policy: ",
		    p->sts_reason);
		trace_add(p->tr, "%s", a->reason);
		return a;
	}
	trace_add(p->tr, "no DANE for %s (%s): MTA-STS policy id %s (mode "
	    "%s) applies", t->host, why, v->sts_id,
	    mtasts_mode_str(v->sts.mode));
	if (!mtasts_mx_match(&v->sts, t->host)) {
		a = engine_sts_plain(p, t);
		a->sts = a->sts_nomatch = 1;
		a->stage = STAGE_IDENTITY;
		engine_sts_patterns(&v->sts, pats, sizeof(pats));
		(void)snprintf(a->reason, sizeof(a->reason), "MX %s matches no "
		    "mx pattern of the MTA-STS policy (id %s, mode %s: %s)",
		    t->host, v->sts_id, mtasts_mode_str(v->sts.mode), pats);
		trace_add(p->tr, "%s", a->reason);
		return a;
	}
	p->sts_names = 1;
	a = engine_attempt(p, t, NULL);
	p->sts_names = 0;
	a->sts = 1;
	if (a->stage == STAGE_DNS || (!a->connected && a->temporary))
		return a;	/* the connection's reason says it all */
	(void)snprintf(prev, sizeof(prev), "%s", a->reason);
	(void)snprintf(a->reason, sizeof(a->reason), "%sMTA-STS policy id %s "
	    "(%s): %s", a->verified ? "verified by " : "", v->sts_id,
	    mtasts_mode_str(v->sts.mode), prev);
	trace_add(p->tr, "MTA-STS: %s", a->reason);
	return a;
}

void
engine_sts_finish(struct probe *p)
{
	struct verdict		*v = p->v;
	const struct attempt	*a;

	if (v->best < 0 || (size_t)v->best >= v->n_attempts) {
		v->policy = NULL;
		return;
	}
	a = &v->attempts[v->best];
	if (a->dane || a->tlsa_secure)
		v->policy = "dane";
	else if (a->sts)
		v->policy = "sts";
	else
		v->policy = NULL;
	v->sts_testing = a->sts && v->sts_found &&
	    v->sts.mode == MTASTS_MODE_TESTING;
}
