/*
 * test_importance.c: variance shares on synthetic objectives whose shares
 * are known in closed form, over random-search trials.
 *
 * y = 3 x1 + x2 + g(c) + noise, x1, x2, x3 ~ U[0, 1], c uniform over 4
 * values with g = (0, 0, 1.5, 1.5): Var(3 x1) = 9/12, Var(x2) = 1/12,
 * Var(g) = 0.5625, noise sd 0.2 (0.04); x3 has no effect. An additive
 * objective has no interactions, so the main-effect shares are each term's
 * variance over the total: 0.5220, 0.0580, 0.3915, 0 for x3.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/importance.h"
#include "daemon/search/sampler.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

#define N 2000

static const char *space =
	"{'x1': {'uniform': [0, 1]}, 'x2': {'uniform': [0, 1]}, 'x3': {'uniform': [0, 1]},"
	" 'c': {'choice': ['a', 'b', 'c', 'd']}, 'epochs': 5}";

static void
shares_match_the_closed_form(void)
{
	struct spec *s;
	static struct importance_obs obs[N];
	static cJSON *params[N];
	double share[5], total = 0.75 + 1.0 / 12 + 0.5625 + 0.04;
	struct sampler_rng r;
	char text[2048];

	snprintf(text, sizeof text, SPEC("%s", "{'seed': 1, 'trials': 100000}", ""), space);
	s = parse(text);
	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	sampler_rng_init(&r, 42, 0);
	for (int i = 0; i < N; i++) {
		char err[128];
		const cJSON *c;
		double y;

		CHECK(sampler_suggest(s, i + 1, NULL, NULL, 0, &params[i], err, sizeof err) == 0);
		c = cJSON_GetObjectItem(params[i], "c");
		y = 3 * cJSON_GetObjectItem(params[i], "x1")->valuedouble +
		    cJSON_GetObjectItem(params[i], "x2")->valuedouble +
		    (c->valuestring[0] >= 'c' ? 1.5 : 0) + 0.2 * sampler_rng_normal(&r);
		obs[i] = (struct importance_obs){ params[i], y };
	}
	CHECK(importance_shares(s, obs, N, share) == 0);
	printf("# shares x1 %.3f x2 %.3f x3 %.3f c %.3f\n", share[0], share[1], share[2],
	       share[3]);
	CHECK_NEAR(share[0], 0.75 / total, 0.04);
	CHECK_NEAR(share[1], (1.0 / 12) / total, 0.02);
	CHECK_NEAR(share[2], 0, 0.01);
	CHECK_NEAR(share[3], 0.5625 / total, 0.04);
	CHECK(isnan(share[4]));   /* the constant */
	/* The ranking a user reads. */
	CHECK(share[0] > share[3] && share[3] > share[1] && share[1] > share[2]);
	for (int i = 0; i < N; i++)
		cJSON_Delete(params[i]);
	spec_free(s);
}

/* A 0/1 outcome ("was diagnosed X") works the same way: the trials with
 * lr above 0.5 diverge, nothing else matters. */
static void
binary_outcomes_name_their_cause(void)
{
	struct spec *s = parse(SPEC("{'lr': {'uniform': [0, 1]}, 'k': {'choice': [1, 2, 3]}}",
				    "{'seed': 2, 'trials': 1000}", ""));
	static struct importance_obs obs[600];
	static cJSON *params[600];
	double share[2];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	for (int i = 0; i < 600; i++) {
		char err[128];
		CHECK(sampler_suggest(s, i + 1, NULL, NULL, 0, &params[i], err, sizeof err) == 0);
		obs[i] = (struct importance_obs){
			params[i], cJSON_GetObjectItem(params[i], "lr")->valuedouble > 0.5 };
	}
	CHECK(importance_shares(s, obs, 600, share) == 0);
	/* A step at 0.5 over 10 bins: all of the variance but the one bin
	 * straddling it; k none. */
	CHECK_MSG(share[0] > 0.85, "lr %.3f", share[0]);
	CHECK_MSG(share[1] < 0.02, "k %.3f", share[1]);
	for (int i = 0; i < 600; i++)
		cJSON_Delete(params[i]);
	spec_free(s);
}

/* Too few trials, or no variance at all: no share is made up. */
static void
no_shares_without_evidence(void)
{
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}", "{}", ""));
	cJSON *p = J("{'x': 0.5}");
	struct importance_obs obs[20];
	double share[1];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	for (int i = 0; i < 20; i++)
		obs[i] = (struct importance_obs){ p, 1.0 };
	CHECK(importance_shares(s, obs, 3, share) == 0 && isnan(share[0]));
	CHECK(importance_shares(s, obs, 20, share) == 0 && isnan(share[0]));
	cJSON_Delete(p);
	spec_free(s);
}

/* The "verdicts" of importance_json: each verdict some but not all of the
 * diagnosed trials got, once, in order of first appearance, with its
 * count; a verdict every diagnosed trial got splits nothing and is left
 * out; trials without a diagnosis are not counted. */
static void
verdicts_in_order_of_first_appearance(void)
{
	static const char *const v[] = { "overfitting", "good_fit", "overfitting",
					 NULL, "diverged", "good_fit" };
	struct spec *s = parse(SPEC("{'x': {'uniform': [0, 1]}}", "{}", ""));
	cJSON *trials = cJSON_CreateArray(), *out = NULL, *e;
	const char *want[] = { "overfitting", "good_fit", "diverged" };
	int want_k[] = { 2 * 50, 2 * 50, 50 }, i = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	for (int n = 0; n < 50; n++)
		for (int j = 0; j < 6; j++) {
			char text[256];
			snprintf(text, sizeof text, "{'status': 'completed', "
				 "'objective': %d, 'params': {'x': %g}%s%s%s}", j,
				 (n * 6 + j) / 300.0, v[j] ? ", 'diagnosis': "
				 "{'verdict': '" : "", v[j] ? v[j] : "", v[j] ? "'}" : "");
			cJSON_AddItemToArray(trials, J(text));
		}
	CHECK(importance_json(s, trials, &out) == 0);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(out, "verdicts")) {
		CHECK(i < 3);
		if (i >= 3)
			break;
		CHECK_MSG(strcmp(cJSON_GetObjectItem(e, "verdict")->valuestring,
				 want[i]) == 0, "%d: %s", i,
			  cJSON_GetObjectItem(e, "verdict")->valuestring);
		CHECK(cJSON_GetObjectItem(e, "trials")->valueint == want_k[i]);
		CHECK(cJSON_GetObjectItem(e, "of")->valueint == 250);
		i++;
	}
	CHECK(i == 3);
	cJSON_Delete(out);
	out = NULL;
	/* Every diagnosed trial "good_fit": nothing to split. */
	cJSON_ArrayForEach(e, trials) {
		cJSON *d = cJSON_GetObjectItem(e, "diagnosis");
		if (d)
			cJSON_ReplaceItemInObject(d, "verdict", cJSON_CreateString("good_fit"));
	}
	CHECK(importance_json(s, trials, &out) == 0);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(out, "verdicts")) == 0);
	cJSON_Delete(out);
	cJSON_Delete(trials);
	spec_free(s);
}

int
main(void)
{
	RUN(shares_match_the_closed_form);
	RUN(binary_outcomes_name_their_cause);
	RUN(no_shares_without_evidence);
	RUN(verdicts_in_order_of_first_appearance);
	return harness_done();
}
