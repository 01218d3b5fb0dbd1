/*
 * test_tpe.c: the TPE sampler: deterministic, within bounds for every
 * distribution, better than random on simple quadratics (fixed seeds,
 * generous margins), the constant liar, the ranking of pruned trials, and
 * the Parzen estimator itself.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/sampler.h"
#include "daemon/search/tpe.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

#define MAX_TRIALS 128

/* A finished sweep run one trial at a time: params and values by number. */
struct run {
	cJSON *params[MAX_TRIALS];
	struct sampler_obs obs[MAX_TRIALS];
	int n;
};

typedef double (*objective_fn)(const cJSON *params);

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void
run_free(struct run *r)
{
	for (int i = 0; i < r->n; i++)
		cJSON_Delete(r->params[i]);
	r->n = 0;
}

/* Runs n trials of s in sequence, each completing with f's value.
 * Returns 0 or the failing rc. */
static int
run_sweep(const struct spec *s, int n, objective_fn f, struct run *r)
{
	char err[256];

	memset(r, 0, sizeof *r);
	for (int k = 1; k <= n && k <= MAX_TRIALS; k++) {
		cJSON *p = NULL;
		int rc = sampler_suggest(s, k, NULL, r->obs, r->n, &p, err, sizeof err);
		if (rc < 0) {
			printf("# trial %d: %s\n", k, err);
			return rc;
		}
		r->params[r->n] = p;
		r->obs[r->n] = (struct sampler_obs){
			.params = p, .state = SAMPLER_COMPLETE, .value = f(p), .epochs = 10,
		};
		r->n++;
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of dist(params) over trials from..to-1 of r. */
static double
median_of(const struct run *r, int from, int to, objective_fn dist)
{
	double v[MAX_TRIALS];
	int n = 0;

	for (int i = from; i < to && i < r->n; i++)
		v[n++] = dist(r->params[i]);
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- objectives --------------------------------------------------------- */

static double
quad1(const cJSON *p)
{
	double x = num(p, "x") - 0.3;
	return x * x;
}

static double
dist1(const cJSON *p)
{
	return fabs(num(p, "x") - 0.3);
}

/* Optimum at lr = 1e-2 (log scale) and units = 64 (log2 scale). */
static double
quad2(const cJSON *p)
{
	double a = log10(num(p, "lr")) + 2, b = log2(num(p, "units")) - 6;
	return a * a + 0.3 * b * b;
}

static double
dist2(const cJSON *p)
{
	double a = log10(num(p, "lr")) + 2, b = log2(num(p, "units")) - 6;
	return sqrt(a * a + b * b);
}

/* ---- tests -------------------------------------------------------------- */

static const char *spec1_tpe = SPEC("{'x': {'uniform': [0, 1]}}",
	"{'algorithm': 'tpe', 'trials': 60, 'seed': 11}", "");
static const char *spec1_rnd = SPEC("{'x': {'uniform': [0, 1]}}",
	"{'algorithm': 'random', 'trials': 60, 'seed': 11}", "");

static void
concentrates_near_the_optimum_1d(void)
{
	struct spec *t = parse(spec1_tpe), *r = parse(spec1_rnd);
	struct run rt, rr;
	double mt, mr;

	CHECK_MSG(t && r, "%s", util_err);
	if (!t || !r)
		goto out;
	t->mode_max = 0;
	r->mode_max = 0;
	CHECK(run_sweep(t, 60, quad1, &rt) == 0);
	CHECK(run_sweep(r, 60, quad1, &rr) == 0);
	mt = median_of(&rt, 40, 60, dist1);
	mr = median_of(&rr, 40, 60, dist1);
	printf("# 1-D: median |x - 0.3| of trials 41-60: tpe %.4f, random %.4f\n",
	       mt, mr);
	CHECK(mt < 0.5 * mr);
	CHECK(mt < 0.1);
	run_free(&rt);
	run_free(&rr);
out:
	spec_free(t);
	spec_free(r);
}

static void
concentrates_near_the_optimum_2d_log(void)
{
	const char *sp = SPEC("{'lr': {'loguniform': [1e-5, 1]}, 'units': {'logint': [4, 1024]}}",
			      "{'algorithm': 'tpe', 'trials': 60, 'seed': 3}", "");
	struct spec *t = parse(sp), *r = parse(sp);
	struct run rt, rr;
	double mt, mr;

	CHECK_MSG(t && r, "%s", util_err);
	if (!t || !r)
		goto out;
	t->mode_max = r->mode_max = 0;
	r->algorithm = SPEC_RANDOM;
	CHECK(run_sweep(t, 60, quad2, &rt) == 0);
	CHECK(run_sweep(r, 60, quad2, &rr) == 0);
	mt = median_of(&rt, 40, 60, dist2);
	mr = median_of(&rr, 40, 60, dist2);
	printf("# 2-D: median distance to the optimum (log units) of trials "
	       "41-60: tpe %.3f, random %.3f\n", mt, mr);
	CHECK(mt < 0.6 * mr);
	run_free(&rt);
	run_free(&rr);
out:
	spec_free(t);
	spec_free(r);
}

static double
choice_obj(const cJSON *p)
{
	const char *c = cJSON_GetStringValue(cJSON_GetObjectItem(p, "opt"));
	return (c && strcmp(c, "adam") == 0 ? 0.9 : 0.5) - 0.1 * num(p, "x");
}

static void
learns_the_best_choice(void)
{
	const char *sp = SPEC("{'opt': {'choice': ['sgd', 'momentum', 'adam', 'rmsprop']},"
			      " 'x': {'uniform': [0, 1]}}",
			      "{'algorithm': 'tpe', 'trials': 60, 'seed': 5}", "");
	struct spec *s = parse(sp);
	struct run r;
	int adam = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	/* Maximize: the objective says val_acc. */
	CHECK(s->mode_max == 1);
	CHECK(run_sweep(s, 60, choice_obj, &r) == 0);
	for (int i = 40; i < r.n; i++)
		adam += strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r.params[i], "opt")),
			       "adam") == 0;
	printf("# choice: adam in %d of trials 41-60 (random: about 5)\n", adam);
	CHECK(adam >= 12);
	run_free(&r);
	spec_free(s);
}

