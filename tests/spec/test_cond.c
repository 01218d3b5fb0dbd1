/*
 * test_cond.c: conditional params ("when"): refused at submit when they
 * name no param or form a cycle; absent from a trial's params when
 * inactive, for random, grid (only active combinations, each once) and
 * TPE (fitted on the trials where the param was active); enqueued sets a
 * condition rules out; the built-in trainer's own conditional knobs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/builtin.h"
#include "daemon/search/sampler.h"
#include "tests/harness.h"
#include "tests/spec/util.h"

/* optimizer picks momentum's branch; nesterov_extra only under nesterov
 * and only when momentum is active (nested). */
#define OPT_SPACE \
	"{'optimizer': {'choice': ['sgd', 'momentum', 'nesterov']}," \
	" 'momentum': {'uniform': [0, 0.99], 'when': {'optimizer': ['momentum', 'nesterov']}}," \
	" 'dampening': {'choice': [0, 0.5], 'when': {'optimizer': ['nesterov']}," \
	"               'grid': [0, 0.5]}," \
	" 'lr': {'loguniform': [0.001, 0.1]}}"

static cJSON *
suggest(const struct spec *s, int number, const cJSON *fixed,
	const struct sampler_obs *obs, int n_obs)
{
	cJSON *out = NULL;
	char err[256];

	if (sampler_suggest(s, number, fixed, obs, n_obs, &out, err, sizeof err) < 0) {
		printf("# suggest %d: %s\n", number, err);
		return NULL;
	}
	return out;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static const struct {
	const char *spec, *msg;
} bad[] = {
	{ SPEC("{'m': {'uniform': [0, 1], 'when': {'opt': ['a']}}}", "{}", ""),
	  "space.m.when.opt: not a param of the space" },
	{ SPEC("{'m': {'uniform': [0, 1], 'when': {'m': [0.5]}}}", "{}", ""),
	  "space.m.when.m: a param cannot depend on itself" },
	{ SPEC("{'o': {'choice': ['a', 'b']}, 'm': {'uniform': [0, 1], 'when': {'o': ['z']}}}",
	       "{}", ""),
	  "space.m.when.o[0]: \"z\" is not one of the choice values" },
	{ SPEC("{'o': {'choice': ['a']}, 'm': {'uniform': [0, 1], 'when': {'o': []}}}", "{}", ""),
	  "space.m.when.o: must be a non-empty array of values of o" },
	{ SPEC("{'o': {'choice': ['a']}, 'm': {'uniform': [0, 1], 'when': {}}}", "{}", ""),
	  "space.m.when: must be a non-empty object" },
	{ SPEC("{'a': {'choice': [1, 2], 'when': {'c': [1]}},"
	       " 'b': {'choice': [1, 2], 'when': {'a': [1]}},"
	       " 'c': {'choice': [1, 2], 'when': {'b': [1]}}}", "{}", ""),
	  "space.a.when: the conditions form a cycle (a -> c -> b -> a)" },
	{ SPEC(OPT_SPACE, "{}", ", 'enqueue': [{'optimizer': 'sgd', 'momentum': 0.5}]"),
	  "enqueue[1].momentum: does not apply when optimizer is \"sgd\" (space.momentum.when)" },
	{ SPEC(OPT_SPACE, "{}", ", 'enqueue': [{'optimizer': 'sgd', 'dampening': 0}]"),
	  "enqueue[1].dampening: does not apply when optimizer is \"sgd\"" },
};

static void
refuses_bad_conditions_naming_the_path(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct spec *s = parse(bad[i].spec);
		CHECK_MSG(!s, "accepted: %s", bad[i].spec);
		CHECK_MSG(strstr(util_err, bad[i].msg), "case %zu: \"%s\" lacks \"%s\"",
			  i, util_err, bad[i].msg);
		spec_free(s);
	}
}

/* Every trial: momentum iff momentum/nesterov, dampening iff nesterov;
 * and both branches do occur. */
