/*
 * benchclock.h: the monotonic clock in seconds, for the C benchmarks
 * under bench/ (each timed its runs with a copy of this). Not a test.
 */
#ifndef SWEEPD_BENCH_BENCHCLOCK_H
#define SWEEPD_BENCH_BENCHCLOCK_H

#include <time.h>

static inline double
bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
