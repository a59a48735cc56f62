/*
 * verdict.h - the outcome of one probe and what the milter does with it
 * (SPEC section 2).
 *
 * A struct verdict is produced by engine_probe() and read by the milter and
 * the probe report. It lists every attempt (one per target address) and
 * points at the top one (best): the first host that satisfied the setting,
 * or when none did, the attempt that got furthest (TLS negotiated >
 * connected > not reached), the earliest among equals.
 *
 * verdict_action(setting, outcome, on_fail) is SPEC 2's table, a pure
 * function. verdict_decide(v, on_fail) fills action, code, xcode, text and
 * result from v->setting, v->outcome and the top attempt:
 *   accept/tag: no code;
 *   no TLS under a required setting: 450 4.7.10 / 550 5.7.10;
 *   certificate or identity failure: 450 4.7.5 / 550 5.7.5;
 *   temporary (always 451, whatever on_fail): 4.4.3 DNS, 4.4.1 no host
 *     reachable or deadline, 4.7.5 revocation unavailable, 4.7.10 when the
 *     furthest attempt had no TLS;
 *   domain or its hosts do not exist: 450 4.1.2 / 550 5.1.2;
 *   null MX: 556 5.1.10 whatever on_fail says.
 * The text names the domain, the host and IP tried and the reason; it is
 * printable ASCII without CR/LF or '%', at most VERDICT_TEXTLEN-1 bytes.
 *
 * result is the word used in the header and the log: "verified",
 * "unverified" (TLS, not verified), "plain" (no TLS), "unknown"
 * (temporary), "null-mx", "no-host", "not-probed", and under dane and
 * dane-only (SPEC 12) "no-policy" (no secure TLSA: opportunistic, as
 * preferred; accept) and "encrypted" (secure TLSA all unusable: TLS
 * required without authentication, negotiated; accept). Under dane and
 * dane-only a DANE failure (unverified, or dane-only's host without
 * usable TLSA) is x.7.5, no STARTTLS x.7.10, and a temporary verdict is
 * deferred like under a required setting. mta-sts and auto decide the same
 * way (no-policy: no DANE and no MTA-STS policy, or a policy in mode
 * none; an MX outside an enforced policy's mx patterns is x.7.5), except
 * that a verdict whose top host was judged by an MTA-STS policy in
 * testing mode (sts_testing) is tagged instead of deferred or rejected
 * (a null MX is still rejected).
 */
#ifndef TV_VERDICT_H
#define TV_VERDICT_H

#include <stddef.h>
#include <netinet/in.h>
#include "conf.h"
#include "cert.h"
#include "dane.h"
#include "ident.h"
#include "mtasts.h"
#include "smtp.h"
#include "target.h"
#include "trace.h"

#define VERDICT_TEXTLEN	512

enum outcome {
	OUTCOME_NOT_PROBED = 0,	/* none, preferred: never probed */
	OUTCOME_VERIFIED,	/* TLS + Phase I + Phase II passed */
	OUTCOME_UNVERIFIED,	/* TLS negotiated, not verified */
	OUTCOME_NO_TLS,		/* reached, no TLS */
	OUTCOME_NO_HOST,	/* domain or its hosts do not exist / invalid */
	OUTCOME_NULL_MX,	/* RFC 7505 */
	OUTCOME_TEMP,		/* could not be judged for a temporary reason */
	OUTCOME_NO_POLICY,	/* dane: no secure TLSA, opportunistic (as
				   preferred), nothing probed */
	OUTCOME_ENCRYPTED	/* dane*: secure TLSA all unusable, TLS
				   negotiated without authentication */
};

enum action {
	ACTION_ACCEPT = 0,
	ACTION_TAG,
	ACTION_DEFER,
	ACTION_REJECT
};

struct attempt_ref {
	char		*name;
	enum ref_source	 source;
};

struct attempt {
	char		 host[NAME_BUFLEN];
	enum target_via	 via;
	char		 ip[INET6_ADDRSTRLEN];	/* "" when not resolved */
	unsigned	 port;
	int		 connected;
	int		 starttls_offered;
	int		 tls;
	enum probe_stage stage;		/* where it stopped */
	int		 temporary;
	int		 cert_checked;	/* cert is valid when 1 (tls) */
	struct cert_result cert;
	int		 ident_checked;	/* pres/id/refs valid when 1 */
	struct presented pres;
	struct attempt_ref *refs;
	size_t		 n_refs;
	struct ident_result id;
	int		 verified;
	char		 spki_sha256[CERT_FPRLEN];	/* leaf, when tls */
	char		 tls_version[32];
	char		 cipher[64];
	char		 reason[256];
	int		 tlsa_secure;	/* dane*: a validated TLSA RRset */
	size_t		 n_tlsa, n_usable; /* its records, usable ones */
	int		 dane;		/* judged by DANE (usable TLSA) */
	char		 tlsa[DANE_TEXTLEN]; /* the record that matched, "" */
	int		 no_policy;	/* dane: no secure TLSA, opportunistic */
	int		 no_dane;	/* dane-only: no usable secure TLSA */
	int		 sts;		/* judged by the MTA-STS policy */
	int		 sts_nomatch;	/* sts: the host matches no mx pattern
					   (not connected) */
	size_t		 trace_from;	/* this attempt's lines in the trace */
	size_t		 trace_to;
};

struct verdict {
	char		 domain[NAME_BUFLEN];	/* A-label */
	char		 input[NAME_BUFLEN];	/* as given (cut) */
	enum tls_setting setting;
	char		 setting_key[NAME_BUFLEN]; /* destinations key used */
	enum outcome	 outcome;
	const char	*policy;		/* "dane", "sts", "pkix" or NULL
						   (SPEC 12) */
	int		 sts_found;		/* mta-sts, auto: a policy of
						   the domain was found (sts) */
	struct mtasts_policy sts;		/* its copy (mx owned) */
	char		 sts_id[MTASTS_ID_MAXLEN + 1];
	int		 sts_testing;		/* the top host was judged by a
						   testing policy: a failure
						   is tagged, never deferred */
	const char	*sts_rpt;		/* TLS-RPT type of a policy
						   fetch that failed (static),
						   or NULL (SPEC 12) */
	int		 temporary;
	enum action	 action;
	char		 code[4];		/* "" for accept/tag */
	char		 xcode[16];
	char		 text[VERDICT_TEXTLEN];
	const char	*result;
	char		 reason[256];		/* top-level reason */
	int		 best;			/* index or -1 */
	struct attempt	*attempts;
	size_t		 n_attempts;
	struct trace	 trace;
	long		 elapsed_ms;
};

enum action	 verdict_action(enum tls_setting, enum outcome, enum on_fail);
void		 verdict_decide(struct verdict *, enum on_fail);
void		 verdict_free(struct verdict *);
const char	*verdict_action_str(enum action);
const char	*verdict_outcome_str(enum outcome);

#endif
