/*
 * importance.h: which params mattered, as shares of a value's variance.
 *
 * For each param, its first-order (main-effect) share of the variance of
 * y over the trials: Var(E[y | param]) / Var(y), what fANOVA reports as a
 * param's individual importance. Estimated without a model, by the
 * correlation ratio over bins of the param's values (a choice's values;
 * a numeric param's values cut into equal-count bins; trials where a
 * conditional param is inactive form a bin of their own), corrected for
 * the spread that noise alone gives bin means (omega squared:
 * (SS_between - (k - 1) MS_within) / (SS_total + MS_within), floored at
 * 0). With independently sampled params (random or grid search) this
 * estimates the main-effect shares of functional ANOVA; with TPE the
 * params are correlated and a param riding on another's effect gets some
 * of its share. Shares need not sum to 1: the rest is interactions and
 * noise. A pure module (cJSON and libc).
 *
 * Why not fANOVA on a random forest (Optuna's default) or PED-ANOVA: with
 * independently sampled params this estimates the same main-effect shares
 * directly, deterministically, in O(n log n) per param and with nothing to
 * tune or seed; a forest would add a model, its randomness and its cost
 * (10,000 trials); PED-ANOVA answers another question (what it takes to
 * reach the top quantile). Each verdict's split costs O(n) more per param.
 *
 * How it is tested: tests/spec/test_importance.c checks the shares against
 * ones known in closed form (an additive objective over random-search
 * trials: each term's variance over the total), a 0/1 outcome driven by
 * one param, no share made up without evidence, and the verdict entries
 * (order, counts, a verdict every trial got left out);
 * tests/integration/test_search.py the op and sweepctl's rendering over a
 * real sweep; tests/integration/test_importance.py the op on 10,000
 * trials, off the loop (daemon/serve/ops_imp.h).
 */
#ifndef SWEEPD_DAEMON_IMPORTANCE_H
#define SWEEPD_DAEMON_IMPORTANCE_H

#include <cJSON.h>

#include "daemon/search/spec.h"

#define IMPORTANCE_MIN_TRIALS 4   /* fewer: every share is NAN */

struct importance_obs {
	const cJSON *params;   /* borrowed: the trial's params object */
	double y;              /* finite: the value whose variance is split */
};

/*
 * share[n_params] of spec s from obs[n_obs]: in [0, 1] for each param,
 * NAN for a constant, for a param with a single bin, and for all of them
 * with fewer than IMPORTANCE_MIN_TRIALS observations or no variance in y.
 * Returns 0 or -ENOMEM.
 */
int importance_shares(const struct spec *s, const struct importance_obs *obs,
		      int n_obs, double *share);

/*
 * The `importance` op's answer for spec s from trials (borrowed: the
 * `trials` op's array): a new object in *out,
 *   {"method": "...", "trials": N (completed, with a finite objective),
 *    "objective": [{"param": p, "share": x | null}, ...] (largest first,
 *                  constants left out, null: not estimable),
 *    "verdicts": [{"verdict": v, "trials": k, "of": M,
 *                  "params": [... as above]}, ...]}
 * where each verdict given to at least one but not every one of the M
 * diagnosed trials splits the variance of "trial was diagnosed v" (0/1).
 * Returns 0 or -ENOMEM.
 */
int importance_json(const struct spec *s, const cJSON *trials, cJSON **out);

#endif