static void
same_inputs_same_suggestions(void)
{
	struct spec *s = parse(spec1_tpe);
	struct run a, b;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	s->mode_max = 0;
	CHECK(run_sweep(s, 40, quad1, &a) == 0);
	CHECK(run_sweep(s, 40, quad1, &b) == 0);
	for (int i = 0; i < 40; i++)
		CHECK(cJSON_Compare(a.params[i], b.params[i], 1));
	run_free(&a);
	run_free(&b);
	spec_free(s);
}

static void
startup_trials_are_the_random_ones(void)
{
	struct spec *t = parse(spec1_tpe), *r = parse(spec1_rnd);
	struct run rt, rr;
	int same_start = 1, same_after = 1;

	CHECK_MSG(t && r, "%s", util_err);
	if (!t || !r)
		goto out;
	t->mode_max = r->mode_max = 0;
	CHECK(run_sweep(t, 20, quad1, &rt) == 0);
	CHECK(run_sweep(r, 20, quad1, &rr) == 0);
	for (int i = 0; i < 20; i++) {
		int eq = cJSON_Compare(rt.params[i], rr.params[i], 1);
		if (i < t->tpe_n_startup)
			same_start &= eq;
		else
			same_after &= eq;
	}
	CHECK(same_start);   /* trials 1..n_startup: random search's params */
	CHECK(!same_after);  /* then TPE's own */
	run_free(&rt);
	run_free(&rr);
out:
	spec_free(t);
	spec_free(r);
}

