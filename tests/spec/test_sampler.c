/*
 * test_sampler.c: trial seeds, random search (reproducible, in range, the
 * right distribution), grid order, and enqueued params.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/sampler.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

/* Params of trial number as compact JSON (caller frees), NULL on error. */
static char *
suggest_text(const struct spec *s, int number, const cJSON *fixed)
{
	cJSON *out = NULL;
	char err[256], *text;

	if (sampler_suggest(s, number, fixed, NULL, 0, &out, err, sizeof err) < 0) {
		printf("# suggest %d: %s\n", number, err);
		return NULL;
	}
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	return text;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A range as wide as doubles go: high - low overflows to inf, which made
 * every draw high (inf clamped) or NaN. The draws must spread over it. */
static void
uniform_over_the_widest_range_spreads(void)
{
	struct spec *s = parse(SPEC("{'u': {'uniform': [-1e308, 1e308]},"
				    " 'v': {'uniform': [1e308, 1.7e308]}}",
				    "{'seed': 3}", ""));
	int below_zero = 0, at_high = 0, bad = 0, v_low = 0, n = 200;

	CHECK(s != NULL);
	for (int i = 1; s && i <= n; i++) {
		cJSON *out = NULL;
		char err[256];
		double u, v;

		if (sampler_suggest(s, i, NULL, NULL, 0, &out, err, sizeof err) < 0) {
			bad++;
			continue;
		}
		u = num(out, "u");
		v = num(out, "v");
		bad += !(u >= -1e308 && u < 1e308) || !(v >= 1e308 && v < 1.7e308);
		below_zero += u < 0;
		at_high += u == 1e308;
		v_low += v < 1.35e308;
		cJSON_Delete(out);
	}
	CHECK(bad == 0);
	CHECK(at_high == 0);
	CHECK_MSG(below_zero > n / 4 && below_zero < 3 * n / 4, "%d of %d < 0",
		  below_zero, n);
	CHECK_MSG(v_low > n / 4 && v_low < 3 * n / 4, "%d of %d in the lower "
		  "half", v_low, n);
	spec_free(s);
}

static void
trial_seed_mixes_seed_and_number(void)
{
	enum { N = 5000 };
	uint64_t *seen = malloc(N * sizeof *seen);
	int dup = 0, big = 0;

	for (int i = 0; i < N; i++) {
		seen[i] = sampler_trial_seed(42, i + 1);
		if (seen[i] > SPEC_MAX_SEED)
			big++;
		for (int j = 0; j < i; j++)
			dup += seen[i] == seen[j];
	}
	CHECK(dup == 0);
	CHECK(big == 0);   /* exact in JSON */
	CHECK(sampler_trial_seed(42, 7) == sampler_trial_seed(42, 7));
	CHECK(sampler_trial_seed(42, 7) != sampler_trial_seed(43, 7));
	/* Not a plain sum: (seed 1, trial 2) differs from (seed 2, trial 1). */
	CHECK(sampler_trial_seed(1, 2) != sampler_trial_seed(2, 1));
	/* High bits move too (a mix, not an offset). */
	CHECK((sampler_trial_seed(0, 1) >> 40) != (sampler_trial_seed(0, 2) >> 40));
	free(seen);
}

static const char *every_dist = SPEC(
	"{'c': {'choice': ['relu', 'tanh', 'sigmoid']},"
	" 'u': {'uniform': [-2, 3]},"
	" 'lu': {'loguniform': [1e-4, 1e-1]},"
	" 'i': {'int': [-3, 4]},"
	" 'li': {'logint': [1, 256]},"
	" 'k': [48, 24]}", "{'seed': 5}", "");

static void
random_returns_every_param_in_spec_order(void)
{
	struct spec *s = parse(every_dist);
	cJSON *out = NULL;
	const cJSON *it;
	char err[256];
	int i = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(sampler_suggest(s, 1, NULL, NULL, 0, &out, err, sizeof err) == 0);
	cJSON_ArrayForEach(it, out) {
		CHECK(i < s->n_params && strcmp(it->string, s->params[i].name) == 0);
		i++;
	}
	CHECK(i == s->n_params);
	CHECK(cJSON_Compare(cJSON_GetObjectItem(out, "k"), s->params[5].values, 1));
	cJSON_Delete(out);
	spec_free(s);
}

static void
random_depends_only_on_seed_and_number(void)
{
	struct spec *s = parse(every_dist);
	char *a5, *a3, *b3, *b5, *a4;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	a5 = suggest_text(s, 5, NULL);
	a3 = suggest_text(s, 3, NULL);
	b3 = suggest_text(s, 3, NULL);   /* asked again, in another order */
	b5 = suggest_text(s, 5, NULL);
	a4 = suggest_text(s, 4, NULL);
	CHECK_STR(a5, b5);
	CHECK_STR(a3, b3);
	CHECK(a3 && a4 && strcmp(a3, a4) != 0);
	free(a5); free(a3); free(b3); free(b5); free(a4);
	spec_free(s);
}

static void
another_seed_gives_other_params(void)
{
	struct spec *s = parse(every_dist);
	char *a, *b;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	a = suggest_text(s, 1, NULL);
	spec_set_seed(s, 6);
	b = suggest_text(s, 1, NULL);
	CHECK(a && b && strcmp(a, b) != 0);
	free(a);
	free(b);
	spec_free(s);
}

/* A param's values do not move when another param is added before it. */
static void
adding_a_param_keeps_the_others(void)
{
	struct spec *a = parse(SPEC("{'lr': {'loguniform': [1e-4, 1]}}", "{'seed': 9}", ""));
	struct spec *b = parse(SPEC("{'d': {'uniform': [0, 1]}, 'lr': {'loguniform': [1e-4, 1]}}",
				    "{'seed': 9}", ""));
	cJSON *pa = NULL, *pb = NULL;
	char err[256];

	CHECK(a && b);
	if (!a || !b)
		goto out;
	for (int n = 1; n <= 20; n++) {
		CHECK(sampler_suggest(a, n, NULL, NULL, 0, &pa, err, sizeof err) == 0);
		CHECK(sampler_suggest(b, n, NULL, NULL, 0, &pb, err, sizeof err) == 0);
		CHECK(num(pa, "lr") == num(pb, "lr"));
		cJSON_Delete(pa);
		cJSON_Delete(pb);
		pa = pb = NULL;
	}
out:
	spec_free(a);
	spec_free(b);
}

static void
random_stays_in_range_and_covers_it(void)
{
	enum { N = 4000 };
	struct spec *s = parse(every_dist);
	int seen_c[3] = { 0 }, int_lo = 0, int_hi = 0, li_lo = 0, li_hi = 0;
	int below_gmean = 0, li_small = 0, bad = 0;
	double umin = 1e9, umax = -1e9;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	for (int n = 1; n <= N; n++) {
		cJSON *p = NULL;
		const char *c;
		double u, lu, i, li;

		if (sampler_suggest(s, n, NULL, NULL, 0, &p, err, sizeof err) < 0) {
			bad++;
			continue;
		}
		c = cJSON_GetStringValue(cJSON_GetObjectItem(p, "c"));
		for (int k = 0; k < 3 && c; k++)
			seen_c[k] += strcmp(c, ((const char *[]){ "relu", "tanh", "sigmoid" })[k]) == 0;
		u = num(p, "u");
		lu = num(p, "lu");
		i = num(p, "i");
		li = num(p, "li");
		bad += !(u >= -2 && u < 3) || !(lu >= 1e-4 && lu <= 1e-1) ||
		       !(i >= -3 && i <= 4 && i == floor(i)) ||
		       !(li >= 1 && li <= 256 && li == floor(li));
		umin = fmin(umin, u);
		umax = fmax(umax, u);
		int_lo += i == -3;
		int_hi += i == 4;
		li_lo += li == 1;
		li_hi += li == 256;
		below_gmean += lu < sqrt(1e-4 * 1e-1);
		li_small += li <= 16;
		cJSON_Delete(p);
	}
	CHECK(bad == 0);
	CHECK(seen_c[0] + seen_c[1] + seen_c[2] == N);
	for (int k = 0; k < 3; k++)   /* each about N/3 */
		CHECK_MSG(fabs(seen_c[k] - N / 3.0) < N * 0.05, "choice %d: %d", k, seen_c[k]);
	CHECK(umin < -1.9 && umax > 2.9);
	/* Inclusive integer ranges: both ends come up, about 1/8 each. */
	CHECK_MSG(fabs(int_lo - N / 8.0) < N * 0.03, "%d", int_lo);
	CHECK_MSG(fabs(int_hi - N / 8.0) < N * 0.03, "%d", int_hi);
	CHECK(li_lo > 0 && li_hi > 0);
	/* Uniform in log space: half below the geometric mean. */
	CHECK_MSG(fabs(below_gmean - N / 2.0) < N * 0.04, "%d", below_gmean);
	/* logint draws log-uniformly in [0.5, 256.5] and rounds: values up to
	 * 16 own [0.5, 16.5), log(33) / log(513) of the log range. */
	CHECK_MSG(fabs(li_small - N * log(33) / log(513)) < N * 0.03, "%d", li_small);
	spec_free(s);
}

static void
fixed_params_override(void)
{
	struct spec *s = parse(every_dist);
	cJSON *plain = NULL, *fixed = J("{'lu': 0.05, 'c': 'tanh'}"), *out = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		goto out;
	CHECK(sampler_suggest(s, 3, NULL, NULL, 0, &plain, err, sizeof err) == 0);
	CHECK(sampler_suggest(s, 3, fixed, NULL, 0, &out, err, sizeof err) == 0);
	CHECK(num(out, "lu") == 0.05);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(out, "c")), "tanh");
	CHECK(num(out, "u") == num(plain, "u"));   /* the rest as sampled */
	CHECK(num(out, "li") == num(plain, "li"));
	CHECK(cJSON_GetArraySize(out) == s->n_params);
	CHECK_STR(out->child->string, "c");   /* still in spec order */
