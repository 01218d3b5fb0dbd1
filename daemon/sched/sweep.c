/*
 * sweep.c: an active sweep's lists and life (sweep.h).
 */
#include "daemon/sched/sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vocab.h"
#include "daemon/log.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/trial.h"
#include "daemon/sched/trialdir.h"
#include "daemon/search/spec.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

void
sweep_queue_push(struct sweep *sw, struct trial *t)
{
	t->next = NULL;
	t->prev = sw->queue_tail;
	if (sw->queue_tail)
		sw->queue_tail->next = t;
	else
		sw->queue = t;
	sw->queue_tail = t;
}

/* Back at the head: a trial whose start was held goes first again. */
void
sweep_queue_push_front(struct sweep *sw, struct trial *t)
{
	t->prev = NULL;
	t->next = sw->queue;
	if (sw->queue)
		sw->queue->prev = t;
	else
		sw->queue_tail = t;
	sw->queue = t;
}

struct trial *
sweep_queue_pop(struct sweep *sw)
{
	struct trial *t = sw->queue;

	if (!t)
		return NULL;
	sw->queue = t->next;
	if (sw->queue)
		sw->queue->prev = NULL;
	else
		sw->queue_tail = NULL;
	t->next = t->prev = NULL;
	return t;
}

void
sweep_running_add(struct sweep *sw, struct trial *t)
{
	t->prev = NULL;
	t->next = sw->running;
	if (sw->running)
		sw->running->prev = t;
	sw->running = t;
	sw->n_running++;
	sw->sched->n_running++;
	sw->sched->n_slurm += sw->slurm;
}

void
sweep_running_remove(struct sweep *sw, struct trial *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		sw->running = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	sw->n_running--;
	sw->sched->n_running--;
	sw->sched->n_slurm -= sw->slurm;
}

/* ---- sweeps ----------------------------------------------------------- */

void
sweep_free(struct sweep *sw)
{
	struct trial *t;

	if (!sw)
		return;
	trialdir_release(&sw->tdir);   /* no trial of it starts again */
	while ((t = sweep_queue_pop(sw)))
		trial_free(t);
	while ((t = sw->unstored)) {
		/* Shut down during an outage: the db still has it running, so
		 * the next start requeues it. */
		sw->unstored = t->next;
		trial_free(t);
	}
	if (sw->suggesting) {
		/* The pool thread reads spec and hist: suggestion_done frees. */
		sw->gone = 1;
		return;
	}
	hist_free(&sw->hist);
	spec_free(sw->spec);
	slurm_opts_free(&sw->slurm_opts);
	free(sw->end_error);
	free(sw);
}

struct sweep *
sweep_new(struct sched *s, int64_t id, struct spec *sp)
{
	struct sweep *sw = calloc(1, sizeof *sw);
	char err[256];

	if (!sw)
		return NULL;
	sw->sched = s;
	sw->id = id;
	sw->spec = sp;
	sw->status = SWEEP_RUNNING;
	sw->hist.on = sp->algorithm == SPEC_TPE ||
			   sp->pruner != SPEC_PRUNE_NONE || sp->es_patience > 0;
	sw->best_train_acc = NAN;
	diag_config_default(&sw->diag);
	/* Validated at submit; a stored spec that no longer passes keeps the
	 * defaults rather than refusing to load the sweep. */
	if (diag_config_parse(&sw->diag, sp->diagnosis, err, sizeof err) < 0) {
		log_warn("sweep %" PRId64 ": %s; using default thresholds", id, err);
		diag_config_default(&sw->diag);
	}
	return sw;
}

void
sweep_insert(struct sched *s, struct sweep *sw)
{
	struct sweep **pp = &s->sweeps;

	while (*pp && (*pp)->id < sw->id)
		pp = &(*pp)->next;
	sw->next = *pp;
	*pp = sw;
}

void
sweep_unlink(struct sched *s, struct sweep *sw)
{
	for (struct sweep **pp = &s->sweeps; *pp; pp = &(*pp)->next) {
		if (*pp == sw) {
			*pp = sw->next;
			return;
		}
	}
}

struct sweep *
sched_find(struct sched *s, int64_t id)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		if (sw->id == id)
			return sw;
	return NULL;
}

struct trial *
sched_running_trial(const struct sched *s, int pid, int64_t id)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->running; t; t = t->next)
			if ((pid > 0 && t->child.pid == pid) || (id > 0 && t->id == id))
				return t;
	return NULL;
}

/* {"event":name,"sweep","status"} to the sweep's watchers: sweep_ended
 * (with "error": null or why it failed or was cancelled), sweep_paused,
 * sweep_resumed. */
void
sweep_broadcast_event(struct sweep *sw, const char *name,
		      enum sweep_status st, const char *error)
{
	cJSON *ev;

	if (!sched_has_watchers(sw->sched, sw->id))
		return;
	ev = wire_ev_sweep(name, sw->id, vocab_sweep_name(st), error);
	sched_broadcast(sw->sched, sw->id, ev);
	cJSON_Delete(ev);
}

