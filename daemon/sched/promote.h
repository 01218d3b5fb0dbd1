/*
 * promote.h: ASHA's promotion (pruner.promote; Li et al. 2020, Algorithm
 * 2). A trial ASHA stopped at a rung that is now within the rung's top
 * 1/eta goes on: its stored row goes from pruned to queued (once per
 * rung, docs/storage.md), and it is queued first, as an attempt that
 * resumes after its last stored epoch (resume.h). Promotions make no new
 * trials: search.trials counts trials, not attempts.
 */
#ifndef SWEEPD_SCHED_PROMOTE_H
#define SWEEPD_SCHED_PROMOTE_H

struct sweep;

/* Promotes the trial hist_promotion names, if any: 1 when one is queued
 * at the head of sw's queue, 0 when none is, or a negative errno when its
 * row could not be changed (logged; an outage is reported to the
 * scheduler, hold.h). */
int promote_next(struct sweep *sw);
/* (Whether it would promote one now: sweep_promotable, sweep.h.) */

#endif
