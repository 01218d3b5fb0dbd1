/*
 * daemon.h: the root of sweepd: the loop, the database, the scheduler and
 * the server, built and wired by main.c.
 *
 * The scheduler (daemon/sched/) knows nothing of the server: what it has to
 * say (an event for a sweep's watchers, whether anyone watches, that it
 * went idle) goes through the events daemon.c gives it, which call the
 * server. The server reaches the scheduler through its borrowed pointer.
 */
#ifndef SWEEPD_DAEMON_H
#define SWEEPD_DAEMON_H

#include <stddef.h>
#include <uv.h>

#include "daemon/sched/state.h"
#include "daemon/serve/server.h"

struct db;

struct daemon_config {
	const char *state_dir;     /* absolute; created 0700 by main */
	const char *worker_bin;    /* the built-in trainer's path */
	int workers;               /* >= 1: concurrent trials, all sweeps */
	int cpus;                  /* >= 1: CPUs the trials share */
	const int *gpus;           /* borrowed: n_gpus distinct device ids */
	int n_gpus;
	int cgroups;               /* 1: a cgroup v2 per trial where possible */
	int slurm_default;         /* sweepd --launcher slurm */
	const struct slurm_opts *slurm_opts;   /* borrowed: --slurm-* */
	int slurm_max_jobs;        /* 0: the default */
	int slurm_local;           /* --slurm-local */
	int trial_root_given;      /* --trial-root was given */
};

struct daemon {
	uv_loop_t *loop;           /* borrowed */
	struct db *db;             /* owned once daemon_open succeeded */
	struct sched sched;
	struct server srv;
};

/* Opens STATE_DIR/sweepd.db and sets up the scheduler and the server on
 * it, wired; nothing loaded, not listening (a test serves its own socket
 * with server_adopt). 0, or a negative errno with err (d is then freed). */
int daemon_init(struct daemon *d, uv_loop_t *loop,
		const struct daemon_config *cfg, char *err, size_t errlen);
/* daemon_init, then loads the active sweeps (recovering what a previous
 * daemon left) and listens. 0, or a negative errno with a message in err
 * (d is then freed). */
int daemon_open(struct daemon *d, uv_loop_t *loop,
		const struct daemon_config *cfg, char *err, size_t errlen);
/* Starts the trials that can start and runs the loop until shutdown. */
void daemon_run(struct daemon *d);
/* Frees what daemon_init acquired. After daemon_run returned, or when
 * the loop never ran. */
void daemon_free(struct daemon *d);

#endif
