/*
 * bench_json.c: what json_print costs per number for the figures the
 * daemon stores (issue 17: the epochs' metrics, the diagnosis). Not a
 * test.
 *
 *   ./build/bench/daemon/bench_json [--rounds N]
 *
 * Prints ns per number for two kinds of arrays of 1,000 doubles: a
 * trainer's figures as it prints them (%.10g, in (0, 10)) and computed
 * ones that need 16 or 17 digits (means, ratios).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "bench/benchclock.h"

#define N 1000

/* ns per number of json_print over rounds prints of a; -1 on failure. */
static double
time_print(const cJSON *a, int rounds)
{
	double t0 = bench_now_s();

	for (int r = 0; r < rounds; r++) {
		char *s = json_print(a);
		if (!s)
			return -1;
		cJSON_free(s);
	}
	return (bench_now_s() - t0) * 1e9 / ((double)rounds * N);
}

int
main(int argc, char **argv)
{
	int rounds = 200;
	cJSON *reported = cJSON_CreateArray(), *computed = cJSON_CreateArray();
	char text[32];
	int rc = 1;

	if (argc == 3 && strcmp(argv[1], "--rounds") == 0)
		rounds = atoi(argv[2]);
	if (rounds < 1 || !reported || !computed) {
		fprintf(stderr, "usage: bench_json [--rounds N]\n");
		goto out;
	}
	srand(7);
	for (int i = 0; i < N; i++) {
		double v = 10.0 * rand() / RAND_MAX;
		snprintf(text, sizeof text, "%.10g", v);
		cJSON_AddItemToArray(reported, cJSON_CreateNumber(strtod(text, NULL)));
		cJSON_AddItemToArray(computed, cJSON_CreateNumber(v / 3.0 + 1e-9));
	}
	double a = time_print(reported, rounds), b = time_print(computed, rounds);
	if (a < 0 || b < 0)
		goto out;
	printf("json_print, %d rounds of %d numbers:\n", rounds, N);
	printf("  reported figures (%%.10g)   %.1f ns per number\n", a);
	printf("  computed figures (17 digits) %.1f ns per number\n", b);
	rc = 0;
out:
	cJSON_Delete(reported);
	cJSON_Delete(computed);
	return rc;
}
