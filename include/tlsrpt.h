/*
 * tlsrpt.h - TLS-RPT (RFC 8460; SPEC 12): every probe result counted as a
 * session of its policy domain, and one report per domain and UTC day.
 *
 * Off unless [tlsrpt] spool names a directory (the daemon's user must be
 * able to write it).
 *
 * tlsrpt_count(conf, v) counts the verdict v of one probe (decide.c calls
 * it for every probe of the daemon, the policy service and tlsverify-probe
 * --policy): one session of v->domain on today's date (UTC, real time),
 * under the policy type of v->policy ("dane": tlsa, "sts": sts, else
 * no-policy-found), successful or failed with an RFC 8460 result type and
 * a failure-details row (tlsrpt.c says how a verdict maps). A verdict
 * without a TLS session to report (not probed, no host, null MX, a
 * temporary failure before any connection other than a TLSA lookup) is
 * not counted. Counts are kept in memory, bounded (tlsrpt_int.h:
 * TLSRPT_MAX_ROWS policy rows, TLSRPT_MAX_DETAILS failure-details rows;
 * beyond, sessions of a new row are dropped and counted, failures of a
 * known row only lose their details row). Thread-safe.
 *
 * tlsrpt_save(conf) adds what was counted since the last save to
 * SPOOL/tlsrpt.counts (under the lock SPOOL/tlsrpt.lock, atomically
 * replaced), so a restart or another process loses nothing; 0 or -1
 * (the counts then stay in memory for the next try).
 *
 * tlsrpt_flush(conf, now, out) saves, then writes a report for every
 * (domain, day) before now's UTC day whose domain publishes one
 * "v=TLSRPTv1" TXT record at _smtp._tls.DOMAIN with a usable rua
 * (mailto: or https:), gzipped, into SPOOL as
 * SENDER!DOMAIN!BEGIN!END[!N].json.gz (RFC 8460 5.3.1), and sends it as
 * [tlsrpt] send says; those days leave the counts file (a domain without
 * a record is dropped; a temporary DNS failure keeps its days for the next
 * flush, at most TLSRPT_KEEP_DAYS). Counts in *out (may be NULL); returns
 * 0, or -1 when something could not be written or sent (logged).
 *
 * tlsrpt_now() is the time the flush path uses: the environment variable
 * TLSVERIFY_TLSRPT_NOW (seconds since the epoch; tests) when set, else
 * time(NULL). Counting always uses the real time.
 *
 * tlsrpt_start() starts the daemon's timer thread: every TLSRPT_TICK
 * seconds it saves, and flushes when a finished day is waiting, with the
 * current generation's configuration (decide_gen()). tlsrpt_stop() stops
 * it and saves a last time. Both are no-ops for a thread not started.
 */
#ifndef TV_TLSRPT_H
#define TV_TLSRPT_H

#include <time.h>

#include "conf.h"
#include "verdict.h"

#define TLSRPT_TICK	60	/* seconds between saves in the daemon */

struct tlsrpt_stats {
	unsigned	reports;	/* report files written */
	unsigned	mailed;		/* mailto: deliveries handed over */
	unsigned	posted;		/* https: POSTs answered 2xx */
	unsigned	failed;		/* writes or sends that failed */
	unsigned	skipped;	/* days of domains without a record */
};

void	tlsrpt_count(const struct conf *, const struct verdict *);
int	tlsrpt_save(const struct conf *);
int	tlsrpt_flush(const struct conf *, time_t now, struct tlsrpt_stats *);
time_t	tlsrpt_now(void);
void	tlsrpt_start(void);
void	tlsrpt_stop(void);

#endif