out:
	cJSON_Delete(plain);
	cJSON_Delete(fixed);
	cJSON_Delete(out);
	spec_free(s);
}

static void
bad_fixed_params_are_refused(void)
{
	struct spec *s = parse(every_dist);
	cJSON *fixed = J("{'lu': 0.5}"), *out = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (s) {
		CHECK(sampler_suggest(s, 1, fixed, NULL, 0, &out, err, sizeof err) == -EINVAL);
		CHECK_CONTAINS(err, "params.lu: 0.5 is outside the loguniform range");
		CHECK(out == NULL);
		cJSON_Delete(fixed);
		fixed = J("{'nope': 1}");
		CHECK(sampler_suggest(s, 1, fixed, NULL, 0, &out, err, sizeof err) == -EINVAL);
		CHECK_CONTAINS(err, "params.nope: not a param of the space");
		CHECK(sampler_suggest(s, 0, NULL, NULL, 0, &out, err, sizeof err) == -EINVAL);
		CHECK_CONTAINS(err, "trial number 0");
	}
	cJSON_Delete(fixed);
	spec_free(s);
}

static void
grid_walks_every_combination_last_fastest(void)
{
	struct spec *s = parse(SPEC("{'x': {'choice': [0.1, 0.3, 0.5]}, 'e': 3,"
				    " 'lr': {'choice': [0.01, 0.1]}}",
				    "{'algorithm': 'grid', 'parallel': 2}", ""));
	static const double want[6][2] = {
		{ 0.1, 0.01 }, { 0.1, 0.1 }, { 0.3, 0.01 },
		{ 0.3, 0.1 }, { 0.5, 0.01 }, { 0.5, 0.1 },
	};
	cJSON *p = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->trials == 6);
	for (int n = 1; n <= 6; n++) {
		CHECK(sampler_suggest(s, n, NULL, NULL, 0, &p, err, sizeof err) == 0);
		CHECK_MSG(num(p, "x") == want[n - 1][0] && num(p, "lr") == want[n - 1][1],
			  "trial %d", n);
		CHECK(num(p, "e") == 3);
		cJSON_Delete(p);
		p = NULL;
	}
	CHECK(sampler_suggest(s, 7, NULL, NULL, 0, &p, err, sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "trial 7 is beyond the grid's 6 combinations");
	spec_free(s);
}

