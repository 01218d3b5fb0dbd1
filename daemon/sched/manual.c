/*
 * manual.c: ask, report and tell for sweeps whose trainer is {"manual": {}}.
 *
 * A manual trial has no process and no handles of its own, so it can be
 * ended at once, inside the op that ends it: the reply to report or tell
 * goes out only after sched_trial_ended has stored the end. Ends decided
 * elsewhere (trial_stop from a cancel or a shutdown, the heartbeat) come
 * from the daemon's one manual timer, never from inside a loop over the
 * running list.
 */
#include "daemon/sched/manual.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/report.h"
#include "common/vocab.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"
#include "daemon/log.h"
#include "daemon/sched/end.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/progress.h"
#include "daemon/sched/scheduler.h"
#include "daemon/sched/state.h"
#include "daemon/search/spec.h"
#include "daemon/sched/trial.h"
#include "daemon/sched/trialdir.h"

#define TICK_MS 250   /* heartbeat and timeout checks, while trials run */

/* ---- ending ----------------------------------------------------------- */

/* Stores t's end (t->stop, or a natural end) and hands it to the
 * scheduler, which frees or requeues it and may end (free) its sweep. */
static void
end_now(struct trial *t)
{
	t->sweep->sched->n_manual--;
	t->manual = 0;
	sched_trial_ended(t);
}

static void
on_tick_closed(uv_handle_t *h)
{
	free(h);
}

/* The first manual trial that must end now, or NULL. */
static struct trial *
due(struct sched *s, uint64_t now)
{
	double wall = sched_now();

	for (struct sweep *sw = s->sweeps; sw; sw = sw->next) {
		const struct spec *sp = sw->spec;

		for (struct trial *t = sw->running; t; t = t->next) {
			char msg[160];

			if (!t->manual)
				continue;
			if (t->stop != STOP_NONE)
				return t;
			if (sp->heartbeat_s > 0 &&
			    (double)(now - t->last_report_ms) >= sp->heartbeat_s * 1e3) {
				snprintf(msg, sizeof msg, "stale: no report or tell "
					 "for %g s (limits.heartbeat_s)",
					 sp->heartbeat_s);
				t->stop = STOP_STALL;
			} else if (sp->timeout_s > 0 &&
				   wall - t->started_at >= sp->timeout_s) {
				snprintf(msg, sizeof msg, "timed out after %g s "
					 "(limits.trial_timeout_s)", sp->timeout_s);
				t->stop = STOP_TIMEOUT;
			} else {
				continue;
			}
			snprintf(t->stop_msg, sizeof t->stop_msg, "%s", msg);
			return t;
		}
	}
	return NULL;
}

static void
on_tick(uv_timer_t *tm)
{
	struct sched *s = tm->data;
	struct trial *t;

	/* Each end may free its sweep: look again from the start. */
	while ((t = due(s, uv_now(s->loop)))) {
		log_info("sweep %" PRId64 " trial %d: %s", t->sweep->id,
			 t->number, t->stop_msg);
		end_now(t);
	}
	if (s->n_manual == 0 && s->manual_tick == tm) {
		s->manual_tick = NULL;
		uv_close((uv_handle_t *)tm, on_tick_closed);
	}
}

/* Makes sure the timer runs; soon: fire on the next loop iteration. */
static int
tick_arm(struct sched *s, int soon)
{
	if (!s->manual_tick) {
		uv_timer_t *tm = malloc(sizeof *tm);

		if (!tm)
			return -ENOMEM;
		uv_timer_init(s->loop, tm);
		tm->data = s;
		s->manual_tick = tm;
	} else if (!soon) {
		return 0;
	}
	uv_timer_start(s->manual_tick, on_tick, soon ? 0 : TICK_MS, TICK_MS);
	return 0;
}

void
manual_stop(struct trial *t)
{
	if (tick_arm(t->sweep->sched, 1) < 0)
		log_error("sweep %" PRId64 " trial %d: out of memory for the "
			  "manual timer", t->sweep->id, t->number);
}

/* ---- ask -------------------------------------------------------------- */

