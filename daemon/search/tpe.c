/*
 * tpe.c: Tree-structured Parzen Estimator.
 *
 * Follows the univariate TPE of hyperopt and Optuna's TPESampler defaults:
 * kernel widths from the distance to the neighbouring points (clipped by
 * the "magic clip" to [range / min(100, n + 1), range]), a prior kernel
 * of weight 1 in the middle of the range, older observations weighted down
 * once there are more than 25, and for choices a smoothed categorical
 * kernel per observation plus a uniform prior. Written from the paper and
 * the behaviour of those libraries; no code of theirs.
 *
 * Everything here is deterministic: the ranking breaks ties by trial
 * number (the order of obs) and all randomness comes from the trial's own generator.
 */
#include "daemon/search/tpe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/motpe.h"
#include "daemon/search/tpe_joint.h"
#include "daemon/search/tpe_space.h"

#define LOG_TINY      (-700.0)
/* Beyond this many sigmas from a kernel's centre its mass is below 1e-23:
 * next to the prior kernel's (>= 1e-7 of any bin for n <= a million
 * trials) nothing, so phi_diff is not computed there. */
#define Z_FAR          10.0

/* ---- ranking ----------------------------------------------------------- */

struct ranked {
	int idx;       /* into obs: trial-number order */
	int pruned;    /* 0: completed, 1: pruned (ranked after) */
	int epochs;
	double loss;   /* the objective turned so that lower is better */
};

static int
cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;

	if (a->pruned != b->pruned)
		return a->pruned - b->pruned;
	/* A pruned trial that got further is the better one, as in Optuna. */
	if (a->pruned && a->epochs != b->epochs)
		return b->epochs - a->epochs;
	if (a->loss != b->loss)
		return a->loss < b->loss ? -1 : 1;
	return a->idx - b->idx;
}

/*
 * The membership of each observation: 1 good, 0 bad, -1 ignored. Returns
 * how many carry a value (0: nothing to learn from) or -ENOMEM.
 */
static int
split(const struct spec *s, const struct sampler_obs *obs, int n_obs,
      signed char *group)
{
	struct ranked *r = calloc((size_t)n_obs + 1, sizeof *r);
	int n = 0, n_good;

	if (!r)
		return -ENOMEM;
	for (int i = 0; i < n_obs; i++) {
		const struct sampler_obs *o = &obs[i];
		int valued = (o->state == SAMPLER_COMPLETE ||
			      o->state == SAMPLER_PRUNED) && isfinite(o->value);

		/* Constant liar: a running trial is taken for a bad one. */
		group[i] = o->state == SAMPLER_RUNNING && o->params ? 0 : -1;
		if (!valued || !o->params)
			continue;
		r[n].idx = i;
		r[n].pruned = o->state == SAMPLER_PRUNED;
		r[n].epochs = o->epochs;
		r[n].loss = s->mode_max ? -o->value : o->value;
		n++;
	}
	qsort(r, (size_t)n, sizeof *r, cmp_ranked);
	if (s->tpe_gamma > 0)
		n_good = (int)ceil(s->tpe_gamma * n);
	else   /* "auto": Optuna's default split */
		n_good = (int)fmin(ceil(0.1 * n), 25.0);
	if (n_good < 1)
		n_good = 1;
	for (int k = 0; k < n; k++)
		group[r[k].idx] = k < n_good ? 1 : 0;
	free(r);
	return n;
}

/* ---- the Parzen estimator -------------------------------------------- */

static int
cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return a < b ? -1 : a > b;
}

/* Kernel widths: the larger gap to a neighbour among the sorted points
 * (prior included); the outermost points use their one inner gap. */
