/*
 * motpe.h: MOTPE's split of the observations into good and bad when
 * there are several objectives (Ozaki et al., "Multiobjective
 * Tree-Structured Parzen Estimator for Computationally Expensive
 * Optimization Problems", GECCO 2020; as Optuna 3.1's TPESampler does it
 * for a multi-objective study).
 *
 * Pure: no cJSON beyond reading which observations have params, no I/O.
 */
#ifndef SWEEPD_DAEMON_MOTPE_H
#define SWEEPD_DAEMON_MOTPE_H

#include "daemon/search/sampler.h"

/*
 * Splits obs[n_obs] (borrowed, trial-number order) for k >= 2 objectives
 * in directions maximize[k] (borrowed), obs[i]'s values at
 * values[i * k .. i * k + k - 1] (borrowed; NULL when n_obs is 0):
 *
 *  - valued: completed, with params and k finite values (n of them);
 *    the others completed are ignored, as non-finite ones are with one
 *    objective;
 *  - n_good = ceil(gamma n) for gamma in (0, 1), else ("auto", gamma <= 0)
 *    min(ceil(0.1 n), 25); at least 1;
 *  - whole non-domination ranks (pareto_ranks) go to the good group while
 *    they fit; from the first rank that does not, pareto_select picks the
 *    rest greedily by hypervolume against pareto_reference of that rank;
 *  - the other valued ones, the pruned ones (with several objectives a
 *    pruned trial's values are those of an unfinished run: never good)
 *    and the running ones (the constant liar) are bad; failed ones and
 *    any without params are ignored.
 *
 * group[n_obs] (owned by the caller): 1 good, 0 bad, -1 ignored.
 * wgood[n_obs] (owned by the caller): each good one's weight in l(x): its
 * hypervolume contribution within the good group (against
 * pareto_reference of the good group), plus 1e-12, over the largest
 * (so in (0, 1]; one good trial: 1); 0 for the others.
 *
 * Returns n (0: nothing to learn from; group and wgood then say nothing)
 * or -ENOMEM.
 */
int motpe_split(const struct sampler_obs *obs, int n_obs, int k,
		const int *maximize, const double *values, double gamma,
		signed char *group, double *wgood);

#endif