static void
random_gives_only_active_params(void)
{
	struct spec *s = parse(SPEC(OPT_SPACE, "{'seed': 3, 'trials': 200}", ""));
	int seen_m = 0, seen_sgd = 0, seen_d = 0;

	CHECK_MSG(s, "%s", util_err);
	for (int n = 1; s && n <= 200; n++) {
		cJSON *p = suggest(s, n, NULL, NULL, 0);
		const char *opt = str(p, "optimizer");
		int want_m = strcmp(opt, "sgd") != 0, want_d = strcmp(opt, "nesterov") == 0;

		CHECK(p && cJSON_HasObjectItem(p, "lr"));
		CHECK_MSG(cJSON_HasObjectItem(p, "momentum") == want_m, "trial %d (%s)", n, opt);
		CHECK_MSG(cJSON_HasObjectItem(p, "dampening") == want_d, "trial %d (%s)", n, opt);
		seen_m += want_m;
		seen_sgd += !want_m;
		seen_d += want_d;
		cJSON_Delete(p);
	}
	CHECK(seen_m > 0 && seen_sgd > 0 && seen_d > 0);
	spec_free(s);
}

/* A param conditioned on an inactive parent is inactive too. */
static void
nested_conditions_follow_the_parent(void)
{
	struct spec *s = parse(SPEC(
		"{'model': {'choice': ['linear', 'mlp']},"
		" 'act': {'choice': ['relu', 'tanh'], 'when': {'model': ['mlp']}},"
		" 'slope': {'uniform': [0, 1], 'when': {'act': ['relu']}}}",
		"{'seed': 1}", ""));
	unsigned char active[3];
	cJSON *p;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	/* "act" absent (model linear), so slope is inactive even though the
	 * object gives act's value: its parent is not active. */
	p = J("{'model': 'linear', 'act': 'relu'}");
	spec_active(s, p, active);
	CHECK(active[0] == 1 && active[1] == 0 && active[2] == 0);
	cJSON_Delete(p);
	p = J("{'model': 'mlp', 'act': 'relu'}");
	spec_active(s, p, active);
	CHECK(active[0] == 1 && active[1] == 1 && active[2] == 1);
	cJSON_Delete(p);
	for (int n = 1; n <= 100; n++) {
		p = suggest(s, n, NULL, NULL, 0);
		int mlp = strcmp(str(p, "model"), "mlp") == 0;
		int relu = mlp && strcmp(str(p, "act"), "relu") == 0;
		CHECK(cJSON_HasObjectItem(p, "act") == mlp);
		CHECK(cJSON_HasObjectItem(p, "slope") == relu);
		cJSON_Delete(p);
	}
	spec_free(s);
}

/* Grid: sgd 1, momentum 3, nesterov 3 x 2 = 10 combinations of
 * (optimizer, momentum grid, dampening) times 2 lr points = 20, each
 * once, none with an inactive param. */
static void
grid_expands_only_active_combinations(void)
{
	struct spec *s = parse(SPEC(
		"{'optimizer': {'choice': ['sgd', 'momentum', 'nesterov']},"
		" 'momentum': {'uniform': [0, 0.99], 'grid': [0, 0.5, 0.9],"
		"              'when': {'optimizer': ['momentum', 'nesterov']}},"
		" 'dampening': {'choice': [0, 0.5], 'when': {'optimizer': ['nesterov']}},"
		" 'lr': {'choice': [0.01, 0.1]}}",
		"{'algorithm': 'grid'}", ""));
	char *seen[20] = { 0 };
	int n_sgd = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(spec_grid_size(s) == 20);
	CHECK(s->trials == 20);
	for (int n = 1; n <= 20; n++) {
		cJSON *p = suggest(s, n, NULL, NULL, 0);
		const char *opt = str(p, "optimizer");
		CHECK(p);
		CHECK(cJSON_HasObjectItem(p, "momentum") == (strcmp(opt, "sgd") != 0));
		CHECK(cJSON_HasObjectItem(p, "dampening") == (strcmp(opt, "nesterov") == 0));
		n_sgd += strcmp(opt, "sgd") == 0;
		seen[n - 1] = cJSON_PrintUnformatted(p);
		for (int k = 0; k < n - 1; k++)
			CHECK_MSG(strcmp(seen[k], seen[n - 1]) != 0, "trial %d repeats %d: %s",
				  n, k + 1, seen[k]);
		cJSON_Delete(p);
	}
	CHECK(n_sgd == 2);
	{
		cJSON *out = NULL;
		char err[256];
		CHECK(sampler_suggest(s, 21, NULL, NULL, 0, &out, err, sizeof err) == -EINVAL);
		CHECK_CONTAINS(err, "beyond the grid's 20 combinations");
	}
	for (int k = 0; k < 20; k++)
		free(seen[k]);
	spec_free(s);
}