static int
check_askable(const struct sweep *sw, char *err, size_t errlen)
{
	const struct sched *s = sw->sched;
	int has_queue = sw->queue != NULL;

	if (!sw->spec->manual) {
		snprintf(err, errlen, "sweep %" PRId64 " runs its own trainer; "
			 "ask and tell need \"trainer\": {\"manual\": {}}", sw->id);
		return -EINVAL;
	}
	if (sw->ending) {
		snprintf(err, errlen, "sweep %" PRId64 " is ending", sw->id);
		return -EALREADY;
	}
	if (sw->status == SWEEP_PAUSED) {
		snprintf(err, errlen, "sweep %" PRId64 " is paused: resume it to "
			 "ask for trials", sw->id);
		return -EALREADY;
	}
	if (s->storage_rc) {
		snprintf(err, errlen, "%s", s->storage_msg);
		return s->storage_rc;
	}
	if (!has_queue && sw->n_created >= sw->spec->trials) {
		snprintf(err, errlen, "all %d trials of sweep %" PRId64 " have been "
			 "handed out (%d still running)", sw->spec->trials, sw->id,
			 sw->n_running);
		return -EALREADY;
	}
	if (sw->n_running >= sw->spec->parallel) {
		snprintf(err, errlen, "sweep %" PRId64 " has %d trials asked for and "
			 "not yet told (search.parallel = %d)", sw->id,
			 sw->n_running, sw->spec->parallel);
		return -EALREADY;
	}
	return 0;
}

/* The trial's directory, made now (trialdir.h); null when it cannot be. */
static void
add_trial_dir(cJSON *o, const struct trial *t)
{
	char dir[PATH_MAX], err[PATH_MAX + 128];

	if (trialdir_make(&t->sweep->tdir, t->sweep->id, t->number,
			  t->attempt == 1, dir, sizeof dir, err,
			  sizeof err) == 0) {
		cJSON_AddStringToObject(o, "trial_dir", dir);
		return;
	}
	log_warn("sweep %" PRId64 " trial %d: %s", t->sweep->id, t->number, err);
	cJSON_AddNullToObject(o, "trial_dir");
}

static void
add_trial_info(cJSON *reply, const struct trial *t)
{
	cJSON *o = cJSON_AddObjectToObject(reply, "trial");
	char seed[32];

	if (!o)
		return;
	/* Printed as an integer: cJSON's %.15g would give 53-bit seeds an
	 * exponent (a float to the client), or lose digits. */
	snprintf(seed, sizeof seed, "%" PRIu64, t->seed);
	cJSON_AddNumberToObject(o, "sweep", (double)t->sweep->id);
	cJSON_AddNumberToObject(o, "number", t->number);
	cJSON_AddNumberToObject(o, "attempt", t->attempt);
	cJSON_AddItemToObject(o, "params", cJSON_Parse(t->params_json));
	cJSON_AddRawToObject(o, "seed", seed);
	add_trial_dir(o, t);
	cJSON_AddNumberToObject(o, "heartbeat_s", t->sweep->spec->heartbeat_s);
}

int
manual_ask(struct sweep *sw, cJSON *reply, char *err, size_t errlen)
{
	struct sched *s = sw->sched;
	struct trial *t;
	int rc = check_askable(sw, err, errlen);

	if (rc < 0)
		return rc;
	rc = tick_arm(s, 0);
	if (rc < 0)
		return rc;
	rc = sched_take(sw, &t, err, errlen);
	if (rc < 0)
		return rc;   /* the store's or the sampler's, as it was */
	trial_reset(t);
	t->manual = 1;
	t->attempt++;
	t->status = TRIAL_RUNNING;
	t->started_at = sched_now();
	t->last_report_ms = uv_now(s->loop);
	s->n_manual++;
	rc = db_trial_start(s->db, t->id, t->attempt, 0, -1, t->started_at);
	if (rc < 0) {
		snprintf(err, errlen, "cannot record the trial's start: %s",
			 db_last_error(s->db));
		t->stop = sched_storage_failed(s, rc, "a trial's start") ?
			  STOP_OUTAGE : STOP_STORAGE;
		snprintf(t->stop_msg, sizeof t->stop_msg, "%s", err);
		end_now(t);
		return rc;
	}
	log_info("sweep %" PRId64 " trial %d attempt %d asked for", sw->id,
		 t->number, t->attempt);
	sched_trial_started(t);
	add_trial_info(reply, t);
	return 0;
}

/* ---- report and tell -------------------------------------------------- */

