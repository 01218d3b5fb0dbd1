/*
 * test_motpe.c: TPE with several objectives (MOTPE): the good/bad split by
 * rank and hypervolume, the good trials' weights, the states it reads,
 * directions, and on a two-objective problem with a known front (ZDT1,
 * one objective maximized) a better hypervolume than random search's on
 * the median of fixed seeds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/motpe.h"
#include "daemon/search/pareto.h"
#include "daemon/search/sampler.h"
#include "daemon/search/tpe.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

/*
 * By hand, both minimized:
 *   0 A(1,5) 1 B(2,3) 2 C(4,1)        front 0
 *   3 D(3,4) 4 I(1.5,5.5) 5 J(5,2)    front 1 (D by B, I by A, J by C)
 *   6 E(5,5)                          front 2 (by D)
 *   7 running, 8 pruned, 9 failed, 10 completed with a NaN,
 *   11 completed without params
 * gamma 0.5 of 7 valued: 4 good: front 0 and one of front 1, by its box
 * against front 1's reference (5.5, 6.05): D 2.5 x 2.05 = 5.125, I 4 x
 * 0.55 = 2.2, J 0.5 x 4.05 = 2.025: D.
 * Weights against the good group's reference (4.4, 5.5): A's exclusive
 * box x 1..2 y 5..5.5 = 0.5; B's x 2..4 y 3..5 but D's x 3..4 y 4..5 =
 * 3; C's x 4..4.4 y 1..3 = 0.8; D (dominated by B) 0; over B's 3.
 */
#define N_HAND 12
static const double HAND[N_HAND * 2] = {
	1, 5, 2, 3, 4, 1, 3, 4, 1.5, 5.5, 5, 2, 5, 5,
	0, 0, 0, 0, 0, 0, 0, NAN, 0, 0,
};

/* The roles tpe.c gives those states. */
static void
hand_roles(signed char *group)
{
	for (int i = 0; i < N_HAND; i++)
		group[i] = MOTPE_CANDIDATE;
	group[7] = MOTPE_BAD;       /* running */
	group[8] = MOTPE_BAD;       /* pruned */
	group[9] = MOTPE_IGNORED;   /* failed */
	group[11] = MOTPE_IGNORED;  /* no params */
}

static void
split_by_rank_then_hypervolume(void)
{
	const signed char want[N_HAND] = { 1, 1, 1, 1, 0, 0, 0, 0, 0, -1, -1, -1 };
	signed char group[N_HAND];
	double w[N_HAND];
	int n;

	hand_roles(group);
	n = motpe_split(N_HAND, 2, (int[]){ 0, 0 }, HAND, 0.5, group, w);
	CHECK(n == 7);
	for (int i = 0; i < N_HAND; i++)
		CHECK_MSG(group[i] == want[i], "obs %d: %d", i, group[i]);
	CHECK_NEAR(w[0], 0.5 / 3, 1e-9);
	CHECK_NEAR(w[1], 1, 1e-12);
	CHECK_NEAR(w[2], 0.8 / 3, 1e-9);
	CHECK(w[3] > 0 && w[3] < 1e-11);
	for (int i = 4; i < N_HAND; i++)
		CHECK(w[i] == 0);
}

/* "auto" of 7: one good: of front 0 the largest box against (4.4, 5.5):
 * A 3.4 x 0.5, B 2.4 x 2.5, C 0.4 x 4.5: B, weight 1. */
static void
split_auto_gamma_takes_the_best_box(void)
{
	signed char group[N_HAND];
	double w[N_HAND];
	int good = 0;

	hand_roles(group);
	CHECK(motpe_split(N_HAND, 2, (int[]){ 0, 0 }, HAND, 0, group, w) == 7);
	for (int i = 0; i < N_HAND; i++)
		good += group[i] == 1;
	CHECK(good == 1 && group[1] == 1 && w[1] == 1);
}

/* Maximizing the negated values is the same problem: the same split. */
static void
split_follows_directions(void)
{
	signed char g1[N_HAND], g2[N_HAND], g3[N_HAND];
	double w1[N_HAND], w2[N_HAND], w3[N_HAND], neg[N_HAND * 2], half[N_HAND * 2];
	int same = 1, differs = 0;

	hand_roles(g1);
	hand_roles(g2);
	hand_roles(g3);
	for (int i = 0; i < N_HAND * 2; i++) {
		neg[i] = -HAND[i];
		half[i] = i % 2 ? -HAND[i] : HAND[i];
	}
	motpe_split(N_HAND, 2, (int[]){ 0, 0 }, HAND, 0.5, g1, w1);
	motpe_split(N_HAND, 2, (int[]){ 1, 1 }, neg, 0.5, g2, w2);
	motpe_split(N_HAND, 2, (int[]){ 0, 1 }, half, 0.5, g3, w3);
	for (int i = 0; i < N_HAND; i++) {
		same &= g1[i] == g2[i] && g1[i] == g3[i];
		same &= fabs(w1[i] - w2[i]) < 1e-12 && fabs(w1[i] - w3[i]) < 1e-12;
	}
	CHECK(same);
	/* ... and the wrong direction is another problem. */
	hand_roles(g2);
	motpe_split(N_HAND, 2, (int[]){ 1, 0 }, HAND, 0.5, g2, w2);
	for (int i = 0; i < N_HAND; i++)
		differs |= g1[i] != g2[i];
	CHECK(differs);
}

