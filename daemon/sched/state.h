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

struct db;
struct sweep;

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

struct sched_config {
	const char *state_dir;     /* absolute */
	const char *worker_bin;    /* the built-in trainer's path */
	int workers;               /* >= 1: concurrent trials, all sweeps */
	int cgroups;               /* 1: a cgroup v2 per trial where possible */
};

struct sched {
	uv_loop_t *loop;           /* borrowed */
	struct db *db;             /* borrowed */
	struct sched_events ev;
	char *state_dir;           /* owned */
	char *worker_bin;          /* owned */
	char *self_exe;            /* owned: this executable, for --exec-trial */
	int workers;
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
	char *cg_base;             /* NULL, or owned: trialcg.c's cgroup dir */
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
