/*
 * child.h: one trainer process, started, stopped and watched on the loop.
 *
 * The child module knows nothing of sweeps or trials: it is given a
 * command, an environment and a few limits (struct child_config), and it
 * tells its owner what happens through callbacks (struct child_cbs), the
 * way tmux's job_run takes update and complete callbacks and never names
 * its caller.
 *
 * What the owner sees:
 *  - report lines: every line of fd 3, and every stdout line that starts
 *    with "SWEEP " (the prefix removed), in the order each pipe carried
 *    them; the other stdout lines go to `output`;
 *  - `refused`: a report pipe closed by the child itself (a line over
 *    max_line bytes, no memory for the backlog): the protocol's business;
 *  - `limit`: the run time passed timeout_s, or no report line was
 *    counted (child_alive) for stall_s;
 *  - `exited`: the process was reaped (pipes may still be open);
 *  - `ended`: exactly once per child_start (or child_fail), after the
 *    process was reaped AND every pipe and handle closed, with the exit
 *    status, signal or spawn error and the last CHILD_ERRTAIL bytes of
 *    stderr in struct child's public fields. From then on the child owns
 *    nothing on the loop: `ended` may free the memory the child lives in,
 *    or child_start it again.
 *
 * A trainer that floods a report pipe is read into a backlog handed to the
 * owner CHILD_BATCH_LINES lines per pipe per turn of the loop; past
 * CHILD_BACKLOG_HIGH bytes the pipe is not read until the backlog is
 * handled (the trainer blocks in write), so the loop keeps turning.
 *
 * Launchers: how a process is started and signalled is a row of struct
 * launcher (below); launcher_local is the first. See docs/DESIGN.md,
 * "Launchers".
 */
#ifndef SWEEPD_PROC_CHILD_H
#define SWEEPD_PROC_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/linebuf.h"

#define CHILD_ERRTAIL       4096          /* bytes of stderr kept */
#define CHILD_BATCH_LINES   32            /* report lines per pipe per turn */
#define CHILD_BACKLOG_HIGH  (64 * 1024)   /* stop reading a pipe past this */
#define CHILD_KILL_GRACE_MS 5000          /* SIGTERM -> SIGKILL */
#define CHILD_DRAIN_MS      5000          /* reaped -> force the pipes shut */

struct child;
struct launcher;

enum child_limit {
	CHILD_TIMEOUT,   /* timeout_s after the work began */
	CHILD_STALL,     /* stall_s without child_alive */
};

/* What to run. Read during child_start only (strings are copied where they
 * are kept), except loop, which is borrowed until `ended`. */
struct child_config {
	uv_loop_t *loop;                 /* borrowed */
	const struct launcher *launcher; /* NULL: launcher_local */
	const char *label;               /* for the log: "trial 3/1" */
	char *const *argv;               /* NULL-terminated; argv[0] the file */
	char *const *env;                /* NULL-terminated, complete */
	const char *cwd;                 /* NULL: the daemon's */
	size_t max_line;                 /* longest report line accepted */
	double timeout_s;                /* 0: none */
	double stall_s;                  /* 0: none; checked every stall_s/4 */
	uint64_t kill_grace_ms;          /* 0: CHILD_KILL_GRACE_MS */
	uint64_t drain_ms;               /* 0: CHILD_DRAIN_MS */

	/* Local launcher: set in the child before it execs (spawn.h). */
	long memory_mb;                  /* 0: no RLIMIT_AS */
	int nice;
	const char *cgroup;              /* NULL or "": none; else the trial's
					  * cgroup v2 directory to start in */
	int cgroup_at;                   /* > 0: the directory cgroup is
					  * relative to (spawn.h) */

	/* The row's own state (c->priv from the start on), borrowed until
	 * `ended`: Slurm's struct slurm_run. NULL for the local row. */
	void *launcher_arg;
};

/* Every callback gets the ud given to child_start; NULL ones are skipped
 * (report and ended are required). None is called from within
 * child_start, child_fail or child_stop, except `started`, which a
 * launcher that runs its work at once (the local one) calls before
 * child_start returns. */
struct child_cbs {
	/* line is NUL-terminated at len and may be modified. Return 0 to go
	 * on, or a negative errno to refuse the line: the pipe it came on is
	 * then closed (no later line of that pipe is delivered). */
	int (*report)(void *ud, char *line, size_t len);
	/* A stdout line without the "SWEEP " prefix. */
	void (*output)(void *ud, char *line, size_t len);
	/* A report pipe was closed by the child: msg says why. */
	void (*refused)(void *ud, const char *msg);
	void (*limit)(void *ud, enum child_limit which);
	/* The work began: from here the timeout and stall clocks run. */
	void (*started)(void *ud);
	void (*exited)(void *ud);
	void (*ended)(void *ud, struct child *c);
};

/* Bytes read from a report pipe and not yet handed to the owner. */
struct child_backlog {
	char *buf;                    /* NULL or owned [cap] */
	size_t off, len, cap;         /* pending bytes are buf[off, len) */
	int eof;                      /* nothing follows these bytes */
	int paused;                   /* reading stopped for the backlog */
};

enum child_pipe_kind { CHILD_PIPE_REPORT, CHILD_PIPE_OUT, CHILD_PIPE_ERR };

/* fd 3, stdout or stderr (which has no lines, only the tail). */
struct child_pipe {
	uv_pipe_t h;                  /* h.data: this struct */
	struct child *c;              /* borrowed: the child it belongs to */
	enum child_pipe_kind kind;
	int open;                     /* initialized and not yet closing */
	struct linebuf lb;            /* report and out */
	struct child_backlog bl;      /* report and out */
};

