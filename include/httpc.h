/*
 * httpc.h - a small bounded HTTPS client: one connection API over the
 * project's resolver, and a one-shot exchange built on it. Shared by the
 * MTA-STS policy fetch (mtasts_fetch.c) and the TLS-RPT sender.
 *
 * httpc_open(dns, host, port, ssl, lim, trace, &conn, err, errlen):
 * A then AAAA of host through dns (dns.h: [dns] nameserver, never
 * getaddrinfo; dns's deadline is set to lim for the lookups and to NULL
 * on return: a caller with its own sets it again); each address in turn
 * until a TCP connection is made (non-blocking, poll); TLS 1.2 or newer
 * through ssl (the caller's context: it must verify the peer and set the
 * minimum version) with SNI host and the leaf checked for that name
 * (SSL_set1_host, no partial wildcards). Everything within *lim, which
 * must outlive the connection (reads and writes use it too). Each failed
 * address and the handshake's result go to trace (NULL: none). Returns
 * HTTPC_OK and *conn, or one of the HTTPC_E* codes below with the reason
 * in err (printable ASCII); the caller tells a timeout apart with
 * deadline_passed(lim) (then ECERT is never returned).
 *
 * httpc_write(conn, buf, len): all of buf; 0, or -1 (connection lost,
 * or the deadline passed).
 *
 * httpc_read(conn, buf, cap, &eof, &clean): at most cap bytes; > 0 the
 * count, 0 at the end of the connection (*eof = 1; *clean = 1 only when
 * the peer sent its TLS close_notify: a reset or a bare TCP FIN is not a
 * clean end), -1 when the deadline passed (or poll failed) first.
 *
 * httpc_close(conn): sends close_notify when the connection is still
 * sound (one try, no wait), frees everything; NULL is ignored.
 *
 * httpc_exchange(dns, req, resp, err, errlen): httpc_open() within
 * req->timeout_ms, then req->head and req->body[0..len) are written and
 * the response is read up to the end of its head (at most
 * HTTPC_MAX_HEAD bytes) or the connection's end; its status line gives
 * resp->status. 0, or -1 with a reason in err. No redirect is followed.
 */
#ifndef TV_HTTPC_H
#define TV_HTTPC_H

#include <sys/types.h>
#include <stddef.h>
#include <openssl/ssl.h>

#include "deadline.h"
#include "dns.h"
#include "trace.h"

#define HTTPC_MAX_HEAD	8192

#define HTTPC_OK	0
#define HTTPC_ENOADDR	(-1)	/* no A/AAAA answer for the host */
#define HTTPC_ECONNECT	(-2)	/* no address took a TCP connection */
#define HTTPC_ECERT	(-3)	/* certificate not valid for the host */
#define HTTPC_ETLS	(-4)	/* any other handshake failure */

struct httpc_conn;

int	httpc_open(struct dns_ctx *, const char *host, unsigned port,
	    SSL_CTX *, const struct deadline *, struct trace *,
	    struct httpc_conn **, char *err, size_t errlen);
int	httpc_write(struct httpc_conn *, const void *, size_t);
ssize_t	httpc_read(struct httpc_conn *, void *, size_t cap, int *eof,
	    int *clean);
void	httpc_close(struct httpc_conn *);

struct httpc_req {
	const char	*host;
	unsigned	 port;
	const char	*head;		/* request line + fields + CRLF CRLF */
	const void	*body;
	size_t		 len;
	SSL_CTX		*ssl;
	long		 timeout_ms;
};

struct httpc_resp {
	int		 status;
	char		 line[128];	/* the status line, printable */
};

int	httpc_exchange(struct dns_ctx *, const struct httpc_req *,
	    struct httpc_resp *, char *err, size_t errlen);

#endif