static void
max_mode_mirrors_min_mode(void)
{
	struct spec *a = parse(spec1_tpe), *b = parse(spec1_tpe);
	struct run ra;
	cJSON *pa = NULL, *pb = NULL;
	char err[256];

	CHECK_MSG(a && b, "%s", util_err);
	if (!a || !b)
		goto out;
	a->mode_max = 0;
	b->mode_max = 1;
	CHECK(run_sweep(a, 30, quad1, &ra) == 0);
	/* The same history with the values negated, maximized. */
	CHECK(sampler_suggest(a, 31, NULL, ra.obs, ra.n, &pa, err, sizeof err) == 0);
	for (int i = 0; i < ra.n; i++)
		ra.obs[i].value = -ra.obs[i].value;
	CHECK(sampler_suggest(b, 31, NULL, ra.obs, ra.n, &pb, err, sizeof err) == 0);
	CHECK(cJSON_Compare(pa, pb, 1));
	cJSON_Delete(pa);
	cJSON_Delete(pb);
	run_free(&ra);
out:
	spec_free(a);
	spec_free(b);
}

/* Smallest at the low corner of every numeric range. */
static double
corner(const cJSON *p)
{
	return num(p, "u") + log(num(p, "lu")) + num(p, "i") + log(num(p, "li"));
}

static void
stays_within_bounds_for_every_dist(void)
{
	const char *sp = SPEC("{'c': {'choice': [1, 'two', [3]]}, 'u': {'uniform': [-1, 1]},"
			      " 'lu': {'loguniform': [1e-6, 1e-3]}, 'i': {'int': [-2, 2]},"
			      " 'li': {'logint': [1, 9]}, 'k': 'fixed', 'n1': {'int': [7, 7]}}",
			      "{'algorithm': 'tpe', 'trials': 80, 'seed': 2, 'n_startup': 5}", "");
	struct spec *s = parse(sp);
	struct run r;
	int bad = 0, int_edges = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	s->mode_max = 0;
	/* Push towards the edges: the optimum is in a corner of the box. */
	CHECK(run_sweep(s, 80, corner, &r) == 0);
	for (int n = 0; n < r.n; n++) {
		const cJSON *p = r.params[n], *c = cJSON_GetObjectItem(p, "c");
		double u = num(p, "u"), lu = num(p, "lu"), i = num(p, "i"), li = num(p, "li");
		int member = 0;
		for (int k = 0; k < 3; k++)
			member |= cJSON_Compare(c, cJSON_GetArrayItem(s->params[0].values, k), 1);
		bad += !member || !(u >= -1 && u <= 1) || !(lu >= 1e-6 && lu <= 1e-3) ||
		       !(i >= -2 && i <= 2 && i == floor(i)) ||
		       !(li >= 1 && li <= 9 && li == floor(li)) ||
		       strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "k")), "fixed") != 0 ||
		       num(p, "n1") != 7 || cJSON_GetArraySize(p) != 7;
		int_edges += i == -2 || i == 2;
	}
	CHECK(bad == 0);
	CHECK(int_edges > 0);   /* the ends of an int range are reachable */
	run_free(&r);
	spec_free(s);
}

static double
scaled_x(const cJSON *p)
{
	return fabs(num(p, "x") / 1e307 - 3.0);
}

/* A range whose width overflows a double ([-1e308, 1e308]): kernel widths
 * of inf made every suggestion NaN or an end of the range. */
static void
widest_range_gives_finite_spread_suggestions(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [-1e308, 1e308]}}",
				    "{'algorithm': 'tpe', 'trials': 40, 'seed': 4, "
				    "'n_startup': 5}", ""));
	struct run r;
	int bad = 0, at_end = 0, distinct = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	s->mode_max = 0;
	CHECK(run_sweep(s, 40, scaled_x, &r) == 0);
	for (int n = 5; n < r.n; n++) {
		double x = num(r.params[n], "x");
		bad += !(x >= -1e308 && x <= 1e308);
		at_end += x == 1e308 || x == -1e308;
		distinct += n > 5 && x != num(r.params[n - 1], "x");
	}
	CHECK_MSG(bad == 0, "%d suggestions out of range or NaN", bad);
	CHECK_MSG(at_end == 0, "%d suggestions at an end of the range", at_end);
	CHECK(distinct > 20);
	run_free(&r);
	spec_free(s);
}

