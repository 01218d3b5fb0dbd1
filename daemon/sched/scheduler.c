/*
 * scheduler.c: slots, and trials created and started (scheduler.h).
 *
 * Invariant: a trial's row is written before it is queued in memory (in
 * the loop turn's batch, for a trial made to run at once: batch.h), and
 * every change of its state is committed before anyone is told.
 */
#include "daemon/sched/scheduler.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/log.h"
#include "daemon/sched/batch.h"
#include "daemon/sched/hist_mo.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/promote.h"
#include "daemon/sched/slurm_sched.h"
#include "daemon/sched/trial.h"
#include "daemon/search/sampler.h"
#include "daemon/search/spec.h"
#include "daemon/search/suggest.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

/* A trial's row, and the id it was given. */
struct create_row {
	int64_t sweep_id;
	int number;
	const char *json;
	uint64_t seed;
	int64_t id;
};

static int
write_create(struct db *db, void *ud)   /* sched_batch_fn; ud: a create_row */
{
	struct create_row *c = ud;

	return db_trial_create_batched(db, c->sweep_id, c->number, c->json,
				       c->seed, &c->id);
}

/* Creates c's row: in the loop turn's batch (batch.h; *gen: its
 * generation) when batch says it may and the sweep's trials run here,
 * else on its own (*gen 0). A Slurm trial's start commits at once anyway,
 * a manual one's client is answered, and during an outage nothing is
 * batched. 0, or a negative errno. */
static int
create_row(struct sweep *sw, int batch, struct create_row *c, uint64_t *gen)
{
	struct sched *s = sw->sched;
	int rc;

	*gen = 0;
	if (!batch || !s->batch_prep_on || s->storage_rc || sw->slurm ||
	    sw->spec->manual)
		return db_trial_create(s->db, c->sweep_id, c->number, c->json,
				       c->seed, &c->id);
	rc = sched_batch_write(s, NULL, SCHED_BATCH_CREATE, 0, write_create, c);
	if (rc == 0)
		*gen = sched_batch_open(s);
	return rc;
}

/* Stores params (borrowed) as trial number n_created + 1, queued, into
 * *out; in the loop turn's batch when batch (create_row). 0, or a
 * negative errno with err. */
static int
store_trial(struct sweep *sw, const cJSON *params, int batch,
	    struct trial **out, char *err, size_t errlen)
{
	int number = sw->n_created + 1, rc = 0;
	uint64_t seed = sampler_trial_seed(sw->spec->seed, number), gen = 0;
	char *json = json_print(params);
	struct create_row c = { .sweep_id = sw->id, .number = number,
				.json = json, .seed = seed };
	struct trial *t = NULL;

	if (!json) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = create_row(sw, batch, &c, &gen);
	if (rc < 0) {
		snprintf(err, errlen, "cannot store trial %d: %s", number,
			 db_last_error(sw->sched->db));
		sched_storage_failed(sw->sched, rc, "a new trial");
		goto out;
	}
	t = trial_new(sw, c.id, number, 0, seed, json);
	if (!t) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	t->create_gen = gen;
	sw->n_created = number;
	hist_set_params(&sw->hist, number, json);
out:
	cJSON_free(json);
	*out = t;
	return t ? 0 : rc < 0 ? rc : -ENOMEM;
}

/* Whether trial n_created + 1 would learn from the others (TPE past its
 * start-up trials, once one has a value). */
static int
wants_learning(struct sweep *sw, int learn)
{
	return learn && sw->spec->algorithm == SPEC_TPE &&
	       sw->n_created + 1 > sw->spec->tpe_n_startup;
}

