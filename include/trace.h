/*
 * trace.h - the step-by-step explanation a probe leaves behind.
 *
 * Every stage appends human-readable lines ("MX example.com: 10
 * mx01.subd.emailhosted.not") with trace_add(); tlsverify-probe prints them
 * and the milter logs them at debug level. A NULL trace is accepted and
 * ignored. Every byte of a line outside printable ASCII becomes '?'
 * (text_safe(): whatever a peer sent, printing the trace puts no control
 * byte on a terminal). At most TRACE_MAXLINES lines of at most
 * TRACE_LINELEN bytes are kept; a last line says how many were dropped.
 * trace_free() frees the lines (not the struct).
 */
#ifndef TV_TRACE_H
#define TV_TRACE_H

#include <stddef.h>

#define TRACE_MAXLINES	1000
#define TRACE_LINELEN	512

struct trace {
	char	**lines;
	size_t	  n;
	size_t	  dropped;
};

void	trace_add(struct trace *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	trace_free(struct trace *);

#endif
