/*
 * deadline.h - one monotonic deadline bounds a whole probe.
 *
 * deadline_init(d, ms) sets the deadline ms milliseconds from now
 * (CLOCK_MONOTONIC). deadline_left_ms() is the time left, 0 when passed
 * (never negative). deadline_passed() is deadline_left_ms() == 0.
 * deadline_min_ms(d, ms) is min(ms, time left): use it for every poll(),
 * resolver timeout and SSL wait so that nothing outlives the deadline.
 */
#ifndef TV_DEADLINE_H
#define TV_DEADLINE_H

#include <time.h>

struct deadline {
	struct timespec	end;
};

void	deadline_init(struct deadline *, long ms);
long	deadline_left_ms(const struct deadline *);
int	deadline_passed(const struct deadline *);
long	deadline_min_ms(const struct deadline *, long ms);

#endif
