/*
 * slurm_run.h: the Slurm row of struct launcher (docs/slurm.md).
 *
 * A trial is one srun, spawned by child_spawn; its job is found, and
 * watched, by one squeue call for all the daemon's jobs every
 * SLURM_POLL_MS while any runs (a child of the loop, never blocking it).
 * The work counts as started (child_running: the timeout and stall clocks)
 * when the job leaves Slurm's queue. Signals go through Slurm, never to
 * srun's group: SIGTERM is `scancel --signal=TERM JOB.0` (a job still
 * pending: `scancel JOB`), SIGKILL `scancel --signal=KILL JOB.0` (then
 * `scancel JOB` if that fails); once srun is reaped, a job squeue did not
 * see end is cancelled. srun's and slurmstepd's own stderr lines are kept
 * out of the tail and read: a refused request becomes `error`, a step
 * cancelled by someone else (a preemption) sets `preempted`.
 *
 * The owner embeds a struct slurm_run, fills its first fields and passes
 * it as child_config.launcher_arg with launcher = &launcher_slurm; it
 * reads the rest from `started` and `ended` on. The poller is the
 * module's (one per process, on the loop of the first run).
 */
#ifndef SWEEPD_PROC_SLURM_RUN_H
#define SWEEPD_PROC_SLURM_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/proc/child.h"

#define SLURM_POLL_MS   1000   /* squeue, while any job is watched */
#define SLURM_FIRST_MS  200    /* the first poll after a start */
#define SLURM_ERROR_MAX 512

struct slurm_run {
	/* The owner's, set before child_start. */
	char name[96];                /* the job's name (slurm_job_name) */
	char comment[64];             /* its --comment: whose job it is */
	void (*job_known)(void *ud);  /* NULL, or told once the id is known */
	void *ud;                     /* borrowed: job_known's */

	/* The row's, for the owner to read. */
	unsigned long long job;       /* 0 until srun or squeue named it */
	int running;                  /* the job left the queue */
	uint64_t submit_ms, start_ms; /* loop times: spawned, left the queue */
	int stopping;                 /* sweepd asked Slurm to stop it */
	int preempted;                /* cancelled or preempted, not by sweepd */
	char error[SLURM_ERROR_MAX];  /* srun's error lines, "; "-joined, without
				       * "srun: error: "; "" if none */

	/* The module's own. */
	struct child *c;              /* borrowed while watched */
	struct slurm_run *next;       /* the poller's list */
	int watched;
	int held_sig;                 /* asked before the job id was known */
	int seen_ended;               /* squeue said the job ended */
	char line[1024];              /* a stderr line being read */
	size_t line_len;
	int line_pass;                /* the rest of an overlong line: the
				       * trainer's, straight to the tail */
};

extern const struct launcher launcher_slurm;

/* 1 when pid is one of this module's squeue or scancel processes (libuv
 * reaps them: the reaper must leave them be). */
int slurm_run_helper(int pid);

/* Jobs named names[n] with comment (the state dir's identity) that a
 * previous sweepd left: found with one squeue call, cancelled with one
 * scancel, then waited for (squeue again) until none is left or
 * timeout_ms passed. Blocking: for start-up only, before the loop runs.
 * Returns how many were cancelled, or a negative errno with err (squeue
 * not found or failing, jobs still there at the bound). */
int slurm_cancel_leftovers(const char *const *names, size_t n, const char *comment,
			   int timeout_ms, char *err, size_t errlen);

#endif
