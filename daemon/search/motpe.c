/*
 * motpe.c: the good/bad split of MOTPE (motpe.h). Written from the paper
 * and the behaviour of Optuna 3.1's TPESampler with several objectives;
 * no code of theirs.
 */
#include "daemon/search/motpe.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/pareto.h"

#define WEIGHT_EPS 1e-12   /* Optuna's EPS added to every contribution */

/* The valued candidates' values into v[n * k], their index into map[n];
 * the non-finite ones ignored. */
static int
collect(int n_obs, int k, const double *values, signed char *group,
	double *v, int *map)
{
	int n = 0;

	for (int i = 0; i < n_obs; i++) {
		const double *x = values + (size_t)i * k;
		int finite = group[i] == MOTPE_CANDIDATE;

		for (int j = 0; finite && j < k; j++)
			finite = isfinite(x[j]);
		if (finite) {
			memcpy(v + (size_t)n * k, x, (size_t)k * sizeof *v);
			map[n++] = i;
		} else if (group[i] == MOTPE_CANDIDATE) {
			group[i] = MOTPE_IGNORED;
		}
	}
	return n;
}

static int
good_count(double gamma, int n)
{
	int n_good = gamma > 0 ? (int)ceil(gamma * n) :
		     (int)fmin(ceil(0.1 * n), 25.0);

	return n_good < 1 ? 1 : n_good > n ? n : n_good;
}

/*
 * Of the points of rank r (v, n, rank), `want` go to good[] by greedy
 * hypervolume; scratch rows[] holds the rank's points. Returns 0 or
 * -errno.
 */
static int
select_in_rank(const double *v, int n, int k, const int *maximize,
	       const int *rank, int r, int want, char *good, double *rows,
	       int *members)
{
	double *ref = malloc((size_t)k * sizeof *ref);
	int *chosen = malloc((size_t)want * sizeof *chosen), m = 0, rc;

	rc = ref && chosen ? 0 : -ENOMEM;
	for (int i = 0; rc == 0 && i < n; i++)
		if (rank[i] == r) {
			memcpy(rows + (size_t)m * k, v + (size_t)i * k,
			       (size_t)k * sizeof *rows);
			members[m++] = i;
		}
	if (rc == 0)
		rc = pareto_reference(rows, m, k, maximize, ref);
	if (rc == 0)
		rc = pareto_select(rows, m, k, maximize, ref, want, chosen);
	for (int s = 0; rc == 0 && s < want; s++)
		good[members[chosen[s]]] = 1;
	free(ref);
	free(chosen);
	return rc;
}

/* good[n]: the n_good best of v[n] by rank, then by hypervolume. */
static int
choose_good(const double *v, int n, int k, const int *maximize, int n_good,
	    char *good)
{
	int *rank = malloc(2 * (size_t)n * sizeof *rank);
	double *rows = malloc((size_t)n * k * sizeof *rows);
	int taken = 0, rc = -ENOMEM, fronts;

	if (!rank || !rows)
		goto out;
	rc = fronts = pareto_ranks(v, n, k, maximize, rank, n_good);
	for (int r = 0; rc >= 0 && r < fronts && taken < n_good; r++) {
		int size = 0;
		for (int i = 0; i < n; i++)
			size += rank[i] == r;
		if (taken + size <= n_good) {
			for (int i = 0; i < n; i++)
				good[i] |= rank[i] == r;
			taken += size;
			continue;
		}
		rc = select_in_rank(v, n, k, maximize, rank, r, n_good - taken,
				    good, rows, rank + n);
		taken = n_good;
	}
out:
	free(rank);
	free(rows);
	return rc < 0 ? rc : 0;
}

/* w[m]: the good points' (g[m]) weights from their contributions. */
static int
weigh_good(const double *g, int m, int k, const int *maximize, double *w)
{
	double *ref = malloc((size_t)k * sizeof *ref), top = 0;
	int rc = ref ? 0 : -ENOMEM;

	if (rc == 0 && m == 1)
		w[0] = 1;
	if (rc == 0 && m > 1)
		rc = pareto_reference(g, m, k, maximize, ref);
	if (rc == 0 && m > 1)
		rc = pareto_contributions(g, m, k, maximize, ref, w);
	for (int i = 0; rc == 0 && m > 1 && i < m; i++) {
		w[i] += WEIGHT_EPS;
		top = fmax(top, w[i]);
	}
	for (int i = 0; rc == 0 && m > 1 && i < m; i++)
		w[i] = fmin(w[i] / top, 1.0);
	free(ref);
	return rc;
}

int
motpe_split(int n_obs, int k, const int *maximize, const double *values,
	    double gamma, signed char *group, double *wgood)
{
	double *v = malloc(((size_t)n_obs * k + 1) * sizeof *v);
	double *w = malloc(((size_t)n_obs + 1) * sizeof *w);
	int *map = malloc(((size_t)n_obs + 1) * sizeof *map);
	char *good = calloc((size_t)n_obs + 1, 1);
	int n = 0, m = 0, rc = -ENOMEM;

	if (!v || !w || !map || !good)
		goto out;
	n = collect(n_obs, k, values, group, v, map);
	for (int i = 0; i < n_obs; i++)
		wgood[i] = 0;
	rc = n > 0 ? choose_good(v, n, k, maximize, good_count(gamma, n), good) : 0;
	/* The good ones' values, packed in trial-number order, then weighed. */
	for (int i = 0; rc == 0 && i < n; i++) {
		group[map[i]] = good[i] ? MOTPE_GOOD : MOTPE_BAD;
		if (good[i])
			memmove(v + (size_t)m++ * k, v + (size_t)i * k,
				(size_t)k * sizeof *v);
	}
	if (rc == 0 && m > 0)
		rc = weigh_good(v, m, k, maximize, w);
	for (int i = 0, g = 0; rc == 0 && i < n; i++)
		if (good[i])
			wgood[map[i]] = w[g++];
out:
	free(v);
	free(w);
	free(map);
	free(good);
	return rc < 0 ? rc : n;
}
