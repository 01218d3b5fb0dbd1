/*
 * test_params.c: the param table: defaults, types, ranges, and messages
 * that name the param.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>

#include "tests/harness.h"
#include "worker/emit.h"
#include "worker/params.h"

static char err[512];

static void
defaults_are_the_documented_ones(void)
{
	struct params p;

	CHECK(params_parse(&p, NULL, err, sizeof(err)) == 0);
	CHECK(p.epochs == 10);
	CHECK(p.batch_size == 128);
	CHECK_NEAR(p.lr, 1e-3, 0);
	CHECK(p.optimizer == OPT_ADAM);
	CHECK(p.activation == ACT_RELU);
	CHECK(p.hidden.n == 2 && p.hidden.v[0] == 48 && p.hidden.v[1] == 24);
	CHECK(!p.batchnorm);
	CHECK(p.dropout == 0.0);
	CHECK(p.weight_decay == 0.0);
	CHECK(p.lr_schedule == SCHED_CONSTANT);
	CHECK(p.patience == 0);
	CHECK_STR(p.dataset, "fashion-mnist");
	CHECK(p.val_size == 10000);
	CHECK(p.train_fraction == 1.0);
	CHECK(p.preprocess == PRE_STANDARDIZE);
	CHECK(p.augment == AUG_NONE);
	CHECK(p.objective == OBJ_VAL_ACC);
	CHECK(params_objective_max(&p));
	CHECK_NEAR(p.momentum, 0.9, 0);
	CHECK_NEAR(p.beta2, 0.999, 0);
	CHECK_NEAR(p.alpha, 0.99, 0);
}

static void
parses_a_full_trial(void)
{
	struct params p;
	const char *j = "{\"builtin\":\"mlp\",\"dataset\":\"synthetic\",\"lr\":0.01,"
			"\"batch_size\":64,\"epochs\":3,\"hidden\":[256,128],\"batchnorm\":true,"
			"\"activation\":\"tanh\",\"optimizer\":\"nesterov\",\"dropout\":0.25,"
			"\"objective\":\"val_loss\",\"patience\":2,\"val_size\":1000}";

	CHECK(params_parse(&p, j, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(p.batch_size == 64 && p.epochs == 3);
	CHECK(p.hidden.n == 2 && p.hidden.v[0] == 256 && p.hidden.v[1] == 128);
	CHECK(p.batchnorm);
	CHECK(p.activation == ACT_TANH && p.optimizer == OPT_NESTEROV);
	CHECK_NEAR(p.dropout, 0.25, 0);
	CHECK(!params_objective_max(&p));
	CHECK_STR(params_enum_name("optimizer", p.optimizer), "nesterov");
}

static void
empty_hidden_is_softmax_regression(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"hidden\":[]}", err, sizeof(err)) == 0);
	CHECK(p.hidden.n == 0);
}

static void
rejects_unknown_param_by_name(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"lrr\":0.1}", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "unknown param 'lrr'");
}

static void
rejects_out_of_range_with_the_range(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"lr\":5}", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "param 'lr': 5 is out of range [1e-06, 1]");
	CHECK(params_parse(&p, "{\"dropout\":-0.1}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'dropout'");
	CHECK(params_parse(&p, "{\"hidden\":[10,0]}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'hidden': entry 1");
}

static void
rejects_wrong_types(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"batch_size\":32.5}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'batch_size': 32.5 is not an integer");
	CHECK(params_parse(&p, "{\"epochs\":\"ten\"}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'epochs': expected a number");
	CHECK(params_parse(&p, "{\"batchnorm\":1}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'batchnorm'");
	CHECK(params_parse(&p, "{\"hidden\":48}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'hidden': expected a list");
	CHECK(params_parse(&p, "{\"optimizer\":\"adamw\"}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'optimizer': expected one of sgd, momentum");
	CHECK(params_parse(&p, "{\"dataset\":\"cifar\"}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'dataset'");
}

/* A conditional knob the trainer would silently ignore is refused, by the
 * parent's final value whatever the key order. */