static void
neighbour_sigmas(struct tpe_parzen *p, int n_x)
{
	int n = p->n;   /* n_x points + the prior */
	double *sorted = malloc((size_t)n * sizeof *sorted);
	double range = p->hi - p->lo;
	double smin = range / fmin(100.0, 1.0 + n), left, right;

	for (int i = 0; i < n_x; i++)
		p->sigma[i] = range;
	if (!sorted)
		return;   /* wide kernels: still a valid estimator */
	memcpy(sorted, p->mu, (size_t)n * sizeof *sorted);
	qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
	for (int i = 0; i < n_x; i++) {
		/* The point's place in sorted (first equal one), by bisection:
		 * a linear scan is quadratic in the trials of a long sweep. */
		int k = 0, hi_k = n - 1;
		while (k < hi_k) {
			int mid = k + (hi_k - k) / 2;
			if (sorted[mid] < p->mu[i])
				k = mid + 1;
			else
				hi_k = mid;
		}
		left = k > 0 ? sorted[k] - sorted[k - 1] : sorted[k] - p->lo;
		right = k < n - 1 ? sorted[k + 1] - sorted[k] : p->hi - sorted[k];
		if (n >= 2 && k == 0)
			left = right;
		if (n >= 2 && k == n - 1)
			right = left;
		p->sigma[i] = fmin(fmax(fmax(left, right), smin), range);
	}
	free(sorted);
}

/* Mass of kernel k inside [lo, hi]: its truncation normalizer. */
static double
kernel_z(const struct tpe_parzen *p, int k)
{
	double a = (p->lo - p->mu[k]) / p->sigma[k];
	double b = (p->hi - p->mu[k]) / p->sigma[k];
	double z;

	if (a < -Z_FAR && b > Z_FAR)
		return 1.0;   /* well inside: 1 - 1e-23 */
	z = tpe_phi_diff(a, b);
	return z > 1e-300 ? z : 1e-300;
}

int
tpe_parzen_init(struct tpe_parzen *p, const double *x, const double *wx,
		int n_x, double lo, double hi)
{
	double total = TPE_PRIOR_WEIGHT;

	memset(p, 0, sizeof *p);
	p->lo = lo;
	p->hi = hi;
	p->n = n_x + 1;
	p->mu = malloc((size_t)p->n * sizeof *p->mu);
	p->sigma = malloc((size_t)p->n * sizeof *p->sigma);
	p->scratch = malloc((size_t)p->n * sizeof *p->scratch);
	p->w = malloc((size_t)p->n * sizeof *p->w);
	p->wz = malloc((size_t)p->n * sizeof *p->wz);
	p->lc = malloc((size_t)p->n * sizeof *p->lc);
	if (!p->mu || !p->sigma || !p->w || !p->wz || !p->lc || !p->scratch)
		return -ENOMEM;
	for (int i = 0; i < n_x; i++) {
		p->mu[i] = x[i];
		p->w[i] = wx ? wx[i] : 1.0;
		total += p->w[i];
	}
	p->mu[n_x] = 0.5 * (lo + hi);
	p->sigma[n_x] = hi - lo;
	p->w[n_x] = TPE_PRIOR_WEIGHT;
	neighbour_sigmas(p, n_x);
	/* The constants of each kernel, once: the density is evaluated
	 * n_candidates times per param and suggestion. */
	for (int i = 0; i < p->n; i++) {
		double z = kernel_z(p, i);
		p->w[i] /= total;
		p->wz[i] = p->w[i] / z;
		p->lc[i] = log(p->wz[i]) - log(p->sigma[i]) - 0.5 * log(2 * M_PI);
	}
	return 0;
}

void
tpe_parzen_free(struct tpe_parzen *p)
{
	free(p->mu);
	free(p->sigma);
	free(p->w);
	free(p->wz);
	free(p->lc);
	free(p->scratch);
	memset(p, 0, sizeof *p);
}