/* Embed it (zeroed) where its owner lives. The fields down to errtail_len
 * are for reading; the rest is the module's. */
struct child {
	int pid;                      /* 0 until spawned */
	int exited;                   /* reaped (or never started) */
	int64_t exit_status;
	int term_signal;
	int spawn_error;              /* negative errno (= libuv's), or 0 */
	int in_cgroup;                /* started in cfg->cgroup */
	int64_t proc_start;           /* its /proc/PID/stat starttime when the
				       * spawn knew it, else 0 */
	char errtail[CHILD_ERRTAIL];  /* the end of stderr, not NUL-terminated */
	size_t errtail_len;

	const struct launcher *launcher;  /* borrowed: a static row */
	const struct child_cbs *cb;   /* borrowed until `ended` */
	void *ud;                     /* borrowed */
	uv_loop_t *loop;              /* borrowed */
	char label[64];
	double timeout_s, stall_s;
	uint64_t kill_grace_ms, drain_ms;
	uint64_t alive_ms;            /* loop time of the last child_alive */
	uv_poll_t exitw;              /* the pidfd: readable once it exits */
	int pidfd;                    /* owned by exitw once it is open */
	struct child_pipe report;     /* fd 3 (not opened without one) */
	struct child_pipe out;        /* stdout */
	struct child_pipe err;        /* stderr */
	uv_timer_t deadline;          /* timeout_s */
	uv_timer_t killer;            /* SIGKILL after the grace; pipe drain */
	uv_timer_t stall;             /* stall_s watchdog */
	uv_idle_t drain;              /* active while a backlog is not empty */
	int open_handles;             /* closes still pending */
	int pipes_open;               /* of report, out, err */
	int exitw_used;               /* exitw was initialized */
	void *priv;                   /* NULL or the launcher's own state */
};

/*
 * A launcher: how a child is started and signalled. The child module keeps
 * everything else (pipes, lines, backlogs, stderr tail, timers, the one
 * end). A row's functions get the child with its handles initialized.
 *
 *  start   builds the command and calls child_spawn (which creates the
 *          pipes and spawns it); calls child_running once the work has
 *          begun: at once for a local process, when the job leaves the
 *          queue for a batch system (its "pending" time is not run time).
 *          0 or a negative libuv error with a message in err; on failure
 *          `ended` still comes, from the loop, with spawn_error set.
 *  signal  delivers sig (SIGTERM, then SIGKILL after the grace) to the
 *          work: the local row signals the process group; a batch row runs
 *          its cancel command (e.g. `scancel --signal=TERM JOB.0`) as a
 *          child of the loop, never blocking it, and cancels a job still
 *          pending in the queue outright.
 *  reaped  the spawned process exited: kill what it left (the local row
 *          SIGKILLs the group; a batch row cancels a step still running).
 *  release frees priv; NULL when there is none. Called before `ended`;
 *          work of the launcher that outlives it must own its memory.
 *  err_data  NULL: stderr goes to the tail as it comes. Else every chunk of
 *          stderr goes here (p NULL, n 0 at its end), and the row keeps
 *          what it wants in the tail with child_keep_tail (Slurm's row
 *          keeps srun's and slurmstepd's own lines out).
 *
 * report_fd is 3 where fd 3 reaches the trainer; 0 where it cannot (srun
 * forwards only stdout and stderr): reports then come only as "SWEEP "
 * lines on stdout, and SWEEP_REPORT_FD must not be set in env.
 */
struct launcher {
	const char *name;
	int report_fd;
	int (*start)(struct child *c, const struct child_config *cfg,
		     char *err, size_t errlen);
	void (*signal)(struct child *c, int sig);
	void (*reaped)(struct child *c);
	void (*release)(struct child *c);
	void (*err_data)(struct child *c, const char *p, size_t n);
};

extern const struct launcher launcher_local;

/* Starts cfg's command. 0, or a negative libuv error with a message in
 * err; either way cb->ended comes exactly once, from the loop. c must not
 * be running (zeroed, or past its `ended`). */
int child_start(struct child *c, const struct child_config *cfg,
		const struct child_cbs *cb, void *ud, char *err, size_t errlen);
/* A start that failed before it began (rc < 0: the owner could not build
 * the environment): `ended` comes from the loop with spawn_error = rc. */
void child_fail(struct child *c, const struct child_config *cfg,
		const struct child_cbs *cb, void *ud, int rc);
/* Asks the work to stop: the launcher's SIGTERM, its SIGKILL after
 * kill_grace_ms if the process is still there. No-op once it exited. */
void child_stop(struct child *c);
/* A report line counted: the stall clock starts again. */
void child_alive(struct child *c);
/* Forgets the last run's status (exit, signal, spawn error, tail); for a
 * child that is not running. */
void child_reset(struct child *c);
/* Frees the buffers of a child that is not running. */
void child_free(struct child *c);
/* For launchers. child_spawn spawns argv (env, cwd from cfg) in its own
 * session with the pipes (proc/spawn.h: fd 0 /dev/null, the pipes as fd 1,
 * 2 and 3, nothing else; cfg's limits and cgroup), watches its exit
 * through a pidfd and starts reading; 0 or a negative libuv error with err
 * filled ("cannot start CMD: ...", "cannot set limits.memory_mb=N: ...").
 * child_running starts the timeout and stall clocks and calls cb->started. child_signal_group sends sig to -pid and pid. */
int child_spawn(struct child *c, const struct child_config *cfg,
		char *const *argv, char *err, size_t errlen);
void child_running(struct child *c);   /* after the reap: `started` only */
/* Appends n bytes to the stderr tail (for a row's err_data). */
void child_keep_tail(struct child *c, const char *p, size_t n);
void child_signal_group(struct child *c, int sig);

#endif
