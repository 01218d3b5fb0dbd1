/*
 * sampler.h: the params of each trial (grid, random or TPE search).
 *
 * A pure module: no clock, no I/O, no global state. What a trial gets
 * depends only on the spec (with its seed), the trial number and, for TPE,
 * the results of the other trials (by trial number); so a sweep replayed
 * from its stored spec suggests the same params again.
 */
#ifndef SWEEPD_DAEMON_SAMPLER_H
#define SWEEPD_DAEMON_SAMPLER_H

#include <stddef.h>
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

/*
 * The params of trial `number` (>= 1): in *out a new object, owned by the
 * caller, with EVERY space param, constants included, in spec order.
 * fixed (NULL or a partial params object, e.g. an enqueued one) overrides;
 * it is checked with spec_check_params (keys in the space, values the
 * params can take). obs[n_obs] (borrowed; NULL when n_obs is 0) are the
 * other trials of the sweep in trial-number order (not the order their
 * results arrived: with parallel > 1 a restart could not replay that),
 * running ones included; only TPE reads them.
 *
 *  - random: params depend only on (seed, number, param name).
 *  - grid: combination number - 1 - spec_n_enqueued(s) in the order of
 *    spec_grid_size (params in spec order, the last varying fastest);
 *    trials 1..spec_n_enqueued(s) take combination number - 1 as the base
 *    their fixed params override.
 *  - tpe: random for numbers up to search.n_startup or while no trial has
 *    a value yet, then tpe_suggest().
 *
 * Returns 0; -EINVAL with err set for a bad number, bad fixed params or a
 * grid index beyond the grid; -ENOMEM. *out is untouched on failure.
 */
int sampler_suggest(const struct spec *s, int number, const cJSON *fixed,
		    const struct sampler_obs *obs, int n_obs, cJSON **out,
		    char *err, size_t errlen);

/*
 * The same with objectives objs (borrowed; NULL: one): with k > 1, grid
 * and random search are unchanged (they read no observation), and TPE is
 * MOTPE (tpe_suggest_mo), which reads objs->values; a completed
 * observation without k finite values carries nothing. Returns as
 * sampler_suggest; -EINVAL (err set) for k < 1, or k > 1 without
 * maximize or values (values may be NULL when n_obs is 0).
 */
int sampler_suggest_mo(const struct spec *s,
		       const struct sampler_objectives *objs, int number,
		       const cJSON *fixed, const struct sampler_obs *obs,
		       int n_obs, cJSON **out, char *err, size_t errlen);

/* ---- the random source (shared with tpe.c) ---------------------------- */

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