/* Minimizing x itself drives TPE to the low end; it must not leave it. */
static double
just_x(const cJSON *p)
{
	return num(p, "x");
}

static void
hugs_a_bound_without_crossing_it(void)
{
	struct spec *s = parse(SPEC("{'x': {'loguniform': [0.001, 1000]}}",
				    "{'algorithm': 'tpe', 'trials': 60, 'seed': 8}", ""));
	struct run r;
	double lo = INFINITY;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	s->mode_max = 0;
	CHECK(run_sweep(s, 60, just_x, &r) == 0);
	for (int i = 0; i < r.n; i++)
		lo = fmin(lo, num(r.params[i], "x"));
	CHECK(lo >= 0.001);
	CHECK(median_of(&r, 40, 60, just_x) < 0.1);   /* near the low end */
	run_free(&r);
	spec_free(s);
}

static void
constant_liar_moves_off_running_points(void)
{
	struct spec *s = parse(spec1_tpe);
	struct run r;
	cJSON *lone = NULL, *liar = NULL, *again = NULL;
	char err[256];
	double x0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	s->mode_max = 0;
	CHECK(run_sweep(s, 30, quad1, &r) == 0);
	CHECK(sampler_suggest(s, 31, NULL, r.obs, r.n, &lone, err, sizeof err) == 0);
	x0 = num(lone, "x");
	/* Trial 31 is now running at x0: trial 32's suggestion, and trial
	 * 31's own suggestion recomputed, must avoid exactly x0. */
	r.params[r.n] = lone;
	r.obs[r.n] = (struct sampler_obs){ .params = lone, .state = SAMPLER_RUNNING,
					   .value = NAN };
	r.n++;
	CHECK(sampler_suggest(s, 31, NULL, r.obs, r.n, &liar, err, sizeof err) == 0);
	CHECK_MSG(num(liar, "x") != x0, "x0 %g", x0);
	/* Without the running trial the suggestion is x0 again. */
	CHECK(sampler_suggest(s, 31, NULL, r.obs, r.n - 1, &again, err, sizeof err) == 0);
	CHECK(num(again, "x") == x0);
	cJSON_Delete(liar);
	cJSON_Delete(again);
	run_free(&r);
	spec_free(s);
}

/* Parallel batches of 4: with running trials counted as bad, a batch
 * spreads out more than the same batch computed blind to them. */
static void
constant_liar_spreads_a_parallel_batch(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}",
				    "{'algorithm': 'tpe', 'trials': 60, 'seed': 21}", ""));
	double spread_liar = 0, spread_blind = 0;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	s->mode_max = 0;
	for (int base = 20; base <= 40; base += 4) {
		struct run r;
		double xl[4], xb[4];
		CHECK(run_sweep(s, base, quad1, &r) == 0);
		for (int j = 0; j < 4; j++) {
			cJSON *pl = NULL, *pb = NULL;
			CHECK(sampler_suggest(s, base + 1 + j, NULL, r.obs, r.n, &pl, err,
					      sizeof err) == 0);
			CHECK(sampler_suggest(s, base + 1 + j, NULL, r.obs, base, &pb, err,
					      sizeof err) == 0);
			xl[j] = num(pl, "x");
			xb[j] = num(pb, "x");
			cJSON_Delete(pb);
			r.params[r.n] = pl;   /* running from now on */
			r.obs[r.n] = (struct sampler_obs){ .params = pl,
							   .state = SAMPLER_RUNNING,
							   .value = NAN };
			r.n++;
		}
		qsort(xl, 4, sizeof *xl, cmp_double);
		qsort(xb, 4, sizeof *xb, cmp_double);
		spread_liar += xl[3] - xl[0];
		spread_blind += xb[3] - xb[0];
		run_free(&r);
	}
	printf("# parallel batches of 4: summed range of x, liar %.4f, blind %.4f\n",
	       spread_liar, spread_blind);
	CHECK(spread_liar > spread_blind);
	spec_free(s);
}

