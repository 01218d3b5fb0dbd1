/*
 * spec_search.c: the "search" section: the algorithm, its options, the
 * budget.
 */
#include "daemon/search/spec_search.h"

#include <string.h>

#include "daemon/search/spec_grid.h"
#include "daemon/search/spec_util.h"

#define DEFAULT_TRIALS    20

static const char *const search_keys[] = {
	"algorithm", "trials", "parallel", "seed", "n_startup", "gamma",
	"n_candidates", "multivariate",
};

static const char *const tpe_keys[] = {
	"n_startup", "gamma", "n_candidates", "multivariate",
};

static int
parse_algorithm(struct spec *s, const cJSON *search, char *err, size_t errlen)
{
	const char *alg;
	int rc;

	rc = spec_get_str(search, "algorithm", "search", &alg, err, errlen);
	if (rc < 0 || !alg) {
		s->algorithm = SPEC_RANDOM;
		return rc < 0 ? spec_fail(err, errlen, "search.algorithm: must be "
					  "\"grid\", \"random\" or \"tpe\"") : 0;
	}
	if (strcmp(alg, "grid") == 0)
		s->algorithm = SPEC_GRID;
	else if (strcmp(alg, "random") == 0)
		s->algorithm = SPEC_RANDOM;
	else if (strcmp(alg, "tpe") == 0)
		s->algorithm = SPEC_TPE;
	else
		return spec_fail(err, errlen, "search.algorithm: must be \"grid\", "
				 "\"random\" or \"tpe\", not \"%s\"", alg);
	return 0;
}

/* search.multivariate (tpe): true or false, nothing that only looks like
 * one (1, "yes"), so a setting never passes for another. */
static int
parse_multivariate(struct spec *s, const cJSON *search, char *err,
		   size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(search, "multivariate");

	s->tpe_multivariate = 0;
	if (!m)
		return 0;
	if (!cJSON_IsBool(m))
		return spec_fail(err, errlen, "search.multivariate: must be true "
				 "or false");
	s->tpe_multivariate = cJSON_IsTrue(m);
	return 0;
}

int
spec_parse_search(struct spec *s, const cJSON *root, char *err, size_t errlen)
{
	const cJSON *search, *gamma;
	long trials, parallel, seed, startup, cands;
	int rc;

	rc = spec_get_section(root, "search", &search, err, errlen);
	if (rc < 0)
		return rc;
	rc = spec_check_keys(search, "search", search_keys,
			     sizeof search_keys / sizeof search_keys[0], err, errlen);
	if (rc < 0)
		return rc;
	rc = parse_algorithm(s, search, err, errlen);
	if (rc < 0)
		return rc;
	if (s->algorithm != SPEC_TPE)
		for (size_t i = 0; i < sizeof tpe_keys / sizeof tpe_keys[0]; i++)
			if (cJSON_HasObjectItem(search, tpe_keys[i]))
				return spec_fail(err, errlen, "search.%s: only for "
						 "algorithm \"tpe\"", tpe_keys[i]);
	if ((rc = spec_get_int(search, "trials", "search", 1, SPEC_MAX_TRIALS,
			       DEFAULT_TRIALS, &trials, err, errlen)) < 0 ||
	    (rc = spec_get_int(search, "parallel", "search", 1, SPEC_MAX_PARALLEL, 1,
			       &parallel, err, errlen)) < 0 ||
	    (rc = spec_get_int(search, "seed", "search", 0, (long)SPEC_MAX_SEED, 0,
			       &seed, err, errlen)) < 0 ||
	    (rc = spec_get_int(search, "n_startup", "search", 0, SPEC_MAX_TRIALS, 10,
			       &startup, err, errlen)) < 0 ||
	    (rc = spec_get_int(search, "n_candidates", "search", 1, 10000, 24,
			       &cands, err, errlen)) < 0)
		return rc;
	/* "auto" (the default, 0 here) is Optuna's rule, min(ceil(0.1 n), 25)
	 * good trials: a fixed 0.25 locked onto one categorical value in
	 * bench/search's runs. */
	gamma = cJSON_GetObjectItemCaseSensitive(search, "gamma");
	if (cJSON_IsString(gamma) && strcmp(gamma->valuestring, "auto") == 0) {
		s->tpe_gamma = 0;
	} else {
		rc = spec_get_num(search, "gamma", "search", 0, 1, 0, &s->tpe_gamma,
				  err, errlen);
		if (rc < 0 || (gamma && (s->tpe_gamma <= 0 || s->tpe_gamma >= 1)))
			return spec_fail(err, errlen, "search.gamma: must be \"auto\" "
					 "or a number between 0 and 1 (exclusive)");
	}
	rc = parse_multivariate(s, search, err, errlen);
	if (rc < 0)
		return rc;
	s->trials = (int)trials;
	s->parallel = (int)parallel;
	s->seed = (uint64_t)seed;
	s->has_seed = cJSON_HasObjectItem(search, "seed");
	s->tpe_n_startup = (int)startup;
	s->tpe_n_candidates = (int)cands;
	if (s->algorithm == SPEC_GRID)
		return spec_check_grid(s, cJSON_HasObjectItem(search, "trials"), err,
				       errlen);
	return 0;
}
