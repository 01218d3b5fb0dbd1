/*
 * progress.h: a running trial's report lines: its curve, its epochs
 * stored, its live diagnosis, watchers told, divergence and the pruners.
 */
#ifndef SWEEPD_SCHED_PROGRESS_H
#define SWEEPD_SCHED_PROGRESS_H

#include "common/report.h"

struct trial;

/* Called by trial.c and manual.c for each report line of t. */
void sched_trial_report(struct trial *t, const struct report_line *r);

#endif
