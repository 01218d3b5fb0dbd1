/*
 * bench_tpe: the cost of one TPE suggestion against the number of
 * observations. Not a test. A suggestion runs on the daemon's event loop,
 * so its time is a pause in answering every client.
 *
 *   build/bench/search/bench_tpe [--multivariate] [N ...]
 *                                           (default 100 1000 10000)
 *
 * The space is bench_search.py's ten-knob one (4 numeric params, 5
 * choices, a constant). For each N: N completed trials with random params
 * and values, then tpe_suggest for 20 trial numbers; prints the median and
 * the worst time of one suggestion.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "daemon/search/tpe.h"
#include "bench/benchclock.h"

#define REPEATS 20

static const char *spec_text =
	"{\"trainer\": {\"command\": [\"/bin/true\"]},"
	" \"objective\": {\"metric\": \"val_acc\", \"mode\": \"max\"},"
	" \"space\": {\"lr\": {\"loguniform\": [1e-5, 1]},"
	"  \"batch_size\": {\"choice\": [16, 32, 64, 128, 256, 512]},"
	"  \"activation\": {\"choice\": [\"relu\", \"elu\", \"tanh\", \"sigmoid\"]},"
	"  \"optimizer\": {\"choice\": [\"sgd\", \"momentum\", \"adam\", \"rmsprop\"]},"
	"  \"dropout\": {\"uniform\": [0, 0.6]}, \"epochs\": 12,"
	"  \"units\": {\"logint\": [16, 1024]},"
	"  \"batchnorm\": {\"choice\": [true, false]},"
	"  \"init\": {\"choice\": [\"small_normal\", \"xavier\", \"he\"]},"
	"  \"weight_decay\": {\"loguniform\": [1e-6, 0.1]}},"
	" \"search\": {\"algorithm\": \"tpe\", \"trials\": 1000000, \"seed\": 1,"
	"  \"multivariate\": %s}}";

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* N completed observations with random params (trial numbers 1..N). */
static struct sampler_obs *
make_obs(const struct spec *s, int n)
{
	struct sampler_obs *obs = calloc((size_t)n, sizeof *obs);
	struct sampler_rng r;

	if (!obs)
		return NULL;
	sampler_rng_init(&r, 42, 7);
	for (int i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();
		for (int k = 0; p && k < s->n_params; k++) {
			struct sampler_rng pr;
			sampler_rng_init(&pr, (uint64_t)i, sampler_name_stream(s->params[k].name));
			cJSON_AddItemToObject(p, s->params[k].name,
					      sampler_random_value(&s->params[k], &pr));
		}
		obs[i].params = p;
		obs[i].state = SAMPLER_COMPLETE;
		obs[i].value = sampler_rng_uniform(&r);
		obs[i].epochs = 12;
	}
	return obs;
}

static int
run(const struct spec *s, int n)
{
	struct sampler_obs *obs = make_obs(s, n);
	double t[REPEATS];
	char err[256];

	if (!obs)
		return 1;
	for (int k = 0; k < REPEATS; k++) {
		cJSON *out = cJSON_CreateObject();
		double t0 = 1e3 * bench_now_s();
		int rc = tpe_suggest(s, n + 1 + k, obs, n, out, err, sizeof err);
		t[k] = 1e3 * bench_now_s() - t0;
		cJSON_Delete(out);
		if (rc != 1) {
			fprintf(stderr, "bench_tpe: tpe_suggest returned %d: %s\n", rc, err);
			return 1;
		}
	}
	qsort(t, REPEATS, sizeof *t, cmp_double);
	printf("%6d observations: one suggestion median %8.3f ms, worst %8.3f ms\n",
	       n, 0.5 * (t[REPEATS / 2 - 1] + t[REPEATS / 2]), t[REPEATS - 1]);
	for (int i = 0; i < n; i++)
		cJSON_Delete((cJSON *)obs[i].params);
	free(obs);
	return 0;
}

int
main(int argc, char **argv)
{
	static const int def[] = { 100, 1000, 10000 };
	int mv = argc > 1 && strcmp(argv[1], "--multivariate") == 0;
	char text[2048];
	cJSON *j;
	struct spec *s = NULL;
	char err[256];
	int rc = 0;

	/* --multivariate: search.multivariate (the joint estimators) */
	snprintf(text, sizeof text, spec_text, mv ? "true" : "false");
	j = cJSON_Parse(text);
	argc -= mv;
	argv += mv;
	printf("%s TPE\n", mv ? "multivariate" : "univariate");

	if (!j || spec_parse(j, &s, err, sizeof err) < 0) {
		fprintf(stderr, "bench_tpe: %s\n", j ? err : "bad spec text");
		cJSON_Delete(j);
		return 1;
	}
	if (argc > 1)
		for (int i = 1; i < argc && rc == 0; i++)
			rc = run(s, atoi(argv[i]) > 0 ? atoi(argv[i]) : 1);
	else
		for (size_t i = 0; i < sizeof def / sizeof def[0] && rc == 0; i++)
			rc = run(s, def[i]);
	spec_free(s);
	cJSON_Delete(j);
	return rc;
}
