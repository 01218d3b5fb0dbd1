/*
 * end.c: the end of a trial (end.h).
 */
#include "daemon/sched/end.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/vocab.h"
#include "daemon/log.h"
#include "daemon/sched/batch.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/outcome.h"
#include "daemon/sched/scheduler.h"
#include "daemon/sched/trial.h"
#include "daemon/sched/trialdiag.h"
#include "daemon/search/prune.h"
#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

/* The trial_ended event of t's end o, or NULL when no one watches. */
static cJSON *
ended_event(const struct trial *t, const struct outcome *o)
{
	struct sweep *sw = t->sweep;
	struct wire_trial_ended e = {
		.sweep = sw->id, .number = t->number,
		.status = vocab_trial_name(o->status),
		.objective = t->best, .best_epoch = t->best_epoch,
		.has_error = o->status == TRIAL_FAILED ||
			     o->status == TRIAL_PRUNED,
		.error_class = o->cls, .error_message = o->msg,
		.diagnosis = t->diagnosis,
	};

	if (!sched_has_watchers(sw->sched, sw->id))
		return NULL;
	return wire_ev_trial_ended(&e);
}

static void
broadcast_ended(struct trial *t, const struct outcome *o)
{
	cJSON *ev = ended_event(t, o);

	if (!ev)
		return;
	sched_broadcast(t->sweep->sched, t->sweep->id, ev);
	cJSON_Delete(ev);
}

/* The rung a promoting ASHA stopped t at, if it ends so (0 otherwise). */
static int
promotable_rung(const struct trial *t, const struct outcome *o)
{
	const struct spec *sp = t->sweep->spec;

	if (o->status != TRIAL_PRUNED || t->stop != STOP_PRUNED ||
	    sp->pruner != SPEC_PRUNE_ASHA || !sp->prune_promote)
		return 0;
	return t->asha_rung;
}

/* t's end o as a row, with diag_json (borrowed, or NULL), printed from
 * diag (borrowed; NULL when it is not at hand: the store then parses the
 * text to check it); its stderr tail copied into tail. */
static void
end_row(const struct trial *t, const struct outcome *o, const char *diag_json,
	const cJSON *diag, char tail[TRIAL_ERRTAIL + 1], struct db_trial_end *row)
{
	struct db_trial_end e = {
		.status = vocab_trial_name(o->status),
		.objective = t->best,
		.best_epoch = t->best_epoch,
		.test_loss = t->test_loss,
		.test_acc = t->test_acc,
		.diagnosis_json = diag_json,
		.diagnosis = diag,
		.error = o->msg[0] ? o->msg : NULL,
		.error_class = o->cls,
		.exit_code = t->child.exited && !t->child.term_signal &&
			     !t->child.spawn_error ? (int)t->child.exit_status : -1,
		.signal = t->child.term_signal,
		.now = sched_now(),
		.asha_rung = promotable_rung(t, o),
	};

	memcpy(tail, t->child.errtail, t->child.errtail_len);
	tail[t->child.errtail_len] = '\0';
	e.stderr_tail = t->child.errtail_len ? tail : NULL;
	if (o->status == TRIAL_COMPLETED &&
	    vocab_class_parse(o->cls) != CLASS_NOTE) {
		e.error = NULL;
		e.error_class = NULL;
	}
	*row = e;
}

/* Stores t's end o (end_row) on its own. */
static int
record_end(struct trial *t, const struct outcome *o, const char *diag_json,
	   const cJSON *diag)
{
	char tail[TRIAL_ERRTAIL + 1];
	struct db_trial_end e;

	end_row(t, o, diag_json, diag, tail, &e);
	return db_trial_end(t->sweep->sched->db, t->id, &e);
}

struct end_write {
	int64_t id;
	const struct db_trial_end *e;
};

static int
write_end(struct db *db, void *ud)   /* sched_batch_fn; ud: an end_write */
{
	const struct end_write *w = ud;

	return db_trial_end_batched(db, w->id, w->e);
}

/* t's end o (end_row) joins the loop turn's batch (batch.h): 0 with
 * t->end_gen set while it waits for the commit (0 when it was committed
 * on its own), or a negative errno. */
