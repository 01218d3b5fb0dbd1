/*
 * test_spec.c: the sweep spec validator: what it accepts, the defaults it
 * fills in, and the message for each kind of bad input (naming the field).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"
#include "tests/spec/util.h"

static const char *design_example =
	"{'name': 'bnnet-fashion',"
	" 'trainer': {'builtin': 'mlp', 'dataset': 'fashion-mnist'},"
	" 'objective': {'metric': 'val_acc', 'mode': 'max'},"
	" 'space': {"
	"   'lr':         {'loguniform': [1e-4, 1e-1]},"
	"   'batch_size': {'choice': [32, 64, 128, 256]},"
	"   'epochs':     30,"
	"   'activation': {'choice': ['relu', 'tanh', 'sigmoid']},"
	"   'optimizer':  {'choice': ['sgd', 'momentum', 'adam', 'rmsprop']},"
	"   'dropout':    {'uniform': [0.0, 0.5]},"
	"   'hidden':     [48, 24],"
	"   'batchnorm':  true },"
	" 'search':  {'algorithm': 'tpe', 'trials': 60, 'parallel': 2, 'seed': 42},"
	" 'early_stopping': {'patience': 4, 'min_delta': 0.0},"
	" 'pruner':  {'algorithm': 'asha', 'min_epochs': 2, 'eta': 3},"
	" 'limits':  {'trial_timeout_s': 1800, 'retries': 1, 'max_failures': 10}}";

/* A stored ASHA spec from before pruner.min_trials goes on with none; a
 * new one, or a stored one that says, keeps what it says. */
static void
stored_asha_spec_keeps_its_defaults(void)
{
	static const struct { const char *text; int min_trials; } cases[] = {
		{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'eta': 3}"), 0 },
		{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'min_trials': 6}"), 6 },
		{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'median'}"), 5 },
		{ SPEC("{'a': 1}", "{}", ""), -1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *j = J(cases[i].text);
		struct spec *s = NULL;

		CHECK(spec_keep_stored_defaults(j) == 0);
		CHECK_MSG(spec_parse(j, &s, util_err, sizeof util_err) == 0,
			  "case %zu: %s", i, util_err);
		if (s && cases[i].min_trials >= 0)
			CHECK_MSG(s->prune_min_trials == cases[i].min_trials,
				  "case %zu: min_trials %d", i, s->prune_min_trials);
		if (cases[i].min_trials < 0)   /* nothing added where no pruner */
			CHECK(!cJSON_HasObjectItem(j, "pruner"));
		spec_free(s);
		cJSON_Delete(j);
	}
}

static void
parses_the_design_example(void)
{
	struct spec *s = parse(design_example);

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK_STR(s->name, "bnnet-fashion");
	CHECK(s->builtin == 1 && s->argv == NULL && s->argc == 0);
	CHECK_STR(cJSON_GetObjectItem(s->trainer, "dataset")->valuestring,
		  "fashion-mnist");
	CHECK_STR(s->metric, "val_acc");
	CHECK(s->mode_max == 1);
	CHECK(s->n_params == 8);
	CHECK_STR(s->params[0].name, "lr");
	CHECK(s->params[0].kind == SPEC_LOGUNIFORM);
	CHECK_NEAR(s->params[0].low, 1e-4, 0);
	CHECK_NEAR(s->params[0].high, 1e-1, 0);
	CHECK(s->params[1].kind == SPEC_CHOICE && s->params[1].n_values == 4);
	CHECK(s->params[2].kind == SPEC_CONST && s->params[2].n_values == 1);
	CHECK(cJSON_IsNumber(s->params[2].values) &&
	      s->params[2].values->valuedouble == 30);
	CHECK(s->params[5].kind == SPEC_UNIFORM);
	CHECK(s->params[6].kind == SPEC_CONST && cJSON_IsArray(s->params[6].values));
	CHECK(s->params[7].kind == SPEC_CONST && cJSON_IsTrue(s->params[7].values));
	CHECK(s->algorithm == SPEC_TPE && s->trials == 60 && s->parallel == 2);
	CHECK(s->has_seed && s->seed == 42);
	CHECK(s->tpe_n_startup == 10 && s->tpe_n_candidates == 24);
	CHECK_NEAR(s->tpe_gamma, 0, 0);   /* "auto" */
	CHECK(s->tpe_multivariate == 0);   /* the default (bench/search/README.md) */
	CHECK(s->es_patience == 4);
	CHECK(s->pruner == SPEC_PRUNE_ASHA && s->prune_min_epochs == 2 &&
	      s->prune_eta == 3);
	CHECK(s->prune_promote == 0);   /* the default (bench/search/README.md) */
	CHECK(s->prune_min_trials == SPEC_ASHA_MIN_TRIALS);   /* ASHA's default */
	CHECK(SPEC_ASHA_MIN_TRIALS == 4);   /* docs/spec.md says so */
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(s->json, "pruner"),
				  "min_trials")->valueint == 4);
	CHECK_NEAR(s->timeout_s, 1800, 0);
	CHECK(s->retries == 1 && s->max_failures == 10);
	CHECK(s->retry_on == SPEC_RETRY_ALL);
	CHECK(s->diagnosis == NULL && s->enqueue == NULL);
	spec_free(s);
}

