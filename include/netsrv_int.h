/*
 * netsrv_int.h - the insides of netsrv, shared by netsrv.c (threads,
 * accept, poll loop, start/stop) and netsrv_conn.c (one connection's
 * state machine). Not for other modules: use netsrv.h.
 *
 * Ownership: the I/O thread owns every struct nconn; a connection closed
 * while a job of it is in the pool stays allocated (dead = 1) until the
 * job comes back. A struct njob is owned by whichever list holds it (the
 * queue, a worker, the done list) and freed by netsrv_done().
 */
#ifndef TV_NETSRV_INT_H
#define TV_NETSRV_INT_H

#include <poll.h>
#include <pthread.h>

#include "netsrv.h"

enum nc_state {
	NC_OPEN,		/* reading and answering requests */
	NC_CLOSING,		/* last reply queued: flush, then linger */
	NC_LINGER		/* shut down for writing, draining input */
};

struct nconn {
	int		 fd;		/* -1: closed, swept next round */
	enum nc_state	 state;
	int		 busy;		/* a job is in the pool */
	int		 dead;		/* swept while busy */
	int		 eof;
	char		*in;
	size_t		 inlen, incap;
	char		*out;
	size_t		 outoff, outlen, outcap;
	long		 last_io;	/* last byte read or written */
	long		 req_start;	/* first byte of a partial request */
	long		 out_since;	/* replies pending, last progress */
	long		 linger_end;
};

struct njob {
	struct nconn	*c;
	struct njob	*next;
	char		*req;
	size_t		 reqlen;
	char		 reply[];	/* netsrv.replycap bytes */
};

struct nrlog {
	long		 last;
	unsigned long	 dropped;
};

struct netsrv {
	int		 lfd, wake[2];
	enum netsrv_proto proto;
	struct netsrv_limits lim;
	netsrv_fn	 fn;
	netsrv_fast_fn	 fast;		/* NULL: every request to the pool */
	void		*arg;
	size_t		 incap;
	size_t		 replycap;	/* NETSRV_REPLY_MAX, HTTP: more */
	pthread_t	 io, *workers;
	unsigned	 nworkers;	/* started, at most lim.workers */
	unsigned	 nidle;		/* waiting for a job (mu) */
	unsigned	 nqueued;	/* jobs on the queue (mu) */
	int		 io_started;
	pthread_mutex_t	 mu;		/* the four list ends, stopping */
	pthread_cond_t	 cv;		/* queue not empty, or stopping */
	struct njob	*qhead, *qtail, *dhead, *dtail;
	int		 stopping;
	/* I/O thread only */
	struct nconn	**conns;
	unsigned	 nconns;
	struct pollfd	*pfd;
	long		 now, accept_pause;
	char		*fastreq;	/* incap + 1 bytes: a request, NUL */
	char		 fastreply[NETSRV_REPLY_MAX];
	struct nrlog	 rl_full, rl_bad;
};

/* netsrv.c */
int	netsrv_rlog_ok(struct nrlog *, long, unsigned long *);
void	netsrv_job_add(struct njob **, struct njob **, struct njob *);
int	netsrv_grow(struct netsrv *);

/* netsrv_conn.c */
void	netsrv_conn_add(struct netsrv *, int);
void	netsrv_conn_free(struct nconn *);
long	netsrv_conn_timers(struct netsrv *, struct nconn *);
short	netsrv_conn_poll(const struct nconn *);
void	netsrv_conn_events(struct netsrv *, struct nconn *, short);
void	netsrv_done(struct netsrv *, struct njob *);
void	netsrv_sweep(struct netsrv *);

#endif
