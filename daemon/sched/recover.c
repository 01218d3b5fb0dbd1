/*
 * recover.c: start-up recovery (recover.h).
 */
#include "daemon/sched/recover.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vocab.h"
#include "daemon/log.h"
#include "daemon/sched/hist_mo.h"
#include "daemon/sched/reaper.h"
#include "daemon/sched/slurm_sched.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"
#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"

int
recover_collect_trial(void *ud, const struct db_trial_row *r)
{
	struct recover_rows *rows = ud;

	if (rows->n == rows->cap) {
		int cap = rows->cap ? rows->cap * 2 : 64;
		struct db_trial_row *v = realloc(rows->v, (size_t)cap * sizeof *v);
		char **strs;
		if (!v)
			return -ENOMEM;
		rows->v = v;
		strs = realloc(rows->strs, (size_t)cap * 2 * sizeof *strs);
		if (!strs)
			return -ENOMEM;
		rows->strs = strs;
		rows->cap = cap;
	}
	rows->v[rows->n] = *r;
	rows->strs[2 * rows->n] = strdup(r->params_json ? r->params_json : "{}");
	rows->strs[2 * rows->n + 1] = strdup(r->status ? r->status : "");
	if (!rows->strs[2 * rows->n] || !rows->strs[2 * rows->n + 1]) {
		free(rows->strs[2 * rows->n]);
		free(rows->strs[2 * rows->n + 1]);
		return -ENOMEM;
	}
	rows->v[rows->n].params_json = rows->strs[2 * rows->n];
	rows->v[rows->n].status = rows->strs[2 * rows->n + 1];
	rows->n++;
	return 0;
}

void
recover_rows_free(struct recover_rows *rows)
{
	for (int i = 0; i < 2 * rows->n; i++)
		free(rows->strs[i]);
	free(rows->strs);
	free(rows->v);
	memset(rows, 0, sizeof *rows);
}

/* A trainer of the previous daemon that is still alive is killed, with its
 * process group; the start time tells it from a recycled pid. */
static void
kill_orphan(const struct db_trial_row *r)
{
	if (r->pid > 0 && r->proc_start > 0 &&
	    trial_proc_start(r->pid) == r->proc_start) {
		log_warn("killing orphaned trainer pid %d (trial id %" PRId64 ")",
			 r->pid, r->id);
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
	}
	/* What left its group carries its SWEEPD_TRIAL: sched_load kills it
	 * with every other marked process in one pass, after these. */
}

static int
end_interrupted(struct db *db, const struct db_trial_row *r,
		enum trial_status status, const char *msg)
{
	struct db_trial_end e = {
		.status = vocab_trial_name(status), .objective = r->objective,
		.best_epoch = r->best_epoch, .test_loss = NAN, .test_acc = NAN,
		.error = msg,
		.error_class = vocab_class_name(CLASS_INTERRUPTED),
		.exit_code = -1, .now = sched_now(),
	};

	return db_trial_end(db, r->id, &e);
}

/* Trials of ended sweeps that were queued or running when sweepd went
 * down: the only rows of an ended sweep a start reads. */
static int
settle_ended_sweeps(struct sched *s)
{
	struct recover_rows rows = { 0 };
	int rc = db_load_unsettled(s->db, recover_collect_trial, &rows);

	for (int i = 0; rc == 0 && i < rows.n; i++) {
		const struct db_trial_row *r = &rows.v[i];
		if (vocab_trial_parse(r->status) == TRIAL_RUNNING) {
			kill_orphan(r);
			rc = sched_slurm_note_left(s, NULL, r);
		}
		if (rc < 0)
			break;
		rc = end_interrupted(s->db, r, TRIAL_CANCELLED,
				     "the sweep ended while sweepd was down");
	}
	recover_rows_free(&rows);
	return rc;
}

