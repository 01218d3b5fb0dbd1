/*
 * slurm_sched.c: the scheduler's side of Slurm trials (slurm_sched.h).
 */
#include "daemon/sched/slurm_sched.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/proc/slurm_check.h"
#include "daemon/proc/slurm_run.h"
#include "daemon/sched/state.h"
#include "daemon/sched/trialdir.h"
#include "daemon/sched/trial.h"
#include "daemon/search/spec.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

static int
dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

/* dst (empty) gets each field of over, else of under (NULL: none). */
static int
opts_merge(struct slurm_opts *dst, const struct slurm_opts *over,
	   const struct slurm_opts *under)
{
	static const struct slurm_opts none;
	const struct slurm_opts *x = over ? over : &none, *u = under ? under : &none;
	const struct slurm_opts *ex = x->n_extra ? x : u;
	int rc;

	rc = dup_or_null(&dst->partition, x->partition ? x->partition : u->partition);
	if (rc == 0)
		rc = dup_or_null(&dst->account, x->account ? x->account : u->account);
	if (rc == 0)
		rc = dup_or_null(&dst->qos, x->qos ? x->qos : u->qos);
	dst->time_s = x->time_s ? x->time_s : u->time_s;
	if (rc == 0 && ex->n_extra) {
		dst->extra = calloc(ex->n_extra, sizeof *dst->extra);
		if (!dst->extra)
			return -ENOMEM;
		for (size_t i = 0; i < ex->n_extra && rc == 0; i++) {
			rc = dup_or_null(&dst->extra[i], ex->extra[i]);
			dst->n_extra += rc == 0;
		}
	}
	return rc;
}

int
sched_slurm_init(struct sched *s, const struct sched_config *cfg)
{
	s->slurm_default = cfg->slurm_default;
	s->slurm_local = cfg->slurm_local;
	s->trial_root_given = cfg->trial_root_given;
	s->slurm_max_jobs = cfg->slurm_max_jobs > 0 ? cfg->slurm_max_jobs :
		SLURM_MAX_JOBS_DEFAULT;
	snprintf(s->slurm_comment, sizeof s->slurm_comment, "sweepd:%s",
		 s->reaper_key[0] ? s->reaper_key : "0:0");
	return opts_merge(&s->slurm_opts, cfg->slurm_opts, NULL);
}

int
sched_slurm_resolve(const struct sched *s, const struct spec *sp, int *slurm,
		    struct slurm_opts *o, char *err, size_t errlen)
{
	struct slurm_opts own;
	int rc;

	memset(o, 0, sizeof *o);
	*slurm = sp->launcher == SPEC_LAUNCHER_SLURM ||
		 (sp->launcher == SPEC_LAUNCHER_NONE && s->slurm_default && !sp->manual);
	if (!*slurm)
		return 0;
	if (sp->launcher != SPEC_LAUNCHER_SLURM)
		return opts_merge(o, NULL, &s->slurm_opts);
	rc = slurm_opts_parse(&own, sp->slurm, "launcher.slurm", err, errlen);
	if (rc == 0)
		rc = opts_merge(o, &own, &s->slurm_opts);
	slurm_opts_free(&own);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc;
}

int
sched_slurm_refuse(const struct sched *s, const struct spec *sp,
		   const struct slurm_opts *o, char *err, size_t errlen)
{
	const char *builtin_argv[2] = { s->worker_bin, NULL };
	struct slurm_check c = {
		.path = getenv("PATH"),
		.slurm_conf = getenv("SLURM_CONF"),
		.trial_root = trialdir_root(),
		.trial_root_given = s->trial_root_given,
		.local_ok = s->slurm_local,
		.argv = sp->builtin ? builtin_argv : (const char *const *)sp->argv,
		.cwd = sp->cwd,
		.timeout_s = sp->timeout_s,
		.opts = o,
	};
	int rc;

	if (!c.trial_root)   /* none configured (a unit test's scheduler) */
		c.local_ok = 1, c.trial_root = "/";
	rc = slurm_check_submit(&c, err, errlen);
	if (rc == -ENAMETOOLONG && !err[0])
		snprintf(err, errlen, "launcher slurm: a path is too long");
	return rc < 0 ? -EINVAL : 0;
}

int
sched_slurm_argv(struct trial *t, char *const *trainer, char ***argv, char *err,
		 size_t errlen)
{
	const struct sweep *sw = t->sweep;
	struct slurm_trial st = {
		.sweep_id = sw->id, .trial_id = t->id, .attempt = t->attempt,
		.cpus = sw->spec->cpus, .gpus = sw->spec->gpus,
		.mem_mb = sw->spec->memory_mb, .argv = (const char *const *)trainer,
		.comment = sw->sched->slurm_comment,
	};
	int rc;

	if (slurm_job_name(t->slurm.name, sizeof t->slurm.name, &st) < 0) {
		snprintf(err, errlen, "job name too long");
		return -ENAMETOOLONG;
	}
	snprintf(t->slurm.comment, sizeof t->slurm.comment, "%s", st.comment);
	rc = slurm_srun_argv(&sw->slurm_opts, &st, argv);
	if (rc < 0)
		snprintf(err, errlen, "cannot build the srun command: %s", strerror(-rc));
	return rc;
}

