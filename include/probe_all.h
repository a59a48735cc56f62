/*
 * probe_all.h - tlsverify-probe --all (SPEC 13): every domain the
 * destination table names, several at a time.
 *
 * probe_all(e, setting, jobs, json) probes each [destinations] key that is
 * a domain (not "default", not a ".parent" key), under its own setting or
 * the given one (setting >= 0), at most jobs at once (1..PROBE_ALL_MAXJOBS).
 * While it runs, a progress line goes to stderr when stderr is a terminal
 * (nothing otherwise). Then it prints to stdout, worst first (exit status
 * 75, then 1, then 0; by domain among equals): a summary table with the
 * columns domain, setting, result, action, host and why; or, with json, one
 * SPEC 9 JSON object per line. Returns the worst exit status.
 *
 * probe_exit_status(v) is one verdict's exit status (SPEC 9): 0 accepted
 * or tagged, 75 temporary failure, 1 otherwise.
 */
#ifndef TV_PROBE_ALL_H
#define TV_PROBE_ALL_H

#include "engine.h"

#define PROBE_ALL_MAXJOBS	256

int	probe_all(const struct engine *, int setting, unsigned jobs, int json);
int	probe_exit_status(const struct verdict *);

#endif