static void
fills_in_defaults(void)
{
	struct spec *s = parse("{'trainer': {'command': ['python3', 'train.py']},"
			       " 'objective': {'metric': 'val_loss'},"
			       " 'space': {'lr': {'uniform': [0, 1]}}}");
	const cJSON *search;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK_STR(s->name, "sweep");
	CHECK(s->mode_max == 0);   /* a loss is minimized */
	CHECK(s->algorithm == SPEC_RANDOM && s->trials == 20 && s->parallel == 1);
	CHECK(!s->has_seed);
	CHECK(s->pruner == SPEC_PRUNE_NONE && s->es_patience == 0);
	CHECK(s->prune_min_epochs == 1 && s->prune_eta == 3 &&
	      s->prune_warmup == 0 && s->prune_min_trials == 5);
	CHECK(s->timeout_s == 0 && s->retries == 0 && s->max_failures == 0 &&
	      s->stall_s == 0 && s->memory_mb == 0 && s->nice == 0);
	CHECK(s->retry_on == SPEC_RETRY_ALL);
	/* The normalized JSON says what the defaults were. */
	CHECK_STR(cJSON_GetObjectItem(s->json, "name")->valuestring, "sweep");
	CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(s->json, "objective"),
				      "mode")->valuestring, "min");
	search = cJSON_GetObjectItem(s->json, "search");
	CHECK_STR(cJSON_GetObjectItem(search, "algorithm")->valuestring, "random");
	CHECK(cJSON_GetObjectItem(search, "trials")->valuedouble == 20);
	CHECK(cJSON_GetObjectItem(search, "parallel")->valuedouble == 1);
	CHECK(!cJSON_HasObjectItem(search, "seed"));
	spec_free(s);
}

static void
mode_defaults_only_for_acc_and_loss(void)
{
	struct spec *s = parse("{'trainer': {'command': ['x']},"
			       " 'objective': {'metric': 'test_accuracy'},"
			       " 'space': {'a': 1}}");
	CHECK_MSG(s && s->mode_max == 1, "%s", util_err);
	spec_free(s);
	s = parse("{'trainer': {'command': ['x']}, 'objective': {'metric': 'f1'},"
		  " 'space': {'a': 1}}");
	CHECK(!s);
	CHECK_CONTAINS(util_err, "objective.mode: required for metric \"f1\"");
	s = parse("{'trainer': {'command': ['x']},"
		  " 'objective': {'metric': 'f1', 'mode': 'max'}, 'space': {'a': 1}}");
	CHECK_MSG(s && s->mode_max == 1, "%s", util_err);
	spec_free(s);
}

static void
external_trainer_fields(void)
{
	struct spec *s = parse("{'trainer': {'command': ['python3', 'train.py', '--fast'],"
			       "  'cwd': '/srv/exp', 'env': {'CUDA_VISIBLE_DEVICES': '0'}},"
			       " 'objective': {'metric': 'val_acc'}, 'space': {'a': 1},"
			       " 'limits': {'retry_on': ['timeout', 'oom'], 'stall_s': 2.5,"
			       "  'memory_mb': 2048, 'nice': 10}}");

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->builtin == 0 && s->argc == 3);
	CHECK_STR(s->argv[0], "python3");
	CHECK_STR(s->argv[2], "--fast");
	CHECK(s->argv[3] == NULL);
	CHECK_STR(s->cwd, "/srv/exp");
	CHECK_STR(cJSON_GetObjectItem(s->env, "CUDA_VISIBLE_DEVICES")->valuestring, "0");
	CHECK(s->retry_on == (SPEC_RETRY_TIMEOUT | SPEC_RETRY_OOM));
	CHECK_NEAR(s->stall_s, 2.5, 0);
	CHECK(s->memory_mb == 2048 && s->nice == 10);
	spec_free(s);
}

