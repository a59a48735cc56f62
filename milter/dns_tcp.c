/*
 * dns_tcp.c - one DNS question over TCP, bounded by a timeout.
 *
 * glibc retries a truncated UDP answer over TCP with blocking connect() and
 * read() and no timeout, so a server that sets TC and then stalls on TCP
 * would hold a probe forever. dns.c asks with RES_IGNTC and, for an answer
 * with the TC bit, calls dns_tcp_query(): the same question (res_nmkquery)
 * to the first server of the resolver state (IPv4 nsaddr_list[0], or the
 * IPv6 _u._ext.nsaddrs[0]), non-blocking connect, every write and read
 * waiting at most until timeout_ms from the call. The answer must carry the
 * query's ID and fit anslen; it is not otherwise interpreted here.
 * Returns the answer's length, or -1 with a reason in err.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "dns_int.h"

/* Wait for ev on fd until the deadline: 0 ready, -1 timeout or error. */
static int
dns_tcp_wait(int fd, short ev, const struct deadline *dl)
{
	struct pollfd	pfd = { .fd = fd, .events = ev };
	long		ms = deadline_left_ms(dl);

	if (ms <= 0)
		return -1;
	return poll(&pfd, 1, (int)ms) == 1 ? 0 : -1;
}

/* Write (wr = 1) or read exactly n bytes; 0 or -1. */
static int
dns_tcp_io(int fd, unsigned char *p, size_t n, int wr,
    const struct deadline *dl)
{
	ssize_t	r;

	while (n > 0) {
		if (dns_tcp_wait(fd, wr ? POLLOUT : POLLIN, dl) != 0)
			return -1;
		r = wr ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* A connected non-blocking socket to the resolver's first server. */
static int
dns_tcp_connect(struct __res_state *res, const struct deadline *dl)
{
	const struct sockaddr	*sa = (const struct sockaddr *)
				    &res->nsaddr_list[0];
	socklen_t		 salen = sizeof(res->nsaddr_list[0]);
	int			 fd, soerr = 0;
	socklen_t		 len = sizeof(soerr);

	if (res->nsaddr_list[0].sin_family != AF_INET) {
		if (res->_u._ext.nsaddrs[0] == NULL)
			return -1;
		sa = (const struct sockaddr *)res->_u._ext.nsaddrs[0];
		salen = sizeof(*res->_u._ext.nsaddrs[0]);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, salen) == 0)
		return fd;
	if (errno == EINPROGRESS && dns_tcp_wait(fd, POLLOUT, dl) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
	    soerr == 0)
		return fd;
	close(fd);
	return -1;
}

int
dns_tcp_query(struct __res_state *res, const char *name, int type,
    long timeout_ms, unsigned char *ans, size_t anslen, char *err,
    size_t errlen)
{
	unsigned char	q[2 + NS_PACKETSZ], lenbuf[2];
	struct deadline	dl;
	int		qlen, fd = -1, rv = -1;
	size_t		alen;

	deadline_init(&dl, timeout_ms);
	qlen = res_nmkquery(res, ns_o_query, name, ns_c_in, type, NULL, 0,
	    NULL, q + 2, sizeof(q) - 2);
	if (qlen < HFIXEDSZ) {
		(void)snprintf(err, errlen, "cannot build the TCP query");
		goto out;
	}
	q[0] = (unsigned char)(qlen >> 8);
	q[1] = (unsigned char)qlen;
	if ((fd = dns_tcp_connect(res, &dl)) < 0 ||
	    dns_tcp_io(fd, q, (size_t)qlen + 2, 1, &dl) != 0 ||
	    dns_tcp_io(fd, lenbuf, 2, 0, &dl) != 0) {
		(void)snprintf(err, errlen, "truncated answer; TCP retry "
		    "failed or timed out");
		goto out;
	}
	alen = (size_t)lenbuf[0] << 8 | lenbuf[1];
	if (alen < HFIXEDSZ || alen > anslen ||
	    dns_tcp_io(fd, ans, alen, 0, &dl) != 0 ||
	    memcmp(ans, q + 2, 2) != 0) {
		(void)snprintf(err, errlen, "truncated answer; bad or no "
		    "answer over TCP");
		goto out;
	}
	rv = (int)alen;
out:
	if (fd >= 0)
		close(fd);
	return rv;
}
