/*
 * metrics.h - counters for Prometheus (SPEC 13: [metrics] listen), served
 * over HTTP by netsrv (NETSRV_HTTP) at /metrics in the text exposition
 * format 0.0.4.
 *
 * Counting (any thread, any time, lock-free: C11 atomics; no call blocks
 * or allocates; every label value comes from a fixed table, so the
 * number of series is bounded whatever the input):
 *  - metrics_verdict(setting, result, action, would): one judged decision;
 *    result is a verdict word ("verified", "unverified", "plain",
 *    "unknown", "null-mx", "no-host", "not-probed"; anything else counts
 *    as "other"); action the action taken, or with would (monitor mode,
 *    an enum action) "would-defer" / "would-reject".
 *  - metrics_decision(d): metrics_verdict() and metrics_cache() for a
 *    decision of decide_domain(), when d->judged (none and preferred are
 *    never judged: not counted). Its result is "unknown" for a probe past
 *    its wait (d->timeout) or no answer (d->a NULL), else the result= word
 *    of the answer's log fields. Cache: hit when d->cached, else miss (a
 *    probe, a wait that timed out, a name judged without the cache).
 *  - metrics_cache(hit): one verdict cache lookup, hit (1) or miss (0).
 *  - metrics_probe_start() / metrics_probe_end(ms): a network probe began /
 *    ended after ms milliseconds (probes in flight; duration histogram,
 *    buckets 0.05 0.1 0.25 0.5 1 2.5 5 10 20 60 s).
 *  - metrics_policy(req, reply): one policy service lookup; map is the
 *    request's first word ("tlspolicy", "transport", else "other"),
 *    answer from the reply: none, may, encrypt, secure, fingerprint (OK
 *    answers of tlspolicy), ok (other OK answers: transport), temp,
 *    notfound, perm, other.
 *  - metrics_query(reply): one Exim query lookup (SPEC 11), answer the
 *    reply's first word: accept, tag, defer, reject, none, may, encrypt,
 *    secure, else other.
 *  - metrics_redis_up(up): the shared cache's state (1 up, 0 down); the
 *    gauge tlsverify_redis_up appears once this was called.
 *
 * metrics_render(buf, len) writes every metric (HELP and TYPE lines, then
 * the samples; counters with labels only for the label sets seen) and
 * returns its length, or 0 when it does not fit in len - 1 bytes. The
 * gauge tlsverify_cache_entries is cache_count(decide_cache()) at that
 * moment (0 before decide_start()). metrics_reset() zeroes everything
 * (unit tests).
 *
 * metrics_label_escape(dst, len, src) escapes a label value for the text
 * format (backslash, double quote, newline: \\ \" \n); -1 when it does not
 * fit (dst is then "").
 *
 * metrics_listen_spec(addrport, spec, len): "ADDR:PORT" ([metrics] listen:
 * an IPv4 literal or host name, or "[IPv6]", and a port 1..65535) into
 * netsrv's "inet:PORT@ADDR"; 0, or -1 with a reason in spec.
 * metrics_http(arg, req, reqlen, reply, replylen) is the netsrv handler:
 * GET or HEAD of /metrics (a query string is ignored) gets "200 OK" with
 * Content-Type "text/plain; version=0.0.4; charset=utf-8" (HEAD without
 * the body); another path "404 Not Found"; another method "405 Method
 * Not Allowed"; a request line that is not "METHOD TARGET HTTP/1.x"
 * "400 Bad Request". Every reply says "Connection: close".
 */
#ifndef TV_METRICS_H
#define TV_METRICS_H

#include <stddef.h>

#include "conf.h"
#include "verdict.h"

struct decision;

void	metrics_verdict(enum tls_setting, const char *result, enum action,
	    int would);
void	metrics_decision(const struct decision *);
void	metrics_cache(int hit);
void	metrics_probe_start(void);
void	metrics_probe_end(long ms);
void	metrics_policy(const char *req, const char *reply);
void	metrics_query(const char *reply);
void	metrics_redis_up(int up);

size_t	metrics_render(char *buf, size_t len);
void	metrics_reset(void);
int	metrics_label_escape(char *dst, size_t len, const char *src);

int	metrics_listen_spec(const char *addrport, char *spec, size_t len);
void	metrics_http(void *arg, const char *req, size_t reqlen, char *reply,
	    size_t replylen);

#endif