static void
grid_enumerates_int_ranges_and_grid_points(void)
{
	struct spec *s = parse(SPEC("{'n': {'logint': [2, 4]},"
				    " 'd': {'uniform': [0, 0.5], 'grid': [0.0, 0.25, 0.5]}}",
				    "{'algorithm': 'grid'}", ""));
	double got[9][2];
	cJSON *p = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->trials == 9);
	for (int n = 1; n <= 9; n++) {
		CHECK(sampler_suggest(s, n, NULL, NULL, 0, &p, err, sizeof err) == 0);
		got[n - 1][0] = num(p, "n");
		got[n - 1][1] = num(p, "d");
		cJSON_Delete(p);
		p = NULL;
	}
	CHECK(got[0][0] == 2 && got[0][1] == 0.0);
	CHECK(got[1][0] == 2 && got[1][1] == 0.25);
	CHECK(got[3][0] == 3 && got[3][1] == 0.0);
	CHECK(got[8][0] == 4 && got[8][1] == 0.5);
	spec_free(s);
}

static void
grid_starts_after_the_enqueued_sets(void)
{
	struct spec *s = parse(SPEC("{'c': {'choice': ['a', 'b']}, 'k': {'int': [1, 2]}}",
				    "{'algorithm': 'grid'}", ", 'enqueue': [{'c': 'b'}]"));
	cJSON *p = NULL, *fixed = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->trials == 5);
	fixed = cJSON_GetArrayItem(s->enqueue, 0);
	CHECK(sampler_suggest(s, 1, fixed, NULL, 0, &p, err, sizeof err) == 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "c")), "b");
	CHECK(num(p, "k") == 1);   /* the rest from combination 0 */
	cJSON_Delete(p);
	CHECK(sampler_suggest(s, 2, NULL, NULL, 0, &p, err, sizeof err) == 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "c")), "a");
	CHECK(num(p, "k") == 1);   /* combination 0 */
	cJSON_Delete(p);
	CHECK(sampler_suggest(s, 5, NULL, NULL, 0, &p, err, sizeof err) == 0);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(p, "c")), "b");
	CHECK(num(p, "k") == 2);   /* combination 3, the last */
	cJSON_Delete(p);
	spec_free(s);
}