/* The parent and lr are enqueued; momentum, inactive in the grid's first
 * combination (sgd), is sampled from the grid of the active branch only
 * when the enqueued set turns it on: here it does not, so it is absent. */
static void
enqueued_branch_switch_drops_the_inactive(void)
{
	struct spec *s = parse(SPEC(OPT_SPACE, "{'seed': 5}",
				    ", 'enqueue': [{'optimizer': 'sgd'}, {'optimizer': 'nesterov', "
				    "'momentum': 0.3}]"));
	cJSON *p;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	p = suggest(s, 1, cJSON_GetArrayItem(s->enqueue, 0), NULL, 0);
	CHECK(p && !cJSON_HasObjectItem(p, "momentum") && !cJSON_HasObjectItem(p, "dampening"));
	cJSON_Delete(p);
	p = suggest(s, 2, cJSON_GetArrayItem(s->enqueue, 1), NULL, 0);
	CHECK(p && cJSON_GetObjectItem(p, "momentum") &&
	      cJSON_GetObjectItem(p, "momentum")->valuedouble == 0.3);
	CHECK(p && cJSON_HasObjectItem(p, "dampening"));
	/* spec order kept */
	CHECK(p && strcmp(p->child->string, "optimizer") == 0);
	cJSON_Delete(p);
	spec_free(s);
}

/*
 * TPE fits momentum on the trials where it was active only: 40 sgd trials
 * (no momentum, all scoring well) and 40 momentum trials where the low
 * momenta score well. Had the sgd trials been counted (as a value, or by
 * the ranking putting them in the good group with a momentum the
 * estimator invents), the suggestion would not follow the momentum trials.
 */
static void
tpe_fits_a_param_where_it_was_active(void)
{
	struct spec *s = parse(SPEC(
		"{'optimizer': {'choice': ['sgd', 'momentum']},"
		" 'momentum': {'uniform': [0, 1], 'when': {'optimizer': ['momentum']}}}",
		"{'algorithm': 'tpe', 'seed': 9, 'n_startup': 0, 'trials': 200}", ""));
	struct sampler_obs obs[80];
	cJSON *params[80];
	int low = 0, with_m = 0;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	for (int i = 0; i < 80; i++) {
		char text[128];
		double m = (i / 2) / 40.0;
		if (i % 2 == 0)
			snprintf(text, sizeof text, "{'optimizer': 'sgd'}");
		else
			snprintf(text, sizeof text, "{'optimizer': 'momentum', 'momentum': %g}", m);
		params[i] = J(text);
		obs[i] = (struct sampler_obs){ params[i], SAMPLER_COMPLETE,
					       i % 2 ? 1.0 - m : 0.5, 10 };
	}
	for (int n = 81; n <= 130; n++) {
		cJSON *p = suggest(s, n, NULL, obs, 80);
		const cJSON *m = cJSON_GetObjectItem(p, "momentum");
		CHECK(p);
		CHECK(cJSON_HasObjectItem(p, "momentum") ==
		      (strcmp(str(p, "optimizer"), "momentum") == 0));
		if (m) {
			with_m++;
			low += m->valuedouble < 0.3;
		}
		cJSON_Delete(p);
	}
	CHECK_MSG(with_m > 10 && low * 10 >= with_m * 8, "%d of %d below 0.3", low, with_m);
	for (int i = 0; i < 80; i++)
		cJSON_Delete(params[i]);
	spec_free(s);
}

#define MLP(space) \
	"{'trainer': {'builtin': 'mlp', 'dataset': 'synthetic'}," \
	" 'objective': {'metric': 'val_acc', 'mode': 'max'}, 'space': " space "}"

/* The built-in trainer declares momentum for momentum/nesterov and
 * lr_step for the step schedule: a space that can give them elsewhere is
 * refused at submit, one with the matching "when" is accepted. */
