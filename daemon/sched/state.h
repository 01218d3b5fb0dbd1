/*
 * state.h: the scheduler's state, and how it tells its owner what happened.
 *
 * One struct sched per daemon, owned by the root (daemon/daemon.h), which
 * wires its events to the server: the scheduler never names the server.
 * sched_init (init.h) fills it.
 * Every file of daemon/sched/ works on this struct; it holds no function
 * of its own but the small inline helpers below.
 */
#ifndef SWEEPD_SCHED_STATE_H
#define SWEEPD_SCHED_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <cJSON.h>
#include <uv.h>

#include "common/diag.h"
#include "common/vocab.h"
#include "daemon/proc/slurm.h"
#include "daemon/sched/hist.h"
#include "daemon/sched/res.h"
#include "daemon/sched/trialdir.h"

struct db;
struct report_line;
struct sched;
struct spec;
struct trial;
struct trialcg;

/* What the scheduler tells its owner. Every member is set (main.c wires the
 * server; a test may wire its own). ud is passed back. */
struct sched_events {
	/* event (borrowed) to everyone watching sweep_id. */
	void (*broadcast)(void *ud, int64_t sweep_id, const cJSON *event);
	/* Whether anyone watches sweep_id (events nobody reads are not built). */
	int (*has_watchers)(void *ud, int64_t sweep_id);
	/* A trial ended or an outage is over: during a shutdown, the owner may
	 * finish once n_running is 0. */
	void (*idle)(void *ud);
	void *ud;
};

/* What a trial (trial.c) tells the scheduler: set by sched_init, so that
 * the trial module names none of the modules that act on it. */
struct sched_trial_hooks {
	/* Before an attempt's process starts, once its attempt is counted:
	 * its directory and what it resumes from (resume.c). 0 or -errno
	 * with err. */
	int (*begin)(struct trial *t, char *err, size_t errlen);
	/* One report line of a running trial (progress.c). */
	void (*report)(struct trial *t, const struct report_line *r);
	/* The trial's child has ended, reaped and drained (end.c). */
	void (*ended)(struct trial *t);
	/* A manual (ask-and-tell) trial is to stop (manual.c). */
	void (*manual_stop)(struct trial *t);
	/* Look for escaped descendants soon (reaper.c). */
	void (*reap_soon)(struct sched *s);
	/* A Slurm trial (slurm_sched.c): its srun argv running trainer
	 * (owned by the caller), its job leaving the queue, and before its
	 * end is classified. */
	int (*slurm_argv)(struct trial *t, char *const *trainer, char ***argv,
			  char *err, size_t errlen);
	void (*slurm_started)(struct trial *t);
	void (*slurm_ended)(struct trial *t);
};

struct sched_config {
	const char *state_dir;     /* absolute */
	const char *worker_bin;    /* the built-in trainer's path */
	int workers;               /* >= 1: concurrent trials, all sweeps */
	int cpus;                  /* CPUs the trials share; 0: workers */
	const int *gpus;           /* borrowed: n_gpus distinct device ids */
	int n_gpus;
	int cgroups;               /* 1: a cgroup v2 per trial where possible */
	/* The launcher of a spec without "launcher" (sweepd --launcher):
	 * 1 for Slurm, with these options (borrowed, copied; NULL: none)
	 * under the spec's own. */
	int slurm_default;
	const struct slurm_opts *slurm_opts;
	int slurm_max_jobs;        /* Slurm trials submitted at once; 0: 64 */
	int slurm_local;           /* the cluster's nodes are this machine */
	int trial_root_given;      /* sweepd --trial-root (for messages) */
};

struct sched {
	uv_loop_t *loop;           /* borrowed */
	struct db *db;             /* borrowed */
	struct sched_events ev;
	struct sched_trial_hooks hooks;
	char *state_dir;           /* owned */
	char *worker_bin;          /* owned */
	int workers;               /* a cap on concurrent trials */
	struct sched_res res;      /* CPUs and GPUs, and who holds them */
	int shutting_down;         /* no trial starts; running ones stop */

	struct sweep *sweeps;      /* active sweeps, ascending id */
	int64_t rr_last;           /* id of the sweep that last got a slot */
	int n_running;             /* trials running, all sweeps */
	int n_manual;              /* of which asked for by clients (manual.c) */
	uv_timer_t *manual_tick;   /* manual.c's heartbeat timer, NULL when no
				    * manual trial runs */
	uint64_t trials_run;       /* trials that ended since start */

	/* Storage outage: a write failed with -ENOSPC, -EROFS, -EIO or -EBUSY
	 * (hold.c). No trial starts until the writes it left undone are
	 * redone, tried every SCHED_STORAGE_RETRY_MS; reads are served. */
	int storage_rc;            /* 0, or the negative errno of the outage */
	char storage_msg[512];     /* what could not be stored, and why */
	double storage_since;      /* unix seconds */
	uv_timer_t storage_timer;  /* the retry */
	int storage_timer_on;      /* storage_timer initialized, not closed */
	uv_timer_cb storage_retry; /* end.c's, set by sched_init */

