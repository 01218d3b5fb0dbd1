/*
 * tpe_joint.c: multivariate TPE. With search.multivariate, as Optuna's
 * TPESampler(multivariate=True) and BOHB's estimator (Falkner et al.
 * 2018): each member of a group is one product kernel over all the joint
 * params, so l(x) keeps what the good trials have in common jointly (a
 * learning rate good with one optimizer and bad with another), which
 * tpe.c's per-param marginals lose.
 * Candidates are drawn from l (one kernel, then each param from it) and
 * the one with the largest l(x)/g(x) over the joint wins. Written from
 * the paper and Optuna's documented behaviour; no code of theirs.
 *
 * The joint params are the sampled ones without "when": every trial has
 * them. A conditional param stays univariate (tpe.c, over the trials where
 * it is active), as Optuna's multivariate sampler does with
 * a param outside the intersection of the trials' search spaces: a
 * product kernel over a param a member lacks has no value to sit on, and
 * scoring candidates over different sets of params would compare
 * densities of different dimension.
 *
 * Kernel widths: numeric param j gets Optuna's multivariate width,
 * SIGMA0 n^(-1 / (d + 4)) range_j (a Scott-like rule for n points in d
 * dimensions), magic-clipped as the univariate widths are; the prior
 * kernel is the univariate one (middle, width = the range; uniform over
 * the choices) and weighs TPE_PRIOR_WEIGHT; members weigh as in the
 * univariate estimators. A choice is the univariate categorical kernel.
 */
#include "daemon/search/tpe_joint.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/tpe_space.h"

#define STREAM_JOINT  UINT64_C(0x6a6f696e742d7470)   /* "joint-tp" */
#define SIGMA0        0.2

struct joint {
	int d;                           /* joint params */
	const struct spec_param **p;     /* borrowed [d] */
	int n;                           /* kernels, the prior last */
	double *x;       /* owned [n * d]: kernel centres, internal values or
			  * choice indices (-1 in the prior: uniform) */
	double *lw;      /* owned [n]: log of the normalized weights */
	double *lz;      /* owned [n * d]: log of the kernel's mass in range
			  * (numeric params) */
	double *sigma;   /* owned [d]: the members' width (numeric params) */
	double *range;   /* owned [d]: internal range (numeric params) */
	double eps;      /* choices: smoothing, TPE_PRIOR_WEIGHT / n */
	double *scratch; /* owned [n] */
};

static void
joint_free(struct joint *j)
{
	free(j->x);
	free(j->lw);
	free(j->lz);
	free(j->sigma);
	free(j->range);
	free(j->scratch);
	memset(j, 0, sizeof *j);
}

/* Param k's value in params as a kernel centre: 1, or 0 when missing or
 * not from this space (the observation is then left out). */
static int
joint_coord(const struct spec_param *p, const cJSON *params, double *x)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, p->name);

	if (p->kind == SPEC_CHOICE) {
		*x = tpe_choice_index(p, v);
		return *x >= 0;
	}
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
	    v->valuedouble < p->low || v->valuedouble > p->high)
		return 0;
	*x = tpe_to_internal(p, v->valuedouble);
	return 1;
}

static double
kernel_sigma(const struct joint *j, int k, int c)
{
	return k == j->n - 1 ? j->range[c] : j->sigma[c];
}

/* The members of group `which` (weights wobs per observation, NULL: by
 * age) into j's kernels, then the prior. 0 or -ENOMEM (j freed by the
 * caller either way). */
static int
joint_init(struct joint *j, const struct spec_param **p, int d,
	   const struct sampler_obs *obs, int n_obs, const signed char *group,
	   int which, const double *wobs)
{
	size_t cap = (size_t)n_obs + 1;
	double *w = malloc(cap * sizeof *w), total = TPE_PRIOR_WEIGHT, lo, hi;
	int m = 0, rc = -ENOMEM;

	memset(j, 0, sizeof *j);
	j->d = d;
	j->p = p;
	j->x = malloc(cap * (size_t)d * sizeof *j->x);
	j->lw = malloc(cap * sizeof *j->lw);
	j->lz = malloc(cap * (size_t)d * sizeof *j->lz);
	j->sigma = malloc((size_t)d * sizeof *j->sigma);
	j->range = malloc((size_t)d * sizeof *j->range);
	j->scratch = malloc(cap * sizeof *j->scratch);
	if (!w || !j->x || !j->lw || !j->lz || !j->sigma || !j->range ||
	    !j->scratch)
		goto out;
	for (int i = 0; i < n_obs; i++) {
		int ok = group[i] == which;
		for (int c = 0; ok && c < d; c++)
			ok = joint_coord(p[c], obs[i].params, &j->x[m * d + c]);
		if (!ok)
			continue;
		if (wobs)
			w[m] = wobs[i];
		m++;
	}
	if (!wobs)
		tpe_ramp_weights(w, m);
	j->n = m + 1;
	for (int c = 0; c < d; c++) {
		if (p[c]->kind == SPEC_CHOICE) {
			j->x[m * d + c] = -1;
			continue;
		}
		tpe_internal_bounds(p[c], &lo, &hi);
		j->range[c] = hi - lo;
		j->x[m * d + c] = 0.5 * (lo + hi);
		j->sigma[c] = fmin(fmax(SIGMA0 * pow(fmax(m, 1), -1.0 / (d + 4)) *
					j->range[c],
					j->range[c] / fmin(100.0, 1.0 + j->n)),
				   j->range[c]);
	}
	w[m] = TPE_PRIOR_WEIGHT;
	for (int k = 0; k < m; k++)
		total += w[k];
	for (int k = 0; k < j->n; k++) {
		j->lw[k] = log(w[k] / total);
		for (int c = 0; c < d; c++) {
			double s;
			if (p[c]->kind == SPEC_CHOICE)
				continue;
			tpe_internal_bounds(p[c], &lo, &hi);
			s = kernel_sigma(j, k, c);
			j->lz[k * d + c] = log(fmax(tpe_phi_diff((lo - j->x[k * d + c]) / s,
							     (hi - j->x[k * d + c]) / s),
						    1e-300));
		}
	}
	j->eps = TPE_PRIOR_WEIGHT / j->n;
	rc = 0;
out:
	free(w);
	return rc;
}

