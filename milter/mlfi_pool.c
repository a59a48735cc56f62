/*
 * mlfi_pool.c - hands libmilter's pool a worker while a callback waits for
 * a probe (see mlfi_pool.h for why and the API).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mlfi_pool.h"

#define MLFI_POOL_LOG_S	60

static struct sockaddr_storage	pool_addr;
static socklen_t		pool_len;	/* 0: hand-offs off */
static atomic_long		pool_logged;	/* last failure logged */

/* libmilter's listening socket: a listening one not in ours; -1 if none */
static int
mlfi_pool_listener(const int *ours, size_t n)
{
	int		fd, val;
	size_t		i;
	socklen_t	len;

	for (fd = 3; fd < 1024; fd++) {
		for (i = 0; i < n && ours[i] != fd; i++)
			;
		len = sizeof(val);
		if (i == n && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val,
		    &len) == 0 && val)
			return fd;
	}
	return -1;
}

int
mlfi_pool_init(const int *ours, size_t n)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len = sizeof(ss);
	int			 fd = mlfi_pool_listener(ours, n);

	memset(&ss, 0, sizeof(ss));
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    len > sizeof(ss) || (ss.ss_family != AF_UNIX &&
	    ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
	    (ss.ss_family == AF_UNIX && len <= offsetof(struct sockaddr_un,
	    sun_path) + 1)) {
		log_warn("milter socket: its address is unknown; sessions "
		    "may wait behind probes in libmilter's pool");
		return -1;
	}
	if (ss.ss_family == AF_INET &&
	    sin->sin_addr.s_addr == htonl(INADDR_ANY))
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		sin6->sin6_addr = in6addr_loopback;
	pool_addr = ss;
	pool_len = len;
	return 0;
}

static void
mlfi_pool_fail(const char *what, int err)
{
	long	now = (long)time(NULL), last = atomic_load(&pool_logged);

	if ((last != 0 && now - last < MLFI_POOL_LOG_S) ||
	    !atomic_compare_exchange_strong(&pool_logged, &last, now))
		return;
	log_warn("milter socket: hand-off to libmilter's pool: %s: %s", what,
	    strerror(err));
}

void
mlfi_pool_handoff(void)
{
	struct pollfd	pfd;
	int		fd, err = 0;
	socklen_t	elen = sizeof(err);

	if (pool_len == 0)
		return;
	fd = socket(pool_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		mlfi_pool_fail("socket", errno);
		return;
	}
	if (connect(fd, (struct sockaddr *)&pool_addr, pool_len) != 0) {
		if (errno != EINPROGRESS) {
			mlfi_pool_fail("connect", errno);
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, MLFI_POOL_CONNECT_MS) != 1) {
			mlfi_pool_fail("connect", ETIMEDOUT);
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
		    err != 0) {
			mlfi_pool_fail("connect", err != 0 ? err : errno);
			goto out;
		}
	}
out:
	close(fd);
}
