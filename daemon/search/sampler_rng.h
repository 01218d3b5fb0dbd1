/*
 * sampler_rng.h: what every search algorithm shares: the random source
 * (splitmix64 streams), the seed of a trial, one random draw of a param,
 * and what the search knows of the other trials of a sweep.
 *
 * Its own module so that the algorithms (sampler.c, tpe.c) can use it
 * without including each other. Pure: no clock, no I/O, no global state.
 */
#ifndef SWEEPD_DAEMON_SAMPLER_RNG_H
#define SWEEPD_DAEMON_SAMPLER_RNG_H

#include <stdint.h>

#include <cJSON.h>

#include "daemon/search/spec.h"

/*
 * The seed of trial `number` (SWEEP_SEED): splitmix64 of the sweep seed
 * and the number only, so a trial can be re-run exactly whatever order the
 * trials finished in. Masked to 53 bits so that it survives JSON numbers
 * (doubles) and SQLite's signed integers unchanged.
 */
uint64_t sampler_trial_seed(uint64_t sweep_seed, int number);

enum sampler_state {
	SAMPLER_COMPLETE,
	SAMPLER_PRUNED,
	SAMPLER_FAILED,    /* failed or cancelled: carries no value */
	SAMPLER_RUNNING,   /* queued or running */
};

/* What the search knows of another trial of the sweep. */
struct sampler_obs {
	const cJSON *params;       /* borrowed: the trial's params object */
	enum sampler_state state;
	double value;              /* objective: COMPLETE: final best;
				    * PRUNED: best so far; ignored otherwise */
	int epochs;                /* the last epoch number reported */
};

/*
 * Several objectives: how many, for each whether higher is better
 * (maximize[j] nonzero), and the observations' values of each, parallel
 * to the obs array (so struct sampler_obs, its single value and every
 * caller building one stay as they are). k = 1 (or NULL objectives) is
 * the spec's single objective, obs[].value and mode: sampler_suggest.
 */
struct sampler_objectives {
	int k;
	const int *maximize;       /* borrowed [k] */
	const double *values;      /* borrowed [n_obs * k]: obs[i]'s value of
				    * objective j at values[i * k + j] (NaN
				    * when it has none); obs[i].value is then
				    * ignored */
};

/* splitmix64: tiny, seedable from any 64-bit value, and good enough for
 * sampling; one generator per (trial, param) stream. */
struct sampler_rng {
	uint64_t state;
};

/* A generator for stream `stream` of seed (any values). */
void sampler_rng_init(struct sampler_rng *r, uint64_t seed, uint64_t stream);

/* The next 64 random bits. */
uint64_t sampler_rng_next(struct sampler_rng *r);

/* Uniform double in [0, 1), 53 random bits. */
double sampler_rng_uniform(struct sampler_rng *r);

/* Standard normal deviate (Box-Muller). */
double sampler_rng_normal(struct sampler_rng *r);

/* A stream id for a param name (FNV-1a), so a param's random values do
 * not move when params are added, removed or reordered. */
uint64_t sampler_name_stream(const char *name);

/*
 * A value of p drawn from its distribution with r, as a new cJSON item
 * owned by the caller (NULL when out of memory): choice uniform over the
 * values, uniform in [low, high), loguniform uniform in log space, int
 * uniform over low..high, logint log-uniform over [low - 0.5, high + 0.5]
 * rounded; a constant is copied.
 */
cJSON *sampler_random_value(const struct spec_param *p, struct sampler_rng *r);

#endif