static void
pruned_trials_rank_behind_completed_ones(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}",
				    "{'algorithm': 'tpe', 'trials': 60, 'seed': 4, 'n_startup': 0}",
				    ""));
	cJSON *a = J("{'x': 0.2}"), *b = J("{'x': 0.8}"), *out = NULL;
	struct sampler_obs obs[4];
	char err[256];
	int near_a = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		goto out;
	s->mode_max = 0;
	/* One completed trial at 0.2 (loss 1.0) and three pruned at 0.8 with
	 * a far better best-so-far (0.01): gamma 0.25 of 4 is one good trial,
	 * the completed one. */
	obs[0] = (struct sampler_obs){ .params = a, .state = SAMPLER_COMPLETE,
				       .value = 1.0, .epochs = 10 };
	for (int i = 1; i < 4; i++)
		obs[i] = (struct sampler_obs){ .params = b, .state = SAMPLER_PRUNED,
					       .value = 0.01, .epochs = 2 };
	for (int n = 1; n <= 20; n++) {
		CHECK(sampler_suggest(s, n, NULL, obs, 4, &out, err, sizeof err) == 0);
		near_a += fabs(num(out, "x") - 0.2) < fabs(num(out, "x") - 0.8);
		cJSON_Delete(out);
		out = NULL;
	}
	CHECK_MSG(near_a >= 16, "%d of 20 nearer 0.2", near_a);
out:
	cJSON_Delete(a);
	cJSON_Delete(b);
	spec_free(s);
}

static void
without_values_it_samples_at_random(void)
{
	struct spec *t = parse(spec1_tpe), *r = parse(spec1_rnd);
	cJSON *a = J("{'x': 0.5}"), *pt = NULL, *pr = NULL;
	struct sampler_obs obs[2] = {
		{ .params = a, .state = SAMPLER_RUNNING, .value = NAN },
		{ .params = a, .state = SAMPLER_FAILED, .value = NAN },
	};
	char err[256];

	CHECK_MSG(t && r, "%s", util_err);
	if (!t || !r)
		goto out;
	CHECK(sampler_suggest(t, 15, NULL, obs, 2, &pt, err, sizeof err) == 0);
	CHECK(sampler_suggest(r, 15, NULL, obs, 2, &pr, err, sizeof err) == 0);
	CHECK(cJSON_Compare(pt, pr, 1));
	/* tpe_suggest itself says "nothing to learn from". */
	cJSON *empty = cJSON_CreateObject();
	CHECK(tpe_suggest(t, 15, obs, 2, empty, err, sizeof err) == 0);
	CHECK(cJSON_GetArraySize(empty) == 0);
	cJSON_Delete(empty);
out:
	cJSON_Delete(a);
	cJSON_Delete(pt);
	cJSON_Delete(pr);
	spec_free(t);
	spec_free(r);
}

static void
fixed_params_override_tpe(void)
{
	struct spec *s = parse(spec1_tpe);
	struct run r;
	cJSON *fixed = J("{'x': 0.123}"), *out = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		goto out;
	s->mode_max = 0;
	CHECK(run_sweep(s, 20, quad1, &r) == 0);
	CHECK(sampler_suggest(s, 21, fixed, r.obs, r.n, &out, err, sizeof err) == 0);
	CHECK(num(out, "x") == 0.123);
	cJSON_Delete(out);
	run_free(&r);
out:
	cJSON_Delete(fixed);
	spec_free(s);
}

/* ---- the estimator ----------------------------------------------------- */