/* One bad spec each, and the words its message must contain. */
static const struct {
	const char *spec, *msg;
} bad[] = {
	{ "[1]", "spec: must be a JSON object" },
	{ SPEC("{'a': 1}", "{}", ", 'serach': {}"), "unknown field \"serach\"" },
	{ SPEC("{'a': 1}", "{'trails': 3}", ""), "search: unknown field \"trails\"" },
	{ SPEC("{'a': 1}", "{'trials': 3, 'trials': 4}", ""),
	  "search: duplicate field \"trials\"" },
	{ SPEC("{'lr': {'loguniform': [0, 1]}}", "{}", ""),
	  "space.lr.loguniform: low must be > 0" },
	{ SPEC("{'lr': {'loguniform': [-1, 1]}}", "{}", ""),
	  "space.lr.loguniform: low must be > 0" },
	{ SPEC("{'lr': {'loguniform': [0.1, 0.01]}}", "{}", ""),
	  "space.lr.loguniform: low must be < high" },
	{ SPEC("{'x': {'uniform': [1, 1]}}", "{}", ""),
	  "space.x.uniform: low must be < high" },
	{ SPEC("{'x': {'uniform': [1]}}", "{}", ""),
	  "space.x.uniform: must be [low, high]" },
	{ SPEC("{'x': {'uniform': ['a', 1]}}", "{}", ""),
	  "space.x.uniform: must be [low, high], two numbers" },
	{ SPEC("{'x': {'uniform': 3}}", "{}", ""), "space.x.uniform: must be" },
	{ SPEC("{'n': {'int': [1.5, 3]}}", "{}", ""),
	  "space.n.int: low and high must be integers" },
	{ SPEC("{'n': {'int': [5, 3]}}", "{}", ""), "space.n.int: low must be <= high" },
	{ SPEC("{'n': {'logint': [0, 10]}}", "{}", ""),
	  "space.n.logint: low must be >= 1" },
	{ SPEC("{'c': {'choice': []}}", "{}", ""),
	  "space.c.choice: must be a non-empty array" },
	{ SPEC("{'c': {'choice': 'relu'}}", "{}", ""),
	  "space.c.choice: must be a non-empty array" },
	{ SPEC("{'x': {'unifrom': [0, 1]}}", "{}", ""),
	  "space.x: unknown field \"unifrom\" (valid: choice, uniform, loguniform, int, logint, grid, when)" },
	{ SPEC("{'x': {'uniform': [0, 1], 'choice': [1]}}", "{}", ""),
	  "space.x: more than one distribution" },
	{ SPEC("{'x': {'grid': [1]}}", "{}", ""), "space.x: needs one distribution" },
	{ SPEC("{'x': {}}", "{}", ""), "space.x: needs one distribution" },
	{ SPEC("{'x': null}", "{}", ""), "space.x: null is not a value" },
	{ SPEC("{'x': {'uniform': [0, 0.5], 'grid': [0.1, 0.7]}}", "{}", ""),
	  "space.x.grid[1]: 0.7 is outside the uniform range [0, 0.5]" },
	{ SPEC("{'n': {'int': [1, 9], 'grid': [2, 2.5]}}", "{}", ""),
	  "space.n.grid[1]: must be an integer" },
	{ SPEC("{'c': {'choice': ['a', 'b'], 'grid': ['c']}}", "{}", ""),
	  "space.c.grid[0]: \"c\" is not one of the choice values" },
	{ SPEC("{'x': {'uniform': [0, 1], 'grid': []}}", "{}", ""),
	  "space.x.grid: must be a non-empty array" },
	{ SPEC("{}", "{}", ""), "space: must be a non-empty object" },
	{ SPEC("[1, 2]", "{}", ""), "space: must be a non-empty object" },
	{ SPEC("{'': 1}", "{}", ""), "space: param names must have 1 to" },
	{ "{'trainer': {'command': ['x']}, 'objective': {'metric': 'val_acc'}}",
	  "space: required" },
	{ SPEC("{'x': {'uniform': [0, 1]}}", "{'algorithm': 'grid'}", ""),
	  "space.x: grid search cannot enumerate a continuous uniform range" },
	{ SPEC("{'n': {'int': [1, 5000]}}", "{'algorithm': 'grid'}", ""),
	  "space.n: grid search enumerates int ranges of at most 1000" },
	{ SPEC("{'c': {'choice': [1, 2, 3]}}", "{'algorithm': 'grid', 'trials': 4}", ""),
	  "search.trials: 4 is more than the grid's 3 combinations" },
	{ SPEC("{'a': 1}", "{'algorithm': 'bayes'}", ""),
	  "search.algorithm: must be \"grid\", \"random\" or \"tpe\", not \"bayes\"" },
	{ SPEC("{'a': 1}", "{'trials': 0}", ""), "search.trials: must be an integer from 1 to 1000000" },
	{ SPEC("{'a': 1}", "{'trials': 1000001}", ""), "search.trials" },
	{ SPEC("{'a': 1}", "{'trials': 2.5}", ""), "search.trials: must be an integer" },
	{ SPEC("{'a': 1}", "{'trials': '10'}", ""), "search.trials: must be an integer" },
	{ SPEC("{'a': 1}", "{'parallel': 'two'}", ""), "search.parallel: must be an integer from 1 to 1024" },
	{ SPEC("{'a': 1}", "{'parallel': 0}", ""), "search.parallel" },
	{ SPEC("{'a': 1}", "{'parallel': 1025}", ""), "search.parallel" },
	{ SPEC("{'a': 1}", "{'seed': -1}", ""), "search.seed: must be an integer from 0 to 9007199254740991" },
	{ SPEC("{'a': 1}", "{'seed': 9007199254740992}", ""), "search.seed" },
	{ SPEC("{'a': 1}", "{'gamma': 0.3}", ""), "search.gamma: only for algorithm \"tpe\"" },
	{ SPEC("{'a': 1}", "{'algorithm': 'tpe', 'gamma': 1}", ""),
	  "search.gamma: must be \"auto\" or a number between 0 and 1" },
	{ SPEC("{'a': 1}", "{'algorithm': 'tpe', 'gamma': 0}", ""), "search.gamma" },
	{ SPEC("{'a': 1}", "{'algorithm': 'tpe', 'n_candidates': 0}", ""),
	  "search.n_candidates" },
	{ SPEC("{'a': 1}", "{'algorithm': 'tpe', 'n_startup': -1}", ""), "search.n_startup" },
	{ SPEC("{'a': 1}", "{'algorithm': 'tpe', 'multivariate': 1}", ""),
	  "search.multivariate: must be true or false" },
	{ SPEC("{'a': 1}", "{'algorithm': 'tpe', 'multivariate': 'true'}", ""),
	  "search.multivariate: must be true or false" },
	{ SPEC("{'a': 1}", "{'multivariate': true}", ""),
	  "search.multivariate: only for algorithm \"tpe\"" },
	{ SPEC("{'a': [1, 2]}", "{'algorithm': 'grid', 'multivariate': false}", ""),
	  "search.multivariate: only for algorithm \"tpe\"" },
	{ SPEC("{'a': 1}", "3", ""), "search: must be an object" },
	{ "{'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}", "trainer: required" },
	{ "{'trainer': {}, 'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}",
	  "trainer: needs one of \"builtin\", \"command\" or \"manual\"" },
	{ "{'trainer': {'builtin': 'mlp', 'command': ['x']},"
	  " 'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}",
	  "trainer: needs one of \"builtin\", \"command\" or \"manual\", not several" },
	{ "{'trainer': {'manual': {}, 'env': {}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer: \"manual\" takes no other field" },
	{ "{'trainer': {'manual': {'x': 1}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.manual: must be {}" },
	{ "{'trainer': {'manual': {}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}, 'limits': {'nice': 3}}",
	  "limits.nice: a manual trainer runs no process" },
	{ "{'trainer': {'manual': {}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}, 'limits': {'heartbeat_s': 'x'}}",
	  "limits.heartbeat_s: must be a number from 0 to 1e+09" },
	{ "{'trainer': {'command': ['x']}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}, 'limits': {'heartbeat_s': 60}}",
	  "limits.heartbeat_s: only for a manual trainer" },
	{ "{'trainer': 'mlp', 'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}",
	  "trainer: must be an object" },
	{ "{'trainer': {'builtin': 'cnn'}, 'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}",
	  "trainer.builtin: must be \"mlp\"" },
	{ "{'trainer': {'builtin': 'mlp', 'env': {}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.env: only for an external trainer" },
	{ "{'trainer': {'builtin': 'mlp', 'lr': 0.1}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'lr': {'uniform': [0.1, 1]}}}", "trainer.lr: also in space" },
	{ "{'trainer': {'command': []}, 'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}",
	  "trainer.command: must be a non-empty array of strings" },
	{ "{'trainer': {'command': 'python3 train.py'}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.command: must be a non-empty array" },
	{ "{'trainer': {'command': ['python3', '']}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.command[1]: must be a non-empty string" },
	{ "{'trainer': {'command': ['x'], 'cwd': 'rel/dir'}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.cwd: must be an absolute path" },
	{ "{'trainer': {'command': ['x'], 'env': {'N': 1}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.env.N: must be a string" },
	{ "{'trainer': {'command': ['x'], 'env': {'SWEEP_SEED': '1'}},"
	  " 'objective': {'metric': 'val_acc'}, 'space': {'a': 1}}",
	  "trainer.env.SWEEP_SEED: reserved" },
	{ "{'trainer': {'command': ['x'], 'env': ['A=1']}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer.env: must be an object of strings" },
	{ "{'trainer': {'command': ['x'], 'dir': '/'}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}}", "trainer: unknown field \"dir\" (valid: command, cwd, env)" },
	{ "{'trainer': {'command': ['x']}, 'space': {'a': 1}}", "objective: required" },
	{ "{'trainer': {'command': ['x']}, 'objective': {}, 'space': {'a': 1}}",
	  "objective.metric: required" },
	{ "{'trainer': {'command': ['x']}, 'objective': {'metric': 3}, 'space': {'a': 1}}",
	  "objective.metric: must be a non-empty string" },
	{ "{'trainer': {'command': ['x']}, 'objective': {'metric': 'val_acc', 'mode': 'up'},"
	  " 'space': {'a': 1}}", "objective.mode: must be \"max\" or \"min\", not \"up\"" },
	{ "{'trainer': {'command': ['x']}, 'objective': {'metric': 'val_acc', 'goal': 'max'},"
	  " 'space': {'a': 1}}", "objective: unknown field \"goal\"" },
	{ SPEC("{'a': 1}", "{}", ", 'early_stopping': {'patience': -1}"),
	  "early_stopping.patience: must be an integer from 0" },
	{ SPEC("{'a': 1}", "{}", ", 'early_stopping': {'min_delta': -0.1}"),
	  "early_stopping.min_delta: must be a number from 0" },
	{ SPEC("{'a': 1}", "{}", ", 'early_stopping': {'patient': 3}"),
	  "early_stopping: unknown field \"patient\"" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {}"), "pruner.algorithm: required" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'hyperband'}"),
	  "pruner.algorithm: must be \"median\", \"asha\" or \"none\", not \"hyperband\"" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'median', 'eta': 3}"),
	  "pruner.eta: not an option of the \"median\" pruner" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'warmup_epochs': 3}"),
	  "pruner.warmup_epochs: not an option of the \"asha\" pruner" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'eta': 1}"),
	  "pruner.eta: must be an integer from 2" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'min_epochs': 0}"),
	  "pruner.min_epochs" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'median', 'min_trials': 0}"),
	  "pruner.min_trials" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'min_trials': -1}"),
	  "pruner.min_trials: must be an integer from 0 to 1000000" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'min_trials': 1.5}"),
	  "pruner.min_trials" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'none', 'min_trials': 2}"),
	  "pruner.min_trials: not an option of the \"none\" pruner" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'max_epochs': 0}"),
	  "pruner.max_epochs: must be an integer from 1" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'promote': 1}"),
	  "pruner.promote: must be true or false" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'median', 'promote': true}"),
	  "pruner.promote: not an option of the \"median\" pruner" },
	{ "{'trainer': {'manual': {}}, 'objective': {'metric': 'val_acc'},"
	  " 'space': {'a': 1}, 'pruner': {'algorithm': 'asha', 'promote': true}}",
	  "pruner.promote: a manual trainer's trials cannot be started again" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'none', 'max_epochs': 5}"),
	  "pruner.max_epochs: not an option of the \"none\" pruner" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': 'asha'"), "pruner: must be an object" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'retries': -1}"),
	  "limits.retries: must be an integer from 0 to 100" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'trial_timeout_s': '1h'}"),
	  "limits.trial_timeout_s: must be a number" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'trial_timeout_s': -5}"),
	  "limits.trial_timeout_s" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'nice': 20}"), "limits.nice" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'nice': -5}"), "limits.nice" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'memory_mb': 1.5}"), "limits.memory_mb" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'max_failures': -1}"), "limits.max_failures" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'retry_on': ['timeout', 'bogus']}"),
	  "limits.retry_on[1]: must be one of" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'retry_on': 'all'}"),
	  "limits.retry_on: must be an array" },
	{ SPEC("{'a': 1}", "{}", ", 'limits': {'timeout': 5}"),
	  "limits: unknown field \"timeout\"" },
	{ SPEC("{'a': 1}", "{}", ", 'diagnosis': [1]"), "diagnosis: must be an object" },
	{ SPEC("{'a': 1}", "{}", ", 'enqueue': {'a': 1}"),
	  "enqueue: must be an array of param objects" },
	{ SPEC("{'a': 1}", "{}", ", 'enqueue': [3]"), "enqueue[1]: must be an object" },
	{ SPEC("{'a': 1}", "{}", ", 'enqueue': [{'b': 1}]"),
	  "enqueue[1].b: not a param of the space" },
	{ SPEC("{'lr': {'loguniform': [0.0001, 0.1]}}", "{}", ", 'enqueue': [{}, {'lr': 0.5}]"),
	  "enqueue[2].lr: 0.5 is outside the loguniform range [0.0001, 0.1]" },
	{ SPEC("{'c': {'choice': ['a', 'b']}}", "{}", ", 'enqueue': [{'c': 'z'}]"),
	  "enqueue[1].c: \"z\" is not one of the choice values" },
	{ SPEC("{'n': {'int': [1, 8]}}", "{}", ", 'enqueue': [{'n': 'four'}]"),
	  "enqueue[1].n: must be a number, not \"four\"" },
	{ SPEC("{'epochs': 30}", "{}", ", 'enqueue': [{'epochs': 5}]"),
	  "enqueue[1].epochs: the space fixes epochs to 30" },
	{ SPEC("{'a': 1}", "{'trials': 1}", ", 'enqueue': [{}, {}]"),
	  "enqueue: 2 param sets but search.trials is 1" },
	{ SPEC("{'a': 1}", "{}", ", 'name': ''"), "name: must be a non-empty string" },
	{ SPEC("{'a': 1}", "{}", ", 'name': 'a\\nb'"), "name: control characters" },
	{ SPEC("{'a': 1}", "{}", ", 'name': 7"), "name: must be a non-empty string" },
};