/* log of kernel k's factor for param c at v (its value; a choice's index). */
static double
joint_factor(const struct joint *j, int k, int c, double v)
{
	const struct spec_param *p = j->p[c];
	double mu = j->x[k * j->d + c], s, lo, hi, a, b;

	if (p->kind == SPEC_CHOICE)
		return mu < 0 ? -log(p->n_values) :
		       log((j->eps + (v == mu)) / (1.0 + p->n_values * j->eps));
	s = kernel_sigma(j, k, c);
	if (!tpe_is_int(p)) {
		a = (tpe_to_internal(p, v) - mu) / s;
		return -0.5 * a * a - log(s) - 0.5 * log(2 * M_PI) -
		       j->lz[k * j->d + c];
	}
	tpe_internal_bounds(p, &lo, &hi);
	a = fmax(tpe_to_internal(p, v - 0.5), lo);
	b = fmin(tpe_to_internal(p, v + 0.5), hi);
	return log(fmax(tpe_phi_diff((a - mu) / s, (b - mu) / s), 1e-300)) -
	       j->lz[k * j->d + c];
}

/* log of j's density (integers: mass of the bins) at v[d]. */
static double
joint_logpdf(const struct joint *j, const double *v)
{
	double best = -INFINITY, sum = 0;

	for (int k = 0; k < j->n; k++) {
		double t = j->lw[k];
		for (int c = 0; c < j->d; c++)
			t += joint_factor(j, k, c, v[c]);
		j->scratch[k] = t;
		best = fmax(best, t);
	}
	for (int k = 0; k < j->n; k++)
		if (j->scratch[k] > best - TPE_LOG_NEGLIGIBLE)
			sum += exp(j->scratch[k] - best);
	return best + log(sum);
}

/* A draw from j into v[d]: one kernel by weight, each param from it. */
static void
joint_sample(const struct joint *j, struct sampler_rng *r, double *v)
{
	double u = sampler_rng_uniform(r), acc = 0, lo, hi;
	int k = j->n - 1;

	for (int i = 0; i < j->n; i++) {
		acc += exp(j->lw[i]);
		if (u < acc) {
			k = i;
			break;
		}
	}
	for (int c = 0; c < j->d; c++) {
		const struct spec_param *p = j->p[c];
		double mu = j->x[k * j->d + c];
		int K = p->n_values, pick = K - 1;

		if (p->kind != SPEC_CHOICE) {
			tpe_internal_bounds(p, &lo, &hi);
			v[c] = tpe_from_internal(p, tpe_trunc_draw(mu, kernel_sigma(j, k, c),
							   lo, hi, r));
			continue;
		}
		u = sampler_rng_uniform(r);
		acc = 0;
		for (int i = 0; i < K; i++) {
			acc += mu < 0 ? 1.0 / K :
			       (j->eps + (i == mu)) / (1.0 + K * j->eps);
			if (u < acc) {
				pick = i;
				break;
			}
		}
		v[c] = pick;
	}
}

/* The joint params of s (sampled, without "when") into p; their count. */
static int
joint_params(const struct spec *s, const struct spec_param **p)
{
	int d = 0;

	for (int i = 0; i < s->n_params; i++)
		if (s->params[i].kind != SPEC_CONST && s->params[i].n_when == 0)
			p[d++] = &s->params[i];
	return d;
}

int
tpe_joint_suggest(const struct spec *s, int number,
		  const struct sampler_obs *obs, int n_obs,
		  const signed char *group, const double *wgood,
		  const struct spec_param **p, double *out)
{
	int d = joint_params(s, p), rc = -ENOMEM;
	struct joint l = { 0 }, g = { 0 };
	double *cand = malloc(((size_t)d + 1) * sizeof *cand);
	double best_score = -INFINITY;
	struct sampler_rng r;

	if (!cand)
		return -ENOMEM;
	if (d == 0) {
		rc = 0;
		goto out;
	}
	if (joint_init(&l, p, d, obs, n_obs, group, 1, wgood) < 0 ||
	    joint_init(&g, p, d, obs, n_obs, group, 0, NULL) < 0)
		goto out;
	sampler_rng_init(&r, sampler_trial_seed(s->seed, number) ^ TPE_STREAM,
			 STREAM_JOINT);
	for (int c = 0; c < s->tpe_n_candidates; c++) {
		double sc;
		joint_sample(&l, &r, cand);
		sc = joint_logpdf(&l, cand) - joint_logpdf(&g, cand);
		if (c == 0 || sc > best_score) {
			memcpy(out, cand, (size_t)d * sizeof *out);
			best_score = sc;
		}
	}
	rc = d;
out:
	joint_free(&l);
	joint_free(&g);
	free(cand);
	return rc;
}
