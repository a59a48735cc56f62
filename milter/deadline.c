/*
 * deadline.c - a monotonic deadline (see deadline.h).
 */
#include <time.h>

#include "deadline.h"

void
deadline_init(struct deadline *d, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, &d->end);
	if (ms < 0)
		ms = 0;
	d->end.tv_sec += ms / 1000;
	d->end.tv_nsec += (ms % 1000) * 1000000L;
	if (d->end.tv_nsec >= 1000000000L) {
		d->end.tv_sec++;
		d->end.tv_nsec -= 1000000000L;
	}
}

long
deadline_left_ms(const struct deadline *d)
{
	struct timespec	now;
	long		ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(d->end.tv_sec - now.tv_sec) * 1000L +
	    (d->end.tv_nsec - now.tv_nsec) / 1000000L;
	return ms > 0 ? ms : 0;
}

int
deadline_passed(const struct deadline *d)
{
	return deadline_left_ms(d) == 0;
}

long
deadline_min_ms(const struct deadline *d, long ms)
{
	long	left = deadline_left_ms(d);

	return ms < left ? ms : left;
}
