/*
 * prune.h: the decisions to stop a running trial early. Pure functions of
 * the learning curves: no clock, no state kept between calls, so the
 * daemon asks again after every reported epoch and the answer depends only
 * on what the curves say at that moment.
 *
 * A curve is the sweep's objective at the epochs a trial reported: 1..n,
 * or any ascending epoch numbers (a trainer that reports its global step).
 * The work is O(points), whatever the epoch numbers are; "epoch e" below
 * is an epoch number, and a curve "reaches" e when its last epoch is >= e. A value is "better"
 * when larger with objective.mode "max", smaller with "min"; NaN (a
 * missing or non-finite value) is never better than anything.
 */
#ifndef SWEEPD_DAEMON_PRUNE_H
#define SWEEPD_DAEMON_PRUNE_H

#include <stddef.h>

#include "daemon/search/spec.h"

struct prune_curve {
	const double *v;   /* borrowed [n]: the objective at point i, NAN if
			    * missing */
	const int *epoch;  /* borrowed [n]: point i's epoch number, strictly
			    * ascending; NULL: point i is epoch i + 1 */
	int n;             /* points (epoch lines) reported */
	int done;          /* 1 if the trial completed */
	int budget;        /* epochs the trial is set to run; 0: unknown */
};

/* The last epoch c reached, 0 if none. */
int prune_last_epoch(const struct prune_curve *c);
/* c's best finite value over its epochs up to e ("best so far at e", as
 * every rule below ranks trials), NAN if none. O(points). */
double prune_best_until(const struct spec *s, const struct prune_curve *c,
			int e);

/*
 * The epoch budget of a trial for the pruners: the smaller of its integer
 * "epochs" param (the built-in trainer's, and the usual name) and
 * s->prune_max_epochs, ignoring either when absent or 0; 0 when neither.
 */
int prune_budget(const struct spec *s, const cJSON *params);

/*
 * Neither pruner stops a trial at or past its budget (me->budget > 0 and
 * its last epoch >= me->budget): it has run all its epochs, so stopping it saves
 * nothing and would record a finished trial as pruned. Ray Tune's ASHA
 * likewise never stops a trial at max_t.
 *
 * Median rule (Optuna's MedianPruner). At epoch e = my last epoch, after more than
 * s->prune_warmup epochs, and with at least s->prune_min_trials completed
 * others that reached epoch e with a finite best-so-far there: 1 when my
 * best so far at e is worse than the median of theirs (mean of the middle
 * two for an even count). Equal to the median is not worse. A trial with no
 * finite value yet is worse than any median. Returns 0 or 1 (never for
 * me->done); when 1, why (NUL-terminated, truncated to whylen) says so.
 */
int prune_median(const struct spec *s, const struct prune_curve *me,
		 const struct prune_curve *others, int n_others, char *why,
		 size_t whylen);

/*
 * Asynchronous successive halving (ASHA, Li et al. 2018; Ray Tune's
 * AsyncHyperBandScheduler; Optuna's SuccessiveHalvingPruner). Rungs sit at
 * s->prune_min_epochs * eta^k epochs. Only when my last epoch is exactly a rung r:
 * my best so far at r is ranked among the best-so-far values at r of every
 * other trial (any state) that reached r, me included. With fewer than eta
 * trials at the rung, or fewer than s->prune_min_trials completed others
 * that reached it, I go on (nothing to compare yet); otherwise I go on
 * only if fewer than floor(count / eta) of the others are strictly better
 * than me (so ties go my way). NaN ranks last. Returns 0 or 1, why as above.
 */
int prune_asha(const struct spec *s, const struct prune_curve *me,
	       const struct prune_curve *others, int n_others, char *why,
	       size_t whylen);
/* 1 when prune_asha would look at the others for me at all (my last epoch
 * is a rung, I am not done and not at my budget): a caller skips
 * gathering every other trial's curve for the reports between rungs. */
int prune_asha_judges(const struct spec *s, const struct prune_curve *me);

/*
 * ASHA's promotion (Li et al. 2020, "A System for Massively Parallel
 * Hyperparameter Tuning", Algorithm 2), over the stopping rule above: a
 * trial stopped at rung r goes on again once it is within the top
 * max(1, floor(n_r / eta)) of the n_r trials that reached r (curve i
 * reached r when its last epoch is >= r), ranked by best so far at r;
 * within means fewer than that many are strictly better (ties its way, as
 * prune_asha). c[0..n): every trial of the sweep with a curve;
 * stopped[i]: the rung ASHA stopped trial i at, 0 when it is not stopped
 * by ASHA now (running, completed, failed, or stopped another way);
 * promoted[i]: the highest rung it was promoted from before, 0 if none. A
 * trial is promotable from r only if stopped[i] == r > promoted[i], and
 * never with no finite value at r. The highest rung first, the best value
 * first, then the lowest index. Returns the index, with *rung = r, or -1
 * with *rung = 0. O(rungs * n * points); no allocation. The scheduler
 * asks rungs.h, which keeps an index for the same answer.
 */
int prune_promote(const struct spec *s, const struct prune_curve *c,
		  const int *stopped, const int *promoted, int n, int *rung);

/*
 * Early stopping (as Keras' EarlyStopping): an epoch improves when its
 * value beats the best so far by more than s->es_min_delta (the best moves
 * only on such epochs); 1 when the last s->es_patience epochs (or more,
 * counted in epoch numbers) brought no improvement. Epochs before the first finite value do not
 * count; a curve with no finite value never stops here (the divergence
 * check handles NaN losses). 0 when es_patience is 0. why as above.
 */
int prune_early_stop(const struct spec *s, const struct prune_curve *me,
		     char *why, size_t whylen);

#endif
