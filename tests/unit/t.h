/*
 * t.h - the unit tests' reporting: one TAP line per check.
 *
 * T_OK(cond, fmt, ...) prints "ok N - desc" or "not ok N - desc" (with
 * file:line) and counts. T_DONE() prints the plan "1..N" and returns the
 * exit status (1 when anything failed). tests/run.py counts the lines.
 */
#ifndef TV_T_H
#define TV_T_H

#include <stdio.h>

static int	t_n, t_failed;

#define T_OK(cond, ...) do {						\
	int t_c_ = (cond) ? 1 : 0;					\
	printf("%s %d - ", t_c_ ? "ok" : "not ok", ++t_n);		\
	printf(__VA_ARGS__);						\
	if (!t_c_) {							\
		printf(" (%s:%d)", __FILE__, __LINE__);			\
		t_failed++;						\
	}								\
	printf("\n");							\
	fflush(stdout);							\
} while (0)

#define T_DONE() (printf("1..%d\n", t_n), t_failed ? 1 : 0)

#endif