double
tpe_parzen_logpdf(const struct tpe_parzen *p, double x)
{
	double best = -INFINITY, sum = 0;

	if (x < p->lo || x > p->hi)
		return -INFINITY;
	/* log sum_k w_k N(x; mu_k, s_k) / Z_k, by log-sum-exp in two passes;
	 * with many trials most kernels are far from x: no exp() for them. */
	for (int k = 0; k < p->n; k++) {
		double z = (x - p->mu[k]) / p->sigma[k];
		p->scratch[k] = p->lc[k] - 0.5 * z * z;
		best = fmax(best, p->scratch[k]);
	}
	for (int k = 0; k < p->n; k++)
		if (p->scratch[k] > best - TPE_LOG_NEGLIGIBLE)
			sum += exp(p->scratch[k] - best);
	return best + log(sum);
}

double
tpe_parzen_logmass(const struct tpe_parzen *p, double a, double b)
{
	double m = 0;

	a = fmax(a, p->lo);
	b = fmin(b, p->hi);
	if (a >= b)
		return -INFINITY;
	for (int k = 0; k < p->n; k++) {
		double za = (a - p->mu[k]) / p->sigma[k];
		double zb = (b - p->mu[k]) / p->sigma[k];
		if (za > Z_FAR || zb < -Z_FAR)
			continue;   /* the bin is in this kernel's far tail */
		m += p->wz[k] * tpe_phi_diff(za, zb);
	}
	if (m > 1e-300)
		return log(m);
	/* Far in every kernel's tail: the density at the middle will do. */
	return tpe_parzen_logpdf(p, 0.5 * (a + b)) + log(b - a);
}

double
tpe_parzen_sample(const struct tpe_parzen *p, struct sampler_rng *r)
{
	double u = sampler_rng_uniform(r), acc = 0;
	int k = p->n - 1;

	for (int i = 0; i < p->n; i++) {
		acc += p->w[i];
		if (u < acc) {
			k = i;
			break;
		}
	}
	return tpe_trunc_draw(p->mu[k], p->sigma[k], p->lo, p->hi, r);
}

/* ---- numeric params ---------------------------------------------------- */

/* The score of value v: log l(v) - log g(v), by bin mass for integers. */
static double
score(const struct spec_param *p, const struct tpe_parzen *l,
      const struct tpe_parzen *g, double v)
{
	double a, b;

	if (!tpe_is_int(p))
		return tpe_parzen_logpdf(l, tpe_to_internal(p, v)) -
		       tpe_parzen_logpdf(g, tpe_to_internal(p, v));
	a = tpe_to_internal(p, v - 0.5);
	b = tpe_to_internal(p, v + 0.5);
	return tpe_parzen_logmass(l, a, b) - tpe_parzen_logmass(g, a, b);
}

/* Internal values (and weights) of the members of one group: wobs[]
 * (per observation; NULL: by age, ramp_weights). */
static int
gather_numeric(const struct spec_param *p, const struct sampler_obs *obs,
	       int n_obs, const signed char *group, int which,
	       const double *wobs, double *x, double *w)
{
	int n = 0;

	for (int i = 0; i < n_obs; i++) {
		const cJSON *v;
		if (group[i] != which)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(obs[i].params, p->name);
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
		    v->valuedouble < p->low || v->valuedouble > p->high)
			continue;   /* not from this space (an older spec?) */
		if (wobs)
			w[n] = wobs[i];
		x[n++] = tpe_to_internal(p, v->valuedouble);
	}
	if (!wobs)
		tpe_ramp_weights(w, n);
	return n;
}

