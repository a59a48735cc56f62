/*
 * mlfi_pool.h - keeps libmilter's worker pool from stranding sessions while
 * a callback waits for a probe.
 *
 * libmilter as Debian builds it (_FFR_WORKERS_POOL) runs the callbacks of
 * every session on a pool of worker threads. When several sessions become
 * readable in one poll(), its controller marks each one ready for an idle
 * worker it counted before those workers woke up; a session that no worker
 * took runs only when some worker ends its task (each looks for a ready
 * session then) or a new session arrives while no worker is idle (libmilter
 * then starts one). A recipient waiting for a probe holds its worker for up
 * to [probe] timeout, so under a burst of RCPTs for cold domains sessions
 * waited behind whole probes, one after another (docs/BENCHMARKS.md, WAN).
 *
 * mlfi_pool_init(ours, n), called after smfi_opensocket(), finds
 * libmilter's listening socket (the listening descriptor that is none of
 * the n in ours, the daemon's own services) and keeps its address (a
 * wildcard address becomes the loopback one). 0, or -1 when there is none
 * usable (hand-offs are then off; logged).
 *
 * mlfi_pool_handoff() is called by a callback right before it waits for a
 * probe: it connects to the milter's own socket and closes the connection
 * at once, without sending anything (a connection that is not made within
 * MLFI_POOL_CONNECT_MS is given up). libmilter takes it as a session that
 * ends at its first read (no callback of ours runs but xxfi_close, with no
 * state); to run it, libmilter wakes or starts a worker, which afterwards
 * takes any session left marked ready. So the pool keeps a worker for
 * waiting sessions while this one waits. Failures are logged at most once
 * a minute and change nothing else.
 */
#ifndef TV_MLFI_POOL_H
#define TV_MLFI_POOL_H

#include <stddef.h>

#define MLFI_POOL_CONNECT_MS	100

int	mlfi_pool_init(const int *ours, size_t n);
void	mlfi_pool_handoff(void);

#endif
