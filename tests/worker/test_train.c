/*
 * test_train.c: whole runs on the synthetic set: determinism, the report
 * lines, learning, early stopping with weight restore, divergence, stop.
 */
#include <cJSON.h>
#include <cblas.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests/harness.h"
#include "worker/train.h"

#define SYN "\"dataset\":\"synthetic\",\"synthetic_size\":6000,\"val_size\":1000," \
	    "\"synthetic_test_size\":1000,\"synthetic_noise\":0.6"

static char err[1024];

/* Run train_run with params json and seed; returns the report text
 * (malloc'd) and the return code in *rc. */
static char *
run(const char *json, uint64_t seed, int *rc, struct train_result *res,
    volatile sig_atomic_t *stop)
{
	struct params p;
	struct data_split d;
	FILE *f = tmpfile();
	char *buf = NULL;
	long n;

	*rc = params_parse(&p, json, err, sizeof(err));
	if (*rc < 0) {
		printf("# params: %s\n", err);
		goto out;
	}
	if ((*rc = data_prepare(&d, &p, seed, err, sizeof(err))) < 0) {
		printf("# data: %s\n", err);
		goto out;
	}
	*rc = train_run(&p, &d, seed, fileno(f), stop, res);
	data_split_free(&d);
	n = lseek(fileno(f), 0, SEEK_END);
	buf = calloc((size_t)n + 1, 1);
	if (pread(fileno(f), buf, (size_t)n, 0) != n)
		buf[0] = '\0';
out:
	fclose(f);
	return buf ? buf : calloc(1, 1);
}

/* Drop the "seconds" values, the one field that may differ between runs. */
static void
strip_seconds(char *s)
{
	char *p;
	while ((p = strstr(s, "\"seconds\":"))) {
		char *end = strchr(p, ',');
		if (!end)
			break;
		memmove(p, end + 1, strlen(end + 1) + 1);
	}
}

static int
count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The n-th (0-based) line parsed as JSON, or NULL. */
static cJSON *
line_json(const char *s, int n)
{
	for (int i = 0; i < n && s; i++) {
		s = strchr(s, '\n');
		s = s ? s + 1 : NULL;
	}
	if (!s)
		return NULL;
	const char *e = strchr(s, '\n');
	char *copy = strndup(s, e ? (size_t)(e - s) : strlen(s));
	cJSON *j = cJSON_Parse(copy);
	free(copy);
	return j;
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void
same_seed_gives_identical_curve(void)
{
	const char *j = "{" SYN ",\"epochs\":3,\"batchnorm\":true,\"dropout\":0.2}";
	struct train_result r1, r2;
	int rc1, rc2;
	char *a = run(j, 42, &rc1, &r1, NULL), *b = run(j, 42, &rc2, &r2, NULL);

	CHECK(rc1 == 0 && rc2 == 0);
	CHECK(count_lines(a) == 4);
	strip_seconds(a);
	strip_seconds(b);
	CHECK_STR(a, b);
	CHECK(r1.test_acc == r2.test_acc);
	free(a);
	free(b);
}

static void
different_seed_gives_a_different_curve(void)
{
	const char *j = "{" SYN ",\"epochs\":2}";
	struct train_result r;
	int rc;
	char *a = run(j, 1, &rc, &r, NULL), *b = run(j, 2, &rc, &r, NULL);

	strip_seconds(a);
	strip_seconds(b);
	CHECK(strcmp(a, b) != 0);
	free(a);
	free(b);
}

static void
report_lines_follow_the_protocol(void)
{
	struct train_result r;
	int rc;
	char *s = run("{" SYN ",\"epochs\":2,\"hidden\":[16,8,4],\"lr\":0.01}", 0, &rc, &r,
		      NULL);

	CHECK(rc == 0);
	CHECK(count_lines(s) == 3);
	for (int e = 0; e < 2; e++) {
		cJSON *o = line_json(s, e);
		CHECK(o != NULL);
		CHECK(num(o, "epoch") == e + 1);
		const char *keys[] = { "train_loss", "train_acc", "val_loss", "val_acc", "lr",
				       "seconds" };
		for (size_t k = 0; k < 6; k++)
			CHECK_MSG(isfinite(num(o, keys[k])), "key %s", keys[k]);
		CHECK_NEAR(num(o, "lr"), 0.01, 1e-12);
		const cJSON *g = cJSON_GetObjectItem(o, "grad_norm");
		CHECK(cJSON_GetArraySize(g) == 4);   /* 3 hidden + output, input side first */
		for (int i = 0; i < cJSON_GetArraySize(g); i++)
			CHECK(cJSON_GetArrayItem(g, i)->valuedouble > 0);
		cJSON_Delete(o);
	}
	cJSON *f = line_json(s, 2);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(f, "final")));
	CHECK(num(f, "best_epoch") >= 1 && num(f, "best_epoch") <= 2);
	CHECK(num(f, "test_acc") == r.test_acc);
	CHECK(isfinite(num(f, "test_loss")));
	cJSON_Delete(f);
	free(s);
}