	/* Group commit (batch.c): the epochs read in one turn of the loop
	 * (and the starts of its trials) are one transaction, committed by
	 * batch_prep before the loop polls. */
	uv_prepare_t batch_prep;
	int batch_prep_on;         /* batch_prep initialized, not closed */
	uint64_t batch_gen;        /* the batch batch.c opened (db_batch_gen)
				    * and has not settled, 0: none; whether it
				    * is still open the store says */
	struct batch_ev *told;     /* events of the batch's rows, owned, sent
				    * in order once it is committed */
	struct batch_ev **told_tail;
	int ends_stored;           /* trials with end_stored set, to count */
	void (*count_ends)(struct sched *s);  /* end.c's, set by sched_init */

	/* Spawn hold: a trial could not be started for want of descriptors or
	 * processes (EMFILE, ENFILE, EAGAIN): the daemon's trouble, not the
	 * trial's. The trial is requeued as it was; no trial starts until
	 * SCHED_SPAWN_RETRY_MS have passed, and then one is tried again. */
	int spawn_rc;              /* 0, or the libuv error of the run's last
				    * failed start; cleared by the next start
				    * that succeeds. While spawn_timer runs,
				    * no trial starts. */
	char spawn_msg[512];       /* the first failure's message */
	double spawn_since;        /* unix seconds */
	uint64_t spawn_held;       /* starts put back since spawn_since */
	uv_timer_t spawn_timer;    /* the retry */
	int spawn_timer_on;        /* spawn_timer initialized, not closed */
	uv_timer_cb spawn_retry;   /* scheduler.c's, set by sched_init */

	/* reaper.c: escaped descendants of trials. */
	char reaper_key[48];       /* "DEV:INO" of the state dir */
	uv_signal_t sig_chld;
	uv_timer_t reap_timer;
	int reaper_on;             /* both initialized, not closed */
	struct trialcg *cg;        /* NULL, or owned: trialcg.h, the cgroup dir */

	/* Slurm (slurm_sched.c). Slurm trials are bounded by slurm_max_jobs
	 * and their sweep's search.parallel, not by workers or local CPUs
	 * and GPUs: Slurm maps their resources. */
	int slurm_default;         /* a spec without "launcher": Slurm */
	struct slurm_opts slurm_opts;  /* owned: sweepd --slurm-* */
	int slurm_max_jobs;
	int n_slurm;               /* Slurm trials running (of n_running) */
	int slurm_local;           /* sweepd --slurm-local */
	int trial_root_given;      /* sweepd --trial-root */
	char slurm_comment[64];    /* srun --comment: "sweepd:" reaper_key */
	char **slurm_left;         /* start-up only: owned names of the jobs
				    * a previous sweepd may have left */
	size_t n_slurm_left;
};

/* An active sweep in memory (sweep.h says how it lives and ends).
 *
 * Invariants:
 * - n_created only grows: trial numbers are never reused, and a sweep has
 *   at most search.trials of them whatever happens to the daemon.
 * - A sweep leaves the active list only after its last running trial has
 *   ended, so a trial never points to a freed sweep.
 */
struct sweep {
	struct sched *sched;       /* borrowed */
	struct sweep *next;        /* scheduler's list, ascending id */
	int64_t id;
	struct spec *spec;         /* owned */
	struct diag_config diag;
	double best_train_acc;     /* best train_acc of the trials that ended
				    * since the daemon loaded the sweep; NAN
				    * before (trialdiag.c) */
	enum sweep_status status;  /* RUNNING or PAUSED while active */
	int ending;                /* cancel/fail decided: waiting for trials */
	enum sweep_status end_status;
	char *end_error;           /* NULL or owned: why it ended */
	int n_created;             /* trials that exist: numbers 1..n_created */
	int n_ended;               /* in an end state */
	int n_failed;
	int n_completed;
	int n_running;
	/* Fail fast (docs/spec.md, limits): the first trials that fail the
	 * same way before any epoch end the sweep, SCHED_FAIL_FAST of them. */
	int ff_off;                /* an epoch, a success or another failure
				    * was seen: the rule no longer applies */
	int ff_count;              /* failures so far, all of key ff_key */
	char ff_key[64];
	char last_fail[768];       /* the latest failed trial's message */
	int slurm;                 /* its trials run as Slurm jobs */
	struct slurm_opts slurm_opts;  /* owned: the spec's over sweepd's */
	struct trial *queue, *queue_tail;  /* queued, run in this order */
	struct trial *running;             /* doubly linked */
	struct trial *unstored;    /* ended, and their end not stored yet: in
				    * the open batch (end_gen), stored and
				    * still to be counted (end_stored), or
				    * kept from the db by a storage outage
				    * and retried (end.c) */
	struct hist hist;          /* for TPE and the pruners (hist.h) */
	int suggesting;            /* a TPE suggestion runs off the loop
				    * (suggest.c): no other trial is created
				    * meanwhile; spec and hist stay as they
				    * are until it is done */
	int gone;                  /* freed while suggesting: the rest is
				    * freed when the suggestion is done */
	struct trialdir_held tdir; /* ROOT/<id>, held open once a trial's
				    * directory was made (trialdir.h);
				    * released by sweep_free */
};

/* Wall clock in unix seconds. */
static inline double
sched_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static inline void
sched_broadcast(struct sched *s, int64_t sweep_id, const cJSON *event)
{
	s->ev.broadcast(s->ev.ud, sweep_id, event);
}

static inline int
sched_has_watchers(struct sched *s, int64_t sweep_id)
{
	return s->ev.has_watchers(s->ev.ud, sweep_id);
}

static inline void
sched_idle(struct sched *s)
{
	s->ev.idle(s->ev.ud);
}

#endif