/* Says what became of a trial that is not running (any more). */
static int
not_running(struct sweep *sw, int64_t number, char *err, size_t errlen)
{
	cJSON *tj = NULL;
	const cJSON *st, *e;
	int rc;

	if (!sw->spec->manual) {
		snprintf(err, errlen, "sweep %" PRId64 " runs its own trainer; "
			 "ask and tell need \"trainer\": {\"manual\": {}}", sw->id);
		return -EINVAL;
	}
	rc = number <= sw->n_created ?
	     wire_trial_json(sw->sched->db, sw->id, (int)number, &tj) : -ENOENT;
	if (rc == -ENOENT) {
		snprintf(err, errlen, "sweep %" PRId64 " has no trial %" PRId64,
			 sw->id, number);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot read trial %" PRId64 ": %s", number,
			 db_last_error(sw->sched->db));
		return rc;
	}
	st = cJSON_GetObjectItemCaseSensitive(tj, "status");
	e = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(tj, "error"), "message");
	snprintf(err, errlen, "trial %" PRId64 " of sweep %" PRId64 " is not "
		 "running: it is %s%s%s", number, sw->id,
		 cJSON_IsString(st) ? st->valuestring : "unknown",
		 cJSON_IsString(e) ? " (" : "", cJSON_IsString(e) ? e->valuestring : "");
	if (cJSON_IsString(e))
		strncat(err, ")", errlen - strlen(err) - 1);
	cJSON_Delete(tj);
	return -EALREADY;
}

/* The running manual trial number of sw (and of that attempt, unless 0). */
static int
find_running(struct sweep *sw, int64_t number, int64_t attempt,
	     struct trial **out, char *err, size_t errlen)
{
	struct trial *t;

	for (t = sw->running; t; t = t->next)
		if (t->number == number && t->manual)
			break;
	if (!t)
		return not_running(sw, number, err, errlen);
	if (attempt > 0 && attempt != t->attempt) {
		snprintf(err, errlen, "trial %" PRId64 " of sweep %" PRId64 " runs "
			 "as attempt %d now; attempt %" PRId64 " has ended",
			 number, sw->id, t->attempt, attempt);
		return -EALREADY;
	}
	if (t->stop != STOP_NONE) {
		snprintf(err, errlen, "trial %" PRId64 " of sweep %" PRId64 " is "
			 "being stopped: %s", number, sw->id, t->stop_msg);
		return -EALREADY;
	}
	*out = t;
	return 0;
}

/* req[key] (an object, or absent when optional) as a report line; final:
 * with "final": true added. */
static int
parse_line(const cJSON *req, int final, struct report_line *r, char *err,
	   size_t errlen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "metrics");
	cJSON *obj;
	char *text;
	int rc;

	if (m ? !cJSON_IsObject(m) : !final) {
		snprintf(err, errlen, "\"metrics\" must be an object%s", final ?
			 " (the final metrics)" : " (the epoch line: {\"epoch\": 1, ...})");
		return -EINVAL;
	}
	if (final && cJSON_HasObjectItem(m, "final")) {
		snprintf(err, errlen, "metrics: \"final\" is set by tell itself");
		return -EINVAL;
	}
	obj = m ? cJSON_Duplicate(m, 1) : cJSON_CreateObject();
	if (!obj || (final && !cJSON_AddTrueToObject(obj, "final"))) {
		cJSON_Delete(obj);
		return -ENOMEM;
	}
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (!text)
		return -ENOMEM;
	rc = report_parse(text, strlen(text), r, err, errlen);
	cJSON_free(text);
	if (rc == 0 && !final && r->kind == REPORT_FINAL) {
		snprintf(err, errlen, "a final line goes to tell, not report");
		rc = -EINVAL;
	}
	return rc;
}

/* The trial as stored after its end, or NULL when that end could not be
 * stored (a storage outage: it is kept in memory, stored later). */
static cJSON *
stored_end(struct sched *s, int64_t sweep_id, int number)
{
	cJSON *tj = NULL;
	const cJSON *st;

	if (wire_trial_json(s->db, sweep_id, number, &tj) < 0)
		return NULL;
	st = cJSON_GetObjectItemCaseSensitive(tj, "status");
	if (vocab_trial_parse(cJSON_GetStringValue(st)) == TRIAL_RUNNING) {
		cJSON_Delete(tj);
		return NULL;
	}
	return tj;
}

static int
unstored(const struct sched *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s; the trial's end is kept and stored once "
		 "writes go through again", s->storage_msg[0] ? s->storage_msg :
		 "storage error");
	return s->storage_rc ? s->storage_rc : -EIO;
}

