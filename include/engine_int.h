/*
 * engine_int.h - what engine.c and engine_dane.c share; not an API.
 *
 * engine_attempt(p, t, ds) makes one attempt at target t: connect,
 * STARTTLS, then judge the session: ds NULL -> Phase I and II (PKIX,
 * engine.c); ds with usable records -> DANE (engine_dane_judge());
 * ds with no usable record -> TLS alone is enough (RFC 7672 2.2).
 * engine_no_success() sets the outcome when no host satisfied the
 * setting. engine_dane_iterate() is the host loop of dane, dane-only,
 * mta-sts and auto (SPEC 12); under mta-sts and auto a host without
 * secure TLSA goes to engine_sts_host() (engine_sts.c), which asks for
 * the domain's MTA-STS policy once per probe (p->sts_done) and judges
 * the host by it. p->sts_names makes engine_attempt()'s Phase II use the
 * host name alone as reference identifier (RFC 8461 4.2).
 */
#ifndef TV_ENGINE_INT_H
#define TV_ENGINE_INT_H

#include <openssl/ssl.h>
#include "dane.h"
#include "deadline.h"
#include "dns.h"
#include "ident.h"
#include "mtasts.h"
#include "smtp.h"
#include "target.h"
#include "verdict.h"

struct engine {
	const struct conf	*conf;
	SSL_CTX			*ssl;
	struct mtasts_ctx	*sts;	/* MTA-STS policies (thread-safe) */
};

/* What one probe carries from attempt to attempt. */
struct probe {
	const struct engine	*e;
	struct verdict		*v;
	struct dns_ctx		*dns;
	struct target_list	 tl;
	struct deadline		 dl;
	struct trace		*tr;
	enum ident_mode		 mode;
	int			 sts_names;	/* Phase II: host name only */
	int			 sts_done;	/* policy asked for */
	enum mtasts_status	 sts_st;	/* its answer */
	char			 sts_reason[512];
};

struct attempt	*engine_new_attempt(struct probe *, const struct target *);
struct attempt	*engine_attempt(struct probe *, const struct target *,
		    const struct dane_set *);
void		 engine_no_success(struct verdict *, int untried);
void		 engine_dane_iterate(struct probe *);
void		 engine_dane_judge(struct probe *, const struct target *,
		    struct smtp_result *, struct attempt *,
		    const struct dane_set *);
struct attempt	*engine_sts_host(struct probe *, const struct target *,
		    const char *why_no_dane);
void		 engine_sts_finish(struct probe *);

#endif
