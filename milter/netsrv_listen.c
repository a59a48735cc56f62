/*
 * netsrv_listen.c - open the listening socket of a netsrv (see netsrv.h).
 *
 * "inet:PORT@ADDR", "inet6:PORT@ADDR", "unix:PATH" / "local:PATH". Runs
 * before the privilege drop; the result is non-blocking and close-on-exec.
 * A unix path is only ever unlinked when it is a socket that nobody
 * accepts on (connect() refused); a live socket or any other file is an
 * error, so two daemons never steal each other's socket.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netsrv.h"

#define NETSRV_HOST_MAX	255

static int
netsrv_sock(int family, char *err, size_t errlen)
{
	int	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);

	if (fd < 0)
		snprintf(err, errlen, "socket: %s", strerror(errno));
	return fd;
}

/* 0: a stale socket (or nothing) is at path; -1: in use or not a socket */
static int
netsrv_unix_check(const char *path, const struct sockaddr_un *sun,
    char *err, size_t errlen)
{
	struct stat	st;
	int		fd, rc, e;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = netsrv_sock(AF_UNIX, err, errlen)) < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		snprintf(err, errlen, "%s is in use by a running process",
		    path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s",
		    path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
netsrv_listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix socket path empty or longer "
		    "than %zu bytes", sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if (netsrv_unix_check(path, &sun, err, errlen) != 0)
		return -1;
	if ((fd = netsrv_sock(AF_UNIX, err, errlen)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
netsrv_bind_ai(const struct addrinfo *ai, char *err, size_t errlen)
{
	int	fd, on = 1;

	if ((fd = netsrv_sock(ai->ai_family, err, errlen)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "bind/listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* "PORT@ADDR" -> port and host (brackets removed); 0 or -1 */
static int
netsrv_inet_parse(const char *s, char *port, char *host, char *err,
    size_t errlen)
{
	const char	*at = strchr(s, '@');
	size_t		 plen, hlen;
	long		 p;

	if (at == NULL) {
		snprintf(err, errlen, "inet socket needs PORT@ADDR");
		return -1;
	}
	plen = (size_t)(at - s);
	if (plen == 0 || plen > 5 || strspn(s, "0123456789") != plen ||
	    (p = strtol(s, NULL, 10)) < 1 || p > 65535) {
		snprintf(err, errlen, "bad port (1-65535)");
		return -1;
	}
	snprintf(port, 6, "%ld", p);
	at++;
	hlen = strlen(at);
	if (hlen >= 2 && at[0] == '[' && at[hlen - 1] == ']') {
		at++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen > NETSRV_HOST_MAX) {
		snprintf(err, errlen, "bad address");
		return -1;
	}
	memcpy(host, at, hlen);
	host[hlen] = '\0';
	return 0;
}

static int
netsrv_listen_inet(const char *s, int family, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 port[6], host[NETSRV_HOST_MAX + 1];
	int		 fd = -1, rc;

	if (netsrv_inet_parse(s, port, host, err, errlen) != 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "%s: no address", host);
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = netsrv_bind_ai(ai, err, errlen);
	freeaddrinfo(res);
	return fd;
}

int
netsrv_listen(const char *spec, char *err, size_t errlen)
{
	if (strncmp(spec, "inet:", 5) == 0)
		return netsrv_listen_inet(spec + 5, AF_UNSPEC, err, errlen);
	if (strncmp(spec, "inet6:", 6) == 0)
		return netsrv_listen_inet(spec + 6, AF_INET6, err, errlen);
	if (strncmp(spec, "unix:", 5) == 0)
		return netsrv_listen_unix(spec + 5, err, errlen);
	if (strncmp(spec, "local:", 6) == 0)
		return netsrv_listen_unix(spec + 6, err, errlen);
	snprintf(err, errlen, "socket must be inet:PORT@ADDR, "
	    "inet6:PORT@ADDR or unix:PATH");
	return -1;
}
