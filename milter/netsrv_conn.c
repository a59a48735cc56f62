/*
 * netsrv_conn.c - one netsrv connection, as seen by the I/O thread (see
 * netsrv_int.h; the contract is in netsrv.h).
 *
 * A connection reads into a bounded input buffer, frames at most one
 * request at a time into a job for the pool, and queues framed replies
 * in an output buffer written without blocking. After its last reply
 * (line protocol, HTTP, a refused request) it is flushed, shut down for
 * writing and drained for NETSRV_LINGER_MS, then closed. Every wait has
 * a limit: idle_ms with nothing pending, req_ms for a partial request
 * and for replies the client does not read, NETSRV_OUT_MAX bytes of
 * unread replies.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netsrv_int.h"
#include "xalloc.h"

#define NETSRV_LINGER_MS	2000
#define NETSRV_LINE_ERR		"defer 451 4.3.0 malformed request"
#define NETSRV_HTTP_FMT		"HTTP/1.1 %s\r\nContent-Type: text/plain; " \
				"charset=utf-8\r\nContent-Length: %zu\r\n" \
				"Connection: close\r\n\r\n%s\n"

void
netsrv_conn_add(struct netsrv *srv, int fd)
{
	struct nconn	*c = xcalloc(1, sizeof(*c));
	int		 on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->fd = fd;
	c->state = NC_OPEN;
	c->incap = srv->incap;
	c->in = xmalloc(c->incap);
	c->last_io = srv->now;
	srv->conns[srv->nconns++] = c;
}

void
netsrv_conn_free(struct nconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
netsrv_conn_close(struct nconn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
netsrv_out_reserve(struct nconn *c, size_t n)
{
	if (c->outoff > 0) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	if (c->outcap - c->outlen < n) {
		c->outcap = c->outlen + n + 1024;
		c->out = xrealloc(c->out, c->outcap);
	}
}

/* Frame payload (NUL-terminated) for the protocol and queue it. */
static void
netsrv_conn_reply(struct netsrv *srv, struct nconn *c, const char *payload)
{
	size_t	n;
	char	buf[256];

	if (srv->proto == NETSRV_HTTP) {
		if (*payload == '\0') {
			(void)snprintf(buf, sizeof(buf), NETSRV_HTTP_FMT,
			    "500 Internal Server Error", sizeof("no answer"),
			    "no answer");
			payload = buf;
		}
		n = strlen(payload);
		netsrv_out_reserve(c, n);
		memcpy(c->out + c->outlen, payload, n);
		c->outlen += n;
	} else if (srv->proto == NETSRV_LINE) {
		if ((n = strcspn(payload, "\r\n")) == 0) {
			payload = "defer 451 4.3.0 no answer";
			n = strlen(payload);
		}
		netsrv_out_reserve(c, n + 1);
		memcpy(c->out + c->outlen, payload, n);
		c->out[c->outlen + n] = '\n';
		c->outlen += n + 1;
	} else {
		if ((n = strlen(payload)) == 0) {
			payload = "TEMP no answer";
			n = strlen(payload);
		}
		netsrv_out_reserve(c, n + NETSRV_NETSTRING_DIGITS + 2);
		c->outlen += netsrv_netstring_fmt(c->out + c->outlen,
		    c->outcap - c->outlen, payload, n);
	}
	if (c->out_since == 0)
		c->out_since = srv->now;
	if (c->outlen - c->outoff > NETSRV_OUT_MAX)
		netsrv_conn_close(c);	/* the client does not read */
}

static void
netsrv_conn_error(struct netsrv *srv, struct nconn *c, const char *why)
{
	char		 buf[256];
	unsigned long	 dropped;

	if (netsrv_rlog_ok(&srv->rl_bad, srv->now, &dropped))
		log_warn("netsrv: bad request: %s; connection closed "
		    "(%lu earlier not logged)", why, dropped);
	if (srv->proto == NETSRV_LINE)
		netsrv_conn_reply(srv, c, NETSRV_LINE_ERR);
	else if (srv->proto == NETSRV_HTTP) {
		(void)snprintf(buf, sizeof(buf), NETSRV_HTTP_FMT,
		    "400 Bad Request", strlen(why) + 1, why);
		netsrv_conn_reply(srv, c, buf);
	} else {
		(void)snprintf(buf, sizeof(buf), "PERM %s", why);
		netsrv_conn_reply(srv, c, buf);
	}
	c->state = NC_CLOSING;
}