static void
parzen_is_a_density_on_its_range(void)
{
	const double x[] = { 0.1, 0.12, 0.5, 0.95 };
	struct tpe_parzen p;
	double integral = 0, h = 1e-4;

	CHECK(tpe_parzen_init(&p, x, NULL, 4, 0, 1) == 0);
	CHECK(p.n == 5);
	for (double t = h / 2; t < 1; t += h)
		integral += exp(tpe_parzen_logpdf(&p, t)) * h;
	CHECK_NEAR(integral, 1.0, 1e-3);
	CHECK_NEAR(tpe_parzen_logmass(&p, 0, 1), 0.0, 1e-9);
	CHECK_NEAR(exp(tpe_parzen_logmass(&p, 0, 0.3)) + exp(tpe_parzen_logmass(&p, 0.3, 1)),
		   1.0, 1e-9);
	CHECK(tpe_parzen_logpdf(&p, -0.1) == -INFINITY);
	CHECK(tpe_parzen_logpdf(&p, 0.11) > tpe_parzen_logpdf(&p, 0.7));
	/* Kernel widths: clipped to [range / min(100, kernels + 1), range]. */
	for (int k = 0; k < p.n; k++)
		CHECK(p.sigma[k] >= 1.0 / 6 - 1e-12 && p.sigma[k] <= 1.0);
	CHECK_NEAR(p.mu[4], 0.5, 0);      /* the prior */
	CHECK_NEAR(p.sigma[4], 1.0, 0);
	tpe_parzen_free(&p);
}

static void
parzen_samples_stay_inside_and_follow_the_points(void)
{
	double x[30];
	struct tpe_parzen p;
	struct sampler_rng r;
	int inside = 1, near = 0;

	for (int i = 0; i < 30; i++)
		x[i] = 2.0 + 0.001 * i;   /* a tight cluster near the top */
	CHECK(tpe_parzen_init(&p, x, NULL, 30, -3, 2.05) == 0);
	sampler_rng_init(&r, 7, 7);
	for (int i = 0; i < 2000; i++) {
		double y = tpe_parzen_sample(&p, &r);
		inside &= y >= -3 && y <= 2.05;
		near += y > 1.5;
	}
	CHECK(inside);
	CHECK_MSG(near > 1500, "%d", near);   /* 30 of 31 kernels sit there */
	tpe_parzen_free(&p);
}

/* ---- multivariate ------------------------------------------------------ */

/*
 * 60 completed trials where the good half lies on a coupling of two
 * params and the bad half off it, with the same marginals: pair(i, good)
 * gives trial i's (x, y). Returns in *far how many of 20 suggestions
 * (trial numbers 61..80) land more than 0.2 off the coupling (off(x, y)),
 * or -1 on a failure.
 */
typedef void (*pair_fn)(int i, int good, cJSON *params);
typedef double (*off_fn)(const cJSON *params);

static int
far_from_coupling(const char *spec_text, pair_fn pair, off_fn off,
		  double *worst)
{
	struct spec *s = parse(spec_text);
	struct sampler_obs obs[60];
	cJSON *params[60] = { 0 };
	char err[256];
	int far = -1, n = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return -1;
	for (int i = 0; i < 60; i++) {
		int good = i % 2 == 0;
		params[i] = cJSON_CreateObject();
		pair(i / 2, good, params[i]);
		obs[i] = (struct sampler_obs){ .params = params[i],
			.state = SAMPLER_COMPLETE, .value = good ? 1.0 : 0.0,
			.epochs = 10 };
	}
	*worst = 0;
	for (int k = 61; k <= 80; k++) {
		cJSON *out = cJSON_CreateObject();
		int rc = tpe_suggest(s, k, obs, 60, out, err, sizeof err);
		CHECK_MSG(rc == 1, "trial %d: %d %s", k, rc, err);
		if (rc == 1) {
			double d = off(out);
			*worst = fmax(*worst, d);
			n += d > 0.2;
		}
		cJSON_Delete(out);
	}
	far = n;
	printf("# %s: %d of 20 more than 0.2 off, worst %.3f\n",
	       strstr(spec_text, "multivariate") ? "multivariate" : "univariate",
	       far, *worst);
	for (int i = 0; i < 60; i++)
		cJSON_Delete(params[i]);
	spec_free(s);
	return far;
}