static void
refuses_bad_specs_naming_the_field(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct spec *s = parse(bad[i].spec);
		CHECK_MSG(!s, "accepted: %s", bad[i].spec);
		CHECK_MSG(strstr(util_err, bad[i].msg), "case %zu: \"%s\" lacks \"%s\"",
			  i, util_err, bad[i].msg);
		spec_free(s);
	}
}

static void
error_leaves_out_untouched(void)
{
	cJSON *j = J(SPEC("{'x': {'uniform': [2, 1]}}", "{}", ""));
	struct spec *s = (struct spec *)&s;   /* any non-NULL marker */
	char err[8];   /* too small: truncated, still terminated */

	CHECK(spec_parse(j, &s, err, sizeof err) == -EINVAL);
	CHECK(s == (struct spec *)&s);
	CHECK(strlen(err) == sizeof err - 1);
	cJSON_Delete(j);
	spec_free(NULL);   /* harmless */
}

static void
accepts_every_distribution(void)
{
	struct spec *s = parse(SPEC("{'c': {'choice': [1, 'two', [3], {'k': 4}, false]},"
				    " 'u': {'uniform': [-1, 1]},"
				    " 'lu': {'loguniform': [1e-5, 1]},"
				    " 'i': {'int': [-3, 3]},"
				    " 'li': {'logint': [1, 1024]},"
				    " 'k': 'const', 'h': [1, 2], 'b': false}", "{}", ""));

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->n_params == 8);
	CHECK(s->params[0].kind == SPEC_CHOICE && s->params[0].n_values == 5);
	CHECK(s->params[1].kind == SPEC_UNIFORM && s->params[1].low == -1);
	CHECK(s->params[2].kind == SPEC_LOGUNIFORM);
	CHECK(s->params[3].kind == SPEC_INT && s->params[3].low == -3 &&
	      s->params[3].high == 3);
	CHECK(s->params[4].kind == SPEC_LOGINT && s->params[4].high == 1024);
	CHECK(s->params[5].kind == SPEC_CONST && cJSON_IsString(s->params[5].values));
	CHECK(s->params[6].kind == SPEC_CONST && cJSON_IsArray(s->params[6].values));
	CHECK(s->params[7].kind == SPEC_CONST && cJSON_IsFalse(s->params[7].values));
	CHECK(spec_param_index(s, "li") == 4 && spec_param_index(s, "zz") == -1);
	spec_free(s);
}