static void
learns_the_synthetic_problem(void)
{
	struct train_result r;
	int rc;
	char *s = run("{" SYN ",\"epochs\":8,\"lr\":0.003}", 0, &rc, &r, NULL);
	cJSON *first = line_json(s, 0), *last = line_json(s, 7);

	CHECK(rc == 0);
	CHECK(num(last, "train_loss") < num(first, "train_loss"));
	CHECK(num(last, "val_acc") > 0.8);
	CHECK(r.test_acc > 0.8);
	cJSON_Delete(first);
	cJSON_Delete(last);
	free(s);
}

static void
every_optimizer_activation_and_init_trains(void)
{
	const char *opts[] = { "sgd", "momentum", "nesterov", "adam", "rmsprop" };
	const char *acts[] = { "relu", "leaky_relu", "elu", "tanh", "sigmoid" };
	const char *inits[] = { "he", "xavier", "pytorch", "small_normal", "auto" };
	char j[512];
	struct train_result r;
	int rc;

	for (int i = 0; i < 5; i++) {
		snprintf(j, sizeof(j), "{" SYN ",\"epochs\":3,\"optimizer\":\"%s\","
			 "\"activation\":\"%s\",\"init\":\"%s\",\"lr\":%s,\"weight_decay\":1e-4}",
			 opts[i], acts[i], inits[i], i < 3 ? "0.05" : "0.003");
		free(run(j, 0, &rc, &r, NULL));
		CHECK_MSG(rc == 0 && r.test_acc > 0.5, "%s/%s/%s: rc %d acc %g", opts[i],
			  acts[i], inits[i], rc, r.test_acc);
	}
	/* softmax regression */
	free(run("{" SYN ",\"epochs\":4,\"hidden\":[],\"lr\":0.01}", 0, &rc, &r, NULL));
	CHECK(rc == 0 && r.test_acc > 0.4);
}

static void
autoencoder_init_pretrains_then_trains(void)
{
	struct params p;
	struct data_split d;
	struct nn_net net;
	struct rng r;

	CHECK(params_parse(&p, "{" SYN ",\"init\":\"autoencoder\",\"pretrain_epochs\":2}", err,
			   sizeof(err)) == 0);
	CHECK(data_prepare(&d, &p, 0, err, sizeof(err)) == 0);
	CHECK(nn_init(&net, d.train.d, &p.hidden, d.n_classes, p.activation, false, 0, 128) == 0);
	rng_seed(&r, 0, RNG_INIT);
	nn_init_weights(&net, INIT_AUTOENCODER, 0, &r);
	float *before = malloc(net.n_params * sizeof(float));
	memcpy(before, net.params, net.n_params * sizeof(float));
	CHECK(train_pretrain(&net, &p, &d.train, &r, NULL) == 0);
	/* the hidden layers moved, the output layer kept its init */
	struct nn_layer *L0 = &net.layer[0], *L2 = &net.layer[2];
	CHECK(memcmp(before, L0->w, sizeof(float) * L0->n_in * L0->n_out) != 0);
	CHECK(memcmp(before + (L2->w - net.params), L2->w,
		     sizeof(float) * L2->n_in * L2->n_out) == 0);
	free(before);
	nn_free(&net);
	data_split_free(&d);

	struct train_result res;
	int rc;
	free(run("{" SYN ",\"epochs\":3,\"init\":\"autoencoder\"}", 0, &rc, &res, NULL));
	CHECK(rc == 0 && res.test_acc > 0.8);
}

