/*
 * progress.c: report lines of a running trial (progress.h).
 */
#include "daemon/sched/progress.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/log.h"
#include "daemon/sched/batch.h"
#include "daemon/sched/hist_mo.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/curve.h"
#include "daemon/sched/sweep.h"
#include "daemon/sched/trial.h"
#include "daemon/sched/trialdiag.h"
#include "daemon/search/prune.h"
#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

static int
better(const struct spec *sp, double a, double b)
{
	if (!isfinite(a))
		return 0;
	if (!isfinite(b))
		return 1;
	return sp->mode_max ? a > b : a < b;
}


/* An epoch's rows: its report line (r, its JSON m and printed metrics),
 * objective and live diagnosis (diag_json, or NULL), all borrowed. */
struct epoch_rows {
	const struct trial *t;
	const struct report_line *r;
	double objective;
	const cJSON *m;
	const char *metrics, *diag_json;
};

/* sched_batch_fn: writes e's rows. */
static int
store_rows(struct db *db, void *ud)
{
	const struct epoch_rows *e = ud;
	const struct trial *t = e->t;
	int rc = db_trial_epoch_obj(db, t->id, t->attempt, e->r->epoch,
				    e->objective, e->m, e->metrics, t->n_curve);

	/* diag_json is printed from t->diagnosis (sched_trial_report). */
	if (rc == 0 && e->diag_json)
		rc = db_trial_set_diagnosis_obj(db, t->id, t->diagnosis,
						e->diag_json);
	return rc;
}

/* The epoch (its report line's JSON m, borrowed) and its live diagnosis
 * (or neither) join the loop turn's batch (batch.h). A manual trial's
 * epoch comes in a client's request, answered once it is committed: its
 * own transaction. */
static int
store_epoch(struct trial *t, const struct report_line *r, double objective,
	    const cJSON *m, const char *diag_json)
{
	struct db *db = t->sweep->sched->db;
	struct epoch_rows e = { .t = t, .r = r, .objective = objective,
				.m = m, .diag_json = diag_json };
	char *metrics = m ? json_print(m) : NULL;        /* owned */
	int rc = -ENOMEM;

	if (!metrics)
		goto out;
	e.metrics = metrics;
	if (t->manual) {
		rc = db_begin(db);
		if (rc == 0)
			rc = store_rows(db, &e);
		rc = rc == 0 ? db_commit(db) : (db_rollback(db), rc);
		goto out;
	}
	rc = sched_batch_write(t->sweep->sched, t, SCHED_BATCH_EPOCH, r->epoch,
			       store_rows, &e);
out:
	cJSON_free(metrics);
	return rc;
}

/* The epoch event (with m, owned, the report line's JSON) waits for the
 * batch that stores the epoch (batch.h): a watcher hears of stored epochs
 * only, and watching a sweep does not commit it epoch by epoch. */
static void
broadcast_epoch(struct trial *t, const struct report_line *r, cJSON *m,
		double objective)
{
	struct sweep *sw = t->sweep;

	if (!sched_has_watchers(sw->sched, sw->id)) {
		cJSON_Delete(m);
		return;
	}
	sched_batch_tell(sw->sched, sw->id,
			 wire_ev_epoch(sw->id, t->number, r, m, objective,
				       t->diagnosis));
}

/* The pruners see every other trial's objective curve (by number). */
static void
check_pruners(struct trial *t)
{
	struct sweep *sw = t->sweep;
	const struct spec *sp = sw->spec;
	struct sweep_hist *mine = hist_at(&sw->hist, t->number);
	struct prune_curve me, *others;
	char why[512] = "";
	int n = 0, stop = 0;

	if (!mine)
		return;
	hist_curve(mine, &me);
	me.done = 0;
	me.budget = prune_budget(sp, mine->params);
	if (sp->es_patience > 0 && prune_early_stop(sp, &me, why, sizeof why)) {
		trial_stop(t, STOP_EARLY, why);
		return;
	}
	if (sp->pruner == SPEC_PRUNE_NONE)
		return;
	/* ASHA judges a trial only at its rungs: the reports between them
	 * cost no walk of every trial's curve (O(trials) each) */
	if (sp->pruner == SPEC_PRUNE_ASHA && !prune_asha_judges(sp, &me))
		return;
	others = calloc((size_t)sw->n_created + 1, sizeof *others);
	if (!others)
		return;
	for (int i = 0; i < sw->n_created && i < sw->hist.cap; i++) {
		struct sweep_hist *h = &sw->hist.v[i];
		if (i == t->number - 1 || !h->params || h->n_curve == 0)
			continue;
		hist_curve(h, &others[n++]);
	}
	if (sp->pruner == SPEC_PRUNE_MEDIAN)
		stop = prune_median(sp, &me, others, n, why, sizeof why);
	else if (sp->pruner == SPEC_PRUNE_ASHA &&
		 hist_last_epoch(mine) > t->promoted_rung) {
		/* A promoted trial that reports its rung again (it started
		 * over, or repeats the epoch) was judged there already. */
		stop = prune_asha(sp, &me, others, n, why, sizeof why);
		if (stop)
			t->asha_rung = hist_last_epoch(mine);
	}
	free(others);
	if (stop)
		trial_stop(t, STOP_PRUNED, why);
}