static void
int_range_of_one_value_is_fine(void)
{
	struct spec *s = parse(SPEC("{'n': {'int': [4, 4]}}", "{'algorithm': 'grid'}", ""));

	CHECK_MSG(s, "%s", util_err);
	if (s)
		CHECK(spec_grid_size(s) == 1 && s->trials == 1);
	spec_free(s);
}

static void
grid_size_and_values(void)
{
	struct spec *s = parse(SPEC("{'c': {'choice': ['a', 'b', 'c']},"
				    " 'n': {'int': [2, 5]},"
				    " 'x': {'uniform': [0, 1], 'grid': [0.25, 0.75]},"
				    " 'k': 7}", "{'algorithm': 'grid'}", ""));
	cJSON *v;

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(spec_param_grid_len(&s->params[0]) == 3);
	CHECK(spec_param_grid_len(&s->params[1]) == 4);
	CHECK(spec_param_grid_len(&s->params[2]) == 2);
	CHECK(spec_param_grid_len(&s->params[3]) == 1);
	CHECK(spec_grid_size(s) == 24);
	CHECK(s->trials == 24);   /* the grid size by default */
	v = spec_param_grid_value(&s->params[1], 3);
	CHECK(cJSON_IsNumber(v) && v->valuedouble == 5);
	cJSON_Delete(v);
	v = spec_param_grid_value(&s->params[2], 1);
	CHECK(cJSON_IsNumber(v) && v->valuedouble == 0.75);
	cJSON_Delete(v);
	v = spec_param_grid_value(&s->params[0], 1);
	CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "b") == 0);
	cJSON_Delete(v);
	CHECK(spec_param_grid_value(&s->params[1], 4) == NULL);
	CHECK(spec_param_grid_value(&s->params[1], -1) == NULL);
	spec_free(s);
}