static int
batch_end(struct trial *t, const struct outcome *o, const char *diag_json,
	  const cJSON *diag)
{
	char tail[TRIAL_ERRTAIL + 1];
	struct db_trial_end e;
	struct end_write w = { .id = t->id, .e = &e };

	end_row(t, o, diag_json, diag, tail, &e);
	return sched_batch_write(t->sweep->sched, t, SCHED_BATCH_END, 0,
				 write_end, &w);
}

/* Whether t's end joins the batch rather than committing on its own: not
 * a failure (the failure budget and fail-fast decide on it at once,
 * before another trial starts), not a manual trial's (its client is
 * answered), not while an outage holds writes. */
static int
end_batchable(const struct trial *t, const struct outcome *o)
{
	const struct sched *s = t->sweep->sched;

	return s->batch_prep_on && !s->storage_rc && !t->sweep->spec->manual &&
	       o->status != TRIAL_FAILED;
}

static void
update_hist_end(struct trial *t, const struct outcome *o)
{
	struct sweep_hist *h = hist_at(&t->sweep->hist, t->number);

	if (!h)
		return;
	h->value = t->best;
	h->id = t->id;
	h->seed = t->seed;
	h->attempt = t->attempt;
	h->asha_rung = promotable_rung(t, o);
	h->promoted_rung = t->promoted_rung;
	h->promotions = t->promotions;
	switch (o->status) {
	case TRIAL_COMPLETED: h->state = SAMPLER_COMPLETE; break;
	case TRIAL_PRUNED:    h->state = SAMPLER_PRUNED; break;
	case TRIAL_QUEUED:    h->state = SAMPLER_RUNNING; break;   /* curve kept */
	default:              h->state = SAMPLER_FAILED; break;
	}
}

/* Fail fast: the first SCHED_FAIL_FAST trials of a sweep all failed the
 * same way (class, and for a trainer that ended by itself its exit
 * status, signal or spawn error) before any reported an epoch: a trainer
 * that cannot start or dies at import would fail every trial, so the sweep
 * ends now. Off once anything else was seen, and when the spec sets
 * limits.max_failures (which then decides). */
static void
fail_fast(struct trial *t, const struct outcome *o)
{
	struct sweep *sw = t->sweep;
	const char *cls = o->cls ? o->cls : vocab_class_name(CLASS_EXIT);
	char key[sizeof sw->ff_key], msg[sizeof sw->last_fail + 128];

	if (sw->ending)
		return;
	if (vocab_class_parse(cls) == CLASS_LAUNCHER && !sw->ff_off) {
		/* Slurm refused the request (a partition that does not exist,
		 * resources no node has): every trial would be refused. */
		snprintf(msg, sizeof msg, "its first trial failed at once, as "
			 "every trial would: %s", o->msg);
		log_warn("sweep %" PRId64 ": %s", sw->id, msg);
		if (sweep_end(sw, SWEEP_FAILED, msg) < 0)
			log_error("sweep %" PRId64 ": cannot store its failure", sw->id);
		return;
	}
	if (sw->ff_off || sw->spec->has_max_failures)
		return;
	if (vocab_class_parse(cls) == CLASS_STORAGE)
		return;   /* the daemon's trouble: says nothing about the trainer */
	if (t->stop != STOP_NONE)   /* how it died was the daemon's doing */
		snprintf(key, sizeof key, "%s", cls);
	else
		snprintf(key, sizeof key, "%s/%" PRId64 "/%d/%d", cls,
			 t->child.exit_status, t->child.term_signal, t->child.spawn_error);
	if (t->n_curve > 0 || (sw->ff_count > 0 && strcmp(key, sw->ff_key))) {
		sw->ff_off = 1;
		return;
	}
	snprintf(sw->ff_key, sizeof sw->ff_key, "%s", key);
	if (++sw->ff_count < SCHED_FAIL_FAST)
		return;
	snprintf(msg, sizeof msg, "the first %d trials failed the same way "
		 "before reporting any epoch: %s", sw->ff_count, o->msg);
	log_warn("sweep %" PRId64 ": %s", sw->id, msg);
	if (sweep_end(sw, SWEEP_FAILED, msg) < 0)
		log_error("sweep %" PRId64 ": cannot store its failure", sw->id);
}