static void
nothing_to_learn_without_a_completed_trial(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}",
				    "{'algorithm': 'tpe', 'n_startup': 0}", ""));
	struct sampler_obs obs[2];
	double v[4] = { 1, 2, NAN, 1 };
	signed char g[2];
	double w[2];
	cJSON *p = J("{'x': 0.5}"), *out = cJSON_CreateObject();
	char err[128];
	struct sampler_objectives mo = { 2, (int[]){ 0, 0 }, v };

	obs[0] = (struct sampler_obs){ .params = p, .state = SAMPLER_PRUNED };
	obs[1] = (struct sampler_obs){ .params = p, .state = SAMPLER_COMPLETE };
	CHECK(s != NULL);
	g[0] = MOTPE_BAD;
	g[1] = MOTPE_CANDIDATE;
	CHECK(motpe_split(2, 2, mo.maximize, v, 0, g, w) == 0);
	CHECK(tpe_suggest_mo(s, &mo, 3, obs, 2, out, err, sizeof err) == 0);
	CHECK(cJSON_GetArraySize(out) == 0);   /* untouched: random */
	cJSON_Delete(out);
	cJSON_Delete(p);
	spec_free(s);
}

static void
bad_objectives_are_refused(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}",
				    "{'algorithm': 'tpe'}", ""));
	struct sampler_objectives zero = { 0, NULL, NULL };
	struct sampler_objectives nodir = { 2, NULL, (double[]){ 1, 2 } };
	struct sampler_objectives novals = { 2, (int[]){ 0, 1 }, NULL };
	struct sampler_obs obs[1] = { { .params = NULL, .state = SAMPLER_RUNNING } };
	cJSON *out = NULL;
	char err[128];

	CHECK(s != NULL);
	CHECK(sampler_suggest_mo(s, &zero, 1, NULL, NULL, 0, &out, err,
				 sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "objectives");
	CHECK(sampler_suggest_mo(s, &nodir, 1, NULL, obs, 1, &out, err,
				 sizeof err) == -EINVAL);
	CHECK(sampler_suggest_mo(s, &novals, 1, NULL, obs, 1, &out, err,
				 sizeof err) == -EINVAL);
	CHECK(out == NULL);
	spec_free(s);
}

/* ---- ZDT1 with 4 params, objective 0 = 1 - f1 maximized, f2 minimized. */

#define ZDT_N     4
#define TRIALS    60
#define SEEDS     7

static void
zdt1(const cJSON *p, double *out)
{
	double x[ZDT_N], g = 0;
	char key[16];

	for (int i = 0; i < ZDT_N; i++) {
		snprintf(key, sizeof key, "x%d", i);
		x[i] = cJSON_GetObjectItem(p, key)->valuedouble;
	}
	for (int i = 1; i < ZDT_N; i++)
		g += x[i];
	g = 1 + 9 * g / (ZDT_N - 1);
	out[0] = 1 - x[0];
	out[1] = g * (1 - sqrt(x[0] / g));
}

/* The hypervolume after TRIALS trials of algorithm alg with seed `seed`,
 * or NAN on a failure. */