/* The live diagnosis of a running trial is refreshed for watchers at
 * every epoch, and stored at most every LIVE_DIAG_MS otherwise, the first
 * time LIVE_DIAG_MS after the trial started: for short epochs, printing
 * and storing it each time cost more than the epoch itself, and a trial
 * over within LIVE_DIAG_MS (most of a pruned sweep's, on fast epochs)
 * stores only the final diagnosis, which is always stored when the trial
 * ends. */
#define LIVE_DIAG_MS 1000

static int
live_diag_due(struct trial *t)
{
	uint64_t now = uv_now(t->sweep->sched->loop);

	if (now - t->diag_stored_ms >= LIVE_DIAG_MS) {
		t->diag_stored_ms = now;
		return 1;
	}
	return 0;
}

void
sched_trial_report(struct trial *t, const struct report_line *r)
{
	struct sweep *sw = t->sweep;
	const struct spec *sp = sw->spec;
	double objective;
	char *diag_json = NULL;
	cJSON *m;                /* the report line's JSON, owned */
	char why[256];
	int store_diag, rc;

	if (r->kind == REPORT_FINAL)
		return;   /* trial.c kept its figures; they are stored at the end */
	if (t->create_lost)
		return;   /* its row went with a lost batch: it is being stopped */
	sw->ff_off = 1;   /* a trainer that reports epochs: not fail-fast */
	objective = report_get(r, sp->metric);
	curve_cut(t, r->epoch);
	if (curve_append(t, r, objective) < 0) {
		trial_stop(t, STOP_STORAGE, "out of memory");
		return;
	}
	if (better(sp, objective, t->best)) {
		t->best = objective;
		t->best_epoch = r->epoch;
		if (sw->hist.on && sp->n_objectives > 1)
			hist_record_report(&sw->hist, t->number, sp, r);
	}
	/* Watchers get a fresh diagnosis with every epoch of a short curve;
	 * past that, diag_curve's O(epochs) cost per epoch would add up to
	 * O(epochs^2), so they get the one refreshed every LIVE_DIAG_MS. */
	store_diag = live_diag_due(t);
	if (store_diag || (t->n_curve <= 64 &&
			   sched_has_watchers(sw->sched, sw->id))) {
		cJSON_Delete(t->diagnosis);
		t->diagnosis = tdiag_run(sw, t, DIAG_RUNNING);
		if (t->diagnosis && store_diag)
			diag_json = json_print(t->diagnosis);
	}
	m = report_to_json(r);
	rc = store_epoch(t, r, objective, m, diag_json);
	cJSON_free(diag_json);
	if (rc < 0) {
		cJSON_Delete(m);
		char msg[256];
		snprintf(msg, sizeof msg, "cannot store epoch %d: %s", r->epoch,
			 strerror(-rc));
		log_error("sweep %" PRId64 " trial %d: %s", sw->id, t->number, msg);
		trial_stop(t, sched_storage_failed(sw->sched, rc, "an epoch") ?
			   STOP_OUTAGE : STOP_STORAGE, msg);
		return;
	}
	hist_push(&sw->hist, t->number, r->epoch, objective);
	if (sw->hist.on)
		hist_at(&sw->hist, t->number)->value = t->best;
	broadcast_epoch(t, r, m, objective);

	if (diag_diverged(&sw->diag, t->curve, t->n_curve, why, sizeof why)) {
		trial_stop(t, STOP_DIVERGED, why);
		return;
	}
	check_pruners(t);
}
