/*
 * report_impl.h: what report.c shares with the files of the report's
 * other sections (report_front.c): its scales and axes.
 */
#ifndef SWEEPD_CLIENT_REPORT_IMPL_H
#define SWEEPD_CLIENT_REPORT_IMPL_H

#include <stdio.h>

#include <cJSON.h>

/* A chart axis: data range [lo, hi] drawn from pixel p0 to p1 (the
 * report's files are one program: the short name is theirs). */
struct scale {
	double lo, hi;     /* data range */
	int log;           /* log10 axis (lo > 0) */
	double p0, p1;     /* pixel positions of lo and hi */
};

/* The pixel of v on s. */
double report_sc(const struct scale *s, double v);
/* Fits s to [lo, hi] (widening an empty range, a little air around). */
void report_scale_fit(struct scale *s, double lo, double hi, int log,
		      double p0, double p1);
/* Frame, grid, ticks and labels of the plot area of x and y. */
void report_axes(FILE *out, const struct scale *x,
		 const struct scale *y, const char *xlabel,
		 const char *ylabel);
/* A number as the report prints them. */
void report_num(FILE *out, double v);

/*
 * Several objectives: the section "Pareto front", a scatter of every
 * completed trial's values of the first two objectives (each at its best
 * epoch of the first, read from the epoch rows; NULL epochs: the front
 * alone), the front's members (sw's "front") drawn in colour and joined
 * in the order of the first objective. Nothing for a sweep without a
 * front. 0 or -ENOMEM.
 */
int report_front(FILE *out, const cJSON *sw, const cJSON *trials,
		 const cJSON *epochs);

#endif