static int
load_trial(struct sweep *sw, const struct db_trial_row *r)
{
	struct sched *s = sw->sched;
	struct sweep_hist *h;
	struct trial *t;
	int st = vocab_trial_parse(r->status);
	int running = st == TRIAL_RUNNING;
	int rc;

	if (r->number > sw->n_created)
		sw->n_created = r->number;
	h = hist_at(&sw->hist, r->number);
	if (h) {
		h->params = cJSON_Parse(r->params_json);
		h->value = r->objective;
		h->state = st == TRIAL_COMPLETED ? SAMPLER_COMPLETE :
			   st == TRIAL_PRUNED ? SAMPLER_PRUNED :
			   st == TRIAL_FAILED ||
			   st == TRIAL_CANCELLED ? SAMPLER_FAILED :
			   SAMPLER_RUNNING;
		h->id = r->id;
		h->seed = r->seed;
		h->attempt = r->attempt;
		h->asha_rung = st == TRIAL_PRUNED ? r->asha_rung : 0;
		h->promoted_rung = r->promoted_rung;
		h->promotions = r->promotions;
	}
	if (r->epochs > 0 || st == TRIAL_COMPLETED ||
	    st == TRIAL_PRUNED)
		sw->ff_off = 1;   /* fail-fast counts restart, but not past this */
	if (!running && st != TRIAL_QUEUED) {
		sw->n_ended++;
		if (st == TRIAL_FAILED)
			sw->n_failed++;
		if (st == TRIAL_COMPLETED)
			sw->n_completed++;
		return 0;
	}
	if (running) {
		kill_orphan(r);
		rc = sched_slurm_note_left(s, sw, r);
		if (rc < 0)
			return rc;
		/* Promotions (pruner.promote) are not restarts. */
		if (r->attempt - r->promotions >
		    sw->spec->retries + RESTART_ALLOWANCE) {
			sw->n_ended++;
			sw->n_failed++;
			return end_interrupted(s->db, r, TRIAL_FAILED,
				"interrupted by daemon restarts too often");
		}
		rc = db_trial_requeue(s->db, r->id, r->attempt);
		if (rc < 0)
			return rc;
		log_info("sweep %" PRId64 " trial %d was running: requeued",
			 sw->id, r->number);
	}
	t = trial_new(sw, r->id, r->number, r->attempt, r->seed, r->params_json);
	if (!t)
		return -ENOMEM;
	t->promoted_rung = r->promoted_rung;
	t->promotions = r->promotions;
	sweep_queue_push(sw, t);
	return 0;
}

struct curve_ctx {
	struct sweep *sw;
	const struct recover_rows *rows;
	int last;                  /* index of the last matched row */
};

/* Curves come ordered by trial, so the last match is nearly always right. */
static int
on_curve_point(void *ud, int64_t trial_id, int epoch, double objective)
{
	struct curve_ctx *cc = ud;
	const struct recover_rows *rows = cc->rows;

	if (rows->n == 0)
		return 0;
	if (rows->v[cc->last].id != trial_id) {
		int i;
		for (i = 0; i < rows->n && rows->v[i].id != trial_id; i++)
			;
		if (i == rows->n)
			return 0;
		cc->last = i;
	}
	hist_push(&cc->sw->hist, rows->v[cc->last].number, epoch, objective);
	return 0;
}

int
recover_load_sweep(struct sched *s, const struct db_sweep_row *r, char *err,
	   size_t errlen)
{
	struct spec *sp = NULL;
	struct sweep *sw;
	struct recover_rows rows = { 0 };
	struct slurm_opts so;
	cJSON *json = cJSON_Parse(r->spec_json);
	int rc, slurm = 0;

	rc = json ? spec_keep_stored_defaults(json) : -EINVAL;
	if (rc == -ENOMEM) {
		cJSON_Delete(json);
		return rc;
	}
	if (rc == 0)
		rc = spec_parse(json, &sp, err, errlen);
	cJSON_Delete(json);
	if (rc < 0) {
		log_error("sweep %" PRId64 ": stored spec no longer valid (%s): "
			  "marked failed", r->id, err);
		return db_sweep_set_status(s->db, r->id,
					   vocab_sweep_name(SWEEP_FAILED),
					   "stored spec no longer valid",
					   sched_now());
	}
	rc = sched_slurm_resolve(s, sp, &slurm, &so, err, errlen);
	if (rc < 0) {
		slurm_opts_free(&so);
		spec_free(sp);
		if (rc == -ENOMEM)
			return rc;
		log_error("sweep %" PRId64 ": %s: marked failed", r->id, err);
		return db_sweep_set_status(s->db, r->id,
					   vocab_sweep_name(SWEEP_FAILED), err,
					   sched_now());
	}
	if (!slurm && res_check_spec(&s->res, sp, err, errlen) < 0)
		log_warn("sweep %" PRId64 ": %s; its trials wait until sweepd "
			 "starts with enough", r->id, err);
	sw = sweep_new(s, r->id, sp);
	if (!sw) {
		slurm_opts_free(&so);
		spec_free(sp);
		return -ENOMEM;
	}
	sw->slurm = slurm;
	sw->slurm_opts = so;
	sw->status = vocab_sweep_parse(r->status) == SWEEP_PAUSED ?
		     SWEEP_PAUSED : SWEEP_RUNNING;
	sweep_insert(s, sw);
	rc = db_load_trials(s->db, sw->id, recover_collect_trial, &rows);
	for (int i = 0; rc == 0 && i < rows.n; i++)
		rc = load_trial(sw, &rows.v[i]);
	if (rc == 0 && sw->hist.on) {
		struct curve_ctx cc = { .sw = sw, .rows = &rows };
		rc = db_load_curves(s->db, sw->id, on_curve_point, &cc);
	}
	if (rc == 0)
		rc = hist_load_values(&sw->hist, s->db, sw->id, sw->spec);
	recover_rows_free(&rows);
	return rc;
}