static void
rejects_knobs_that_do_not_apply(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"momentum\":0.5}", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'momentum': applies only when optimizer is momentum or "
		       "nesterov, not adam");
	CHECK(params_parse(&p, "{\"lr_step\":3,\"lr_schedule\":\"cosine\"}", err,
			   sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'lr_step': applies only when lr_schedule is step, not cosine");
	CHECK(params_parse(&p, "{\"momentum\":0.5,\"optimizer\":\"nesterov\","
			   "\"lr_step\":3,\"lr_schedule\":\"step\"}", err, sizeof(err)) == 0);
	CHECK_NEAR(p.momentum, 0.5, 0);
	CHECK(p.lr_step == 3);
}

static void
rejects_malformed_json(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"lr\":", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "not valid JSON");
	CHECK(params_parse(&p, "[1,2]", err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "JSON object");
}

static void
rejects_impossible_combinations(void)
{
	struct params p;
	CHECK(params_parse(&p, "{\"dataset\":\"synthetic\",\"augment\":\"shift\",\"val_size\":10}",
			   err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'augment'");
	CHECK(params_parse(&p, "{\"dataset\":\"synthetic\",\"synthetic_size\":500}", err,
			   sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'val_size'");
	CHECK(params_parse(&p, "{\"batchnorm\":true,\"batch_size\":1}", err, sizeof(err)) ==
	      -EINVAL);
	CHECK_CONTAINS(err, "param 'batch_size'");
	CHECK(params_parse(&p, "{\"batchnorm\":false,\"batch_size\":1}", err, sizeof(err)) == 0);
}

static void
table_json_lists_every_param(void)
{
	char *t = params_table_json();
	cJSON *root = cJSON_Parse(t);
	const cJSON *it;
	int n = 0, found_lr = 0, found_opt = 0;

	CHECK(cJSON_IsArray(root));
	cJSON_ArrayForEach(it, root) {
		const cJSON *name = cJSON_GetObjectItem(it, "name");
		n++;
		CHECK(cJSON_IsString(name));
		CHECK(cJSON_GetObjectItem(it, "type") != NULL);
		if (cJSON_IsString(name) && strcmp(name->valuestring, "lr") == 0) {
			found_lr = 1;
			CHECK_NEAR(cJSON_GetObjectItem(it, "min")->valuedouble, 1e-6, 0);
			CHECK_NEAR(cJSON_GetObjectItem(it, "default")->valuedouble, 1e-3, 0);
		}
		if (cJSON_IsString(name) && strcmp(name->valuestring, "optimizer") == 0) {
			found_opt = 1;
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(it, "values")) == 5);
		}
	}
	CHECK(n > 30);
	CHECK(found_lr && found_opt);
	cJSON_Delete(root);
	free(t);
}

/* The daemon refuses an objective the trainer never reports by this list:
 * it must name exactly the numeric keys of an epoch line. */
static void
epoch_metrics_are_the_emitted_keys(void)
{
	double g[2] = { 0.5, 0.25 };
	struct emit_epoch e = { .epoch = 1, .train_loss = 1, .train_acc = 0.5,
				.val_loss = 1, .val_acc = 0.5, .lr = 0.01,
				.seconds = 2, .grad_norm = g, .n_grad_norm = 2 };
	char line[512];
	cJSON *obj, *it;
	int n = 0, k = 0;

	CHECK(emit_format_epoch(line, sizeof line, &e) > 0);
	obj = cJSON_Parse(line);
	CHECK(obj != NULL);
	cJSON_ArrayForEach(it, obj) {
		int listed = 0;
		if (!cJSON_IsNumber(it) || strcmp(it->string, "epoch") == 0)
			continue;
		for (int i = 0; params_epoch_metrics[i]; i++)
			listed |= strcmp(params_epoch_metrics[i], it->string) == 0;
		CHECK_MSG(listed, "%s is emitted but not listed", it->string);
		n++;
	}
	while (params_epoch_metrics[k])
		k++;
	CHECK(n == k);
	cJSON_Delete(obj);
}

int
main(void)
{
	RUN(defaults_are_the_documented_ones);
	RUN(parses_a_full_trial);
	RUN(empty_hidden_is_softmax_regression);
	RUN(rejects_unknown_param_by_name);
	RUN(rejects_out_of_range_with_the_range);
	RUN(rejects_wrong_types);
	RUN(rejects_knobs_that_do_not_apply);
	RUN(rejects_malformed_json);
	RUN(rejects_impossible_combinations);
	RUN(table_json_lists_every_param);
	RUN(epoch_metrics_are_the_emitted_keys);
	return harness_done();
}