static void
patience_stops_and_tests_the_best_weights(void)
{
	/* min_delta 1 means no epoch after the first can improve val_acc */
	struct train_result r, one;
	int rc;
	char *s = run("{" SYN ",\"epochs\":10,\"patience\":2,\"min_delta\":1}", 5, &rc, &r,
		      NULL);

	CHECK(rc == 0);
	CHECK(count_lines(s) == 4);   /* epochs 1..3, final */
	CHECK(r.epochs_run == 3 && r.best_epoch == 1);
	/* the test metrics are those of epoch 1's weights: a 1-epoch run with
	 * the same seed gets the same numbers */
	free(run("{" SYN ",\"epochs\":1}", 5, &rc, &one, NULL));
	CHECK(one.test_acc == r.test_acc);
	CHECK(one.test_loss == r.test_loss);
	free(s);
}

static void
loss_objective_minimises(void)
{
	struct train_result r;
	int rc;
	char *s = run("{" SYN ",\"epochs\":4,\"objective\":\"val_loss\"}", 0, &rc, &r, NULL);
	double best = INFINITY;
	int best_e = 0;

	for (int e = 0; e < 4; e++) {
		cJSON *o = line_json(s, e);
		if (num(o, "val_loss") < best) {
			best = num(o, "val_loss");
			best_e = e + 1;
		}
		cJSON_Delete(o);
	}
	CHECK(r.best_epoch == best_e);
	free(s);
}

static void
divergence_is_reported_and_the_run_completes(void)
{
	struct train_result r;
	int rc;
	char *s = run("{\"dataset\":\"synthetic\",\"synthetic_size\":2000,\"val_size\":500,"
		      "\"epochs\":5,\"optimizer\":\"sgd\",\"lr\":1,\"init\":\"small_normal\","
		      "\"init_std\":10,\"preprocess\":\"none\",\"synthetic_noise\":100}",
		      0, &rc, &r, NULL);

	CHECK(rc == 0);
	CHECK(r.diverged);
	CHECK_CONTAINS(s, "\"train_loss\":NaN");
	CHECK_CONTAINS(s, "{\"final\":true");
	CHECK(count_lines(s) < 6);   /* stopped before epoch 5 */
	free(s);
}

static void
stop_flag_ends_the_run_without_a_final_line(void)
{
	volatile sig_atomic_t stop = 1;
	struct train_result r;
	int rc;
	char *s = run("{" SYN ",\"epochs\":3}", 0, &rc, &r, &stop);

	CHECK(rc == -EINTR);
	CHECK(strstr(s, "final") == NULL);
	free(s);
}

static void
step_schedule_shows_in_the_reported_lr(void)
{
	struct train_result r;
	int rc;
	char *s = run("{" SYN ",\"epochs\":3,\"lr\":0.01,\"lr_schedule\":\"step\",\"lr_step\":2,"
		      "\"lr_gamma\":0.5}", 0, &rc, &r, NULL);
	cJSON *e2 = line_json(s, 1), *e3 = line_json(s, 2);

	CHECK_NEAR(num(e2, "lr"), 0.01, 1e-12);
	CHECK_NEAR(num(e3, "lr"), 0.005, 1e-12);
	cJSON_Delete(e2);
	cJSON_Delete(e3);
	free(s);
}

int
main(void)
{
	openblas_set_num_threads(1);
	RUN(same_seed_gives_identical_curve);
	RUN(different_seed_gives_a_different_curve);
	RUN(report_lines_follow_the_protocol);
	RUN(learns_the_synthetic_problem);
	RUN(every_optimizer_activation_and_init_trains);
	RUN(autoencoder_init_pretrains_then_trains);
	RUN(patience_stops_and_tests_the_best_weights);
	RUN(loss_objective_minimises);
	RUN(divergence_is_reported_and_the_run_completes);
	RUN(stop_flag_ends_the_run_without_a_final_line);
	RUN(step_schedule_shows_in_the_reported_lr);
	return harness_done();
}
