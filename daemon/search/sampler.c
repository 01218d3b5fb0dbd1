/*
 * sampler.c: grid and random search, and the dispatch to TPE.
 *
 * Random values come from one splitmix64 stream per (trial, param name):
 * seeding from the trial number rather than from a generator that walks
 * through the sweep is what lets trials finish in any order (or be re-run
 * after a crash) and still get the params they would have had.
 */
#include "daemon/search/sampler.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/search/tpe.h"

#define STREAM_RANDOM UINT64_C(0x72616e646f6d2121)   /* "random!!" */

/* ---- the algorithms ---------------------------------------------------- */

static int
add_param(cJSON *out, const struct spec_param *p, cJSON *v)
{
	if (!v)
		return -ENOMEM;
	if (!cJSON_AddItemToObject(out, p->name, v)) {
		cJSON_Delete(v);
		return -ENOMEM;
	}
	return 0;
}

static int
random_params(const struct spec *s, int number, cJSON *out)
{
	uint64_t seed = sampler_trial_seed(s->seed, number) ^ STREAM_RANDOM;
	struct sampler_rng r;
	int rc;

	for (int i = 0; i < s->n_params; i++) {
		sampler_rng_init(&r, seed, sampler_name_stream(s->params[i].name));
		rc = add_param(out, &s->params[i],
			       sampler_random_value(&s->params[i], &r));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
grid_params(const struct spec *s, int number, cJSON *out, char *err,
	    size_t errlen)
{
	long size = spec_grid_size(s), idx, *digit;   /* -ENOMEM possible */
	int n_enq = spec_n_enqueued(s), rc = 0;

	if (size == -ENOMEM)
		return -ENOMEM;
	idx = number > n_enq ? (long)number - 1 - n_enq : (long)number - 1;
	/* An enqueued trial takes its unspecified params from a combination;
	 * there may be more enqueued sets than combinations, so cycle. */
	if (number <= n_enq && size > 0)
		idx %= size;
	if (size < 0 || idx >= size) {
		snprintf(err, errlen, "trial %d is beyond the grid's %ld "
			 "combinations", number, size);
		return -EINVAL;
	}
	digit = calloc((size_t)s->n_params, sizeof *digit);
	if (!digit)
		return -ENOMEM;
	rc = spec_grid_digits(s, idx, digit);
	for (int i = 0; i < s->n_params && rc == 0; i++)
		if (digit[i] >= 0)
			rc = add_param(out, &s->params[i],
				       spec_param_grid_value(&s->params[i], digit[i]));
	free(digit);
	return rc;
}

/* Whether fixed gives a value to every param that is not a constant. */
static int
fixes_all(const struct spec *s, const cJSON *fixed)
{
	if (!fixed)
		return 0;
	for (int i = 0; i < s->n_params; i++)
		if (s->params[i].kind != SPEC_CONST &&
		    !cJSON_GetObjectItemCaseSensitive(fixed, s->params[i].name))
			return 0;
	return 1;
}

/* Enqueued values replace the sampled ones, keeping spec order (a grid
 * combination lacks the params inactive in it: those are added). */
static int
apply_fixed(const struct spec *s, cJSON *out, const cJSON *fixed)
{
	const cJSON *it;
	cJSON *v;
	int ok;

	cJSON_ArrayForEach(it, fixed) {
		v = cJSON_Duplicate(it, 1);
		ok = v && (cJSON_HasObjectItem(out, it->string) ?
			   cJSON_ReplaceItemInObjectCaseSensitive(out, it->string, v) :
			   cJSON_AddItemToObject(out, it->string, v));
		if (!ok) {
			cJSON_Delete(v);
			return -ENOMEM;
		}
	}
	for (int i = 0; i < s->n_params; i++) {
		v = cJSON_DetachItemFromObjectCaseSensitive(out, s->params[i].name);
		if (v && !cJSON_AddItemToObject(out, s->params[i].name, v)) {
			cJSON_Delete(v);
			return -ENOMEM;
		}
	}
	return 0;
}

int
sampler_suggest(const struct spec *s, int number, const cJSON *fixed,
		const struct sampler_obs *obs, int n_obs, cJSON **out,
		char *err, size_t errlen)
{
	return sampler_suggest_mo(s, NULL, number, fixed, obs, n_obs, out,
				  err, errlen);
}

int
sampler_suggest_mo(const struct spec *s,
		   const struct sampler_objectives *objs, int number,
		   const cJSON *fixed, const struct sampler_obs *obs,
		   int n_obs, cJSON **out, char *err, size_t errlen)
{
	cJSON *params = NULL;
	int rc;

	if (number < 1) {
		snprintf(err, errlen, "trial number %d: must be >= 1", number);
		return -EINVAL;
	}
	if (objs && (objs->k < 1 || (objs->k > 1 && (!objs->maximize ||
						   (n_obs > 0 && !objs->values))))) {
		snprintf(err, errlen, "objectives: %d of them, %s", objs->k,
			 objs->k < 1 ? "at least 1 needed" :
			 "each needs a direction and values");
		return -EINVAL;
	}
	if (fixed) {
		rc = spec_check_params(s, fixed, "params", err, errlen);
		if (rc < 0)
			return rc;
	}
	params = cJSON_CreateObject();
	if (!params)
		return -ENOMEM;
	switch (s->algorithm) {
	case SPEC_GRID:
		rc = grid_params(s, number, params, err, errlen);
		break;
	case SPEC_TPE:
		/* A set that fixes every sampled param gets nothing from TPE:
		 * its random values are all replaced, at no cost per trial. */
		rc = number > s->tpe_n_startup && !fixes_all(s, fixed) ?
		     tpe_suggest_mo(s, objs, number, obs, n_obs, params, err,
				    errlen) : 0;
		/* 0: still starting, or nothing to learn from yet. */
		if (rc == 0)
			rc = random_params(s, number, params);
		else if (rc > 0)
			rc = 0;
		break;
	case SPEC_RANDOM:
	default:
		rc = random_params(s, number, params);
		break;
	}
	if (rc == 0 && fixed)
		rc = apply_fixed(s, params, fixed);
	/* After the enqueued values: they can switch a branch on or off. */
	if (rc == 0)
		rc = spec_drop_inactive(s, params);
	if (rc < 0)
		goto fail;
	*out = params;
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory while sampling trial %d",
			 number);
	cJSON_Delete(params);
	return rc;
}