static void
rng_uniform_and_normal_look_right(void)
{
	enum { N = 20000 };
	struct sampler_rng r;
	double sum = 0, sum2 = 0, umin = 1, umax = 0;

	sampler_rng_init(&r, 1, 2);
	for (int i = 0; i < N; i++) {
		double u = sampler_rng_uniform(&r);
		umin = fmin(umin, u);
		umax = fmax(umax, u);
	}
	CHECK(umin >= 0 && umin < 0.001 && umax < 1 && umax > 0.999);
	for (int i = 0; i < N; i++) {
		double z = sampler_rng_normal(&r);
		sum += z;
		sum2 += z * z;
	}
	CHECK_NEAR(sum / N, 0, 0.03);
	CHECK_NEAR(sum2 / N, 1, 0.04);
	CHECK(sampler_name_stream("lr") != sampler_name_stream("rl"));
}

int
main(void)
{
	RUN(trial_seed_mixes_seed_and_number);
	RUN(uniform_over_the_widest_range_spreads);
	RUN(random_returns_every_param_in_spec_order);
	RUN(random_depends_only_on_seed_and_number);
	RUN(another_seed_gives_other_params);
	RUN(adding_a_param_keeps_the_others);
	RUN(random_stays_in_range_and_covers_it);
	RUN(fixed_params_override);
	RUN(bad_fixed_params_are_refused);
	RUN(grid_walks_every_combination_last_fastest);
	RUN(grid_enumerates_int_ranges_and_grid_points);
	RUN(grid_starts_after_the_enqueued_sets);
	RUN(rng_uniform_and_normal_look_right);
	return harness_done();
}