/* The rest of a trial's end once it is stored: counters, watchers (told:
 * they were told already, with the batch that stored it), the sweep's
 * failure budget. Frees t. */
static void
end_recorded(struct trial *t, const struct outcome *o, int told)
{
	struct sweep *sw = t->sweep;

	log_info("sweep %" PRId64 " trial %d %s%s%s", sw->id, t->number,
		 vocab_trial_name(o->status), o->msg[0] ? ": " : "", o->msg);
	t->status = o->status;
	sw->n_ended++;
	sw->sched->trials_run++;
	update_hist_end(t, o);
	if (!told)
		broadcast_ended(t, o);
	if (o->status == TRIAL_COMPLETED)
		sw->n_completed++;
	if (o->status == TRIAL_FAILED) {
		sw->n_failed++;
		snprintf(sw->last_fail, sizeof sw->last_fail, "%s", o->msg);
		if (sw->spec->max_failures > 0 &&
		    sw->n_failed >= sw->spec->max_failures) {
			char msg[128];
			snprintf(msg, sizeof msg, "%d trials failed "
				 "(limits.max_failures)", sw->n_failed);
			sweep_end(sw, SWEEP_FAILED, msg);
		}
		fail_fast(t, o);
	} else if (o->status != TRIAL_CANCELLED) {
		sw->ff_off = 1;
	}
	trial_free(t);
}

/* t's end o is not stored yet: t waits on the sweep's unstored list, its
 * outcome kept (the sweep is not done meanwhile), after those there. */
static void
end_hold(struct trial *t, const struct outcome *o, const char *diag_json)
{
	struct trial **pp = &t->sweep->unstored;

	t->status = o->status;
	t->end_cls = o->cls;
	free(t->end_msg);
	free(t->end_diag);
	t->end_msg = strdup(o->msg);
	t->end_diag = diag_json ? strdup(diag_json) : NULL;
	t->prev = NULL;
	t->next = NULL;
	while (*pp)
		pp = &(*pp)->next;
	*pp = t;
}

/* A storage outage kept the end of t from the db: held until the retry
 * stores it. */
static void
end_defer(struct trial *t, const struct outcome *o, const char *diag_json)
{
	log_warn("sweep %" PRId64 " trial %d %s, not stored yet (storage outage)",
		 t->sweep->id, t->number, vocab_trial_name(o->status));
	end_hold(t, o, diag_json);
}

/* The outcome end_hold kept. */
static void
held_outcome(const struct trial *t, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	o->status = t->status;
	o->cls = t->end_cls;
	snprintf(o->msg, sizeof o->msg, "%s", t->end_msg ? t->end_msg : "");
}

void
end_count_stored(struct sched *s)
{
	struct sweep *sw, *next;
	struct outcome o;

	s->ends_stored = 0;
	for (sw = s->sweeps; sw; sw = next) {
		struct trial **pp = &sw->unstored, *t;
		int n = 0;

		next = sw->next;
		while ((t = *pp)) {
			if (!t->end_stored) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			t->next = NULL;
			held_outcome(t, &o);
			end_recorded(t, &o, 1);
			n++;
		}
		if (n > 0 && !s->shutting_down)
			sweep_check_done(sw);   /* may free sw */
	}
	sched_kick(s);
	sched_idle(s);
}

/* A trial whose row was lost with the batch that created it (batch.h):
 * whatever its attempt did went with it. It waits in its queue, as new,
 * for the outage's retry to create its row again (end_flush_sweep). */
static void
requeue_lost(struct trial *t)
{
	struct outcome o = { .status = TRIAL_QUEUED };

	log_info("sweep %" PRId64 " trial %d: its row was lost with a batch; "
		 "queued to be stored again", t->sweep->id, t->number);
	t->attempt = 0;
	t->promotions = 0;
	t->requeue_unstored = 1;
	t->status = TRIAL_QUEUED;
	update_hist_end(t, &o);
	sweep_queue_push(t->sweep, t);
}

/* The requeue an outage kept from the db: the row created again when the
 * batch that created it was lost, or the trial requeued. */
