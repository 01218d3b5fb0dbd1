/*
 * trial.h: one trial, the scheduler's record of it.
 *
 * A trial that runs a process embeds its child (daemon/proc/child.h),
 * which owns the process, its pipes and its timers; trial.c gives it the
 * trial's command and environment, reads its report lines (fd 3, and
 * stdout lines prefixed "SWEEP ") as the protocol says, and once the child
 * has ended (reaped AND every pipe closed) hands the trial to the
 * scheduler (sched_trial_ended), which records the result and frees it.
 */
#ifndef SWEEPD_TRIAL_H
#define SWEEPD_TRIAL_H

#include <stdint.h>
#include <uv.h>

#include "common/diag.h"
#include "common/linebuf.h"
#include "common/report.h"
#include "common/vocab.h"
#include "daemon/proc/child.h"
#include "daemon/proc/slurm_run.h"
#include "daemon/sched/outcome.h"   /* enum trial_status, trial_stop */
#include "daemon/sched/res.h"

struct sweep;
struct sched;

#define TRIAL_ERRTAIL CHILD_ERRTAIL   /* bytes of stderr kept */

struct trial {
	struct sweep *sweep;          /* borrowed: the sweep outlives its trials */
	struct trial *next, *prev;    /* the sweep's queue or running list */
	int64_t id;                   /* trials.id */
	int number;                   /* 1.. within the sweep */
	int attempt;                  /* runs started so far, this one included */
	uint64_t seed;                /* SWEEP_SEED */
	char *params_json;            /* owned */
	enum trial_status status;
	int manual;                   /* asked for by a client: no process,
				       * no handles (manual.c) */

	/* The process (not used by a manual trial): live from trial_start
	 * until sched_trial_ended. */
	struct child child;
	uint64_t last_report_ms;      /* loop time of the last report line */
	struct res_hold res;          /* its CPUs and GPUs while it runs */
	struct slurm_run slurm;       /* a Slurm trial's job (slurm_sched.c) */
	double queue_s;               /* its wait in Slurm's queue; 0 local */

	enum trial_stop stop;
	char stop_msg[512];

	/* The learning curve so far (the latest attempt). */
	struct diag_epoch *curve;     /* owned; each grad_norm owned */
	int n_curve, cap_curve;
	int last_epoch;
	double best;                  /* best objective so far, NAN if none */
	int best_epoch;               /* 0 if none */
	int got_final;
	int plain_reports;         /* report lines on stdout without "SWEEP " */
	char plain_example[100];   /* the first of them, cut */
	int final_best_epoch;
	double test_loss, test_acc;   /* NAN if not reported */
	cJSON *diagnosis;             /* NULL or owned: the latest diagnosis */
	uint64_t diag_stored_ms;      /* loop time the live diagnosis was stored
				       * (or the attempt started) */
	int batched;                  /* epochs of it in the open batch (batch.h) */
	int batch_epoch;              /* the first of them */
	int batch_start;              /* its start row is in the open batch */
	uint64_t create_gen;          /* the batch its row was created in (its
				       * db_batch_gen), 0: committed apart */
	int create_lost;              /* that batch was lost: no row has it */
	uint64_t end_gen;             /* the batch that holds its end row */
	int end_stored;               /* that batch committed: its end is
				       * stored, its counting not yet done */
	double started_at;            /* unix seconds */
	int resume_epoch;             /* SWEEP_RESUME_EPOCH of this attempt,
				       * 0: none (resume.h) */
	/* ASHA's promotion (promote.h): the rung ASHA stopped this attempt
	 * at (0: none), the highest rung the trial was promoted from (ASHA
	 * does not judge it again at or below it), and how many of its
	 * attempts were promotions (not counted against retries). */
	int asha_rung, promoted_rung, promotions;

	/* Writes a storage outage left undone, redone when it is over. */
	int requeue_unstored;         /* queued in memory, not yet in the db */
	const char *end_cls;          /* unstored end: failure class or NULL */
	char *end_msg;                /* NULL or owned: unstored end's message */
	char *end_diag;               /* NULL or owned: its diagnosis JSON */
};

/* A queued trial in memory. params_json is copied. NULL on ENOMEM. */
struct trial *trial_new(struct sweep *sw, int64_t id, int number, int attempt,
			uint64_t seed, const char *params_json);
/* Frees a trial that is not running (no live handles). NULL ok. */
void trial_free(struct trial *t);

/* Spawns the trial's process (attempt is incremented first). On success
 * the trial is running and will reach sched_trial_ended() exactly once. On
 * failure (negative libuv error, message in err) it also reaches
 * sched_trial_ended(), asynchronously, with spawn_error set, so the caller
 * treats both the same. */
int trial_start(struct trial *t, char *err, size_t errlen);

/* Asks a running trial to stop: child_stop (SIGTERM to its process group,
 * SIGKILL 5 s later if it is still there). The first reason given wins. A manual trial
 * is ended by manual.c on the next loop iteration. */
void trial_stop(struct trial *t, enum trial_stop why, const char *msg);

/* Forgets what an earlier attempt left (curve, diagnosis, stop reason,
 * best epoch) before a new one; trial_start does it itself. */
void trial_reset(struct trial *t);

/* Reads the start time of a process (field 22 of /proc/PID/stat, in clock
 * ticks since boot) so a restarted daemon can tell its old child from an
 * unrelated process that got the same pid. -1 when there is no such pid. */
int64_t trial_proc_start(int pid);


#endif
