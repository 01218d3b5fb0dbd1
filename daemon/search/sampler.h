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

#include <cJSON.h>

#include "daemon/search/sampler_rng.h"
#include "daemon/search/spec.h"

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

#endif