static void
builtin_refuses_a_knob_that_cannot_apply(void)
{
	static const struct {
		const char *spec, *msg;
	} cases[] = {
		{ MLP("{'optimizer': {'choice': ['adam', 'momentum']},"
		      " 'momentum': {'uniform': [0, 0.99]}}"),
		  "space.momentum: applies only when optimizer is \"momentum\", \"nesterov\", "
		  "but optimizer can be \"adam\" here" },
		{ MLP("{'momentum': {'uniform': [0, 0.99]}}"),
		  "space.momentum: param 'momentum': applies only when optimizer is momentum or "
		  "nesterov, not adam" },
		{ MLP("{'lr_schedule': {'choice': ['constant', 'step']},"
		      " 'lr_step': {'int': [1, 5], 'when': {'lr_schedule': ['step', 'constant']}}}"),
		  "space.lr_step: applies only when lr_schedule is \"step\", but lr_schedule can "
		  "be \"constant\"" },
	};
	static const char *const good[] = {
		MLP("{'optimizer': {'choice': ['adam', 'momentum', 'nesterov']},"
		    " 'momentum': {'uniform': [0, 0.99], 'when': {'optimizer': ['momentum', 'nesterov']}},"
		    " 'lr_schedule': {'choice': ['constant', 'step']},"
		    " 'lr_step': {'int': [1, 5], 'when': {'lr_schedule': ['step']}}}"),
		MLP("{'optimizer': 'momentum', 'momentum': {'uniform': [0, 0.99]}}"),
	};
	char err[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct spec *s = parse(cases[i].spec);
		CHECK_MSG(s, "%s", util_err);
		if (!s)
			continue;
		CHECK(builtin_check_spec(s, err, sizeof err) == -EINVAL);
		CHECK_MSG(strstr(err, cases[i].msg), "case %zu: \"%s\" lacks \"%s\"", i, err,
			  cases[i].msg);
		spec_free(s);
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct spec *s = parse(good[i]);
		CHECK_MSG(s, "%s", util_err);
		if (!s)
			continue;
		CHECK_MSG(builtin_check_spec(s, err, sizeof err) == 0, "good %zu: %s", i, err);
		spec_free(s);
	}
}

/* Every objective must be a metric the built-in trainer reports, each
 * refusal naming its entry. */
static void
builtin_checks_every_objective_metric(void)
{
	static const char *const refused =
		"{'trainer': {'builtin': 'mlp', 'dataset': 'synthetic'},"
		" 'objectives': [{'metric': 'val_acc'}, {'metric': 'secs', 'mode': 'min'}],"
		" 'space': {'lr': 0.1}}";
	static const char *const accepted =
		"{'trainer': {'builtin': 'mlp', 'dataset': 'synthetic'},"
		" 'objectives': [{'metric': 'val_acc'}, {'metric': 'seconds', 'mode': 'min'}],"
		" 'space': {'lr': 0.1}}";
	struct spec *s = parse(refused);
	char err[512];

	CHECK_MSG(s, "%s", util_err);
	if (s) {
		CHECK(builtin_check_spec(s, err, sizeof err) == -EINVAL);
		CHECK_CONTAINS(err, "objectives[1].metric: the built-in trainer reports "
			       "no metric \"secs\" (it reports ");
	}
	spec_free(s);
	s = parse(accepted);
	CHECK_MSG(s, "%s", util_err);
	if (s)
		CHECK_MSG(builtin_check_spec(s, err, sizeof err) == 0, "%s", err);
	spec_free(s);
	/* The single form keeps its path. */
	s = parse("{'trainer': {'builtin': 'mlp', 'dataset': 'synthetic'},"
		  " 'objective': {'metric': 'val_accuracy'}, 'space': {'lr': 0.1}}");
	CHECK_MSG(s, "%s", util_err);
	if (s) {
		CHECK(builtin_check_spec(s, err, sizeof err) == -EINVAL);
		CHECK_CONTAINS(err, "objective.metric: the built-in trainer reports no "
			       "metric \"val_accuracy\"");
	}
	spec_free(s);
}

/* The normalized spec keeps "when": parsing it again conditions the same. */
static void
normalized_spec_keeps_conditions(void)
{
	struct spec *s = parse(SPEC(OPT_SPACE, "{'seed': 2}", "")), *t = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(spec_parse(s->json, &t, err, sizeof err) == 0);
	CHECK(t && t->conditional && t->params[1].n_when == 1 && t->params[1].when[0].parent == 0);
	spec_free(t);
	spec_free(s);
}

int
main(void)
{
	RUN(refuses_bad_conditions_naming_the_path);
	RUN(random_gives_only_active_params);
	RUN(nested_conditions_follow_the_parent);
	RUN(grid_expands_only_active_combinations);
	RUN(enqueued_branch_switch_drops_the_inactive);
	RUN(tpe_fits_a_param_where_it_was_active);
	RUN(builtin_refuses_a_knob_that_cannot_apply);
	RUN(builtin_checks_every_objective_metric);
	RUN(normalized_spec_keeps_conditions);
	return harness_done();
}
