/*
 * motpe.h: MOTPE's split of the observations into good and bad when
 * there are several objectives (Ozaki et al., "Multiobjective
 * Tree-Structured Parzen Estimator for Computationally Expensive
 * Optimization Problems", GECCO 2020; as Optuna 3.1's TPESampler does it
 * for a multi-objective study).
 *
 * Pure, over plain arrays (no cJSON, no sampler types: tpe.c says which
 * observation is what), so it depends on pareto.h only.
 */
#ifndef SWEEPD_DAEMON_MOTPE_H
#define SWEEPD_DAEMON_MOTPE_H

/* What tpe.c knows of each observation before the split. */
enum motpe_role {
	MOTPE_IGNORED = -1,   /* failed, cancelled, or without params */
	MOTPE_BAD = 0,        /* running (the constant liar) or pruned */
	MOTPE_GOOD = 1,       /* (output only) */
	MOTPE_CANDIDATE = 2,  /* completed with params: ranked by its values */
};

/*
 * Splits n_obs observations (trial-number order) for k >= 2 objectives in
 * directions maximize[k] (borrowed), observation i's values at
 * values[i * k .. i * k + k - 1] (borrowed; NULL when n_obs is 0).
 * group[n_obs] (owned by the caller) holds each one's role on entry and
 * 1 good, 0 bad, -1 ignored on return:
 *
 *  - the candidates with k finite values are the valued ones (n); a
 *    candidate with a NaN or an infinity is ignored, as a non-finite value
 *    is with one objective;
 *  - n_good = ceil(gamma n) for gamma in (0, 1), else ("auto", gamma <= 0)
 *    min(ceil(0.1 n), 25); at least 1;
 *  - whole non-domination ranks (pareto_ranks) go to the good group while
 *    they fit; from the first rank that does not, pareto_select picks the
 *    rest greedily by hypervolume against pareto_reference of that rank;
 *    the other valued ones are bad; BAD and IGNORED stay as they are.
 *
 * wgood[n_obs] (owned by the caller): each good one's weight in l(x): its
 * hypervolume contribution within the good group (against
 * pareto_reference of the good group), plus 1e-12, over the largest
 * (so in (0, 1]; one good trial: 1); 0 for the others.
 *
 * Returns n (0: nothing to learn from; group and wgood then say nothing)
 * or -ENOMEM.
 */
int motpe_split(int n_obs, int k, const int *maximize, const double *values,
		double gamma, signed char *group, double *wgood);

#endif
