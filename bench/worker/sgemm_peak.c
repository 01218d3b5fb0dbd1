/*
 * sgemm_peak.c: single-thread SGEMM throughput of the installed CBLAS, the
 * yardstick for sweep-worker's speed benchmark. Prints JSON:
 * {"n":N,"gflops":best,"corename":"...","config":"..."}.
 *
 *   sgemm_peak [N [reps]]     (default 2048, 5)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/benchclock.h"

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2048, reps = argc > 2 ? atoi(argv[2]) : 5;
	size_t nn = (size_t)n * (size_t)n;
	float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float));
	float *c = calloc(nn, sizeof(float));
	double best = 0.0;

	if (n < 16 || reps < 1 || !a || !b || !c) {
		fprintf(stderr, "usage: sgemm_peak [N >= 16 [reps >= 1]]\n");
		return 2;
	}
	openblas_set_num_threads(1);
	for (size_t i = 0; i < nn; i++) {
		a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
		b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
	}
	/* one untimed call pages everything in */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
		    c, n);
	for (int r = 0; r < reps; r++) {
		double t0 = bench_now_s();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n,
			    0.0f, c, n);
		double g = 2.0 * n * (double)nn / (bench_now_s() - t0) * 1e-9;
		if (g > best)
			best = g;
	}
	printf("{\"n\":%d,\"gflops\":%.2f,\"corename\":\"%s\",\"config\":\"%s\",\"check\":%g}\n",
	       n, best, openblas_get_corename(), openblas_get_config(), (double)c[nn / 2]);
	free(a);
	free(b);
	free(c);
	return 0;
}
