/*
 * rungs.h: ASHA's promotion (prune_promote, prune.h) answered from an
 * index kept per rung, not from a scan of every curve.
 *
 * prune_promote ranks every trial's best so far at each rung a trial is
 * stopped at: O(rungs * trials * points) per answer, and the scheduler
 * asks after every end and every report, so a sweep of n trials cost
 * O(n^2) (bench/daemon/README.md). The index holds, per rung r that some
 * trial is stopped at: the number of trials that reached r, their finite
 * best-so-far values at r in rank order, and the trials promotable from r
 * in rank order. A trial that may have changed (rungs_touch) is taken out
 * and put back at the next answer: O(rungs * (points + log n)) plus the
 * move of a sorted array's tail per changed trial; the answer itself is
 * O(rungs * log n). Its answer is prune_promote's for every history
 * (tests/spec/test_hist.c compares them over random histories).
 *
 * The index does not own the curves: the caller hands each trial over
 * through a rungs_get_fn when the index asks for it.
 */
#ifndef SWEEPD_SEARCH_RUNGS_H
#define SWEEPD_SEARCH_RUNGS_H

#include "daemon/search/prune.h"
#include "daemon/search/spec.h"

struct rungs;

/* One trial as prune_promote reads it: its curve (points borrowed until
 * the call that asked returns), stopped and promoted as its stopped[i]
 * and promoted[i]. */
struct rungs_trial {
	struct prune_curve c;
	int stopped, promoted;
};

/* Fills *t with trial number's state (1-based; a number with no record:
 * no points, stopped 0). */
typedef void (*rungs_get_fn)(void *arg, int number, struct rungs_trial *t);

/* An empty index (owned by the caller; rungs_free), NULL on ENOMEM. */
struct rungs *rungs_new(void);
/* Frees r and what it holds; NULL is harmless. */
void rungs_free(struct rungs *r);
/* Trial number may have changed since the index last read it: it is read
 * again at the next rungs_promotable. Never fails (out of memory, every
 * trial is read again). */
void rungs_touch(struct rungs *r, int number);
/*
 * prune_promote over trials 1..n (get): the number to promote, with
 * *rung, or 0 with *rung 0; -ENOMEM (the index is then unusable:
 * rungs_free it). sp is the same at every call on r (its mode and eta).
 * Trials not touched since the last call are not read again.
 */
int rungs_promotable(struct rungs *r, const struct spec *sp, int n,
		     rungs_get_fn get, void *arg, int *rung);

#endif