static int
requeue_again(struct sweep *sw, struct trial *t)
{
	struct db *db = sw->sched->db;
	int64_t id;
	int rc;

	if (!t->create_lost)
		return db_trial_requeue(db, t->id, t->attempt);
	rc = db_trial_create(db, sw->id, t->number, t->params_json, t->seed, &id);
	if (rc < 0)
		return rc;
	t->id = id;
	t->create_lost = 0;
	return 0;
}

/* Redoes the writes an outage left undone in sw; 0 once all went through,
 * else the first failure. */
int
end_flush_sweep(struct sweep *sw)
{
	struct trial *t, **pp;
	struct outcome o;
	int rc;

	for (t = sw->queue; t; t = t->next) {
		if (!t->requeue_unstored)
			continue;
		rc = requeue_again(sw, t);
		if (rc < 0)
			return rc;
		t->requeue_unstored = 0;
	}
	for (pp = &sw->unstored; (t = *pp);) {
		if (t->end_gen || t->end_stored) {   /* a batch's: not ours */
			pp = &t->next;
			continue;
		}
		held_outcome(t, &o);
		rc = record_end(t, &o, t->end_diag, NULL);
		if (rc < 0)
			return rc;
		*pp = t->next;
		t->next = NULL;
		end_recorded(t, &o, 0);
	}
	return 0;
}

void
end_input(const struct trial *t, struct outcome_in *in)
{
	const struct spec *sp = t->sweep->spec;
	cJSON *params = cJSON_Parse(t->params_json);

	memset(in, 0, sizeof *in);
	in->stop = t->stop;
	in->stop_msg = t->stop_msg;
	in->spawn_error = t->child.spawn_error;
	in->spawn_strerror = t->child.spawn_error ?
		uv_strerror(t->child.spawn_error) : "";
	in->term_signal = t->child.term_signal;
	in->exit_status = t->child.exit_status;
	in->errtail = t->child.errtail;
	in->errtail_len = t->child.errtail_len;
	in->n_curve = t->n_curve;
	in->last_epoch = t->last_epoch;
	in->got_final = t->got_final;
	in->plain_reports = t->plain_reports;
	in->plain_example = t->plain_example;
	in->best = t->best;
	for (int i = 0; i < t->n_curve; i++)
		in->objective_seen |= !isnan(t->curve[i].objective) ||
				      isinf(t->curve[i].objective);
	in->metric = sp->metric;
	in->budget = prune_budget(sp, params);
	cJSON_Delete(params);
	in->memory_mb = sp->memory_mb;
	in->retry_on = sp->retry_on;
	in->retries = sp->retries;
	/* A promotion is no retry: its attempts do not count. */
	in->attempt = t->attempt - t->promotions;
	in->sweep_ending = t->sweep->ending;
}

/* A sweep with nothing running gives its held directory back once more
 * than TRIALDIR_HELD_MAX sweeps hold one: an active sweep would keep a
 * descriptor until it ends otherwise (its next trial opens it again). */
static void
release_idle_dir(struct sweep *sw)
{
	int held = 0;

	if (sw->n_running > 0 || !sw->tdir.on)
		return;
	for (const struct sweep *o = sw->sched->sweeps; o; o = o->next)
		held += o->tdir.on;
	if (held > TRIALDIR_HELD_MAX)
		trialdir_release(&sw->tdir);
}

/* Diagnoses ended t and stores its end o: in the loop turn's batch when
 * it may (end_batchable: counted once that is committed), else on its
 * own; an outage holds it for the retry. Frees t, or holds it. */
static void
store_end(struct trial *t, const struct outcome *o)
{
	struct sweep *sw = t->sweep;
	struct sched *s = sw->sched;
	char *diag_json = NULL;
	int rc;

	cJSON_Delete(t->diagnosis);
	t->diagnosis = tdiag_run(sw, t, tdiag_end_of(t, o->status));
	tdiag_note_end(sw, t);
	if (t->diagnosis)
		diag_json = json_print(t->diagnosis);
	if (end_batchable(t, o)) {
		rc = batch_end(t, o, diag_json, diag_json ? t->diagnosis : NULL);
		if (rc == 0 && t->end_gen) {
			/* The next trial learns from it now; it is counted
			 * once the batch is committed (end_count_stored). */
			update_hist_end(t, o);
			sched_batch_tell(s, sw->id, ended_event(t, o));
			end_hold(t, o, diag_json);
			cJSON_free(diag_json);
			return;
		}
	} else {
		rc = record_end(t, o, diag_json,
				diag_json ? t->diagnosis : NULL);
	}
	if (rc < 0 && sched_storage_failed(s, rc, "a trial's end")) {
		end_defer(t, o, diag_json);
		cJSON_free(diag_json);
		return;
	}
	cJSON_free(diag_json);
	if (rc < 0)
		log_error("sweep %" PRId64 " trial %d: cannot store its end (%s): %s",
			  sw->id, t->number, vocab_trial_name(o->status),
			  strerror(-rc));
	end_recorded(t, o, 0);
}