static cJSON *
suggest_numeric(const struct spec_param *p, const struct sampler_obs *obs,
		int n_obs, const signed char *group, const double *wgood,
		int n_cand, struct sampler_rng *r)
{
	double *buf = malloc(4 * ((size_t)n_obs + 1) * sizeof *buf);
	struct tpe_parzen l = { 0 }, g = { 0 };
	double lo, hi, best = NAN, best_score = -INFINITY;
	cJSON *out = NULL;
	int nl, ng;

	if (!buf)
		return NULL;
	tpe_internal_bounds(p, &lo, &hi);
	nl = gather_numeric(p, obs, n_obs, group, 1, wgood, buf,
			    buf + n_obs + 1);
	ng = gather_numeric(p, obs, n_obs, group, 0, NULL,
			    buf + 2 * (n_obs + 1), buf + 3 * (n_obs + 1));
	if (tpe_parzen_init(&l, buf, buf + n_obs + 1, nl, lo, hi) < 0 ||
	    tpe_parzen_init(&g, buf + 2 * (n_obs + 1), buf + 3 * (n_obs + 1),
			    ng, lo, hi) < 0)
		goto out;
	for (int c = 0; c < n_cand; c++) {
		double v = tpe_from_internal(p, tpe_parzen_sample(&l, r));
		double sc = score(p, &l, &g, v);
		if (isnan(best) || sc > best_score) {
			best = v;
			best_score = sc;
		}
	}
	out = cJSON_CreateNumber(best);
out:
	tpe_parzen_free(&l);
	tpe_parzen_free(&g);
	free(buf);
	return out;
}

/* ---- choice params ---------------------------------------------------- */

/*
 * The categorical estimator of one group into prob[K]: each member's
 * kernel is its choice plus eps = prior_weight / (n + 1) on every choice,
 * normalized; the prior kernel is uniform; kernels weighted as numeric ones
 * (wobs as in gather_numeric).
 */
static void
categorical(const struct spec_param *p, const struct sampler_obs *obs,
	    int n_obs, const signed char *group, int which, const double *wobs,
	    int *idx, double *w, double *prob)
{
	int K = p->n_values, n = 0;
	double eps, total = TPE_PRIOR_WEIGHT;

	for (int i = 0; i < n_obs; i++) {
		int c;
		if (group[i] != which)
			continue;
		c = tpe_choice_index(p, cJSON_GetObjectItemCaseSensitive(obs[i].params,
								     p->name));
		if (c >= 0 && wobs)
			w[n] = wobs[i];
		if (c >= 0)
			idx[n++] = c;
	}
	if (!wobs)
		tpe_ramp_weights(w, n);
	eps = TPE_PRIOR_WEIGHT / (n + 1);
	for (int k = 0; k < K; k++)
		prob[k] = TPE_PRIOR_WEIGHT / K;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < K; k++)
			prob[k] += w[i] * (eps + (k == idx[i])) / (1.0 + K * eps);
		total += w[i];
	}
	for (int k = 0; k < K; k++)
		prob[k] /= total;
}

static cJSON *
suggest_choice(const struct spec_param *p, const struct sampler_obs *obs,
	       int n_obs, const signed char *group, const double *wgood,
	       int n_cand, struct sampler_rng *r)
{
	int K = p->n_values, best = -1;
	double *pl = malloc((2 * (size_t)K + (size_t)n_obs + 1) * sizeof *pl);
	int *idx = malloc(((size_t)n_obs + 1) * sizeof *idx);
	double *pg, *w, best_score = -INFINITY;
	cJSON *out = NULL;

	if (!pl || !idx)
		goto out;
	pg = pl + K;
	w = pg + K;
	categorical(p, obs, n_obs, group, 1, wgood, idx, w, pl);
	categorical(p, obs, n_obs, group, 0, NULL, idx, w, pg);
	for (int c = 0; c < n_cand; c++) {
		double u = sampler_rng_uniform(r), acc = 0, sc;
		int k = K - 1;
		for (int j = 0; j < K; j++) {
			acc += pl[j];
			if (u < acc) {
				k = j;
				break;
			}
		}
		sc = log(pl[k]) - log(pg[k]);
		if (best < 0 || sc > best_score) {
			best = k;
			best_score = sc;
		}
	}
	out = cJSON_Duplicate(cJSON_GetArrayItem(p->values, best), 1);
out:
	free(pl);
	free(idx);
	return out;
}

/* ---- public ------------------------------------------------------------ */

/* Every param of s into out from the split group[] (and the good ones'
 * weights wgood, NULL: by age). Returns 1 or -ENOMEM. */
