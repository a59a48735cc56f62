/*
 * mtasts.h - MTA-STS (RFC 8461; SPEC 12): the policy of a recipient domain.
 *
 * mtasts_open(conf, err, errlen) makes the context the engine keeps for
 * its life: the HTTPS client's SSL_CTX (trust anchors from [mtasts]
 * ca_file, else [probe] ca_file / ca_path, else the system store; TLS 1.2
 * or newer; the peer must verify), the settings ([mtasts] port, timeout,
 * cache_file) and the policy cache (mtasts_cache.c), read from cache_file
 * when it exists. NULL with a reason in err when the CA file cannot be
 * read. mtasts_close() frees it. Any number of threads may call
 * mtasts_policy() on one context at once (the cache has a mutex; a domain
 * asked twice at once may be fetched twice).
 *
 * mtasts_policy(ctx, dns, domain, deadline, trace, out) answers "which
 * MTA-STS policy applies to domain (an A-label) now":
 *  1. TXT _mta-sts.DOMAIN through dns (the caller's resolver context, or
 *     NULL: one is opened from the configuration for this call). Records
 *     not starting "v=STSv1" are ignored; exactly one must remain, with a
 *     valid id (1-32 letters and digits); otherwise there is no live
 *     record (RFC 8461 3.1).
 *  2. A cached policy whose id is that id and which has not expired is
 *     used as is (no fetch). Otherwise the policy is fetched
 *     (mtasts_fetch.c), parsed (mtasts_parse.c) and cached for max_age.
 *  3. No live record (or a fetch that fails): a cached unexpired policy
 *     applies (a TXT record that disappears does not evict it); without
 *     one there is no policy.
 *  A temporary DNS failure of the TXT lookup without a cached policy, or
 *  the caller's deadline passing during the fetch, is MTASTS_TEMP, never
 *  "no policy" (SPEC 12).
 * It returns out->status and fills *out (free with mtasts_result_free()):
 * reason says what happened in one line (printable ASCII); rpt is the
 * TLS-RPT result type of a fetch that failed ("sts-policy-fetch-error",
 * "sts-policy-invalid", "sts-webpki-invalid"; static), also when a cached
 * policy then applied; NULL when no fetch failed.
 *
 * mtasts_mx_match(policy, mxhost): 1 when mxhost (case-insensitive, one
 * trailing dot ignored) matches one of the policy's mx patterns: a name
 * exactly, or "*.name", which matches exactly one left-most label more
 * ("*.example.net" matches "mx1.example.net", not "example.net" nor
 * "a.mx1.example.net"); "*.tld" over a single label never matches. 0
 * otherwise (also for an invalid host name).
 *
 * The parsers (mtasts_parse.c), exported for the tests and fuzzers:
 * mtasts_parse_txt(text, len, id, idsize) judges one TXT record: 0 when it
 * does not start "v=STSv1" (followed by ';', white space or its end: not
 * an MTA-STS record), 1 and the id copied when it is a valid record, -1
 * when it starts so but is malformed (no id, bad id, bad extension field).
 * mtasts_parse_policy(body, len, &policy, err, errlen) parses a policy
 * body (RFC 8461 3.2): 0 and *policy (free with mtasts_policy_free()), or
 * -1 with a reason in err (the policy is then "invalid").
 */
#ifndef TV_MTASTS_H
#define TV_MTASTS_H

#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "deadline.h"
#include "dns.h"
#include "trace.h"

#define MTASTS_MAX_BODY		65536	/* policy body bytes (SPEC 12) */
#define MTASTS_MAX_HEADER	16384	/* HTTP status line + headers */
#define MTASTS_MAX_AGE		31557600UL /* max_age, seconds (RFC 8461) */
#define MTASTS_ID_MAXLEN	32
#define MTASTS_MAX_MX		1000	/* mx patterns of one policy */
#define MTASTS_CACHE_MAX	10000	/* domains kept in the cache */

enum mtasts_mode {
	MTASTS_MODE_NONE = 0,
	MTASTS_MODE_TESTING,
	MTASTS_MODE_ENFORCE
};

struct mtasts_policy {
	enum mtasts_mode mode;
	unsigned long	 max_age;	/* seconds */
	char		**mx;		/* lower case, no trailing dot */
	size_t		 nmx;
};

enum mtasts_status {
	MTASTS_NOPOLICY = 0,		/* no policy applies (preferred) */
	MTASTS_POLICY,			/* out->policy applies */
	MTASTS_TEMP			/* could not tell: temporary */
};

struct mtasts_result {
	enum mtasts_status	 status;
	struct mtasts_policy	 policy;	/* MTASTS_POLICY */
	char			 id[MTASTS_ID_MAXLEN + 1];
	int			 from_cache;	/* the cached copy was used */
	time_t			 fetched_at;	/* MTASTS_POLICY */
	time_t			 expires;
	const char		*rpt;		/* TLS-RPT type, or NULL */
	char			 reason[512];
};

struct mtasts_ctx;

struct mtasts_ctx *mtasts_open(const struct conf *, char *err, size_t errlen);
void	mtasts_close(struct mtasts_ctx *);
enum mtasts_status mtasts_policy(struct mtasts_ctx *, struct dns_ctx *,
	    const char *domain, const struct deadline *, struct trace *,
	    struct mtasts_result *);
void	mtasts_result_free(struct mtasts_result *);

int	mtasts_mx_match(const struct mtasts_policy *, const char *mxhost);
int	mtasts_pattern_match(const char *pattern, const char *host);

int	mtasts_parse_txt(const char *text, size_t len, char *id,
	    size_t idsize);
int	mtasts_parse_policy(const char *body, size_t len,
	    struct mtasts_policy *, char *err, size_t errlen);
void	mtasts_policy_free(struct mtasts_policy *);
void	mtasts_policy_copy(struct mtasts_policy *dst,
	    const struct mtasts_policy *src);

const char *mtasts_mode_str(enum mtasts_mode);
const char *mtasts_status_str(enum mtasts_status);

#endif