struct sweep_rows {
	int64_t *ids;
	char **specs, **statuses;
	int n, cap;
};

static int
collect_sweep(void *ud, const struct db_sweep_row *r)
{
	struct sweep_rows *sr = ud;

	if (sr->n == sr->cap) {
		int cap = sr->cap ? sr->cap * 2 : 16;
		int64_t *ids = realloc(sr->ids, (size_t)cap * sizeof *ids);
		char **specs, **statuses;
		if (!ids)
			return -ENOMEM;
		sr->ids = ids;
		specs = realloc(sr->specs, (size_t)cap * sizeof *specs);
		if (!specs)
			return -ENOMEM;
		sr->specs = specs;
		statuses = realloc(sr->statuses, (size_t)cap * sizeof *statuses);
		if (!statuses)
			return -ENOMEM;
		sr->statuses = statuses;
		sr->cap = cap;
	}
	sr->ids[sr->n] = r->id;
	sr->specs[sr->n] = strdup(r->spec_json);
	sr->statuses[sr->n] = strdup(r->status);
	if (!sr->specs[sr->n] || !sr->statuses[sr->n]) {
		free(sr->specs[sr->n]);
		free(sr->statuses[sr->n]);
		return -ENOMEM;
	}
	sr->n++;
	return 0;
}

int
sched_load(struct sched *s, char *err, size_t errlen)
{
	struct sweep_rows sr = { 0 };
	int rc, n;

	rc = settle_ended_sweeps(s);
	if (rc == 0)
		rc = db_load_sweeps(s->db, 1, collect_sweep, &sr);
	for (int i = 0; rc == 0 && i < sr.n; i++) {
		struct db_sweep_row r = {
			.id = sr.ids[i], .spec_json = sr.specs[i],
			.status = sr.statuses[i],
		};
		rc = recover_load_sweep(s, &r, err, errlen);
	}
	for (int i = 0; i < sr.n; i++) {
		free(sr.specs[i]);
		free(sr.statuses[i]);
	}
	free(sr.ids);
	free(sr.specs);
	free(sr.statuses);
	/* The stored trainers' groups are killed by now, and no trial of ours
	 * runs yet: whatever carries our mark is a predecessor's (a descendant
	 * that left its group, or a trainer whose start was never stored). */
	n = strcmp(s->reaper_key, "0:0") != 0 ? reaper_kill_all(s->reaper_key) : 0;
	if (n > 0)
		log_warn("killed %d process%s a previous sweepd left running",
			 n, n == 1 ? "" : "es");
	/* And the Slurm jobs of its trials (requeued above). */
	sched_slurm_cancel_left(s);
	if (rc < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot load the stored sweeps: %s",
				 strerror(-rc));
		return rc;
	}
	n = 0;
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		n++;
	log_info("start-up: %d active sweep%s loaded, %" PRId64 " trial rows "
		 "read", n, n == 1 ? "" : "s", db_trial_rows_loaded(s->db));
	/* A sweep whose last trial ended just before a crash is complete. */
	for (struct sweep *sw = s->sweeps, *next; sw; sw = next) {
		next = sw->next;
		sweep_check_done(sw);
	}
	return 0;
}