static void
grid_counts_enqueued_sets(void)
{
	struct spec *s = parse(SPEC("{'c': {'choice': [1, 2, 3]}}", "{'algorithm': 'grid'}",
				    ", 'enqueue': [{'c': 2}]"));

	CHECK_MSG(s, "%s", util_err);
	if (s)
		CHECK(s->trials == 4 && spec_n_enqueued(s) == 1);
	spec_free(s);
	s = parse(SPEC("{'c': {'choice': [1, 2, 3]}}", "{'algorithm': 'grid', 'trials': 2}", ""));
	CHECK_MSG(s && s->trials == 2, "%s", util_err);   /* fewer is fine */
	spec_free(s);
}

static void
grid_too_large_is_refused(void)
{
	struct spec *s = parse(SPEC("{'a': {'int': [1, 1000]}, 'b': {'int': [1, 1000]},"
				    " 'c': {'int': [1, 2]}}", "{'algorithm': 'grid'}", ""));

	CHECK(!s);
	CHECK_CONTAINS(util_err, "the grid has more than 1000000 combinations");
	spec_free(s);
}

static void
normalized_json_parses_to_the_same_spec(void)
{
	struct spec *a = parse(design_example), *b = NULL;
	char err[256];

	CHECK_MSG(a, "%s", util_err);
	if (!a)
		return;
	CHECK(spec_parse(a->json, &b, err, sizeof err) == 0);
	if (b) {
		CHECK(cJSON_Compare(a->json, b->json, 1));
		CHECK(a->trials == b->trials && a->algorithm == b->algorithm &&
		      a->seed == b->seed && a->n_params == b->n_params &&
		      a->prune_eta == b->prune_eta);
		/* The defaults a reader needs are written out. */
		CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(b->json, "search"),
					  "n_candidates")->valuedouble == 24);
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(b->json,
									    "search"),
							"multivariate")));
	}
	spec_free(a);
	spec_free(b);
}

static void
set_seed_writes_it_back(void)
{
	struct spec *s = parse(SPEC("{'a': 1}", "{}", "")), *t = NULL;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(!s->has_seed);
	spec_set_seed(s, UINT64_C(0xffffffffffffffff));
	CHECK(s->has_seed && s->seed == SPEC_MAX_SEED);   /* masked to 53 bits */
	CHECK(spec_parse(s->json, &t, err, sizeof err) == 0);
	CHECK(t && t->has_seed && t->seed == SPEC_MAX_SEED);
	spec_free(t);
	spec_set_seed(s, 12345);
	CHECK(s->seed == 12345);
	CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(s->json, "search"),
				  "seed")->valuedouble == 12345);
	spec_free(s);
}

static void
check_params_accepts_partial_sets(void)
{
	struct spec *s = parse(SPEC("{'c': {'choice': [[48, 24], [64]]}, 'n': {'logint': [1, 64]},"
				    " 'x': {'uniform': [0, 1]}, 'k': 'fixed'}", "{}", ""));
	cJSON *p;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	p = J("{'c': [64], 'n': 64}");
	CHECK(spec_check_params(s, p, "params", err, sizeof err) == 0);
	cJSON_Delete(p);
	p = J("{'x': 1, 'k': 'fixed'}");   /* the high end of uniform is allowed */
	CHECK(spec_check_params(s, p, "params", err, sizeof err) == 0);
	cJSON_Delete(p);
	p = J("{'n': 65}");
	CHECK(spec_check_params(s, p, "params", err, sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "params.n: 65 is outside the logint range [1, 64]");
	cJSON_Delete(p);
	p = J("{'c': [48]}");
	CHECK(spec_check_params(s, p, "params", err, sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "params.c: [48] is not one of the choice values");
	cJSON_Delete(p);
	p = J("[1]");
	CHECK(spec_check_params(s, p, "params", err, sizeof err) == -EINVAL);
	CHECK_CONTAINS(err, "params: must be an object");
	cJSON_Delete(p);
	spec_free(s);
}

/* ---- several objectives ------------------------------------------------ */

/* A spec with the "objectives" list objs and extra top-level text. */
#define MO(objs, extra) \
	"{'trainer': {'command': ['/bin/true']}, 'objectives': " objs "," \
	" 'space': {'a': 1}" extra "}"
#define TWO "[{'metric': 'val_acc', 'mode': 'max'}, {'metric': 'seconds', 'mode': 'min'}]"

static void
parses_several_objectives(void)
{
	struct spec *s = parse(MO(TWO, "")), *b = NULL;
	const cJSON *list;
	char err[256];

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->n_objectives == 2);
	CHECK_STR(s->objectives[0].metric, "val_acc");
	CHECK(s->objectives[0].mode_max == 1);
	CHECK_STR(s->objectives[1].metric, "seconds");
	CHECK(s->objectives[1].mode_max == 0);
	/* The first is the objective everything else reads. */
	CHECK(s->metric == s->objectives[0].metric && s->mode_max == 1);
	/* Normalized: the list stays a list, every mode written out, and it
	 * parses to the same spec. */
	CHECK(!cJSON_HasObjectItem(s->json, "objective"));
	list = cJSON_GetObjectItem(s->json, "objectives");
	CHECK(cJSON_GetArraySize(list) == 2);
	CHECK(spec_parse(s->json, &b, err, sizeof err) == 0);
	CHECK(b && cJSON_Compare(s->json, b->json, 1) && b->n_objectives == 2);
	spec_free(b);
	spec_free(s);
	/* A mode left out follows the metric's name, entry by entry. */
	s = parse(MO("[{'metric': 'val_loss'}, {'metric': 'train_acc'}]", ""));
	CHECK_MSG(s && s->mode_max == 0 && s->objectives[1].mode_max == 1, "%s",
		  util_err);
	if (s) {
		list = cJSON_GetObjectItem(s->json, "objectives");
		CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "mode")
			  ->valuestring, "min");
		CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "mode")
			  ->valuestring, "max");
	}
	spec_free(s);
	/* A list of one is the single objective spelled as a list. */
	s = parse(MO("[{'metric': 'val_loss'}]", ""));
	CHECK_MSG(s && s->n_objectives == 1 && s->mode_max == 0, "%s", util_err);
	spec_free(s);
}

