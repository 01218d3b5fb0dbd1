/*
 * tpe.h: the Tree-structured Parzen Estimator (Bergstra et al., 2011), as
 * Optuna's TPESampler does it by default: univariate, one estimator pair
 * per param (multivariate on request).
 *
 * The trials with a value are ranked (completed ones by objective, then
 * pruned ones by epochs reached and their best-so-far value) and split at
 * the gamma quantile into good and bad. For each param, l(x) is a Parzen
 * estimator over the good trials' values and g(x) over the bad ones
 * (running trials count as bad: the "constant liar", so parallel trials
 * started close together do not all land on the same point; failed and
 * cancelled trials are ignored). n_candidates values are drawn from l and
 * the one with the largest l(x)/g(x) wins. With s->tpe_multivariate the
 * params without "when" are drawn and scored jointly instead (one product
 * kernel per trial, Optuna's multivariate=True); the conditional ones stay
 * univariate. Details in docs/spec.md.
 */
#ifndef SWEEPD_DAEMON_TPE_H
#define SWEEPD_DAEMON_TPE_H

#include <stddef.h>

#include <cJSON.h>

#include "daemon/search/sampler_rng.h"
#include "daemon/search/spec.h"

/*
 * Adds every space param of s (constants copied), in spec order, to out
 * (an empty object, borrowed) for trial `number`, learning from obs[n_obs]
 * (borrowed, in trial-number order, as Optuna orders its trials). Random draws come from a
 * stream seeded by sampler_trial_seed(s->seed, number) only, so the same
 * spec, seed and observations give the same params.
 *
 * Returns 1 when it filled out; 0 when no observation has a value yet (out
 * untouched: the caller samples at random); -ENOMEM (err set).
 */
int tpe_suggest(const struct spec *s, int number,
		const struct sampler_obs *obs, int n_obs, cJSON *out,
		char *err, size_t errlen);

/*
 * The same with objectives objs (borrowed; NULL or k = 1: tpe_suggest,
 * bit for bit). With k > 1 this is MOTPE (Ozaki et al. 2020, as Optuna
 * 3.1's TPESampler does it for a multi-objective study): the good group
 * is chosen by motpe_split (non-domination rank, then hypervolume) and
 * weighted by each good trial's hypervolume contribution; the estimators
 * and the l(x)/g(x) choice are the ones above. Returns as tpe_suggest (0:
 * no completed trial with k finite values yet).
 */
int tpe_suggest_mo(const struct spec *s,
		   const struct sampler_objectives *objs, int number,
		   const struct sampler_obs *obs, int n_obs, cJSON *out,
		   char *err, size_t errlen);

/* ---- the estimator, exposed for tests --------------------------------- */

/*
 * A one-dimensional Parzen estimator over a numeric param in its internal
 * space (log for loguniform/logint, values widened by 0.5 on both ends for
 * int ranges): truncated Gaussian kernels at the observed points plus a
 * prior kernel (the middle of the range, sigma = the whole range).
 */
struct tpe_parzen {
	int n;               /* kernels, the prior included */
	double *mu;          /* owned [n] */
	double *sigma;       /* owned [n] */
	double *w;           /* owned [n], sums to 1 */
	double *wz;          /* owned [n]: w / Z, Z the kernel's mass in range */
	double *lc;          /* owned [n]: log(w / (sigma sqrt(2 pi) Z)) */
	double *scratch;     /* owned [n]: per-kernel terms of one evaluation
			      * (so tpe_parzen_logpdf is not reentrant) */
	double lo, hi;       /* internal bounds */
};

/*
 * Builds p over x[n_x] (internal values, borrowed) with weights wx[n_x]
 * (NULL: all 1; need not be normalized), within [lo, hi], lo < hi.
 * Returns 0 or -ENOMEM; tpe_parzen_free releases it (also after failure).
 */
int tpe_parzen_init(struct tpe_parzen *p, const double *x, const double *wx,
		    int n_x, double lo, double hi);
void tpe_parzen_free(struct tpe_parzen *p);

/* log density of p at x (continuous; -inf outside [lo, hi]). */
double tpe_parzen_logpdf(const struct tpe_parzen *p, double x);

/* log of the mass p gives [a, b] (a < b, clipped to [lo, hi]). */
double tpe_parzen_logmass(const struct tpe_parzen *p, double a, double b);

/* A draw from p with r, within [lo, hi]. */
double tpe_parzen_sample(const struct tpe_parzen *p, struct sampler_rng *r);

#endif
