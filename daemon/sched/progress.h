/*
 * progress.h: a running trial's report lines: its curve, its epochs
 * stored, its live diagnosis, watchers told, divergence and the pruners.
 */
#ifndef SWEEPD_SCHED_PROGRESS_H
#define SWEEPD_SCHED_PROGRESS_H

#include "common/report.h"

struct trial;

/* Appends r (objective: its objective metric) to t's in-memory curve;
 * -ENOMEM, -EINVAL. resume.c seeds a resumed attempt's curve with it. */
int progress_curve_append(struct trial *t, const struct report_line *r,
			  double objective);

/* Called by trial.c and manual.c for each report line of t. */
void sched_trial_report(struct trial *t, const struct report_line *r);

#endif