static void
single_objective_is_the_first_of_one(void)
{
	struct spec *s = parse(SPEC("{'a': 1}", "{}", ""));

	CHECK_MSG(s, "%s", util_err);
	if (!s)
		return;
	CHECK(s->n_objectives == 1);
	CHECK(s->objectives[0].metric == s->metric);
	CHECK_STR(s->metric, "val_acc");
	CHECK(s->objectives[0].mode_max == 1 && s->mode_max == 1);
	CHECK(!cJSON_HasObjectItem(s->json, "objectives"));
	spec_free(s);
}

static void
pruner_metric_names_the_objective_it_ranks_by(void)
{
	struct spec *s;

	/* Several objectives: the pruner must be told which one. */
	s = parse(MO(TWO, ", 'pruner': {'algorithm': 'asha', 'metric': 'val_acc'}"));
	CHECK_MSG(s && s->prune_objective == 0, "%s", util_err);
	spec_free(s);
	/* No pruner, or "none", needs no metric. */
	s = parse(MO(TWO, ", 'pruner': {'algorithm': 'none'}"));
	CHECK_MSG(s, "%s", util_err);
	spec_free(s);
	/* One objective: naming it is allowed (and changes nothing). */
	s = parse(SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'median', "
		       "'metric': 'val_acc'}"));
	CHECK_MSG(s && s->prune_objective == 0, "%s", util_err);
	spec_free(s);
	s = parse(SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'median'}"));
	CHECK_MSG(s && s->prune_objective == 0, "%s", util_err);
	spec_free(s);
}

/* One bad "objectives" (or pruner with them) each, and its message. */
static const struct {
	const char *spec, *msg;
} bad_objectives[] = {
	{ "{'trainer': {'command': ['x']}, 'objective': {'metric': 'val_acc'},"
	  " 'objectives': [{'metric': 'val_acc'}], 'space': {'a': 1}}",
	  "objectives: give \"objective\" or \"objectives\", not both" },
	{ MO("[]", ""), "objectives: must be a non-empty array" },
	{ MO("{'metric': 'val_acc'}", ""), "objectives: must be a non-empty array" },
	{ MO("[{'metric': 'val_acc'}, 'seconds']", ""),
	  "objectives[1]: must be an object" },
	{ MO("[{'metric': 'val_acc'}, {'mode': 'min'}]", ""),
	  "objectives[1].metric: required" },
	{ MO("[{'metric': 'val_acc'}, {'metric': ''}]", ""),
	  "objectives[1].metric: must be a non-empty string" },
	{ MO("[{'metric': 'epoch', 'mode': 'min'}]", ""),
	  "objectives[0].metric: \"epoch\" is the epoch number" },
	{ MO("[{'metric': 'val_acc'}, {'metric': 'seconds', 'mode': 'up'}]", ""),
	  "objectives[1].mode: must be \"max\" or \"min\", not \"up\"" },
	{ MO("[{'metric': 'val_acc'}, {'metric': 'seconds', 'mode': 1}]", ""),
	  "objectives[1].mode: must be \"max\" or \"min\"" },
	{ MO("[{'metric': 'val_acc'}, {'metric': 'seconds'}]", ""),
	  "objectives[1].mode: required for metric \"seconds\"" },
	{ MO("[{'metric': 'val_acc', 'goal': 'max'}]", ""),
	  "objectives[0]: unknown field \"goal\"" },
	{ MO("[{'metric': 'val_acc', 'metric': 'val_loss'}]", ""),
	  "objectives[0]: duplicate field \"metric\"" },
	{ MO("[{'metric': 'val_acc'}, {'metric': 'val_loss'}, {'metric': 'val_acc', "
	     "'mode': 'min'}]", ""),
	  "objectives[2].metric: \"val_acc\" is already objectives[0]" },
	{ MO("[{'metric': 'a_acc'}, {'metric': 'b_acc'}, {'metric': 'c_acc'},"
	     " {'metric': 'd_acc'}, {'metric': 'e_acc'}]", ""),
	  "objectives: at most 4 objectives, not 5" },
	{ MO(TWO, ", 'pruner': {'algorithm': 'asha'}"),
	  "pruner.metric: required with several objectives" },
	{ MO(TWO, ", 'pruner': {'algorithm': 'median', 'min_trials': 2}"),
	  "pruner.metric: required with several objectives" },
	{ MO(TWO, ", 'pruner': {'algorithm': 'asha', 'metric': 'val_loss'}"),
	  "pruner.metric: \"val_loss\" is not an objective (val_acc, seconds)" },
	{ MO(TWO, ", 'pruner': {'algorithm': 'asha', 'metric': 'seconds'}"),
	  "pruner.metric: pruning on \"seconds\", not the first objective" },
	{ MO(TWO, ", 'pruner': {'algorithm': 'asha', 'metric': 3}"),
	  "pruner.metric: must be a non-empty string" },
	{ MO(TWO, ", 'pruner': {'algorithm': 'none', 'metric': 'val_acc'}"),
	  "pruner.metric: not an option of the \"none\" pruner" },
	{ SPEC("{'a': 1}", "{}", ", 'pruner': {'algorithm': 'asha', 'metric': 'val_loss'}"),
	  "pruner.metric: \"val_loss\" is not an objective (val_acc)" },
};