/* The diagonal: good trials at y = x, bad ones at y = x + 0.5 (wrapped),
 * both x and y spread evenly over [0, 1] in either group. */
static void
diagonal_pair(int i, int good, cJSON *o)
{
	double x = (i + 0.5) / 30, y = good ? x : fmod(x + 0.5, 1.0);

	cJSON_AddNumberToObject(o, "x", x);
	cJSON_AddNumberToObject(o, "y", y);
}

static double
diagonal_off(const cJSON *o)
{
	return fabs(num(o, "x") - num(o, "y"));
}

#define DIAG_SPACE "{'x': {'uniform': [0, 1]}, 'y': {'uniform': [0, 1]}}"
#define DIAG_SEARCH(mv) "{'algorithm': 'tpe', 'gamma': 0.5, 'seed': 5" mv "}"

/* Multivariate: every suggestion on the coupling; univariate (the same
 * trials) cannot express it: a quarter or more off. */
static void
check_coupling(const char *mv, const char *uni, pair_fn pair, off_fn off)
{
	double worst;
	int far = far_from_coupling(mv, pair, off, &worst);

	CHECK_MSG(far == 0, "%d of 20 off the coupling, worst %g", far, worst);
	far = far_from_coupling(uni, pair, off, &worst);
	CHECK_MSG(far >= 5, "univariate: %d of 20 off the coupling", far);
}

/* The independent marginals are flat in both groups, so univariate TPE
 * cannot tell the diagonal from the rest; the joint kernels can. */
static void
multivariate_follows_a_diagonal(void)
{
	check_coupling(SPEC(DIAG_SPACE, DIAG_SEARCH(", 'multivariate': true"), ""),
		       SPEC(DIAG_SPACE, DIAG_SEARCH(""), ""),
		       diagonal_pair, diagonal_off);
}

/* A learning rate whose good value depends on the optimizer: good trials
 * are (sgd, 0.8) and (adam, 0.2) (give or take), bad ones the other way
 * round: the same marginals again. */
static void
choice_pair(int i, int good, cJSON *o)
{
	int sgd = i % 2 == 0;
	double x = (sgd == good ? 0.8 : 0.2) + 0.1 * ((i / 2) % 3 - 1) / 2;

	cJSON_AddStringToObject(o, "opt", sgd ? "sgd" : "adam");
	cJSON_AddNumberToObject(o, "x", x);
}

static double
choice_off(const cJSON *o)
{
	const cJSON *opt = cJSON_GetObjectItem(o, "opt");
	int sgd = cJSON_IsString(opt) && strcmp(opt->valuestring, "sgd") == 0;

	return fabs(num(o, "x") - (sgd ? 0.8 : 0.2));
}

#define CHOICE_SPACE "{'opt': {'choice': ['sgd', 'adam']}, 'x': {'uniform': [0, 1]}}"

static void
multivariate_couples_a_choice_and_a_number(void)
{
	check_coupling(SPEC(CHOICE_SPACE, DIAG_SEARCH(", 'multivariate': true"), ""),
		       SPEC(CHOICE_SPACE, DIAG_SEARCH(""), ""),
		       choice_pair, choice_off);
}

/* Every kind of param, a constant and conditional ones: multivariate
 * suggestions stay within bounds, carry a conditional param only when it
 * is active, repeat for the same inputs, and "multivariate": false is
 * the univariate sampler exactly. */
static double
mixed_objective(const cJSON *p)
{
	const cJSON *opt = cJSON_GetObjectItem(p, "opt");
	int sgd = cJSON_IsString(opt) && strcmp(opt->valuestring, "sgd") == 0;
	double d = log10(num(p, "lr")) - (sgd ? -1 : -3);

	return d * d + 0.01 * num(p, "n") + (sgd ? 0.1 * num(p, "mom") : 0);
}