static void
store_job(struct trial *t, int pending, double queue_s)
{
	struct sched *s = t->sweep->sched;
	int rc = db_trial_job(s->db, t->id, (int64_t)t->slurm.job, pending, queue_s);

	if (rc < 0)
		log_warn("sweep %" PRId64 " trial %d: cannot store its Slurm job "
			 "%llu: %s", t->sweep->id, t->number, t->slurm.job,
			 db_last_error(s->db));
}

static void
on_job_known(void *ud)
{
	struct trial *t = ud;

	log_info("sweep %" PRId64 " trial %d attempt %d: Slurm job %llu", t->sweep->id,
		 t->number, t->attempt, t->slurm.job);
	store_job(t, !t->slurm.running, -1);
}

void
sched_slurm_submitted(struct trial *t)
{
	t->slurm.job_known = on_job_known;
	t->slurm.ud = t;
	if (t->slurm.running)
		return;   /* srun's lines came first */
	t->status = TRIAL_PENDING;
	store_job(t, 1, -1);
}

/* A watcher saw the trial start pending: it hears that it runs now. */
static void
broadcast_running(struct trial *t)
{
	struct sweep *sw = t->sweep;
	cJSON *ev;

	if (!sched_has_watchers(sw->sched, sw->id))
		return;
	ev = wire_ev_trial_running(sw->id, t->number, t->attempt, t->queue_s);
	sched_broadcast(sw->sched, sw->id, ev);
	cJSON_Delete(ev);
}

void
sched_slurm_started(struct trial *t)
{
	double q = (double)(t->slurm.start_ms - t->slurm.submit_ms) / 1000.0;
	int was_pending = t->status == TRIAL_PENDING;

	t->status = TRIAL_RUNNING;
	t->queue_s = q;
	store_job(t, 0, q);
	if (was_pending)
		broadcast_running(t);
}

void
sched_slurm_ended(struct trial *t)
{
	const struct child *c = &t->child;

	if (t->stop != STOP_NONE)
		return;   /* sweepd stopped it: that is how it ended */
	if (t->slurm.preempted) {
		/* Whatever the trainer did (a preempted task may exit 0):
		 * an interruption, resumed from its checkpoint. */
		t->stop = STOP_PREEMPTED;
		snprintf(t->stop_msg, sizeof t->stop_msg, "Slurm cancelled or "
			 "preempted job %llu", t->slurm.job);
		return;
	}
	if (t->slurm.error[0] && t->n_curve == 0 && !t->got_final &&
	    (c->exit_status != 0 || c->term_signal)) {
		t->stop = STOP_LAUNCHER;
		snprintf(t->stop_msg, sizeof t->stop_msg, "Slurm refused the job: %.460s",
			 t->slurm.error);
	}
}

int
sched_slurm_note_left(struct sched *s, const struct sweep *sw,
		      const struct db_trial_row *r)
{
	struct slurm_trial st = {
		.sweep_id = r->sweep_id, .trial_id = r->id, .attempt = r->attempt,
	};
	char name[96], **v;

	if (!(sw && sw->slurm) && r->job <= 0)
		return 0;   /* never a Slurm job */
	if (r->attempt < 1 || slurm_job_name(name, sizeof name, &st) < 0)
		return 0;
	v = realloc(s->slurm_left, (s->n_slurm_left + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	s->slurm_left = v;
	if (!(v[s->n_slurm_left] = strdup(name)))
		return -ENOMEM;
	s->n_slurm_left++;
	return 0;
}

void
sched_slurm_cancel_left(struct sched *s)
{
	char err[512] = "";
	int n;

	if (s->n_slurm_left) {
		n = slurm_cancel_leftovers((const char *const *)s->slurm_left,
					   s->n_slurm_left, s->slurm_comment,
					   SLURM_LEFTOVER_MS, err, sizeof err);
		if (n < 0)
			log_error("start-up: the Slurm jobs a previous sweepd left: "
				  "%s", err);
		else if (n > 0)
			log_warn("start-up: cancelled %d Slurm job%s a previous "
				 "sweepd left running; their trials are requeued",
				 n, n == 1 ? "" : "s");
	}
	for (size_t i = 0; i < s->n_slurm_left; i++)
		free(s->slurm_left[i]);
	free(s->slurm_left);
	s->slurm_left = NULL;
	s->n_slurm_left = 0;
}
