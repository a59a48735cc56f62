/*
 * netsrv.h - a socket server for the daemon's two lookup protocols:
 * Postfix/Sendmail socketmap (SPEC 10) and Exim's ${readsocket} line
 * protocol (SPEC 11), and for one-request HTTP (the metrics, SPEC 13).
 * Built to take hostile input: every buffer is
 * bounded, every wait is timed, and no client can slow another one.
 *
 * netsrv_listen(spec, err, errlen) opens a listening socket before the
 * privilege drop. spec is "inet:PORT@ADDR" (ADDR an IPv4 or IPv6 literal,
 * optionally in brackets, or a name: the first address that binds),
 * "inet6:PORT@ADDR" (IPv6 only), "unix:PATH" or "local:PATH". PORT is
 * 1..65535; the address is required (write @0.0.0.0 to mean every
 * interface). IPv6 sockets are IPV6_V6ONLY. A unix PATH that is a live
 * socket (connect() succeeds) is refused, a stale socket is unlinked, any
 * other existing file is refused; the socket file gets the process umask.
 * Returns the fd (O_NONBLOCK, FD_CLOEXEC), or -1 with a message in err.
 * The caller unlinks a unix socket at exit if it wants to.
 *
 * netsrv_start(fd, proto, limits, fn, arg) serves fd with one I/O thread
 * (poll() over the listener, a self-pipe and every connection) and a
 * pool of worker threads that run fn: 4 at first, one more whenever a
 * request is queued and no worker is idle, up to limits->workers (a
 * request waiting for a probe holds its worker, so the pool grows with
 * the lookups that wait at once; it never shrinks). It takes ownership
 * of fd on success (NULL: the caller still owns it). limits may be NULL;
 * a zero field means the default. fn(arg, req, reqlen, reply, replylen)
 * is called in a worker thread with a NUL-terminated copy of one request
 * (reqlen bytes, no NUL inside) and writes a NUL-terminated reply payload
 * of at most replylen - 1 bytes (replylen is NETSRV_REPLY_MAX, for HTTP
 * NETSRV_HTTP_REPLY_MAX); it may
 * block (tens of seconds) and must be thread-safe. An empty reply becomes
 * "TEMP no answer" / "defer 451 4.3.0 no answer". A connection has at most
 * one request in a worker, so its replies come back in request order.
 *
 * netsrv_start_fast(fd, proto, limits, fn, fast, arg) is netsrv_start()
 * with a fast path: the I/O thread first calls fast(arg, req, reqlen,
 * reply, replylen) itself, with the same arguments fn gets; when it
 * returns 1 its reply is sent at once, without a trip through the pool
 * (a pipelined connection may get several such answers in one read);
 * when it returns 0 the request goes to the pool and fn as usual. fast
 * must never block nor wait (it stalls every connection while it runs).
 * Replies keep request order either way: a connection's next request is
 * framed only when the previous one is answered.
 *
 * netsrv_stop(srv) stops accepting, waits for the handlers still running
 * (it cannot interrupt them), drops queued requests, closes the listener
 * and every connection, joins all threads and frees everything. Never
 * call it from a handler (it would wait for itself). Several servers may
 * run at once: there is no global state.
 *
 * NETSRV_HTTP: one HTTP/1.x request head (the request line and the header
 * lines up to the empty line, at most max_req bytes, default 8192); the
 * handler gets the head without the empty line and writes a whole HTTP
 * response (status line, header, body) of at most NETSRV_HTTP_REPLY_MAX
 * - 1 bytes (replylen); it goes out as it is, then the connection is
 * closed. A request body, pipelined requests and bytes after the head are
 * never read as requests (drained at the close). A head longer than
 * max_req, a NUL byte, a first line that does not begin with 1-16
 * upper-case letters and a space (refused as soon as such a byte
 * arrives), or no complete head within req_ms gets "400 Bad Request"
 * (the handler is not called), then the connection is closed; an empty
 * handler reply becomes "500 Internal Server Error". Defaults: idle_ms
 * 10 s. netsrv serves HTTP for the metrics (metrics.h): it gives the
 * same guarantees as for the lookup protocols (a slow or malformed client
 * holds only its own connection).
 *
 * NETSRV_SOCKETMAP: each request is a netstring "LEN:DATA," (DATA: "NAME
 * KEY"), each reply the netstring of the handler's payload; a connection
 * carries any number of requests, pipelined requests are answered in
 * order. A malformed request (see netsrv_netstring below), one longer
 * than max_req, or one not complete within req_ms gets "PERM <reason>",
 * and the connection is closed after that reply (the handler is not
 * called). A client that half-closes still gets the replies to the
 * complete requests it sent.
 *
 * NETSRV_LINE: one request line (at most max_req bytes, default 1000,
 * without the "\n" and an optional "\r" before it; end of input also ends
 * the line, for a client that shuts down its side without a newline); the
 * reply is the handler's payload cut at the first CR or LF, plus "\n",
 * then the connection is closed; bytes after the first line are ignored.
 * An overlong line, a NUL byte, or no complete line within req_ms gets
 * "defer 451 4.3.0 malformed request" (the handler is not called), then
 * the connection is closed.
 *
 * Bounds: beyond max_conns (default 512) connections, new ones are
 * accepted and closed at once (a log_err line at most every 10 s, with a
 * count). A connection with nothing pending is closed after idle_ms
 * (default 300 s for socketmap, 10 s for line); one whose partial request
 * is not complete within req_ms (default 10 s) gets the error reply
 * above; one whose replies are not read (more than NETSRV_OUT_MAX bytes
 * queued, or no write progress for req_ms) is closed. After its last
 * reply a connection is shut down for writing and its input drained for
 * up to 2 s, so that unread garbage does not turn the close into a reset
 * that destroys the reply.
 *
 * Framing (pure functions, used by netsrv.c, tested on their own):
 * netsrv_netstring(buf, len, max, f) looks at the start of buf:
 * NETSRV_MORE (need more bytes), NETSRV_REQ (f->off, f->len: the data;
 * f->used: bytes to consume) or NETSRV_BAD (f->why: a static reason).
 * Rejected as soon as the bytes seen prove it: a non-digit where a digit
 * must be, a leading zero ("01:"; "0:," is a valid empty string), more
 * than 5 digits, a length over max (before any of the body is read), a
 * missing ':' or ',', a NUL inside the data.
 * netsrv_line(buf, len, max, eof, f) does the same for one line: NETSRV_REQ
 * when a "\n" (or, with eof, the end of a non-empty buffer) ends a line
 * of at most max bytes after stripping one "\r"; NETSRV_BAD for a longer
 * line or a NUL; NETSRV_MORE otherwise (also for an empty buffer at eof).
 * netsrv_http(buf, len, max, f) for an HTTP request head: NETSRV_REQ when
 * an empty line ("\n\n" or "\n\r\n") ends a head of at most max bytes
 * (f->len: the head up to and with the "\n" before the empty line;
 * f->used: with the empty line); NETSRV_BAD as described above;
 * NETSRV_MORE otherwise.
 * netsrv_netstring_fmt(dst, dstlen, data, len) writes "LEN:DATA," and
 * returns its length, or 0 when dstlen is too small.
 */
