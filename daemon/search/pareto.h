/*
 * pareto.h: several objectives: dominance, non-dominated sorting,
 * hypervolume and each point's contribution to it, the Pareto front.
 *
 * A pure module (no cJSON, no I/O, no global state; reentrant, so it may
 * run on a pool thread). A set of n points of k objectives is an array
 * v[n * k], row-major (point i's objective j at v[i * k + j]), borrowed.
 * maximize[k] (borrowed; NULL: every objective is minimized) says, per
 * objective, whether higher is better.
 *
 * NaN is the worst value an objective can take: worse than any number and
 * than the worst infinity, equal to another NaN. So a point with a NaN
 * can still be non-dominated when it is the best on another objective;
 * callers that want only finite points filter them out first. In the
 * hypervolume a NaN (or any value not strictly better than the reference
 * point) puts the point outside the measured box: it counts for nothing.
 *
 * Returns are 0 (or a count) and -EINVAL for k < 1, n < 0 or a NaN in the
 * reference point, -ENOMEM when out of memory.
 */
#ifndef SWEEPD_DAEMON_PARETO_H
#define SWEEPD_DAEMON_PARETO_H

/* 1 when a dominates b: no worse on every objective, better on one. */
int pareto_dominates(const double *a, const double *b, int k,
		     const int *maximize);

/*
 * Non-dominated sorting: rank[i] (n, owned by the caller) is the number of
 * point i's front: 0 for the non-dominated points, 1 for those dominated
 * only by rank-0 ones, and so on. Equal points share a rank. With
 * enough > 0 sorting stops after the first front that brings the ranked
 * points to at least `enough` (that front is complete); the points not
 * reached get -1 (worse than every rank given). Returns the number of
 * fronts ranked.
 *
 * Cost: two objectives, O(n log n) (a sort, then each point finds its
 * front by bisection over the fronts' last points). Three or more: a
 * sort, then each front costs (points left) x (its size) x k
 * comparisons: O(k n^2) in the worst case (one front of n points), about
 * O(k n f) for the f points of the first fronts when enough is small.
 */
int pareto_ranks(const double *v, int n, int k, const int *maximize,
		 int *rank, int enough);

/* The indices (idx[n], owned by the caller) of the non-dominated points,
 * ascending: what `best` returns; equal points are all kept. Returns how
 * many. */
int pareto_front(const double *v, int n, int k, const int *maximize,
		 int *idx);

/*
 * The hypervolume of the set against the reference point ref[k]
 * (borrowed, in the objectives' own directions): the measure of the
 * region each of whose points is dominated by some point of the set and
 * dominates ref. Into *out.
 *
 * Method: exact. k = 1 is a length, k = 2 a sweep over the points sorted
 * by the first objective (O(n log n)); k >= 3 slices along the last
 * objective (HSO, "hypervolume by slicing objectives"): between two
 * consecutive values of it, the (k-1)-dimensional hypervolume of the
 * points at or below the slice, down to the 2-D sweep. Cost
 * O(n^(k-1) log n): 3 objectives n^2 log n, 4 objectives n^3 log n
 * (a front of 100 points: milliseconds). Dominated points are removed
 * before each slice.
 */
int pareto_hypervolume(const double *v, int n, int k, const int *maximize,
		       const double *ref, double *out);

/*
 * Each point's exclusive contribution, contrib[n] (owned by the caller):
 * hypervolume of the set minus that of the set without the point. A
 * dominated point, and each of two equal points, contributes 0. Cost n + 1
 * hypervolumes.
 */
int pareto_contributions(const double *v, int n, int k, const int *maximize,
			 const double *ref, double *contrib);

/*
 * Greedy hypervolume subset selection: m of the n points (m <= n) chosen
 * one at a time, each the one adding the most hypervolume to those
 * already chosen (ties: the lowest index), as Optuna's MOTPE does for the
 * front that does not fit (a 1 - 1/e approximation of the best subset).
 * chosen[m] (owned by the caller) gets their indices in the order chosen.
 * Cost m x n hypervolumes of at most m points.
 */
int pareto_select(const double *v, int n, int k, const int *maximize,
		  const double *ref, int m, int *chosen);

/*
 * Optuna's reference point for a set (its MOTPE): per objective, the
 * worst value w among the points pushed away by a tenth of |w| (1.1 w or
 * 0.9 w, whichever is worse), or by 1e-12 when w is 0; into ref[k].
 * Every finite point is then strictly better than ref. Points with a
 * non-finite value are skipped; with none left ref is all 0 and -EINVAL
 * is returned.
 */
int pareto_reference(const double *v, int n, int k, const int *maximize,
		     double *ref);

#endif
