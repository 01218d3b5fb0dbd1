/*
 * bench_motpe: several objectives, sweepd's MOTPE against random search on
 * ZDT1 / ZDT2 (Zitzler, Deb, Thiele 2000): two objectives, both
 * minimized, D params in [0, 1], a known front. Not a test; driven by
 * bench_motpe.py, which also runs Optuna on the same problems.
 *
 *   bench_motpe run zdt1|zdt2 tpe|random SEED TRIALS DIMS K1,K2,...
 *       runs one sweep in process (sampler_suggest_mo: the daemon's code
 *       path, without the daemon, which has no objectives yet), prints
 *       one JSON line: the hypervolume after K1, K2, ... trials, the
 *       seconds spent suggesting and the objective values.
 *   bench_motpe hv K1,K2,... < points
 *       the hypervolume of the first K1, K2, ... lines "f1 f2" read
 *       (another tool's trials), so every tool is measured by one code.
 *   bench_motpe cost N [N ...]
 *       the cost of non-dominated sorting (all ranks, and the first
 *       fronts MOTPE needs), of the front and of one MOTPE suggestion
 *       (30 params) with N completed observations of ZDT1's values.
 *
 * f1 = x0, g = 1 + 9 sum(x1..x(D-1)) / (D - 1), f2 = g (1 - sqrt(f1 / g))
 * (ZDT1) or g (1 - (f1 / g)^2) (ZDT2). Reference point (1.1, 11): every
 * point is inside it (g <= 10), the best reachable hypervolume is
 * 1.1 x 11 - 1/3 = 11.7667 (ZDT1) and 12.1 - 2/3 = 11.4333 (ZDT2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "daemon/search/pareto.h"
#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "bench/benchclock.h"

#define MAX_K 16

static const double REF[2] = { 1.1, 11 };

static int
parse_ks(const char *s, int *ks)
{
	int n = 0;

	for (char *end; *s && n < MAX_K; s = *end ? end + 1 : end) {
		ks[n] = (int)strtol(s, &end, 10);
		if (ks[n] > 0)
			n++;
	}
	return n;
}

static void
zdt(int two, const cJSON *p, int dims, double *f)
{
	double g = 0, x0 = 0;
	char key[16];

	for (int i = 0; i < dims; i++) {
		snprintf(key, sizeof key, "x%d", i);
		double x = cJSON_GetObjectItem(p, key)->valuedouble;
		if (i == 0)
			x0 = x;
		else
			g += x;
	}
	g = 1 + 9 * g / (dims - 1);
	f[0] = x0;
	f[1] = two ? g * (1 - (x0 / g) * (x0 / g)) : g * (1 - sqrt(x0 / g));
}

static struct spec *
make_spec(const char *alg, int seed, int trials, int dims)
{
	size_t cap = 256 + 40 * (size_t)dims, len;
	char *t = malloc(cap), err[256];
	cJSON *j;
	struct spec *s = NULL;

	if (!t)
		return NULL;
	len = (size_t)snprintf(t, cap, "{\"trainer\": {\"command\": [\"/bin/true\"]},"
		" \"objective\": {\"metric\": \"f1\", \"mode\": \"min\"},"
		" \"search\": {\"algorithm\": \"%s\", \"seed\": %d, \"trials\": %d},"
		" \"space\": {", alg, seed, trials);
	for (int i = 0; i < dims; i++)
		len += (size_t)snprintf(t + len, cap - len, "%s\"x%d\": {\"uniform\": [0, 1]}",
					i ? ", " : "", i);
	snprintf(t + len, cap - len, "}}");
	j = cJSON_Parse(t);
	if (!j || spec_parse(j, &s, err, sizeof err) < 0)
		fprintf(stderr, "bench_motpe: spec: %s\n", j ? err : "bad JSON");
	cJSON_Delete(j);
	free(t);
	return s;
}

static void
print_hv(const double *v, int n, const int *ks, int nk)
{
	const int minimize[2] = { 0, 0 };

	printf("\"hv\": {");
	for (int i = 0; i < nk; i++) {
		double hv = NAN;
		if (ks[i] <= n)
			pareto_hypervolume(v, ks[i], 2, minimize, REF, &hv);
		printf("%s\"%d\": %.17g", i ? ", " : "", ks[i], hv);
	}
	printf("}");
}

static int
run(const char *problem, const char *alg, int seed, int trials, int dims,
    const int *ks, int nk)
{
	struct spec *s = make_spec(alg, seed, trials, dims);
	struct sampler_obs *obs = calloc((size_t)trials + 1, sizeof *obs);
	double *v = calloc(2 * (size_t)trials + 2, sizeof *v), spent = 0;
	int maximize[2] = { 0, 0 }, n = 0, rc = 1;
	struct sampler_objectives mo = { 2, maximize, v };
	char err[256];

	if (!s || !obs || !v)
		goto out;
	for (; n < trials; n++) {
		cJSON *p = NULL;
		double t0 = bench_now_s();
		if (sampler_suggest_mo(s, &mo, n + 1, NULL, obs, n, &p, err,
				       sizeof err) < 0) {
			fprintf(stderr, "bench_motpe: trial %d: %s\n", n + 1, err);
			goto out;
		}
		spent += bench_now_s() - t0;
		zdt(strcmp(problem, "zdt2") == 0, p, dims, v + 2 * n);
		obs[n] = (struct sampler_obs){ .params = p, .state = SAMPLER_COMPLETE };
	}
	printf("{\"problem\": \"%s\", \"algorithm\": \"%s\", \"seed\": %d, ",
	       problem, alg, seed);
	print_hv(v, n, ks, nk);
	printf(", \"suggest_seconds\": %.4f, \"f\": [", spent);
	for (int i = 0; i < n; i++)
		printf("%s[%.10g, %.10g]", i ? ", " : "", v[2 * i], v[2 * i + 1]);
	printf("]}\n");
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		cJSON_Delete((cJSON *)obs[i].params);
	free(obs);
	free(v);
	spec_free(s);
	return rc;
}

static int
hv_stdin(const int *ks, int nk)
{
	size_t cap = 1024, n = 0;
	double *v = malloc(cap * sizeof *v), a, b;

	while (v && scanf("%lf %lf", &a, &b) == 2) {
		if (2 * n + 2 > cap) {
			double *nv = realloc(v, 2 * cap * sizeof *v);
			if (!nv)
				break;
			v = nv;
			cap *= 2;
		}
		v[2 * n] = a;
		v[2 * n + 1] = b;
		n++;
	}
	if (!v)
		return 1;
	printf("{");
	print_hv(v, (int)n, ks, nk);
	printf("}\n");
	free(v);
	return 0;
}

/* N observations of ZDT1 with random params (sweepd's random search). */
static int
cost_one(int n)
{
	struct spec *s = make_spec("tpe", 1, n + 100, 30);
	struct sampler_obs *obs = calloc((size_t)n + 1, sizeof *obs);
	double *v = calloc(2 * (size_t)n + 2, sizeof *v), t[5];
	int *rank = calloc((size_t)n + 1, sizeof *rank), got = 0, rc = 1;
	int maximize[2] = { 0, 0 };
	struct sampler_objectives mo = { 2, maximize, v };
	cJSON *p = NULL;
	char err[256];

	if (!s || !obs || !v || !rank)
		goto out;
	for (; got < n; got++) {
		if (sampler_suggest(s, got + 1, NULL, NULL, 0, &p, err, sizeof err) < 0)
			goto out;
		zdt(0, p, 30, v + 2 * got);
		obs[got] = (struct sampler_obs){ .params = p, .value = v[2 * got],
						 .state = SAMPLER_COMPLETE };
	}
	t[0] = bench_now_s();
	pareto_ranks(v, n, 2, maximize, rank, 0);
	t[1] = bench_now_s();
	pareto_ranks(v, n, 2, maximize, rank, 25);
	t[2] = bench_now_s();
	if (sampler_suggest_mo(s, &mo, n + 1, NULL, obs, n, &p, err, sizeof err) < 0)
		goto out;
	t[3] = bench_now_s();
	cJSON_Delete(p);
	/* The same with one objective (f1): what TPE itself costs. */
	if (sampler_suggest(s, n + 1, NULL, obs, n, &p, err, sizeof err) < 0)
		goto out;
	t[4] = bench_now_s();
	cJSON_Delete(p);
	printf("{\"n\": %d, \"ranks_ms\": %.3f, \"first_25_ms\": %.3f,"
	       " \"motpe_suggest_ms\": %.3f, \"tpe_suggest_ms\": %.3f}\n", n,
	       1e3 * (t[1] - t[0]), 1e3 * (t[2] - t[1]), 1e3 * (t[3] - t[2]),
	       1e3 * (t[4] - t[3]));
	rc = 0;
out:
	for (int i = 0; i < got; i++)
		cJSON_Delete((cJSON *)obs[i].params);
	free(obs);
	free(v);
	free(rank);
	spec_free(s);
	return rc;
}

int
main(int argc, char **argv)
{
	int ks[MAX_K], nk;

	if (argc == 8 && strcmp(argv[1], "run") == 0) {
		nk = parse_ks(argv[7], ks);
		return run(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
			   atoi(argv[6]), ks, nk);
	}
	if (argc >= 3 && strcmp(argv[1], "cost") == 0) {
		for (int i = 2; i < argc; i++)
			if (cost_one(atoi(argv[i])) != 0)
				return 1;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "hv") == 0)
		return hv_stdin(ks, parse_ks(argv[2], ks));
	fprintf(stderr, "usage: bench_motpe run zdt1|zdt2 tpe|random SEED TRIALS DIMS K1,K2,..\n"
		"       bench_motpe hv K1,K2,.. < points\n"
		"       bench_motpe cost N [N ...]\n");
	return 2;
}
