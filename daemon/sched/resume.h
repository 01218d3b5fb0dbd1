/*
 * resume.h: an attempt after an interruption (docs/DESIGN.md,
 * SWEEP_RESUME): its trial directory, the curve so far, the epoch it may
 * resume after.
 */
#ifndef SWEEPD_SCHED_RESUME_H
#define SWEEPD_SCHED_RESUME_H

#include <stddef.h>

struct trial;

/* Before attempt t->attempt starts: makes the trial's directory (path in
 * t->dir) and, for an attempt after the first, loads the trial's stored
 * curve into t (curve, best, best epoch) and sets t->resume_epoch to its
 * last epoch (0: none, or it could not be read: the trainer starts over).
 * Without a root (trialdir_init never called) there is no directory.
 * 0, or -errno with err saying why the directory cannot be made. */
int resume_begin(struct trial *t, char *err, size_t errlen);

#endif