#ifndef TV_NETSRV_H
#define TV_NETSRV_H

#include <stddef.h>

#define NETSRV_REPLY_MAX	16384	/* handler reply buffer, with the NUL */
#define NETSRV_OUT_MAX		65536	/* unread reply bytes before a close */
#define NETSRV_HTTP_REPLY_MAX	NETSRV_OUT_MAX	/* HTTP: with the NUL */
#define NETSRV_HTTP_METHOD_MAX	16
#define NETSRV_NETSTRING_DIGITS	5

enum netsrv_proto {
	NETSRV_SOCKETMAP,
	NETSRV_LINE,
	NETSRV_HTTP
};

typedef void	(*netsrv_fn)(void *arg, const char *req, size_t reqlen,
		    char *reply, size_t replylen);
typedef int	(*netsrv_fast_fn)(void *arg, const char *req, size_t reqlen,
		    char *reply, size_t replylen);

struct netsrv_limits {
	unsigned	max_conns;	/* 512 */
	unsigned	workers;	/* max_conns: at most so many */
	size_t		max_req;	/* 10000 socketmap, 1000 line */
	long		idle_ms;	/* 300000 socketmap, 10000 line */
	long		req_ms;		/* 10000 */
};

struct netsrv;

int		 netsrv_listen(const char *spec, char *err, size_t errlen);
struct netsrv	*netsrv_start(int fd, enum netsrv_proto,
		    const struct netsrv_limits *, netsrv_fn, void *arg);
struct netsrv	*netsrv_start_fast(int fd, enum netsrv_proto,
		    const struct netsrv_limits *, netsrv_fn, netsrv_fast_fn,
		    void *arg);
void		 netsrv_stop(struct netsrv *);

/* framing */
enum netsrv_parse {
	NETSRV_BAD = -1,
	NETSRV_MORE = 0,
	NETSRV_REQ = 1
};

struct netsrv_frame {
	size_t		 off;	/* data starts at buf + off */
	size_t		 len;	/* data length */
	size_t		 used;	/* bytes of buf this request takes */
	const char	*why;	/* NETSRV_BAD: static text */
};

enum netsrv_parse netsrv_netstring(const char *, size_t, size_t max,
		    struct netsrv_frame *);
enum netsrv_parse netsrv_line(const char *, size_t, size_t max, int eof,
		    struct netsrv_frame *);
enum netsrv_parse netsrv_http(const char *, size_t, size_t max,
		    struct netsrv_frame *);
size_t		 netsrv_netstring_fmt(char *, size_t, const char *, size_t);

#endif