static void
refuses_bad_objectives_naming_the_field(void)
{
	for (size_t i = 0; i < sizeof bad_objectives / sizeof bad_objectives[0]; i++) {
		struct spec *s = parse(bad_objectives[i].spec);
		CHECK_MSG(!s, "accepted: %s", bad_objectives[i].spec);
		CHECK_MSG(strstr(util_err, bad_objectives[i].msg),
			  "case %zu: \"%s\" lacks \"%s\"", i, util_err,
			  bad_objectives[i].msg);
		spec_free(s);
	}
}

/* ---- fuzz: mutated specs are refused or parse to a re-parseable spec --- */

static uint64_t fuzz_state = 88172645463325252ULL;

static unsigned
fuzz_next(unsigned n)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (unsigned)(fuzz_state % n);
}

static int
count_nodes(const cJSON *j)
{
	int n = 1;
	const cJSON *c;

	cJSON_ArrayForEach(c, j)
		n += count_nodes(c);
	return n;
}

/* The k-th node in pre-order (k < count_nodes(j)), and its parent. */
static cJSON *
nth_node(cJSON *j, int *k, cJSON **parent)
{
	cJSON *c, *hit;

	if ((*k)-- == 0)
		return j;
	cJSON_ArrayForEach(c, j) {
		cJSON *save = *parent;
		*parent = j;
		hit = nth_node(c, k, parent);
		if (hit)
			return hit;
		*parent = save;
	}
	return NULL;
}

static cJSON *
random_value(void)
{
	static const char *const texts[] = {
		"0", "-1", "1e300", "0.5", "1000001", "\"\"", "\"x\"", "\"/abs\"",
		"\"max\"", "\"grid\"", "\"tpe\"", "\"asha\"", "null", "true", "[]",
		"[1]", "[0, 1]", "[1, 0]", "[\"a\"]", "{}", "{\"uniform\":[0,1]}",
		"{\"choice\":[]}", "{\"int\":[1,3]}", "{\"grid\":[1]}",
	};
	return cJSON_Parse(texts[fuzz_next(sizeof texts / sizeof texts[0])]);
}

static void
mutated_specs_never_crash_and_stay_consistent(void)
{
	int accepted = 0, refused = 0;

	for (int round = 0; round < 3000; round++) {
		cJSON *j = J(design_example), *parent = NULL, *node;
		struct spec *s = NULL, *t = NULL;
		char err[512] = "";
		int k = (int)fuzz_next((unsigned)count_nodes(j)), rc;

		node = nth_node(j, &k, &parent);
		if (parent && node) {
			switch (fuzz_next(3)) {
			case 0:   /* replace the value */
				if (node->string)
					cJSON_ReplaceItemInObjectCaseSensitive(
						parent, node->string, random_value());
				else
					cJSON_ReplaceItemViaPointer(parent, node,
								    random_value());
				break;
			case 1:   /* drop it */
				cJSON_Delete(cJSON_DetachItemViaPointer(parent, node));
				break;
			default:  /* add a stray key beside it */
				if (cJSON_IsObject(parent))
					cJSON_AddItemToObject(parent, "stray", random_value());
				break;
			}
		}
		rc = spec_parse(j, &s, err, sizeof err);
		if (rc == 0) {
			accepted++;
			CHECK(s != NULL);
			/* What it accepted, it accepts again from its own JSON. */
			CHECK(spec_parse(s->json, &t, err, sizeof err) == 0);
			CHECK(t && t->n_params == s->n_params && t->trials == s->trials);
		} else {
			refused++;
			CHECK(rc == -EINVAL);
			CHECK_MSG(err[0] != '\0', "round %d: empty message", round);
			CHECK(!strstr(err, "(null)"));
		}
		spec_free(s);
		spec_free(t);
		cJSON_Delete(j);
	}
	printf("# fuzz: %d accepted, %d refused\n", accepted, refused);
	CHECK(accepted > 0 && refused > 0);
}

int
main(void)
{
	RUN(parses_the_design_example);
	RUN(stored_asha_spec_keeps_its_defaults);
	RUN(fills_in_defaults);
	RUN(mode_defaults_only_for_acc_and_loss);
	RUN(external_trainer_fields);
	RUN(refuses_bad_specs_naming_the_field);
	RUN(error_leaves_out_untouched);
	RUN(accepts_every_distribution);
	RUN(int_range_of_one_value_is_fine);
	RUN(grid_size_and_values);
	RUN(grid_counts_enqueued_sets);
	RUN(grid_too_large_is_refused);
	RUN(normalized_json_parses_to_the_same_spec);
	RUN(set_seed_writes_it_back);
	RUN(check_params_accepts_partial_sets);
	RUN(parses_several_objectives);
	RUN(single_objective_is_the_first_of_one);
	RUN(pruner_metric_names_the_objective_it_ranks_by);
	RUN(refuses_bad_objectives_naming_the_field);
	RUN(mutated_specs_never_crash_and_stay_consistent);
	return harness_done();
}
