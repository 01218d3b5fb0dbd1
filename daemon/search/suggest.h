/*
 * suggest.h: a trial's params computed on libuv's thread pool.
 *
 * A TPE suggestion over 10,000 observations takes tens of milliseconds;
 * on the loop thread that is a pause for every client. suggest_start()
 * runs sampler_suggest() on a pool thread over a snapshot of the
 * observations (the array is the job's; the params objects it points to
 * and the spec are borrowed, and the caller keeps them alive and unchanged
 * until the done callback, which runs on the loop thread).
 */
#ifndef SWEEPD_DAEMON_SUGGEST_H
#define SWEEPD_DAEMON_SUGGEST_H

#include <stddef.h>

#include <cJSON.h>
#include <uv.h>

#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"

struct suggest_job;

/* On the loop thread once the job is done: rc 0 with params (a new object
 * the callback takes) or a negative errno with err; then the job is
 * freed. */
typedef void suggest_done_fn(void *ud, int number, int rc, cJSON *params,
			     const char *err);

/*
 * Starts suggesting the params of trial `number` of spec sp from obs[n_obs]
 * (the array is taken over: freed with the job, even on failure; NULL when
 * n_obs is 0). Returns 0 (done will be called exactly once) or a negative
 * errno (done is never called).
 */
int suggest_start(uv_loop_t *loop, const struct spec *sp, int number,
		  struct sampler_obs *obs, int n_obs, suggest_done_fn *done,
		  void *ud);

/*
 * The same with several objectives: values (taken over like obs; NULL:
 * the spec's single objective) are the observations' values of each of
 * sp's objectives, values[i * k + j] (struct sampler_objectives), and the
 * suggestion is sampler_suggest_mo's (MOTPE for TPE).
 */
int suggest_start_mo(uv_loop_t *loop, const struct spec *sp, int number,
		     struct sampler_obs *obs, int n_obs, double *values,
		     suggest_done_fn *done, void *ud);

#endif