/* Marks queued trials cancelled (they will never run). */
static void
cancel_queued(struct sweep *sw)
{
	struct trial *t;
	struct db_trial_end e = {
		.status = vocab_trial_name(TRIAL_CANCELLED), .objective = NAN,
		.test_loss = NAN, .test_acc = NAN,
		.error_class = vocab_class_name(CLASS_CANCELLED),
		.exit_code = -1,
	};

	while ((t = sweep_queue_pop(sw))) {
		e.now = sched_now();
		e.error = "the sweep ended before this trial ran";
		if (db_trial_end(sw->sched->db, t->id, &e) < 0)
			log_error("sweep %" PRId64 " trial %d: cannot record "
				  "its cancellation", sw->id, t->number);
		sw->n_ended++;
		trial_free(t);
	}
}

/* The sweep is over: store it, tell watchers, drop it from memory.
 * Returns 0, or -1 when a storage outage kept a completion from the db: the
 * sweep stays, and the retry finishes it. (An ending sweep's end status was
 * stored by sweep_end already.) */
static int
sweep_finish(struct sweep *sw, enum sweep_status st, const char *error)
{
	struct sched *s = sw->sched;
	int rc;

	rc = db_sweep_set_status(s->db, sw->id, vocab_sweep_name(st), error,
				 sched_now());
	if (rc < 0 && !sw->ending &&
	    sched_storage_failed(s, rc, "the end of a sweep"))
		return -1;
	if (rc < 0)
		log_error("sweep %" PRId64 ": cannot store status %s: %s",
			  sw->id, vocab_sweep_name(st), strerror(-rc));
	log_info("sweep %" PRId64 " %s%s%s", sw->id, vocab_sweep_name(st),
		 error ? ": " : "", error ? error : "");
	sweep_broadcast_event(sw, "sweep_ended", st, error);
	sweep_unlink(s, sw);
	sweep_free(sw);
	return 0;
}

/* Decides the sweep's end (cancel, too many failures): the status is
 * stored at once, running trials are stopped, and the sweep is finished
 * when the last of them has ended. */
int
sweep_end(struct sweep *sw, enum sweep_status st, const char *error)
{
	int rc;

	if (sw->ending)
		return 0;
	rc = db_sweep_set_status(sw->sched->db, sw->id, vocab_sweep_name(st),
				 error, sched_now());
	if (rc < 0)
		return rc;
	sw->ending = 1;
	sw->end_status = st;
	sw->end_error = error ? strdup(error) : NULL;
	cancel_queued(sw);
	/* Running trials are stopped, and recorded as cancelled now, so that
	 * nobody reads an ended sweep with trials still running; their end
	 * is recorded again, with its details, once their process is gone. */
	for (struct trial *t = sw->running; t; t = t->next) {
		struct db_trial_end e = {
			.status = vocab_trial_name(TRIAL_CANCELLED),
			.objective = t->best, .best_epoch = t->best_epoch,
			.test_loss = NAN, .test_acc = NAN,
			.error_class = vocab_class_name(CLASS_CANCELLED),
			.error = error ? error : "sweep cancelled",
			.exit_code = -1, .now = sched_now(),
		};
		trial_stop(t, STOP_CANCELLED, e.error);
		if (db_trial_end(sw->sched->db, t->id, &e) < 0)
			log_error("sweep %" PRId64 " trial %d: cannot record its "
				  "cancellation", sw->id, t->number);
	}
	return 0;
}

int
sweep_promotable(struct sweep *sw)
{
	int rung;

	return hist_promotion(&sw->hist, sw->spec, sw->n_created, &rung) > 0;
}

/* Returns 1 when the sweep ended (and was freed). */
int
sweep_check_done(struct sweep *sw)
{
	if (sw->unstored)
		return 0;   /* ends still to be stored (an outage) */
	if (sw->ending) {
		if (sw->n_running > 0)
			return 0;
		return sweep_finish(sw, sw->end_status, sw->end_error) == 0;
	}
	if (sw->n_created < sw->spec->trials || sw->queue || sw->n_running > 0 ||
	    sweep_promotable(sw))
		return 0;
	if (sw->n_completed == 0) {
		char msg[sizeof sw->last_fail + 128];
		if (sw->n_failed > 0)   /* last_fail is "" after a restart */
			snprintf(msg, sizeof msg, "no trial completed: %d of %d "
				 "failed%s%s", sw->n_failed, sw->n_ended,
				 sw->last_fail[0] ? ", the last with: " : "",
				 sw->last_fail);
		else
			snprintf(msg, sizeof msg, "no trial completed: all %d "
				 "were stopped (pruned, diverged or cancelled)",
				 sw->n_ended);
		return sweep_finish(sw, SWEEP_FAILED, msg) == 0;
	}
	return sweep_finish(sw, SWEEP_COMPLETED, NULL) == 0;
}
