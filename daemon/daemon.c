/*
 * daemon.c: the root struct and the scheduler's events wired to the
 * server (daemon.h).
 */
#include "daemon/daemon.h"

#include <stdio.h>
#include <string.h>

#include "daemon/sched/recover.h"
#include "daemon/serve/ops.h"
#include "daemon/sched/init.h"
#include "daemon/sched/scheduler.h"
#include "daemon/store/db.h"

static void
ev_broadcast(void *ud, int64_t sweep_id, const cJSON *event)
{
	server_broadcast(ud, sweep_id, event);
}

static int
ev_has_watchers(void *ud, int64_t sweep_id)
{
	return server_has_watchers(ud, sweep_id);
}

static void
ev_idle(void *ud)
{
	server_maybe_finish(ud);
}

/* The scheduler, the server and the database, wired. */
static int
open_parts(struct daemon *d, const struct daemon_config *cfg, char *err,
	   size_t errlen)
{
	const struct sched_events ev = {
		.broadcast = ev_broadcast, .has_watchers = ev_has_watchers,
		.idle = ev_idle, .ud = &d->srv,
	};
	const struct sched_config kc = {
		.state_dir = cfg->state_dir, .worker_bin = cfg->worker_bin,
		.workers = cfg->workers, .cgroups = cfg->cgroups,
		.cpus = cfg->cpus, .gpus = cfg->gpus, .n_gpus = cfg->n_gpus,
		.slurm_default = cfg->slurm_default, .slurm_opts = cfg->slurm_opts,
		.slurm_max_jobs = cfg->slurm_max_jobs,
		.slurm_local = cfg->slurm_local,
		.trial_root_given = cfg->trial_root_given,
	};
	const struct server_config sc = {
		.state_dir = cfg->state_dir, .workers = cfg->workers,
	};
	char path[4096];
	int rc;

	rc = sched_init(&d->sched, d->loop, NULL, &kc, &ev, err, errlen);
	if (rc == 0)
		rc = server_init(&d->srv, d->loop, NULL, &d->sched, &sc, err,
				 errlen);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof path, "%s/sweepd.db", cfg->state_dir);
	rc = db_open(path, &d->db, err, errlen);
	if (rc < 0)
		return rc;
	d->sched.db = d->srv.db = d->db;
	d->srv.dispatch = ops_dispatch;
	return 0;
}

int
daemon_init(struct daemon *d, uv_loop_t *loop, const struct daemon_config *cfg,
	    char *err, size_t errlen)
{
	int rc;

	memset(d, 0, sizeof *d);
	d->loop = loop;
	rc = open_parts(d, cfg, err, errlen);
	if (rc < 0)
		daemon_free(d);
	return rc;
}

int
daemon_open(struct daemon *d, uv_loop_t *loop, const struct daemon_config *cfg,
	    char *err, size_t errlen)
{
	int rc = daemon_init(d, loop, cfg, err, errlen);

	if (rc < 0)
		return rc;
	rc = sched_load(&d->sched, err, errlen);
	if (rc == 0)
		rc = server_listen(&d->srv, err, errlen);
	if (rc < 0)
		daemon_free(d);
	return rc;
}

void
daemon_run(struct daemon *d)
{
	sched_kick(&d->sched);
	uv_run(d->loop, UV_RUN_DEFAULT);
}

void
daemon_free(struct daemon *d)
{
	sched_free(&d->sched);
	server_free(&d->srv);
	db_close(d->db);
	d->db = d->sched.db = d->srv.db = NULL;
}