/* sched_create_trial, its row in the loop turn's batch when batch. */
static int
create_trial(struct sweep *sw, const cJSON *fixed, int learn, int batch,
	     struct trial **out, char *err, size_t errlen)
{
	const struct spec *sp = sw->spec;
	int number = sw->n_created + 1, n_obs = 0, rc;
	/* Only TPE past its start-up trials learns from the others, and only
	 * once one has a value: building the observations for every trial
	 * made a large enqueue quadratic. */
	struct sampler_obs *obs = wants_learning(sw, learn) ?
				  hist_build_obs(&sw->hist, sw->n_created, &n_obs) : NULL;
	const struct sampler_objectives *objs = NULL;
	struct hist_objs mo = { 0 };
	cJSON *params = NULL;

	*out = NULL;
	rc = obs ? hist_objs_build(&mo, &sw->hist, sp, sw->n_created, &objs) : 0;
	if (rc == 0)
		rc = sampler_suggest_mo(sp, objs, number, fixed, obs, n_obs,
					&params, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	hist_objs_free(&mo);
	free(obs);
	if (rc < 0)
		return rc;
	rc = store_trial(sw, params, batch, out, err, errlen);
	cJSON_Delete(params);
	return rc;
}

int
sched_create_trial(struct sweep *sw, const cJSON *fixed, int learn,
		   struct trial **out, char *err, size_t errlen)
{
	return create_trial(sw, fixed, learn, 0, out, err, errlen);
}

/* A trial could not be made: the sweep fails (an outage waits instead). */
static void
creation_failed(struct sweep *sw, const char *err)
{
	if (sw->sched->storage_rc)
		return;   /* an outage, not the sweep's fault: later */
	log_error("sweep %" PRId64 ": %s", sw->id, err);
	if (sweep_end(sw, SWEEP_FAILED, err) < 0) {
		/* Not even the failure could be stored: stop scheduling it in
		 * memory all the same. */
		sw->ending = 1;
		sw->end_status = SWEEP_FAILED;
	}
	sweep_check_done(sw);
}

/* On the loop, a suggestion from the pool (suggest.c): stored as the next
 * trial and queued, unless the sweep went, stopped creating trials, or
 * created one meanwhile (an enqueue): then it is dropped. */
static void
suggestion_done(void *ud, int number, int rc, cJSON *params, const char *err)
{
	struct sweep *sw = ud;
	struct sched *s = sw->sched;
	struct trial *t = NULL;
	char msg[512];

	sw->suggesting = 0;
	if (sw->gone) {
		cJSON_Delete(params);
		sweep_free(sw);
		return;
	}
	if (number != sw->n_created + 1 || sw->status != SWEEP_RUNNING ||
	    sw->ending || s->shutting_down) {
		cJSON_Delete(params);
		sched_kick(s);
		return;
	}
	if (rc == 0)
		rc = store_trial(sw, params, 1, &t, msg, sizeof msg);
	else
		snprintf(msg, sizeof msg, "%s", err);
	cJSON_Delete(params);
	if (!t) {
		creation_failed(sw, msg);
		sched_kick(s);
		return;
	}
	sweep_queue_push(sw, t);
	sched_kick(s);
}

/* Starts the suggestion of the next trial off the loop. 1 when it runs,
 * 0 when the caller should create the trial itself. */
static int
suggest_off_loop(struct sweep *sw)
{
	const struct sampler_objectives *objs;
	struct hist_objs mo = { 0 };
	struct sampler_obs *obs;
	int n_obs = 0;

	if (!wants_learning(sw, 1) || !hist_any_valued(&sw->hist, sw->n_created))
		return 0;
	obs = hist_build_obs(&sw->hist, sw->n_created, &n_obs);
	if (!obs)
		return 0;
	if (hist_objs_build(&mo, &sw->hist, sw->spec, sw->n_created, &objs) < 0) {
		free(obs);
		return 0;
	}
	if (suggest_start_mo(sw->sched->loop, sw->spec, sw->n_created + 1, obs,
			     n_obs, mo.values, suggestion_done, sw) < 0)
		return 0;
	sw->suggesting = 1;
	return 1;
}

static void
broadcast_started(struct trial *t)
{
	struct sweep *sw = t->sweep;
	cJSON *ev;

	if (!sched_has_watchers(sw->sched, sw->id))
		return;
	/* After the batch that holds its start (batch.h). */
	ev = wire_ev_trial_started(sw->id, t->number, t->attempt,
				   t->params_json, t->status == TRIAL_PENDING);
	sched_batch_tell(sw->sched, sw->id, ev);
}

/* A trial whose spawn was held: as it was before the attempt, at the head
 * of its queue. The database still has it queued (its start was never
 * recorded). */
void
sched_put_back(struct trial *t)
{
	struct sweep *sw = t->sweep;
	struct sweep_hist *h = hist_at(&sw->hist, t->number);

	t->attempt--;
	t->status = TRIAL_QUEUED;
	if (h)
		h->state = SAMPLER_RUNNING;
	sweep_queue_push_front(sw, t);
}

void
sched_trial_started(struct trial *t)
{
	broadcast_started(t);
}

int
sched_take(struct sweep *sw, struct trial **out, char *err, size_t errlen)
{
	struct trial *t = sweep_queue_pop(sw);
	int rc = 0;

	if (!t)
		rc = create_trial(sw, NULL, 1, 1, &t, err, errlen);
	*out = t;
	if (rc < 0)
		return rc;
	sweep_running_add(sw, t);
	/* A new attempt keeps the curve until it reports: an epoch at or below
	 * the last replaces it from there (hist_push). */
	if (hist_at(&sw->hist, t->number))
		hist_at(&sw->hist, t->number)->state = SAMPLER_RUNNING;
	return 0;
}

static int
write_start(struct db *db, void *ud)   /* sched_batch_fn; ud: the trial */
{
	const struct trial *t = ud;

	return db_trial_start_batched(db, t->id, t->attempt, t->child.pid,
				      t->child.proc_start > 0 ?
				      t->child.proc_start :
				      trial_proc_start(t->child.pid),
				      t->started_at);
}

/* The start row of t, just spawned. A local trial's joins the loop turn's
 * batch (batch.h): a daemon killed before it is committed leaves a trainer
 * that the next start kills by its mark and its cgroup, as one killed
 * between the spawn and a commit of its own would (docs/storage.md, "Group
 * commit"); a lost batch stops and requeues it. A Slurm trial's commits at
 * once: its job id follows, and srun's pid is not stored (a restart never
 * signals it; its job is cancelled through Slurm, slurm_sched.c). */
static int
record_start(struct trial *t)
{
	struct sweep *sw = t->sweep;

	if (sw->slurm)
		return db_trial_start(sw->sched->db, t->id, t->attempt, 0, 0,
				      t->started_at);
	return sched_batch_write(sw->sched, t, SCHED_BATCH_START, 0,
				 write_start, t);
}

static void
start_one(struct sweep *sw)
{
	struct sched *s = sw->sched;
	char err[512] = "";
	struct trial *t;
	int rc;

	/* ASHA's promotion comes before a new trial (Li et al. 2020,
	 * Algorithm 2), not before a requeued one. */
	if ((!sw->queue || sw->queue->attempt == 0) &&
	    (rc = promote_next(sw)) < 0) {
		/* Logged. A row that refused it: that promotion is off, and
		 * it may have been all the sweep had left (sweep_check_done
		 * counted on it), as in creation_failed. An outage: the next
		 * kick tries again. Out of memory: the row is queued, the
		 * trial runs after a restart, the sweep is not done. */
		if (rc != -ENOMEM && !s->storage_rc)
			sweep_check_done(sw);
		return;
	}
	if (!sw->queue && suggest_off_loop(sw))
		return;   /* suggestion_done queues it */
	if (sched_take(sw, &t, err, sizeof err) < 0) {
		creation_failed(sw, err);
		return;
	}
	/* Held until sched_trial_ended, whichever way the attempt ends
	 * (a failed spawn included). Slurm holds a Slurm trial's. */
	if (!sw->slurm)
		res_take(&s->res, &t->res, t->id, sw->spec);
	rc = trial_start(t, err, sizeof err);
	if (rc < 0 && hold_spawn_transient(rc)) {
		hold_spawn(s, rc, err);
		return;   /* it reaches sched_trial_ended, and is put back */
	}
	if (rc < 0) {
		log_warn("sweep %" PRId64 " trial %d: %s", sw->id, t->number, err);
		snprintf(t->stop_msg, sizeof t->stop_msg, "%s", err);
		return;   /* it reaches sched_trial_ended as failed */
	}
	if (s->spawn_rc) {
		log_info("trials start again after %.0f s (%" PRIu64 " starts "
			 "held)", sched_now() - s->spawn_since, s->spawn_held);
		s->spawn_rc = 0;
		s->spawn_held = 0;
		s->spawn_msg[0] = '\0';
	}
	rc = record_start(t);
	if (rc < 0) {
		trial_stop(t, sched_storage_failed(s, rc, "a trial's start") ?
			   STOP_OUTAGE : STOP_STORAGE,
			   "cannot record the trial's start");
		return;
	}
	if (sw->slurm)
		sched_slurm_submitted(t);
	broadcast_started(t);
}

/* Whether sw's next trial may start now: its sweep runs, under its
 * search.parallel, and either it is a Slurm sweep under --slurm-max-jobs
 * (Slurm maps its resources), or a local slot (--workers) and the CPUs
 * and GPUs it asks for are free. */
static int
can_start(struct sweep *sw)
{
	const struct sched *s = sw->sched;

	/* A manual sweep's trials start when a client asks (manual.c). */
	if (sw->status != SWEEP_RUNNING || sw->ending || sw->spec->manual ||
	    sw->n_running >= sw->spec->parallel ||
	    !(sw->queue || (sw->n_created < sw->spec->trials && !sw->suggesting) ||
	      (!sw->suggesting && sweep_promotable(sw))))
		return 0;
	if (sw->slurm)
		return s->n_slurm < s->slurm_max_jobs;
	/* Manual trials run in their client's process, not in a worker. */
	return s->n_running - s->n_manual - s->n_slurm < s->workers &&
	       res_fits(&s->res, sw->spec);
}

/* Round-robin: the first startable sweep after the one served last. A
 * sweep whose next trial does not fit in what is free is passed over, so
 * it does not block the others; the price, accepted (docs/DESIGN.md,
 * "Resources"), is that a big trial can wait behind a stream of small ones
 * for as long as they keep its CPUs or GPUs busy: nothing is reserved for
 * it. search.parallel on the small sweeps bounds what they take. */
static struct sweep *
pick(struct sched *s)
{
	struct sweep *sw;

	for (sw = s->sweeps; sw; sw = sw->next)
		if (sw->id > s->rr_last && can_start(sw))
			return sw;
	for (sw = s->sweeps; sw; sw = sw->next)
		if (can_start(sw))
			return sw;
	return NULL;
}

void
sched_kick(struct sched *s)
{
	struct sweep *sw;

	while (!s->shutting_down && !s->storage_rc && !hold_spawn_waiting(s) &&
	       (sw = pick(s))) {
		s->rr_last = sw->id;
		start_one(sw);
	}
}

void
sched_stop_all(struct sched *s)
{
	s->shutting_down = 1;
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->running; t; t = t->next)
			trial_stop(t, STOP_SHUTDOWN, "sweepd shut down");
}

void
sched_free_all(struct sched *s)
{
	struct sweep *sw;

	while ((sw = s->sweeps)) {
		s->sweeps = sw->next;
		sweep_free(sw);
	}
}

void
sched_spawn_retry(uv_timer_t *tm)
{
	sched_kick(tm->data);
}
