/*
 * httpc.h - a small bounded HTTPS client exchange (one request, the
 * response's status line), over the project's resolver.
 *
 * httpc_exchange(dns, req, resp, err, errlen): A then AAAA of req->host
 * through dns (dns.h: [dns] nameserver, never getaddrinfo), each address
 * in turn until a TCP connection is made (non-blocking, poll); TLS 1.2
 * or newer through req->ssl (which must verify the peer) with SNI
 * req->host and the leaf checked for that name (SSL_set1_host, no
 * partial wildcards); then req->head and req->body[0..len) are written
 * and the response is read up to the end of its head (at most
 * HTTPC_MAX_HEAD bytes) or the connection's end; its status line gives
 * resp->status. Everything within req->timeout_ms. 0, or -1 with a
 * reason in err (printable ASCII). The caller's dns deadline is replaced
 * by the exchange's and restored after. No redirect is followed.
 */
#ifndef TV_HTTPC_H
#define TV_HTTPC_H

#include <stddef.h>
#include <openssl/ssl.h>

#include "deadline.h"
#include "dns.h"

#define HTTPC_MAX_HEAD	8192

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
