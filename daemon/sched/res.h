/*
 * res.h: the daemon's CPUs and GPUs, and what each running trial holds.
 *
 * The capacity comes from sweepd --cpus and --gpus (daemon/capacity.h);
 * a trial holds its spec's resources.cpus and resources.gpus from the
 * moment the scheduler starts it (scheduler.c) to sched_trial_ended
 * (end.c), whatever its end: res_give is idempotent, so it is freed
 * exactly once. A GPU is held by one trial at a time. Ask-and-tell trials
 * (manual.c) hold nothing: they run in the client's process, which sweepd
 * does not place (and a manual spec may not ask for resources).
 */
#ifndef SWEEPD_SCHED_RES_H
#define SWEEPD_SCHED_RES_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

#define RES_MAX_GPUS 64       /* devices in --gpus; resources.gpus too */

struct spec;

struct sched_res {
	int cpus;                       /* capacity, >= 1 */
	int cpus_used;                  /* sum over the trials holding */
	int n_gpus;                     /* devices in gpu_id */
	int gpu_id[RES_MAX_GPUS];       /* --gpus, in its order, distinct */
	int64_t gpu_owner[RES_MAX_GPUS];  /* trials.id holding it; 0 free */
};

/* What one trial holds. */
struct res_hold {
	int held;                       /* 1 from res_take to res_give */
	int cpus;
	int n_gpus;
	int gpu[RES_MAX_GPUS];          /* indices into sched_res.gpu_id */
};

/* Capacity: cpus >= 1, ids[n_gpus] distinct device ids (copied). */
void res_init(struct sched_res *r, int cpus, const int *ids, int n_gpus);
/* 1 when a trial of sp fits in what is free now. */
int res_fits(const struct sched_res *r, const struct spec *sp);
/* 0 when a trial of sp can ever fit this daemon; else -EINVAL with a
 * message saying what the spec asks and what the daemon has. */
int res_check_spec(const struct sched_res *r, const struct spec *sp,
		   char *err, size_t errlen);
/* h takes sp's CPUs and the lowest free GPUs for owner (trials.id). The
 * caller checked res_fits. */
void res_take(struct sched_res *r, struct res_hold *h, int64_t owner,
	      const struct spec *sp);
/* Gives back what h holds; nothing when it holds nothing. */
void res_give(struct sched_res *r, struct res_hold *h);
/* The device ids h holds, comma-separated ("" for none), into buf. */
void res_gpu_list(const struct sched_res *r, const struct res_hold *h,
		  char *buf, size_t len);
/* The variables that tell a trial holding h its resources, each through
 * set(ud, name, value), which returns 0 or a negative errno:
 * SWEEP_CPUS, and OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS
 * (its CPU count) unless spec_env (borrowed, the spec's trainer.env, NULL
 * ok) names them; when the daemon has GPUs, CUDA_VISIBLE_DEVICES and
 * SWEEP_GPUS listing exactly its devices ("" for none, so a trial without
 * a GPU grabs none). Without GPUs, CUDA_VISIBLE_DEVICES is left as
 * inherited and SWEEP_GPUS is "". 0, or the first failure of set. */
int res_env(const struct sched_res *r, const struct res_hold *h,
	    const cJSON *spec_env,
	    int (*set)(void *ud, const char *name, const char *value), void *ud);
/* Adds "cpus" {total, used, free} and "gpus" {total, used: [ids], free:
 * [ids]} to obj. 0 or -ENOMEM. */
int res_stats(const struct sched_res *r, cJSON *obj);

#endif