/* After the last reply: shut down our side and drain the input briefly. */
static void
netsrv_conn_finish(struct netsrv *srv, struct nconn *c)
{
	if (c->eof) {
		netsrv_conn_close(c);
		return;
	}
	(void)shutdown(c->fd, SHUT_WR);
	c->state = NC_LINGER;
	c->linger_end = srv->now + NETSRV_LINGER_MS;
	c->inlen = 0;
}

static void
netsrv_conn_flush(struct netsrv *srv, struct nconn *c)
{
	ssize_t	n;

	while (c->fd >= 0 && c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			netsrv_conn_close(c);
			return;
		}
		c->outoff += (size_t)n;
		c->last_io = c->out_since = srv->now;
	}
	if (c->fd < 0)
		return;
	c->outoff = c->outlen = 0;
	c->out_since = 0;
	if (c->state == NC_CLOSING && !c->busy)
		netsrv_conn_finish(srv, c);
}

static void
netsrv_dispatch(struct netsrv *srv, struct nconn *c, const char *req,
    size_t len)
{
	struct njob	*j = xmalloc(sizeof(*j) + srv->replycap);

	j->c = c;
	j->req = xmalloc(len + 1);
	memcpy(j->req, req, len);
	j->req[len] = '\0';
	j->reqlen = len;
	c->busy = 1;
	c->req_start = 0;
	pthread_mutex_lock(&srv->mu);
	netsrv_job_add(&srv->qhead, &srv->qtail, j);
	srv->nqueued++;
	if (srv->nqueued > srv->nidle)
		netsrv_grow(srv);
	pthread_cond_signal(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
}

/* 1 when the fast handler answered the request (reply queued). */
static int
netsrv_try_fast(struct netsrv *srv, struct nconn *c, const char *req,
    size_t len)
{
	if (srv->fast == NULL)
		return 0;
	memcpy(srv->fastreq, req, len);
	srv->fastreq[len] = '\0';
	srv->fastreply[0] = '\0';
	if (!srv->fast(srv->arg, srv->fastreq, len, srv->fastreply,
	    sizeof(srv->fastreply)))
		return 0;
	srv->fastreply[sizeof(srv->fastreply) - 1] = '\0';
	netsrv_conn_reply(srv, c, srv->fastreply);
	c->req_start = 0;
	return 1;
}

/* Frame the next requests of a connection that has none in the pool:
 * those the fast handler answers, then at most one for the pool. */
static void
netsrv_conn_advance(struct netsrv *srv, struct nconn *c)
{
	struct netsrv_frame	f;
	enum netsrv_parse	r;
	int			fast;

again:
	if (c->fd < 0 || c->busy || c->state != NC_OPEN)
		return;
	if (srv->proto == NETSRV_LINE)
		r = netsrv_line(c->in, c->inlen, srv->lim.max_req, c->eof, &f);
	else if (srv->proto == NETSRV_HTTP)
		r = netsrv_http(c->in, c->inlen, srv->lim.max_req, &f);
	else
		r = netsrv_netstring(c->in, c->inlen, srv->lim.max_req, &f);
	if (r == NETSRV_REQ) {
		fast = netsrv_try_fast(srv, c, c->in + f.off, f.len);
		if (!fast)
			netsrv_dispatch(srv, c, c->in + f.off, f.len);
		memmove(c->in, c->in + f.used, c->inlen - f.used);
		c->inlen -= f.used;
		if (srv->proto != NETSRV_SOCKETMAP)
			c->state = NC_CLOSING;	/* one request only */
		else if (fast)
			goto again;
	} else if (r == NETSRV_BAD)
		netsrv_conn_error(srv, c, f.why);
	else if (c->eof)
		c->state = NC_CLOSING;	/* a partial request is dropped */
	else if (c->inlen > 0 && c->req_start == 0)
		c->req_start = srv->now;
}

static void
netsrv_conn_read(struct netsrv *srv, struct nconn *c)
{
	char	drain[4096];
	ssize_t	n;

	if (c->state == NC_LINGER) {
		n = recv(c->fd, drain, sizeof(drain), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			netsrv_conn_close(c);
		return;
	}
	if (c->inlen == c->incap || c->eof || c->state != NC_OPEN)
		return;
	n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			netsrv_conn_close(c);
		return;
	}
	if (n == 0)
		c->eof = 1;
	c->inlen += (size_t)n;
	c->last_io = srv->now;
	netsrv_conn_advance(srv, c);
	netsrv_conn_flush(srv, c);
}

static long
netsrv_min(long a, long b)
{
	return a < b ? a : b;
}

/* Close or fail what has run out of time; returns ms to the next limit. */
long
netsrv_conn_timers(struct netsrv *srv, struct nconn *c)
{
	long	now = srv->now, next = LONG_MAX, t;

	if (c->fd < 0)
		return LONG_MAX;
	if (c->state == NC_LINGER) {
		if (now < c->linger_end)
			return c->linger_end - now;
		netsrv_conn_close(c);
		return LONG_MAX;
	}
	if (c->outoff < c->outlen) {
		if (now >= (t = c->out_since + srv->lim.req_ms)) {
			netsrv_conn_close(c);	/* replies not read */
			return LONG_MAX;
		}
		next = t - now;
	}
	if (c->busy || c->state != NC_OPEN)
		return next;
	if (c->req_start != 0) {
		if (now < (t = c->req_start + srv->lim.req_ms))
			return netsrv_min(next, t - now);
		netsrv_conn_error(srv, c, "request timeout");
		netsrv_conn_flush(srv, c);
		return 0;
	}
	if (c->inlen == 0 && c->outoff == c->outlen) {
		if (now >= (t = c->last_io + srv->lim.idle_ms)) {
			netsrv_conn_close(c);
			return LONG_MAX;
		}
		next = netsrv_min(next, t - now);
	}
	return next;
}

short
netsrv_conn_poll(const struct nconn *c)
{
	short	ev = 0;

	if (c->state == NC_LINGER)
		return POLLIN;
	if (c->state == NC_OPEN && !c->eof && c->inlen < c->incap)
		ev |= POLLIN;
	if (c->outoff < c->outlen)
		ev |= POLLOUT;
	return ev;
}

void
netsrv_conn_events(struct netsrv *srv, struct nconn *c, short rev)
{
	if (rev & (POLLERR | POLLNVAL) ||
	    ((rev & POLLHUP) && !(rev & POLLIN))) {
		netsrv_conn_close(c);
		return;
	}
	if (rev & POLLOUT)
		netsrv_conn_flush(srv, c);
	if ((rev & POLLIN) && c->fd >= 0)
		netsrv_conn_read(srv, c);
}

/* Replies that came back from the pool, in the order they came. */
void
netsrv_done(struct netsrv *srv, struct njob *j)
{
	struct njob	*next;
	struct nconn	*c;

	for (; j != NULL; j = next) {
		next = j->next;
		c = j->c;
		c->busy = 0;
		if (c->dead)
			netsrv_conn_free(c);
		else if (c->fd >= 0) {
			j->reply[srv->replycap - 1] = '\0';
			netsrv_conn_reply(srv, c, j->reply);
			netsrv_conn_advance(srv, c);
			netsrv_conn_flush(srv, c);
		}
		free(j->req);
		free(j);
	}
}

/* Drop closed connections; one still in the pool is freed on return. */
void
netsrv_sweep(struct netsrv *srv)
{
	unsigned	 i = 0;
	struct nconn	*c;

	while (i < srv->nconns) {
		c = srv->conns[i];
		if (c->fd >= 0) {
			i++;
			continue;
		}
		srv->conns[i] = srv->conns[--srv->nconns];
		if (c->busy)
			c->dead = 1;
		else
			netsrv_conn_free(c);
	}
}
