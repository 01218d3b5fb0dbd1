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

/* Epoch is about to join t's curve: a curve carried over from an earlier
 * attempt loses epoch and those above (the later attempt's row wins), and
 * t's best is taken again over what is left. */
void resume_overlap(struct trial *t, int epoch);

#endif