/* The daemon stopped t while storing an epoch: end it now and say so. */
static int
stopped(struct trial *t, cJSON *reply, char *err, size_t errlen)
{
	struct sched *s = t->sweep->sched;
	int64_t sweep_id = t->sweep->id;
	int number = t->number;
	enum trial_stop why = t->stop;
	char reason[sizeof t->stop_msg];
	cJSON *tj;

	snprintf(reason, sizeof reason, "%s", t->stop_msg);
	end_now(t);
	if (why == STOP_STORAGE || why == STOP_OUTAGE) {
		snprintf(err, errlen, "%s; the trial %s", reason, why == STOP_OUTAGE ?
			 "is queued again" : "has failed");
		return s->storage_rc ? s->storage_rc : -EIO;
	}
	tj = stored_end(s, sweep_id, number);
	if (!tj)
		return unstored(s, err, errlen);
	cJSON_AddTrueToObject(reply, "stop");
	cJSON_AddStringToObject(reply, "reason", reason);
	cJSON_AddItemToObject(reply, "status", cJSON_DetachItemFromObjectCaseSensitive(
				      tj, "status"));
	cJSON_Delete(tj);
	return 0;
}

int
manual_report(struct sweep *sw, int64_t number, int64_t attempt,
	      const cJSON *req, cJSON *reply, char *err, size_t errlen)
{
	struct report_line r;
	struct trial *t;
	int rc = find_running(sw, number, attempt, &t, err, errlen);

	if (rc < 0)
		return rc;
	rc = parse_line(req, 0, &r, err, errlen);
	if (rc < 0)
		return rc;
	if (r.epoch <= t->last_epoch) {
		snprintf(err, errlen, "epoch %d reported after epoch %d", r.epoch,
			 t->last_epoch);
		return -EINVAL;
	}
	t->last_report_ms = uv_now(sw->sched->loop);
	t->last_epoch = r.epoch;
	sched_trial_report(t, &r);
	if (t->stop != STOP_NONE)
		return stopped(t, reply, err, errlen);
	cJSON_AddFalseToObject(reply, "stop");
	return 0;
}

/* tell "completed": the final line's figures, and the objective itself
 * when no epoch was reported (a one-shot evaluation). */
static int
tell_completed(struct trial *t, const cJSON *req, char *err, size_t errlen)
{
	const char *metric = t->sweep->spec->metric;
	struct report_line r;
	int rc = parse_line(req, 1, &r, err, errlen);

	if (rc < 0)
		return rc;
	t->got_final = 1;
	t->final_best_epoch = r.best_epoch;
	t->test_loss = report_get(&r, "test_loss");
	t->test_acc = report_get(&r, "test_acc");
	if (t->n_curve == 0 && report_has(&r, metric)) {
		t->best = report_get(&r, metric);
		t->best_epoch = r.epoch;
	}
	return 0;
}

static int
tell_stop(struct trial *t, enum trial_stop why, const cJSON *req,
	  const char *dflt, char *err, size_t errlen)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(req, "error");

	if (e && !cJSON_IsString(e)) {
		snprintf(err, errlen, "\"error\" must be a string (why)");
		return -EINVAL;
	}
	t->stop = why;
	snprintf(t->stop_msg, sizeof t->stop_msg, "%s",
		 e && e->valuestring[0] ? e->valuestring : dflt);
	return 0;
}

int
manual_tell(struct sweep *sw, int64_t number, int64_t attempt,
	    const cJSON *req, cJSON *reply, char *err, size_t errlen)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(req, "status");
	int told = vocab_trial_parse(cJSON_GetStringValue(st));
	struct sched *s = sw->sched;
	int64_t sweep_id = sw->id;
	struct trial *t;
	cJSON *tj;
	int rc;

	if (told != TRIAL_COMPLETED && told != TRIAL_FAILED &&
	    told != TRIAL_PRUNED) {
		snprintf(err, errlen, "\"status\" must be \"completed\", \"failed\" "
			 "or \"pruned\"");
		return -EINVAL;
	}
	rc = find_running(sw, number, attempt, &t, err, errlen);
	if (rc < 0)
		return rc;
	if (told == TRIAL_COMPLETED)
		rc = tell_completed(t, req, err, errlen);
	else if (told == TRIAL_FAILED)
		rc = tell_stop(t, STOP_TOLD_FAILED, req, "failed (told by the "
			       "client)", err, errlen);
	else
		rc = tell_stop(t, STOP_TOLD_PRUNED, req, "pruned (told by the "
			       "client)", err, errlen);
	if (rc < 0)
		return rc;
	end_now(t);
	tj = stored_end(s, sweep_id, (int)number);
	if (!tj)
		return unstored(s, err, errlen);
	cJSON_AddItemToObject(reply, "trial", tj);
	return 0;
}