static int
suggest_all(const struct spec *s, int number, const struct sampler_obs *obs,
	    int n_obs, const signed char *group, const double *wgood,
	    cJSON *out)
{
	uint64_t seed = sampler_trial_seed(s->seed, number) ^ TPE_STREAM;
	const struct spec_param **jp = NULL;
	double *jv = NULL;
	struct sampler_rng r;
	int nj = 0, next = 0, rc = -ENOMEM;

	if (s->tpe_multivariate) {
		jp = malloc(((size_t)s->n_params + 1) * sizeof *jp);
		jv = malloc(((size_t)s->n_params + 1) * sizeof *jv);
		nj = jp && jv ? tpe_joint_suggest(s, number, obs, n_obs, group,
						  wgood, jp, jv) : -ENOMEM;
		if (nj < 0)
			goto out;
	}
	for (int i = 0; i < s->n_params; i++) {
		const struct spec_param *p = &s->params[i];
		cJSON *v;

		sampler_rng_init(&r, seed, sampler_name_stream(p->name));
		if (next < nj && jp[next] == p)   /* drawn jointly */
			v = p->kind == SPEC_CHOICE ?
			    cJSON_Duplicate(cJSON_GetArrayItem(p->values,
							       (int)jv[next]), 1) :
			    cJSON_CreateNumber(jv[next]);
		else if (p->kind == SPEC_CONST)
			v = cJSON_Duplicate(p->values, 1);
		else if (p->kind == SPEC_CHOICE)
			v = suggest_choice(p, obs, n_obs, group, wgood,
					   s->tpe_n_candidates, &r);
		else
			v = suggest_numeric(p, obs, n_obs, group, wgood,
					    s->tpe_n_candidates, &r);
		if (next < nj && jp[next] == p)
			next++;
		if (!v || !cJSON_AddItemToObject(out, p->name, v)) {
			cJSON_Delete(v);
			goto out;
		}
	}
	rc = 1;
out:
	free(jp);
	free(jv);
	return rc;
}

int
tpe_suggest(const struct spec *s, int number, const struct sampler_obs *obs,
	    int n_obs, cJSON *out, char *err, size_t errlen)
{
	signed char *group = malloc((size_t)n_obs + 1);
	int rc = -ENOMEM;

	if (group)
		rc = split(s, obs, n_obs, group);
	/* 0: nothing to learn from yet */
	if (rc > 0)
		rc = suggest_all(s, number, obs, n_obs, group, NULL, out);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory in TPE for trial %d", number);
	free(group);
	return rc;
}

/* Each observation's role for motpe_split: the states as split() reads
 * them (only completed trials are ranked with several objectives). */
static void
mo_roles(const struct sampler_obs *obs, int n_obs, signed char *group)
{
	for (int i = 0; i < n_obs; i++) {
		enum sampler_state st = obs[i].state;
		group[i] = !obs[i].params ? MOTPE_IGNORED :
			   st == SAMPLER_COMPLETE ? MOTPE_CANDIDATE :
			   st == SAMPLER_RUNNING || st == SAMPLER_PRUNED ?
			   MOTPE_BAD : MOTPE_IGNORED;
	}
}

int
tpe_suggest_mo(const struct spec *s, const struct sampler_objectives *objs,
	       int number, const struct sampler_obs *obs, int n_obs,
	       cJSON *out, char *err, size_t errlen)
{
	signed char *group;
	double *wgood;
	int rc = -ENOMEM;

	if (!objs || objs->k <= 1)
		return tpe_suggest(s, number, obs, n_obs, out, err, errlen);
	group = malloc((size_t)n_obs + 1);
	wgood = malloc(((size_t)n_obs + 1) * sizeof *wgood);
	if (group && wgood) {
		mo_roles(obs, n_obs, group);
		rc = motpe_split(n_obs, objs->k, objs->maximize, objs->values,
				 s->tpe_gamma, group, wgood);
	}
	if (rc > 0)
		rc = suggest_all(s, number, obs, n_obs, group, wgood, out);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory in MOTPE for trial %d",
			 number);
	free(group);
	free(wgood);
	return rc;
}