void
sched_trial_ended(struct trial *t)
{
	struct sweep *sw = t->sweep;
	struct sched *s = sw->sched;
	struct outcome_in in;
	struct outcome o;
	int rc;

	/* Its epochs of this turn are stored before its end is decided, or it
	 * is stopped for the outage (batch.h). */
	sched_batch_settle(s);
	sweep_running_remove(sw, t);
	release_idle_dir(sw);
	res_give(&s->res, &t->res);   /* every end passes here, once */
	if (t->create_lost) {
		requeue_lost(t);
		goto next;
	}
	if (t->child.spawn_error && hold_spawn_transient(t->child.spawn_error)) {
		sched_put_back(t);
		goto next;
	}
	end_input(t, &in);
	outcome_classify(&in, &o);
	if (!o.requeue && outcome_retry_allowed(&in, &o)) {
		log_info("sweep %" PRId64 " trial %d attempt %d failed (%s): retry",
			 sw->id, t->number, t->attempt, o.msg);
		o.requeue = 1;
	}
	if (o.requeue) {
		rc = db_trial_requeue(s->db, t->id, t->attempt);
		if (rc < 0 && sched_storage_failed(s, rc, "a requeued trial"))
			t->requeue_unstored = 1;
		else if (rc < 0)
			log_error("sweep %" PRId64 " trial %d: cannot requeue: %s",
				  sw->id, t->number, strerror(-rc));
		if (t->stop == STOP_OUTAGE || t->stop == STOP_PREEMPTED)
			log_info("sweep %" PRId64 " trial %d attempt %d: %s; "
				 "requeued", sw->id, t->number, t->attempt, o.msg);
		t->status = TRIAL_QUEUED;
		update_hist_end(t, &o);
		sweep_queue_push(sw, t);
		goto next;
	}
	store_end(t, &o);
next:
	if (!s->shutting_down)
		sweep_check_done(sw);
	sched_kick(s);
	sched_idle(s);
}

/* Without anything to redo, a write of what is stored already tells
 * whether writes go through again (a sweep's own status). */
static int
probe_write(struct sched *s)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		if (!sw->ending)
			return db_sweep_set_status(s->db, sw->id,
						   vocab_sweep_name(sw->status),
						   NULL, sched_now());
	return 0;
}

void
end_storage_retry(uv_timer_t *tm)
{
	struct sched *s = tm->data;
	struct sweep *sw, *next;
	int rc = 0;

	for (sw = s->sweeps; sw && rc == 0; sw = sw->next)
		rc = end_flush_sweep(sw);
	if (rc == 0)
		rc = probe_write(s);
	if (rc < 0)
		return;   /* still out; db.c logged the failure */
	log_info("storage: writes go through again after %.0f s; resuming",
		 sched_now() - s->storage_since);
	s->storage_rc = 0;
	s->storage_msg[0] = '\0';
	uv_timer_stop(tm);
	for (sw = s->sweeps; sw; sw = next) {
		next = sw->next;
		sweep_check_done(sw);
	}
	sched_kick(s);
	sched_idle(s);
}

int
sched_unstored(const struct sched *s)
{
	int n = 0;

	for (const struct sweep *sw = s->sweeps; sw; sw = sw->next) {
		for (const struct trial *t = sw->unstored; t; t = t->next)
			n += !t->end_gen && !t->end_stored;
		for (const struct trial *t = sw->queue; t; t = t->next)
			n += t->requeue_unstored;
	}
	return n;
}
