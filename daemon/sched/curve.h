/*
 * curve.h: a trial's learning curve in memory, one point per epoch line,
 * across its attempts: a resumed attempt starts with the stored curve of
 * the ones before (resume.c), and an epoch it reports replaces that epoch
 * and every later one (docs/DESIGN.md: the later attempt's row wins).
 */
#ifndef SWEEPD_SCHED_CURVE_H
#define SWEEPD_SCHED_CURVE_H

#include "common/report.h"

struct trial;

/* Appends r (objective: its objective metric) to t's curve. 0, -ENOMEM,
 * or -EINVAL for a line that is no epoch. */
int curve_append(struct trial *t, const struct report_line *r,
		 double objective);

/* Drops every point at epoch or later (0: all of them), and recomputes
 * t->best and t->best_epoch when any went. */
void curve_cut(struct trial *t, int epoch);

/* t->best and t->best_epoch from the curve: the first epoch of the best
 * finite objective, as the progress of a trial keeps them epoch by epoch. */
void curve_take_best(struct trial *t);

#endif
