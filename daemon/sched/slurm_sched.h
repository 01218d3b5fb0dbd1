/*
 * slurm_sched.h: the scheduler's side of Slurm trials (docs/slurm.md).
 *
 * Which launcher a sweep gets (its spec's "launcher", else sweepd's
 * --launcher and --slurm-* defaults), the srun command line of a trial,
 * what a Slurm trial's job tells the store (its id, pending, its queue
 * wait), how it ended (preempted: requeued; Slurm's own error: the
 * trial's failure), and the jobs a previous sweepd left at start-up. The
 * row that runs srun is daemon/proc/slurm_run.c.
 */
#ifndef SWEEPD_SCHED_SLURM_SCHED_H
#define SWEEPD_SCHED_SLURM_SCHED_H

#include <stddef.h>

#include "daemon/sched/state.h"

struct spec;
struct trial;
struct db_trial_row;

#define SLURM_MAX_JOBS_DEFAULT 64
#define SLURM_LEFTOVER_MS      15000   /* start-up waits this long at most */

/* Copies cfg's Slurm defaults into s, and its srun comment. 0 or -ENOMEM. */
int sched_slurm_init(struct sched *s, const struct sched_config *cfg);

/* Whether sp's trials run under Slurm (its "launcher", else the daemon's),
 * and with which options, into *slurm and *o (owned by the caller, freed
 * with slurm_opts_free even on failure). -EINVAL with err naming the path
 * when launcher.slurm is wrong, -ENOMEM. */
int sched_slurm_resolve(const struct sched *s, const struct spec *sp, int *slurm,
			struct slurm_opts *o, char *err, size_t errlen);

/* What makes a Slurm sweep unrunnable here, checked at submit (e.g. srun
 * not found, a trial root the nodes cannot see): 0, or -EINVAL with err
 * naming it. The one call site of daemon/proc/slurm_check's checks. */
int sched_slurm_refuse(const struct sched *s, const struct spec *sp,
		       const struct slurm_opts *o, char *err, size_t errlen);

/* The srun argv (owned, slurm_argv_free) of t's attempt running trainer;
 * fills t->slurm's name and comment. 0, or a negative errno with err. */
int sched_slurm_argv(struct trial *t, char *const *trainer, char ***argv,
		     char *err, size_t errlen);

/* After db_trial_start: the trial waits in Slurm's queue. */
void sched_slurm_submitted(struct trial *t);
/* The child's `started`: the job left the queue. */
void sched_slurm_started(struct trial *t);
/* Before the trial's end is classified: a preemption or Slurm's own
 * error becomes its stop reason (STOP_PREEMPTED, STOP_LAUNCHER). */
void sched_slurm_ended(struct trial *t);

/* Start-up: r, a running row of sweep sw (NULL: an ended sweep's), is
 * remembered when its job may still be in Slurm's queue. 0 or -ENOMEM. */
int sched_slurm_note_left(struct sched *s, const struct sweep *sw,
			  const struct db_trial_row *r);
/* Start-up, once every row was read: cancels the remembered jobs that are
 * still there, waiting for them at most SLURM_LEFTOVER_MS. */
void sched_slurm_cancel_left(struct sched *s);

#endif
