/*
 * trial.h: one trial as a running child process.
 *
 * A trial is started with uv_spawn in its own session (and so its own
 * process group), with stdout, stderr and fd 3 as pipes. Report lines are
 * read from fd 3 (and from stdout lines prefixed "SWEEP "), stderr is kept
 * as a bounded tail. The trial ends only when the child has been reaped AND
 * every pipe has been closed; then trial.c hands it to the scheduler
 * (sched_trial_ended), which records the result and frees it.
 */
#ifndef SWEEPD_TRIAL_H
#define SWEEPD_TRIAL_H

#include <stdint.h>
#include <uv.h>

#include "common/diag.h"
#include "common/linebuf.h"
#include "common/report.h"
#include "daemon/sched/outcome.h"   /* enum trial_status, trial_stop */

struct sweep;
struct server;

#define TRIAL_ERRTAIL 4096   /* bytes of stderr kept */

/* Bytes read from a report pipe (fd 3 or stdout) and not yet handled: a
 * turn of the loop handles at most a batch of lines per pipe, so that a
 * trainer writing as fast as it can does not keep the loop from everyone
 * else; while the backlog is high the pipe is not read (the trainer
 * blocks in write, as any full pipe makes it). */
struct trial_backlog {
	char *buf;                    /* NULL or owned [cap] */
	size_t off, len, cap;         /* pending bytes are buf[off, len) */
	int eof;                      /* nothing follows these bytes */
	int paused;                   /* reading stopped for the backlog */
};

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

	/* The child. Handles are live from trial_start until closed. */
	uv_process_t proc;
	uv_pipe_t report;             /* fd 3 */
	uv_pipe_t out;                /* stdout */
	uv_pipe_t err;                /* stderr */
	uv_timer_t deadline;          /* trial_timeout_s, then stall checks */
	uv_timer_t killer;            /* SIGKILL 5 s after SIGTERM; pipe drain */
	uv_timer_t stall;             /* limits.stall_s watchdog */
	int open_handles;             /* closes still pending */
	int pipes_open;               /* of report, out, err */
	int pid;                      /* 0 when not running */
	int exited;                   /* exit callback ran */
	int64_t exit_status;
	int term_signal;
	int spawn_error;              /* negative libuv error from uv_spawn, or 0 */
	int wrapped;                  /* started through sweepd --exec-trial */
	struct linebuf report_lb;
	struct linebuf out_lb;
	struct trial_backlog report_bl;
	struct trial_backlog out_bl;
	uv_idle_t drain;              /* active while a backlog is not empty */
	char errtail[TRIAL_ERRTAIL];
	size_t errtail_len;
	uint64_t last_report_ms;      /* loop time of the last report line */

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
	uint64_t diag_stored_ms;      /* loop time the live diagnosis was stored */
	double started_at;            /* unix seconds */

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

/* Asks a running trial to stop: SIGTERM to its process group, SIGKILL 5 s
 * later if it is still there. The first reason given wins. A manual trial
 * is ended by manual.c on the next loop iteration. */
void trial_stop(struct trial *t, enum trial_stop why, const char *msg);

/* Forgets what an earlier attempt left (curve, diagnosis, stop reason,
 * best epoch) before a new one; trial_start does it itself. */
void trial_reset(struct trial *t);

/* Reads the start time of a process (field 22 of /proc/PID/stat, in clock
 * ticks since boot) so a restarted daemon can tell its old child from an
 * unrelated process that got the same pid. -1 when there is no such pid. */
int64_t trial_proc_start(int pid);

/* 1 when the trial never became its trainer: `sweepd --exec-trial`
 * (limits, cgroup) could not exec it, or set a limit; its message (as
 * uv_spawn's would read: "cannot start CMD: REASON") goes in buf. */
int trial_wrapper_error(const struct trial *t, char *buf, size_t len);

const char *trial_status_name(enum trial_status st);

#endif
