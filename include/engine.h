/*
 * engine.h - the verification engine: one call judges one recipient domain.
 *
 * engine_new(conf) prepares what every probe shares (the SSL_CTX with the
 * trust anchors and CRLs, and the MTA-STS context of mtasts.h: its HTTPS
 * client and policy cache, shared by every thread, closed by
 * engine_free()); the conf must outlive the engine. An engine is
 * read-only afterwards: any number of threads may call engine_probe() on it
 * at once (each call has its own resolver state and deadline).
 *
 * engine_probe(engine, domain, setting, flags) converts the domain to its
 * A-label form, takes the setting from the destination table (or the given
 * one when setting >= 0), and for a setting that asks for it finds the
 * targets (target.h), probes them in order (smtp.h), judges Phase I
 * (cert.h) and Phase II (ident.h, with the reference identifiers of the
 * setting's procedure: PTR names forward-confirmed for "verify", route and
 * MX names for "hosted"), stops at the first host that satisfies the
 * setting, and fills the verdict (verdict.h). It never returns NULL: an
 * internal failure is a temporary verdict. Free with verdict_free().
 *
 * With ENGINE_TRACE the verdict's trace holds the step-by-step explanation
 * (DNS answers, each connection, presented and reference identifiers, every
 * comparison).
 */
#ifndef TV_ENGINE_H
#define TV_ENGINE_H

#include "conf.h"
#include "verdict.h"

#define ENGINE_TRACE	0x01

struct engine;

struct engine	*engine_new(const struct conf *, char *err, size_t errlen);
void		 engine_free(struct engine *);
const struct conf *engine_conf(const struct engine *);
struct verdict	*engine_probe(const struct engine *, const char *domain,
		    int setting, int flags);
/* The same with an explicit deadline in milliseconds instead of
 * [probe] timeout (the milter waits [probe] timeout for an answer but lets
 * the probe itself run longer in the background to fill its cache). */
struct verdict	*engine_probe_ms(const struct engine *, const char *domain,
		    int setting, int flags, long deadline_ms);

#endif
