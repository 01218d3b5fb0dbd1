/*
 * sched.h: sweeps and the scheduler.
 *
 * The scheduler owns the active sweeps (running or paused) in memory and
 * hands free worker slots to them round-robin, at most search.parallel per
 * sweep and --workers in all. Trials are created lazily, one number at a
 * time, from the sweep's sampler, so search.trials is a total kept in the
 * database across restarts. Every state change is written to the database
 * before anything is acknowledged.
 */
#ifndef SWEEPD_SCHED_H
#define SWEEPD_SCHED_H

#include <stdint.h>
#include <cJSON.h>

#include "common/diag.h"
#include "common/report.h"

struct server;
struct spec;
struct trial;

enum sweep_status {
	SWEEP_RUNNING,
	SWEEP_PAUSED,
	SWEEP_COMPLETED,
	SWEEP_FAILED,
	SWEEP_CANCELLED,
};

/* What the search and the pruners know of one trial (by number). Kept only
 * when the sweep's algorithm or pruner needs history. */
struct sweep_hist {
	cJSON *params;         /* owned */
	int state;             /* enum sampler_state */
	double value;          /* best objective, NAN if none */
	/* The objective curve, one point per epoch line (not per epoch
	 * number: a trainer may count in global steps, up to
	 * REPORT_MAX_EPOCH): curve[i] at epoch epochs[i], ascending. */
	double *curve;         /* owned [cap_curve] */
	int *epochs;           /* owned [cap_curve] */
	int n_curve, cap_curve;
};

struct sweep {
	struct server *srv;        /* borrowed */
	struct sweep *next;        /* server's list, ascending id */
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
	struct trial *queue, *queue_tail;  /* queued, run in this order */
	struct trial *running;             /* doubly linked */
	struct trial *unstored;    /* ended, but a storage outage kept their
				    * end from the db: retried (sched.c) */
	int need_history;
	struct sweep_hist *hist;   /* NULL or [cap_hist], index number-1 */
	int cap_hist;
	int suggesting;            /* a TPE suggestion runs off the loop
				    * (suggest.c): no other trial is created
				    * meanwhile; spec and hist stay as they
				    * are until it is done */
	int gone;                  /* freed while suggesting: the rest is
				    * freed when the suggestion is done */
};

/* Failed trials, before any epoch and all alike, that end a sweep whose
 * spec sets no limits.max_failures. */
#define SCHED_FAIL_FAST 3

/* Loads the active sweeps from the database at start-up: kills orphaned
 * trainers of a previous daemon, requeues the trials that were running
 * (attempt + 1) or fails them past their retries. 0 or -errno + err. */
int sched_load(struct server *s, char *err, size_t errlen);
/* Validates spec_json, stores a new sweep and starts scheduling it.
 * -EINVAL with the field at fault in err; other negative errno for storage. */
int sched_submit(struct server *s, const cJSON *spec_json, int64_t *id_out,
		 char *err, size_t errlen);
/* The active sweep with this id, or NULL (ended or unknown). */
struct sweep *sched_find(struct server *s, int64_t id);
/* extend: an ended sweep gets n more trials (search.trials += n) and runs
 * again with its trials and search history as they were. -EALREADY for an
 * active sweep, -EINVAL past the spec's limits, with a message. */
int sched_extend(struct server *s, int64_t id, int n, char *err, size_t errlen);
/* rerun: an ended sweep gets one more trial, *new_number, with trial
 * number's params and seed. -ENOENT for no such trial, -EALREADY for an
 * active sweep. */
int sched_rerun(struct server *s, int64_t id, int number, int *new_number,
		char *err, size_t errlen);
/* Cancel, pause, resume an active sweep. 0, -EALREADY (already in that
 * state) or a storage error; err says why. */
int sched_cancel(struct sweep *sw, char *err, size_t errlen);
int sched_pause(struct sweep *sw, char *err, size_t errlen);
int sched_resume(struct sweep *sw, char *err, size_t errlen);
/* Adds trials with these (partial) params to the front of the queue;
 * unspecified params are sampled. *n_out trials were created. */
int sched_enqueue(struct sweep *sw, const cJSON *params, int *n_out,
		  char *err, size_t errlen);
/* Starts trials while slots are free. Cheap when there is nothing to do. */
void sched_kick(struct server *s);
/* Stops every running trial for a shutdown (they are requeued). */
void sched_stop_all(struct server *s);
/* Frees every active sweep (after the loop ended). */
void sched_free_all(struct server *s);

/* Storage outages. A write that fails with -ENOSPC, -EROFS, -EIO or -EBUSY
 * is not the trial's or the client's fault: the daemon stops starting
 * trials, requeues the ones whose writes fail, keeps the ends it could not
 * store in memory, and redoes those writes every SCHED_STORAGE_RETRY_MS;
 * when they all succeed it resumes. Reads are served throughout. */
#define SCHED_STORAGE_RETRY_MS 3000
/* A trial that could not be spawned for want of descriptors or processes
 * (EMFILE, ENFILE, EAGAIN) is put back in its queue as it was, not failed
 * and not counted; starting trials is held this long, then tried again. */
#define SCHED_SPAWN_RETRY_MS 1000
/* 1 when rc is such a failure (the outage starts, or goes on; what, the
 * write that failed, is logged), 0 for any other rc. */
int sched_storage_failed(struct server *s, int rc, const char *what);
/* Writes the outage left undone: unstored trial ends and requeues. */
int sched_unstored(const struct server *s);

const char *sched_status_name(enum sweep_status st);

/* For ask and tell (manual.c): the next trial of sw, a queued one first,
 * else a new one sampled and stored, moved to the running list (its
 * attempt not yet counted). NULL with err when none could be made. */
struct trial *sched_take(struct sweep *sw, char *err, size_t errlen);
/* Tells watchers that t started. */
void sched_trial_started(struct trial *t);

/* Called by trial.c. */
void sched_trial_report(struct trial *t, const struct report_line *r);
/* The running trial whose trainer has pid (when pid > 0) or whose id is
 * id (when id > 0); NULL if none. Its trainer may have exited already
 * (t->exited) while its pipes drain. */
struct trial *sched_running_trial(const struct server *s, int pid, int64_t id);
void sched_trial_ended(struct trial *t);

#endif