#define MIXED_SPACE \
	"{'lr': {'loguniform': [1e-6, 1]}, 'opt': {'choice': ['sgd', 'adam']}," \
	" 'n': {'int': [1, 9]}, 'units': {'logint': [4, 512]}," \
	" 'drop': {'uniform': [0, 0.5]}, 'epochs': 3," \
	" 'mom': {'uniform': [0, 1], 'when': {'opt': ['sgd']}}}"
#define MIXED_SEARCH(mv) "{'algorithm': 'tpe', 'trials': 60, 'seed': 3, 'n_startup': 5" mv "}"

static void
multivariate_mixed_space_is_valid_and_repeatable(void)
{
	struct spec *mv = parse(SPEC(MIXED_SPACE, MIXED_SEARCH(", 'multivariate': true"), ""));
	struct spec *off = parse(SPEC(MIXED_SPACE, MIXED_SEARCH(", 'multivariate': false"), ""));
	struct spec *uni = parse(SPEC(MIXED_SPACE, MIXED_SEARCH(""), ""));
	struct run a, b, c;
	int ok = 1, same = 1, differ = 0;

	CHECK_MSG(mv && off && uni, "%s", util_err);
	if (!mv || !off || !uni)
		goto out;
	mv->mode_max = off->mode_max = uni->mode_max = 0;
	CHECK(run_sweep(mv, 60, mixed_objective, &a) == 0);
	CHECK(run_sweep(mv, 60, mixed_objective, &b) == 0);
	for (int i = 0; i < a.n && i < b.n; i++) {
		const cJSON *p = a.params[i], *opt = cJSON_GetObjectItem(p, "opt");
		int sgd = strcmp(opt->valuestring, "sgd") == 0;
		double lr = num(p, "lr"), n = num(p, "n"), u = num(p, "units");
		ok &= lr >= 1e-6 && lr <= 1 && n >= 1 && n <= 9 && n == round(n) &&
		      u >= 4 && u <= 512 && u == round(u) &&
		      num(p, "drop") >= 0 && num(p, "drop") <= 0.5 &&
		      num(p, "epochs") == 3 &&
		      cJSON_HasObjectItem(p, "mom") == sgd;
		same &= cJSON_Compare(p, b.params[i], 1);
	}
	CHECK(ok);
	CHECK(same);
	run_free(&b);
	/* false: the univariate suggestions, bit for bit */
	CHECK(run_sweep(off, 60, mixed_objective, &b) == 0);
	CHECK(run_sweep(uni, 60, mixed_objective, &c) == 0);
	for (int i = 0; i < b.n && i < c.n; i++) {
		same &= cJSON_Compare(b.params[i], c.params[i], 1);
		differ += i < a.n && !cJSON_Compare(a.params[i], c.params[i], 1);
	}
	CHECK(same);
	CHECK_MSG(differ >= 50, "%d", differ);   /* trials 6..60 are TPE's */
	run_free(&a);
	run_free(&b);
	run_free(&c);
out:
	spec_free(mv);
	spec_free(off);
	spec_free(uni);
}

int
main(void)
{
	RUN(concentrates_near_the_optimum_1d);
	RUN(concentrates_near_the_optimum_2d_log);
	RUN(learns_the_best_choice);
	RUN(same_inputs_same_suggestions);
	RUN(startup_trials_are_the_random_ones);
	RUN(max_mode_mirrors_min_mode);
	RUN(stays_within_bounds_for_every_dist);
	RUN(widest_range_gives_finite_spread_suggestions);
	RUN(hugs_a_bound_without_crossing_it);
	RUN(constant_liar_moves_off_running_points);
	RUN(constant_liar_spreads_a_parallel_batch);
	RUN(pruned_trials_rank_behind_completed_ones);
	RUN(without_values_it_samples_at_random);
	RUN(fixed_params_override_tpe);
	RUN(parzen_is_a_density_on_its_range);
	RUN(parzen_samples_stay_inside_and_follow_the_points);
	RUN(multivariate_follows_a_diagonal);
	RUN(multivariate_couples_a_choice_and_a_number);
	RUN(multivariate_mixed_space_is_valid_and_repeatable);
	return harness_done();
}