static double
run_zdt(const char *alg, int seed, int *within)
{
	char text[512], err[256];
	struct spec *s;
	struct sampler_obs obs[TRIALS];
	cJSON *params[TRIALS];
	double v[TRIALS * 2], hv = NAN, ref[2] = { -0.1, 11 };
	int maximize[2] = { 1, 0 }, n = 0;
	struct sampler_objectives mo = { 2, maximize, v };

	snprintf(text, sizeof text, SPEC("{'x0': {'uniform': [0, 1]},"
		 " 'x1': {'uniform': [0, 1]}, 'x2': {'uniform': [0, 1]},"
		 " 'x3': {'uniform': [0, 1]}}",
		 "{'algorithm': '%s', 'seed': %d}", ""), alg, seed);
	s = parse(text);
	if (!s)
		return NAN;
	for (; n < TRIALS; n++) {
		if (sampler_suggest_mo(s, &mo, n + 1, NULL, obs, n, &params[n],
				       err, sizeof err) < 0)
			goto out;
		zdt1(params[n], v + 2 * n);
		*within &= v[2 * n] >= 0 && v[2 * n] <= 1 && v[2 * n + 1] >= 0;
		obs[n] = (struct sampler_obs){ .params = params[n],
					       .state = SAMPLER_COMPLETE };
	}
	if (pareto_hypervolume(v, n, 2, maximize, ref, &hv) < 0)
		hv = NAN;
out:
	for (int i = 0; i < n; i++)
		cJSON_Delete(params[i]);
	spec_free(s);
	return hv;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
beats_random_on_zdt1(void)
{
	double tpe[SEEDS], rnd[SEEDS];
	int within = 1, wins = 0;

	for (int i = 0; i < SEEDS; i++) {
		tpe[i] = run_zdt("tpe", i + 1, &within);
		rnd[i] = run_zdt("random", i + 1, &within);
		wins += tpe[i] > rnd[i];
		printf("# seed %d: motpe %.4f random %.4f\n", i + 1, tpe[i], rnd[i]);
	}
	qsort(tpe, SEEDS, sizeof *tpe, cmp_d);
	qsort(rnd, SEEDS, sizeof *rnd, cmp_d);
	CHECK(within);
	CHECK_MSG(tpe[SEEDS / 2] > rnd[SEEDS / 2], "median %.4f vs %.4f",
		  tpe[SEEDS / 2], rnd[SEEDS / 2]);
	CHECK_MSG(wins > SEEDS / 2, "%d of %d seeds", wins, SEEDS);
}

/* Same spec, seed and observations: the same params; and k = 1 through
 * the MO entry point is plain TPE. */
static void
deterministic_and_one_objective_is_tpe(void)
{
	int within = 1;
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}, 'c': {'choice': ['a', 'b']}}",
				    "{'algorithm': 'tpe', 'n_startup': 0}", ""));
	cJSON *p1 = J("{'x': 0.2, 'c': 'a'}"), *p2 = J("{'x': 0.9, 'c': 'b'}");
	struct sampler_obs obs[2] = {
		{ .params = p1, .state = SAMPLER_COMPLETE, .value = 1 },
		{ .params = p2, .state = SAMPLER_COMPLETE, .value = 2 },
	};
	double v[4] = { 1, 2, 2, 1 };
	struct sampler_objectives one = { 1, NULL, NULL }, two = { 2, (int[]){ 0, 0 }, v };
	cJSON *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	char err[128];

	CHECK(run_zdt("tpe", 3, &within) == run_zdt("tpe", 3, &within));
	CHECK(s != NULL);
	CHECK(sampler_suggest_mo(s, &one, 3, NULL, obs, 2, &a, err, sizeof err) == 0);
	CHECK(sampler_suggest(s, 3, NULL, obs, 2, &b, err, sizeof err) == 0);
	CHECK(a && b && cJSON_Compare(a, b, 1));
	CHECK(sampler_suggest_mo(s, &two, 3, NULL, obs, 2, &c, err, sizeof err) == 0);
	CHECK(sampler_suggest_mo(s, &two, 3, NULL, obs, 2, &d, err, sizeof err) == 0);
	CHECK(c && d && cJSON_Compare(c, d, 1));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(d);
	cJSON_Delete(p1);
	cJSON_Delete(p2);
	spec_free(s);
}

/* Random search reads no observation: k objectives change nothing. */
static void
random_is_the_same_with_two_objectives(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}, 'c': {'choice': ['a', 'b']}}",
				    "{'algorithm': 'random', 'seed': 5}", ""));
	cJSON *p = J("{'x': 0.2, 'c': 'a'}");
	struct sampler_obs obs[1] = { { .params = p, .state = SAMPLER_COMPLETE } };
	double v[2] = { 1, 2 };
	struct sampler_objectives two = { 2, (int[]){ 1, 0 }, v };
	int same = 1;
	char err[128];

	CHECK(s != NULL);
	for (int n = 1; s && n <= 30; n++) {
		cJSON *a = NULL, *b = NULL;
		CHECK(sampler_suggest_mo(s, &two, n, NULL, obs, 1, &a, err, sizeof err) == 0);
		CHECK(sampler_suggest(s, n, NULL, obs, 1, &b, err, sizeof err) == 0);
		same &= a && b && cJSON_Compare(a, b, 1);
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	CHECK(same);
	cJSON_Delete(p);
	spec_free(s);
}

int
main(void)
{
	RUN(split_by_rank_then_hypervolume);
	RUN(split_auto_gamma_takes_the_best_box);
	RUN(split_follows_directions);
	RUN(nothing_to_learn_without_a_completed_trial);
	RUN(bad_objectives_are_refused);
	RUN(beats_random_on_zdt1);
	RUN(deterministic_and_one_objective_is_tpe);
	RUN(random_is_the_same_with_two_objectives);
	return harness_done();
}
