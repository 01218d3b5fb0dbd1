/*
 * init.c: the scheduler set up, closed and freed (init.h).
 */
#include "daemon/sched/init.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/sched/batch.h"
#include "daemon/sched/end.h"
#include "daemon/sched/manual.h"
#include "daemon/sched/progress.h"
#include "daemon/sched/resume.h"
#include "daemon/sched/reaper.h"
#include "daemon/sched/scheduler.h"
#include "daemon/sched/slurm_sched.h"
#include "daemon/proc/trialcg.h"

int
sched_init(struct sched *s, uv_loop_t *loop, struct db *db,
	   const struct sched_config *cfg, const struct sched_events *ev,
	   char *err, size_t errlen)
{
	char why[4096];

	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->db = db;
	s->ev = *ev;
	s->storage_retry = end_storage_retry;
	s->count_ends = end_count_stored;
	s->spawn_retry = sched_spawn_retry;
	s->hooks = (struct sched_trial_hooks){
		.begin = resume_begin,
		.report = sched_trial_report, .ended = sched_trial_ended,
		.manual_stop = manual_stop, .reap_soon = reaper_schedule,
		.slurm_argv = sched_slurm_argv, .slurm_started = sched_slurm_started,
		.slurm_ended = sched_slurm_ended,
	};
	uv_timer_init(loop, &s->storage_timer);
	s->storage_timer.data = s;
	s->storage_timer_on = 1;
	sched_batch_init(s);
	uv_timer_init(loop, &s->spawn_timer);
	s->spawn_timer.data = s;
	s->spawn_timer_on = 1;
	s->workers = cfg->workers;
	res_init(&s->res, cfg->cpus > 0 ? cfg->cpus : cfg->workers, cfg->gpus,
		 cfg->n_gpus);
	s->state_dir = strdup(cfg->state_dir);
	s->worker_bin = strdup(cfg->worker_bin);
	if (!s->state_dir || !s->worker_bin) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (reaper_init(s, why, sizeof why) < 0)
		log_warn("%s", why);
	if (sched_slurm_init(s, cfg) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cg = trialcg_init(s->state_dir, cfg->cgroups, why, sizeof why);
	if (why[0])
		log_info("%s", why);
	else
		log_info("a cgroup per trial under %s", trialcg_path(s->cg));
	return 0;
}

static void
on_closed_noop(uv_handle_t *h)
{
	(void)h;
}

void
sched_close(struct sched *s)
{
	sched_batch_close(s);
	if (s->storage_timer_on) {
		uv_close((uv_handle_t *)&s->storage_timer, on_closed_noop);
		s->storage_timer_on = 0;
	}
	if (s->spawn_timer_on) {
		uv_close((uv_handle_t *)&s->spawn_timer, on_closed_noop);
		s->spawn_timer_on = 0;
	}
	trialcg_close(s->cg);
	s->cg = NULL;
	reaper_close(s);
}

void
sched_free(struct sched *s)
{
	sched_free_all(s);
	free(s->state_dir);
	free(s->worker_bin);
	slurm_opts_free(&s->slurm_opts);
	trialcg_close(s->cg);   /* start-up failed after trialcg_init */
	s->cg = NULL;
	s->state_dir = s->worker_bin = NULL;
}
