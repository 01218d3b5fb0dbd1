/*
 * sched.c: sweeps, the scheduler and the end of every trial.
 *
 * Invariants:
 * - A trial exists in the database before it is queued in memory, and
 *   every change of its state is committed before anyone is told.
 * - n_created only grows: trial numbers are never reused, and a sweep has
 *   at most search.trials of them whatever happens to the daemon.
 * - A sweep leaves the active list only after its last running trial has
 *   ended, so a trial never points to a freed sweep.
 */
#include "daemon/sched/sched.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/cmdcheck.h"
#include "common/json.h"
#include "daemon/search/builtin.h"
#include "daemon/store/db.h"
#include "daemon/log.h"
#include "daemon/sched/reaper.h"
#include "daemon/search/prune.h"
#include "daemon/search/sampler.h"
#include "daemon/search/suggest.h"
#include "daemon/serve/server.h"
#include "daemon/search/spec.h"
#include "daemon/sched/trial.h"
#include "daemon/sched/trialdiag.h"

/* A trial interrupted by daemon restarts more often than retries + this is
 * failed: it may be what takes the daemon down. */
#define RESTART_ALLOWANCE 3

static const char *const sweep_status_names[] = {
	[SWEEP_RUNNING] = "running",     [SWEEP_PAUSED] = "paused",
	[SWEEP_COMPLETED] = "completed", [SWEEP_FAILED] = "failed",
	[SWEEP_CANCELLED] = "cancelled",
};

const char *
sched_status_name(enum sweep_status st)
{
	return sweep_status_names[st];
}

static int
better(const struct spec *sp, double a, double b)
{
	if (!isfinite(a))
		return 0;
	if (!isfinite(b))
		return 1;
	return sp->mode_max ? a > b : a < b;
}

/* ---- history ---------------------------------------------------------- */

static struct sweep_hist *
hist_at(struct sweep *sw, int number)
{
	if (!sw->need_history || number < 1)
		return NULL;
	if (number > sw->cap_hist) {
		int cap = sw->cap_hist ? sw->cap_hist : 16;
		struct sweep_hist *h;

		while (cap < number)
			cap *= 2;
		h = realloc(sw->hist, (size_t)cap * sizeof *h);
		if (!h)
			return NULL;
		memset(h + sw->cap_hist, 0,
		       (size_t)(cap - sw->cap_hist) * sizeof *h);
		sw->hist = h;
		sw->cap_hist = cap;
	}
	return &sw->hist[number - 1];
}

static void
hist_set_params(struct sweep *sw, int number, const char *params_json)
{
	struct sweep_hist *h = hist_at(sw, number);

	if (!h)
		return;
	cJSON_Delete(h->params);
	h->params = cJSON_Parse(params_json);
	h->state = SAMPLER_RUNNING;
	h->value = NAN;
	h->n_curve = 0;
}

/* Appends epoch's value to the trial's curve: memory and time by the line,
 * whatever the epoch number. Epochs arrive ascending (trial.c refuses
 * others; the store loads them in order); a repeat replaces the value. */
static void
hist_push(struct sweep *sw, int number, int epoch, double v)
{
	struct sweep_hist *h = hist_at(sw, number);

	if (!h || epoch < 1)
		return;
	if (h->n_curve > 0 && epoch <= h->epochs[h->n_curve - 1]) {
		if (epoch == h->epochs[h->n_curve - 1])
			h->curve[h->n_curve - 1] = v;
		return;
	}
	if (h->n_curve == h->cap_curve) {
		int cap = h->cap_curve ? h->cap_curve * 2 : 16;
		double *c = realloc(h->curve, (size_t)cap * sizeof *c);
		int *e;

		if (!c)
			return;
		h->curve = c;
		e = realloc(h->epochs, (size_t)cap * sizeof *e);
		if (!e)
			return;
		h->epochs = e;
		h->cap_curve = cap;
	}
	h->curve[h->n_curve] = v;
	h->epochs[h->n_curve] = epoch;
	h->n_curve++;
}

/* The last epoch number h reached, 0 if none. */
static int
hist_last_epoch(const struct sweep_hist *h)
{
	return h->n_curve > 0 ? h->epochs[h->n_curve - 1] : 0;
}

static void
hist_free(struct sweep *sw)
{
	for (int i = 0; i < sw->cap_hist; i++) {
		cJSON_Delete(sw->hist[i].params);
		free(sw->hist[i].curve);
		free(sw->hist[i].epochs);
	}
	free(sw->hist);
	sw->hist = NULL;
	sw->cap_hist = 0;
}

/* Observations for the sampler, numbers 1..n_created but `skip`. */
static struct sampler_obs *
build_obs(struct sweep *sw, int *n_out)
{
	struct sampler_obs *obs;
	int n = 0;

	*n_out = 0;
	if (!sw->need_history || sw->n_created == 0)
		return NULL;
	obs = calloc((size_t)sw->n_created, sizeof *obs);
	if (!obs)
		return NULL;
	for (int i = 0; i < sw->n_created && i < sw->cap_hist; i++) {
		struct sweep_hist *h = &sw->hist[i];
		if (!h->params)
			continue;
		obs[n].params = h->params;
		obs[n].state = h->state;
		obs[n].value = h->value;
		obs[n].epochs = hist_last_epoch(h);
		n++;
	}
	*n_out = n;
	return obs;
}

/* ---- lists ------------------------------------------------------------ */

static void
queue_push(struct sweep *sw, struct trial *t)
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
static void
queue_push_front(struct sweep *sw, struct trial *t)
{
	t->prev = NULL;
	t->next = sw->queue;
	if (sw->queue)
		sw->queue->prev = t;
	else
		sw->queue_tail = t;
	sw->queue = t;
}

static struct trial *
queue_pop(struct sweep *sw)
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

static void
running_add(struct sweep *sw, struct trial *t)
{
	t->prev = NULL;
	t->next = sw->running;
	if (sw->running)
		sw->running->prev = t;
	sw->running = t;
	sw->n_running++;
	sw->srv->n_running++;
}

static void
running_remove(struct sweep *sw, struct trial *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		sw->running = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
	sw->n_running--;
	sw->srv->n_running--;
}

/* ---- sweeps ----------------------------------------------------------- */

static void
sweep_free(struct sweep *sw)
{
	struct trial *t;

	if (!sw)
		return;
	while ((t = queue_pop(sw)))
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
	hist_free(sw);
	spec_free(sw->spec);
	free(sw->end_error);
	free(sw);
}

static struct sweep *
sweep_new(struct server *s, int64_t id, struct spec *sp)
{
	struct sweep *sw = calloc(1, sizeof *sw);
	char err[256];

	if (!sw)
		return NULL;
	sw->srv = s;
	sw->id = id;
	sw->spec = sp;
	sw->status = SWEEP_RUNNING;
	sw->need_history = sp->algorithm == SPEC_TPE ||
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

static void
sweep_insert(struct server *s, struct sweep *sw)
{
	struct sweep **pp = &s->sweeps;

	while (*pp && (*pp)->id < sw->id)
		pp = &(*pp)->next;
	sw->next = *pp;
	*pp = sw;
}

static void
sweep_unlink(struct server *s, struct sweep *sw)
{
	for (struct sweep **pp = &s->sweeps; *pp; pp = &(*pp)->next) {
		if (*pp == sw) {
			*pp = sw->next;
			return;
		}
	}
}

struct sweep *
sched_find(struct server *s, int64_t id)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		if (sw->id == id)
			return sw;
	return NULL;
}

/* {"event":name,"sweep","status"} to the sweep's watchers: sweep_ended
 * (with "error": null or why it failed or was cancelled), sweep_paused,
 * sweep_resumed. */
static void
broadcast_sweep_event(struct sweep *sw, const char *name,
		      enum sweep_status st, const char *error)
{
	cJSON *ev;

	if (!server_has_watchers(sw->srv, sw->id))
		return;
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "event", name);
	cJSON_AddNumberToObject(ev, "sweep", (double)sw->id);
	cJSON_AddStringToObject(ev, "status", sched_status_name(st));
	if (error)
		cJSON_AddStringToObject(ev, "error", error);
	else if (strcmp(name, "sweep_ended") == 0)
		cJSON_AddNullToObject(ev, "error");
	server_broadcast(sw->srv, sw->id, ev);
	cJSON_Delete(ev);
}

/* Marks queued trials cancelled (they will never run). */
static void
cancel_queued(struct sweep *sw)
{
	struct trial *t;
	struct db_trial_end e = {
		.status = "cancelled", .objective = NAN, .test_loss = NAN,
		.test_acc = NAN, .error_class = "cancelled", .exit_code = -1,
	};

	while ((t = queue_pop(sw))) {
		e.now = server_now();
		e.error = "the sweep ended before this trial ran";
		if (db_trial_end(sw->srv->db, t->id, &e) < 0)
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
	struct server *s = sw->srv;
	int rc;

	rc = db_sweep_set_status(s->db, sw->id, sched_status_name(st), error,
				 server_now());
	if (rc < 0 && !sw->ending &&
	    sched_storage_failed(s, rc, "the end of a sweep"))
		return -1;
	if (rc < 0)
		log_error("sweep %" PRId64 ": cannot store status %s: %s",
			  sw->id, sched_status_name(st), strerror(-rc));
	log_info("sweep %" PRId64 " %s%s%s", sw->id, sched_status_name(st),
		 error ? ": " : "", error ? error : "");
	broadcast_sweep_event(sw, "sweep_ended", st, error);
	sweep_unlink(s, sw);
	sweep_free(sw);
	return 0;
}

/* Decides the sweep's end (cancel, too many failures): the status is
 * stored at once, running trials are stopped, and the sweep is finished
 * when the last of them has ended. */
static int
sweep_end(struct sweep *sw, enum sweep_status st, const char *error)
{
	int rc;

	if (sw->ending)
		return 0;
	rc = db_sweep_set_status(sw->srv->db, sw->id, sched_status_name(st),
				 error, server_now());
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
			.status = "cancelled", .objective = t->best,
			.best_epoch = t->best_epoch, .test_loss = NAN,
			.test_acc = NAN, .error_class = "cancelled",
			.error = error ? error : "sweep cancelled", .exit_code = -1,
			.now = server_now(),
		};
		trial_stop(t, STOP_CANCELLED, e.error);
		if (db_trial_end(sw->srv->db, t->id, &e) < 0)
			log_error("sweep %" PRId64 " trial %d: cannot record its "
				  "cancellation", sw->id, t->number);
	}
	return 0;
}

/* Returns 1 when the sweep ended (and was freed). */
static int
sweep_check_done(struct sweep *sw)
{
	if (sw->unstored)
		return 0;   /* ends still to be stored (an outage) */
	if (sw->ending) {
		if (sw->n_running > 0)
			return 0;
		return sweep_finish(sw, sw->end_status, sw->end_error) == 0;
	}
	if (sw->n_created < sw->spec->trials || sw->queue || sw->n_running > 0)
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

/* ---- creating and starting trials ------------------------------------ */

/* Whether any trial of sw has a value TPE can learn from: without one,
 * TPE samples at random whatever the other observations are. */
static int
hist_any_valued(const struct sweep *sw)
{
	for (int i = 0; i < sw->n_created && i < sw->cap_hist; i++) {
		const struct sweep_hist *h = &sw->hist[i];
		if (h->params && isfinite(h->value) &&
		    (h->state == SAMPLER_COMPLETE || h->state == SAMPLER_PRUNED))
			return 1;
	}
	return 0;
}

/* Stores params (borrowed) as trial number n_created + 1, queued, into
 * *out. 0, or a negative errno with err. */
static int
store_trial(struct sweep *sw, const cJSON *params, struct trial **out,
	    char *err, size_t errlen)
{
	int number = sw->n_created + 1, rc = 0;
	uint64_t seed = sampler_trial_seed(sw->spec->seed, number);
	char *json = json_print(params);
	struct trial *t = NULL;
	int64_t id;

	if (!json) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = db_trial_create(sw->srv->db, sw->id, number, json, seed, &id);
	if (rc < 0) {
		snprintf(err, errlen, "cannot store trial %d: %s", number,
			 db_last_error(sw->srv->db));
		sched_storage_failed(sw->srv, rc, "a new trial");
		goto out;
	}
	t = trial_new(sw, id, number, 0, seed, json);
	if (!t) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	sw->n_created = number;
	hist_set_params(sw, number, json);
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

/* Samples trial number n_created + 1 (fixed: NULL or partial params) and
 * stores it as queued into *out. learn: 0 when the caller knows no trial
 * has a value yet. 0, or a negative errno with err. */
static int
create_trial(struct sweep *sw, const cJSON *fixed, int learn,
	     struct trial **out, char *err, size_t errlen)
{
	const struct spec *sp = sw->spec;
	int number = sw->n_created + 1, n_obs = 0, rc;
	/* Only TPE past its start-up trials learns from the others, and only
	 * once one has a value: building the observations for every trial
	 * made a large enqueue quadratic. */
	struct sampler_obs *obs = wants_learning(sw, learn) ?
				  build_obs(sw, &n_obs) : NULL;
	cJSON *params = NULL;

	*out = NULL;
	rc = sampler_suggest(sp, number, fixed, obs, n_obs, &params, err, errlen);
	free(obs);
	if (rc < 0)
		return rc;
	rc = store_trial(sw, params, out, err, errlen);
	cJSON_Delete(params);
	return rc;
}

/* A trial could not be made: the sweep fails (an outage waits instead). */
static void
creation_failed(struct sweep *sw, const char *err)
{
	if (sw->srv->storage_rc)
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
	struct server *s = sw->srv;
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
		rc = store_trial(sw, params, &t, msg, sizeof msg);
	else
		snprintf(msg, sizeof msg, "%s", err);
	cJSON_Delete(params);
	if (!t) {
		creation_failed(sw, msg);
		sched_kick(s);
		return;
	}
	queue_push(sw, t);
	sched_kick(s);
}

/* Starts the suggestion of the next trial off the loop. 1 when it runs,
 * 0 when the caller should create the trial itself. */
static int
suggest_off_loop(struct sweep *sw)
{
	struct sampler_obs *obs;
	int n_obs = 0;

	if (!wants_learning(sw, 1) || !hist_any_valued(sw))
		return 0;
	obs = build_obs(sw, &n_obs);
	if (!obs)
		return 0;
	if (suggest_start(sw->srv->loop, sw->spec, sw->n_created + 1, obs, n_obs,
			  suggestion_done, sw) < 0)
		return 0;
	sw->suggesting = 1;
	return 1;
}

static void
broadcast_started(struct trial *t)
{
	struct sweep *sw = t->sweep;
	cJSON *ev;

	if (!server_has_watchers(sw->srv, sw->id))
		return;
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "event", "trial_started");
	cJSON_AddNumberToObject(ev, "sweep", (double)sw->id);
	cJSON_AddNumberToObject(ev, "number", t->number);
	cJSON_AddNumberToObject(ev, "attempt", t->attempt);
	cJSON_AddItemToObject(ev, "params", cJSON_Parse(t->params_json));
	server_broadcast(sw->srv, sw->id, ev);
	cJSON_Delete(ev);
}

/* ---- spawn hold ------------------------------------------------------ */

/* The daemon's own want of descriptors or processes, not the trial's. */
static int
spawn_transient(int rc)
{
	return rc == UV_EMFILE || rc == UV_ENFILE || rc == UV_EAGAIN;
}

static void
on_spawn_retry(uv_timer_t *tm)
{
	sched_kick(tm->data);
}

/* Starts are held: the retry of a failed spawn has not come yet. */
static int
spawn_waiting(const struct server *s)
{
	return s->spawn_timer_on &&
	       uv_is_active((const uv_handle_t *)&s->spawn_timer);
}

/* Holds every start for SCHED_SPAWN_RETRY_MS; logs the first failure of
 * a run of them only. */
static void
spawn_hold(struct server *s, int rc, const char *msg)
{
	if (!s->spawn_rc) {
		s->spawn_since = server_now();
		snprintf(s->spawn_msg, sizeof s->spawn_msg, "%s", msg);
		log_error("cannot start trials: %s; the trial is put back in "
			  "its queue, not failed, and starts are retried every "
			  "%d ms", msg, SCHED_SPAWN_RETRY_MS);
	}
	s->spawn_rc = rc;
	s->spawn_held++;
	if (s->spawn_timer_on)
		uv_timer_start(&s->spawn_timer, on_spawn_retry,
			       SCHED_SPAWN_RETRY_MS, 0);
}

/* A trial whose spawn was held: as it was before the attempt, at the head
 * of its queue. The database still has it queued (its start was never
 * recorded). */
static void
put_back(struct trial *t)
{
	struct sweep *sw = t->sweep;
	struct sweep_hist *h = hist_at(sw, t->number);

	t->attempt--;
	t->status = TRIAL_QUEUED;
	if (h) {
		h->state = SAMPLER_RUNNING;
		h->n_curve = 0;
	}
	queue_push_front(sw, t);
}

void
sched_trial_started(struct trial *t)
{
	broadcast_started(t);
}

struct trial *
sched_take(struct sweep *sw, char *err, size_t errlen)
{
	struct trial *t = queue_pop(sw);

	if (!t)
		create_trial(sw, NULL, 1, &t, err, errlen);
	if (!t)
		return NULL;
	running_add(sw, t);
	if (hist_at(sw, t->number)) {
		/* A new attempt reports its curve from epoch 1 again. */
		hist_at(sw, t->number)->n_curve = 0;
		hist_at(sw, t->number)->state = SAMPLER_RUNNING;
	}
	return t;
}

static void
start_one(struct sweep *sw)
{
	struct server *s = sw->srv;
	char err[512] = "";
	struct trial *t;
	int rc;

	if (!sw->queue && suggest_off_loop(sw))
		return;   /* suggestion_done queues it */
	t = sched_take(sw, err, sizeof err);
	if (!t) {
		creation_failed(sw, err);
		return;
	}
	rc = trial_start(t, err, sizeof err);
	if (rc < 0 && spawn_transient(rc)) {
		spawn_hold(s, rc, err);
		return;   /* it reaches sched_trial_ended, and is put back */
	}
	if (rc < 0) {
		log_warn("sweep %" PRId64 " trial %d: %s", sw->id, t->number, err);
		snprintf(t->stop_msg, sizeof t->stop_msg, "%s", err);
		return;   /* it reaches sched_trial_ended as failed */
	}
	if (s->spawn_rc) {
		log_info("trials start again after %.0f s (%" PRIu64 " starts "
			 "held)", server_now() - s->spawn_since, s->spawn_held);
		s->spawn_rc = 0;
		s->spawn_held = 0;
		s->spawn_msg[0] = '\0';
	}
	rc = db_trial_start(s->db, t->id, t->attempt, t->pid,
			    trial_proc_start(t->pid), t->started_at);
	if (rc < 0) {
		trial_stop(t, sched_storage_failed(s, rc, "a trial's start") ?
			   STOP_OUTAGE : STOP_STORAGE,
			   "cannot record the trial's start");
		return;
	}
	broadcast_started(t);
}

static int
can_start(const struct sweep *sw)
{
	/* A manual sweep's trials start when a client asks (manual.c). */
	return sw->status == SWEEP_RUNNING && !sw->ending && !sw->spec->manual &&
	       sw->n_running < sw->spec->parallel &&
	       (sw->queue || (sw->n_created < sw->spec->trials && !sw->suggesting));
}

/* Round-robin: the first startable sweep after the one served last. */
static struct sweep *
pick(struct server *s)
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
sched_kick(struct server *s)
{
	struct sweep *sw;

	/* Manual trials run in their client's process, not in a worker. */
	while (!s->shutting_down && !s->storage_rc && !spawn_waiting(s) &&
	       s->n_running - s->n_manual < s->workers &&
	       (sw = pick(s))) {
		s->rr_last = sw->id;
		start_one(sw);
	}
}

/* ---- reports ---------------------------------------------------------- */

static int
curve_append(struct trial *t, const struct report_line *r, double objective)
{
	struct diag_epoch *e;
	double *g = NULL;

	if (t->n_curve == t->cap_curve) {
		int cap = t->cap_curve ? t->cap_curve * 2 : 16;
		struct diag_epoch *c = realloc(t->curve, (size_t)cap * sizeof *c);
		if (!c)
			return -ENOMEM;
		t->curve = c;
		t->cap_curve = cap;
	}
	if (r->n_grad > 0) {
		g = malloc((size_t)r->n_grad * sizeof *g);
		if (!g)
			return -ENOMEM;
		memcpy(g, r->grad_norm, (size_t)r->n_grad * sizeof *g);
	}
	e = &t->curve[t->n_curve];
	/* A NaN loss reads as +inf there, so "diverged" is told from "not
	 * reported" even at epoch 1. */
	if (diag_epoch_from_report(e, r, NULL) < 0) {
		free(g);
		return -EINVAL;
	}
	t->n_curve++;
	e->objective = objective;
	e->grad_norm = g;
	return 0;
}

static int
store_epoch(struct trial *t, const struct report_line *r, double objective,
	    const char *diag_json)
{
	struct db *db = t->sweep->srv->db;
	cJSON *m = report_to_json(r);
	char *metrics = m ? json_print(m) : NULL;
	int rc = -ENOMEM;

	cJSON_Delete(m);
	if (!metrics)
		return rc;
	rc = db_begin(db);
	if (rc == 0)
		rc = db_trial_epoch(db, t->id, t->attempt, r->epoch, objective,
				    metrics);
	if (rc == 0 && diag_json)
		rc = db_trial_set_diagnosis(db, t->id, diag_json);
	if (rc == 0)
		rc = db_commit(db);
	else
		db_rollback(db);
	cJSON_free(metrics);
	return rc;
}

static void
broadcast_epoch(struct trial *t, const struct report_line *r, double objective)
{
	struct sweep *sw = t->sweep;
	cJSON *ev;

	if (!server_has_watchers(sw->srv, sw->id))
		return;
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "event", "epoch");
	cJSON_AddNumberToObject(ev, "sweep", (double)sw->id);
	cJSON_AddNumberToObject(ev, "number", t->number);
	cJSON_AddNumberToObject(ev, "epoch", r->epoch);
	cJSON_AddItemToObject(ev, "metrics", report_to_json(r));
	cJSON_AddNumberToObject(ev, "objective", objective);
	cJSON_AddItemToObject(ev, "diagnosis", t->diagnosis ?
			      cJSON_Duplicate(t->diagnosis, 1) : cJSON_CreateNull());
	server_broadcast(sw->srv, sw->id, ev);
	cJSON_Delete(ev);
}

/* The pruners see every other trial's objective curve (by number). */
static void
check_pruners(struct trial *t)
{
	struct sweep *sw = t->sweep;
	const struct spec *sp = sw->spec;
	struct sweep_hist *mine = hist_at(sw, t->number);
	struct prune_curve me, *others;
	char why[512] = "";
	int n = 0, stop = 0;

	if (!mine)
		return;
	me.v = mine->curve;
	me.epoch = mine->epochs;
	me.n = mine->n_curve;
	me.done = 0;
	me.budget = prune_budget(sp, mine->params);
	if (sp->es_patience > 0 && prune_early_stop(sp, &me, why, sizeof why)) {
		trial_stop(t, STOP_EARLY, why);
		return;
	}
	if (sp->pruner == SPEC_PRUNE_NONE)
		return;
	others = calloc((size_t)sw->n_created + 1, sizeof *others);
	if (!others)
		return;
	for (int i = 0; i < sw->n_created && i < sw->cap_hist; i++) {
		struct sweep_hist *h = &sw->hist[i];
		if (i == t->number - 1 || !h->params || h->n_curve == 0)
			continue;
		others[n].v = h->curve;
		others[n].epoch = h->epochs;
		others[n].n = h->n_curve;
		others[n].done = h->state == SAMPLER_COMPLETE;
		n++;
	}
	if (sp->pruner == SPEC_PRUNE_MEDIAN)
		stop = prune_median(sp, &me, others, n, why, sizeof why);
	else if (sp->pruner == SPEC_PRUNE_ASHA)
		stop = prune_asha(sp, &me, others, n, why, sizeof why);
	free(others);
	if (stop)
		trial_stop(t, STOP_PRUNED, why);
}

/* The live diagnosis of a running trial is refreshed for watchers at
 * every epoch, and stored at most every LIVE_DIAG_MS otherwise: for short
 * epochs, printing and storing it each time cost more than the epoch
 * itself. The final diagnosis is always stored when the trial ends. */
#define LIVE_DIAG_MS 1000

static int
live_diag_due(struct trial *t)
{
	uint64_t now = uv_now(t->sweep->srv->loop);

	if (t->n_curve == 1 || now - t->diag_stored_ms >= LIVE_DIAG_MS) {
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
	char why[256];
	int store_diag, rc;

	if (r->kind == REPORT_FINAL)
		return;   /* trial.c kept its figures; they are stored at the end */
	sw->ff_off = 1;   /* a trainer that reports epochs: not fail-fast */
	objective = report_get(r, sp->metric);
	if (curve_append(t, r, objective) < 0) {
		trial_stop(t, STOP_STORAGE, "out of memory");
		return;
	}
	if (better(sp, objective, t->best)) {
		t->best = objective;
		t->best_epoch = r->epoch;
	}
	/* Watchers get a fresh diagnosis with every epoch of a short curve;
	 * past that, diag_curve's O(epochs) cost per epoch would add up to
	 * O(epochs^2), so they get the one refreshed every LIVE_DIAG_MS. */
	store_diag = live_diag_due(t);
	if (store_diag || (t->n_curve <= 64 &&
			   server_has_watchers(sw->srv, sw->id))) {
		cJSON_Delete(t->diagnosis);
		t->diagnosis = tdiag_run(sw, t, DIAG_RUNNING);
		if (t->diagnosis && store_diag)
			diag_json = json_print(t->diagnosis);
	}
	rc = store_epoch(t, r, objective, diag_json);
	cJSON_free(diag_json);
	if (rc < 0) {
		char msg[256];
		snprintf(msg, sizeof msg, "cannot store epoch %d: %s", r->epoch,
			 strerror(-rc));
		log_error("sweep %" PRId64 " trial %d: %s", sw->id, t->number, msg);
		trial_stop(t, sched_storage_failed(sw->srv, rc, "an epoch") ?
			   STOP_OUTAGE : STOP_STORAGE, msg);
		return;
	}
	hist_push(sw, t->number, r->epoch, objective);
	if (sw->need_history)
		hist_at(sw, t->number)->value = t->best;
	broadcast_epoch(t, r, objective);

	if (diag_diverged(&sw->diag, t->curve, t->n_curve, why, sizeof why)) {
		trial_stop(t, STOP_DIVERGED, why);
		return;
	}
	check_pruners(t);
}

/* ---- the end of a trial ---------------------------------------------- */

struct outcome {
	enum trial_status status;
	const char *cls;          /* NULL or the failure class */
	char msg[768];            /* a completed trial's note, else the failure */
	int requeue;              /* back to the queue instead of an end state */
};

/* The limits.retry_on bit of a failure class; 0 for classes never retried
 * (protocol errors repeat, cancellations are wanted). */
static unsigned
class_bit(const char *cls)
{
	static const struct { const char *name; unsigned bit; } classes[] = {
		{ "signal", SPEC_RETRY_SIGNAL }, { "timeout", SPEC_RETRY_TIMEOUT },
		{ "stall", SPEC_RETRY_STALL },   { "oom", SPEC_RETRY_OOM },
		{ "exit", SPEC_RETRY_EXIT },
	};

	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (cls && strcmp(cls, classes[i].name) == 0)
			return classes[i].bit;
	return 0;
}

/* Under limits.memory_mb an allocation fails instead of the OOM killer
 * striking; the trainer's last words say so. */
static int
stderr_says_oom(const struct trial *t)
{
	static const char *const words[] = {
		"MemoryError", "out of memory", "Cannot allocate memory",
		"std::bad_alloc",
	};
	char tail[TRIAL_ERRTAIL + 1];

	memcpy(tail, t->errtail, t->errtail_len);
	tail[t->errtail_len] = '\0';
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strstr(tail, words[i]))
			return 1;
	return 0;
}

/* The last non-empty line of the trainer's stderr, at most len - 1 bytes,
 * control characters and broken UTF-8 made '?': what a traceback ends with
 * ("ModuleNotFoundError: No module named 'numpy'"). "" when it wrote none. */
static void
last_words(const struct trial *t, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)t->errtail;
	size_t end = t->errtail_len, start, n = 0;

	while (end > 0 && (p[end - 1] == '\n' || p[end - 1] == '\r' ||
			   p[end - 1] == ' ' || p[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && p[start - 1] != '\n')
		start--;
	while (start < end && (p[start] == ' ' || p[start] == '\t'))
		start++;
	for (size_t i = start; i < end && n + 4 < len; ) {
		int k = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 :
			(p[i] & 0xf0) == 0xe0 ? 3 : (p[i] & 0xf8) == 0xf0 ? 4 : 0;
		int ok = k > 0 && i + (size_t)k <= end;
		for (int j = 1; ok && j < k; j++)
			ok = (p[i + (size_t)j] & 0xc0) == 0x80;
		if (!ok || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			buf[n++] = '?';
			i++;
			continue;
		}
		memcpy(buf + n, p + i, (size_t)k);
		n += (size_t)k;
		i += (size_t)k;
	}
	buf[n] = '\0';
}

/* Exit 0 without a single report line: said how to report, and what the
 * trainer did instead when it printed report lines without the prefix. */
static void
no_report(const struct trial *t, struct outcome *o)
{
	o->status = TRIAL_FAILED;
	if (t->plain_reports > 0) {
		o->cls = "protocol";
		snprintf(o->msg, sizeof o->msg, "printed %d report line%s on "
			 "stdout without the \"SWEEP \" prefix (the first: %s) "
			 "and none where sweepd reads them: write report lines to "
			 "fd 3 ($SWEEP_REPORT_FD), or print them on stdout as "
			 "\"SWEEP {...}\"", t->plain_reports,
			 t->plain_reports == 1 ? "" : "s", t->plain_example);
		return;
	}
	o->cls = "exit";
	snprintf(o->msg, sizeof o->msg, "exited with status 0 without reporting "
		 "any epoch: write one JSON line per epoch to fd 3 "
		 "($SWEEP_REPORT_FD), or on stdout prefixed \"SWEEP \", and "
		 "{\"final\": true} last");
}

/* Exit 0 without a final line before the trial's epoch budget (its
 * "epochs" param, or pruner.max_epochs): it stopped early, not done.
 * 1 and o filled in, or 0 when the budget is unknown or reached. */
static int
stopped_short(const struct trial *t, struct outcome *o)
{
	cJSON *params = cJSON_Parse(t->params_json);
	int budget = prune_budget(t->sweep->spec, params);

	cJSON_Delete(params);
	if (budget <= 0 || t->last_epoch >= budget)
		return 0;
	o->status = TRIAL_FAILED;
	o->cls = "exit";
	snprintf(o->msg, sizeof o->msg, "exited with status 0 after epoch %d "
		 "of %d without a \"final\" report line: a trainer that ends "
		 "normally writes {\"final\": true} last; one that gives up "
		 "should exit non-zero", t->last_epoch, budget);
	return 1;
}

static void
classify_natural(struct trial *t, struct outcome *o)
{
	const struct spec *sp = t->sweep->spec;

	if (t->spawn_error) {
		o->status = TRIAL_FAILED;
		o->cls = "exit";
		snprintf(o->msg, sizeof o->msg, "%s", t->stop_msg[0] ?
			 t->stop_msg : uv_strerror(t->spawn_error));
	} else if (t->term_signal) {
		o->status = TRIAL_FAILED;
		o->cls = t->term_signal == SIGKILL && sp->memory_mb > 0 ? "oom" : "signal";
		snprintf(o->msg, sizeof o->msg, "killed by signal %d (%s)",
			 t->term_signal, strsignal(t->term_signal));
	} else if (trial_wrapper_error(t, o->msg, sizeof o->msg)) {
		o->status = TRIAL_FAILED;   /* as if uv_spawn had failed */
		o->cls = "exit";
	} else if (t->exit_status != 0) {
		char words[300];
		last_words(t, words, sizeof words);
		o->status = TRIAL_FAILED;
		o->cls = sp->memory_mb > 0 && stderr_says_oom(t) ? "oom" : "exit";
		snprintf(o->msg, sizeof o->msg, "exited with status %d%s%s",
			 (int)t->exit_status, words[0] ? ": " : "", words);
	} else if (t->n_curve == 0 && (!t->got_final || t->plain_reports > 0)) {
		no_report(t, o);
	} else if (!t->got_final && stopped_short(t, o)) {
		;   /* o says which epoch it stopped at */
	} else if (!isfinite(t->best) && t->n_curve == 0) {
		o->status = TRIAL_FAILED;
		o->cls = "exit";
		snprintf(o->msg, sizeof o->msg, "never reported the objective "
			 "metric \"%s\"", sp->metric);
	} else if (!isfinite(t->best)) {
		/* Reported epochs, but the metric was never a finite number:
		 * either absent or NaN all along (a diverged run). */
		int seen = 0;
		for (int i = 0; i < t->n_curve; i++)
			seen |= !isnan(t->curve[i].objective) ||
				isinf(t->curve[i].objective);
		o->status = TRIAL_FAILED;
		o->cls = "exit";
		snprintf(o->msg, sizeof o->msg, seen ?
			 "the objective metric \"%s\" was never finite" :
			 "never reported the objective metric \"%s\"", sp->metric);
	} else {
		o->status = TRIAL_COMPLETED;
		if (!t->got_final) {
			/* Every epoch but no final line: what Optuna and Ray
			 * Tune users write. Completed, and said so. */
			o->cls = "note";
			snprintf(o->msg, sizeof o->msg, "no \"final\" report "
				 "line: completed on exit status 0 after epoch %d, "
				 "so test metrics are unknown; write {\"final\": "
				 "true, ...} last to report them", t->last_epoch);
		}
	}
}

/* What each way of being stopped by the daemon ends as. */
static const struct {
	enum trial_status status;
	const char *cls;
} stop_outcomes[] = {
	[STOP_PRUNED]    = { TRIAL_PRUNED,    "pruned" },
	[STOP_DIVERGED]  = { TRIAL_PRUNED,    "diverged" },
	[STOP_EARLY]     = { TRIAL_COMPLETED, NULL },
	[STOP_CANCELLED] = { TRIAL_CANCELLED, "cancelled" },
	[STOP_TIMEOUT]   = { TRIAL_FAILED,    "timeout" },
	[STOP_STALL]     = { TRIAL_FAILED,    "stall" },
	[STOP_PROTOCOL]  = { TRIAL_FAILED,    "protocol" },
	[STOP_STORAGE]   = { TRIAL_FAILED,    "storage" },
	[STOP_SHUTDOWN]  = { TRIAL_QUEUED,    "interrupted" },
	[STOP_OUTAGE]    = { TRIAL_QUEUED,    "storage" },
	[STOP_TOLD_FAILED] = { TRIAL_FAILED,  "exit" },
	[STOP_TOLD_PRUNED] = { TRIAL_PRUNED,  "pruned" },
};

static void
classify(struct trial *t, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	if (t->stop == STOP_NONE) {
		classify_natural(t, o);
		return;
	}
	o->status = stop_outcomes[t->stop].status;
	o->cls = stop_outcomes[t->stop].cls;
	o->requeue = t->stop == STOP_SHUTDOWN || t->stop == STOP_OUTAGE;
	/* Early stopping completes a trial only if it has a best epoch. */
	if (t->stop == STOP_EARLY && !isfinite(t->best)) {
		o->status = TRIAL_FAILED;
		o->cls = "exit";
	}
	snprintf(o->msg, sizeof o->msg, "%s", t->stop_msg);
}

static void
broadcast_ended(struct trial *t, const struct outcome *o)
{
	struct sweep *sw = t->sweep;
	cJSON *ev, *e;

	if (!server_has_watchers(sw->srv, sw->id))
		return;
	ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "event", "trial_ended");
	cJSON_AddNumberToObject(ev, "sweep", (double)sw->id);
	cJSON_AddNumberToObject(ev, "number", t->number);
	cJSON_AddStringToObject(ev, "status", trial_status_name(o->status));
	if (isfinite(t->best))
		cJSON_AddNumberToObject(ev, "objective", t->best);
	else
		cJSON_AddNullToObject(ev, "objective");
	if (t->best_epoch)
		cJSON_AddNumberToObject(ev, "best_epoch", t->best_epoch);
	else
		cJSON_AddNullToObject(ev, "best_epoch");
	if (o->status == TRIAL_FAILED || o->status == TRIAL_PRUNED) {
		e = cJSON_AddObjectToObject(ev, "error");
		cJSON_AddStringToObject(e, "class", o->cls ? o->cls : "exit");
		cJSON_AddStringToObject(e, "message", o->msg);
	} else {
		cJSON_AddNullToObject(ev, "error");
	}
	cJSON_AddItemToObject(ev, "diagnosis", t->diagnosis ?
			      cJSON_Duplicate(t->diagnosis, 1) : cJSON_CreateNull());
	server_broadcast(sw->srv, sw->id, ev);
	cJSON_Delete(ev);
}

static int
retry_allowed(const struct trial *t, const struct outcome *o)
{
	const struct spec *sp = t->sweep->spec;

	if (o->status != TRIAL_FAILED || t->sweep->ending)
		return 0;
	if (!(sp->retry_on & class_bit(o->cls)))
		return 0;
	return t->attempt <= sp->retries;
}

static int
record_end(struct trial *t, const struct outcome *o, const char *diag_json)
{
	char tail[TRIAL_ERRTAIL + 1];
	struct db_trial_end e = {
		.status = trial_status_name(o->status),
		.objective = t->best,
		.best_epoch = t->best_epoch,
		.test_loss = t->test_loss,
		.test_acc = t->test_acc,
		.diagnosis_json = diag_json,
		.error = o->msg[0] ? o->msg : NULL,
		.error_class = o->cls,
		.exit_code = t->exited && !t->term_signal && !t->spawn_error ?
			     (int)t->exit_status : -1,
		.signal = t->term_signal,
		.now = server_now(),
	};

	memcpy(tail, t->errtail, t->errtail_len);
	tail[t->errtail_len] = '\0';
	e.stderr_tail = t->errtail_len ? tail : NULL;
	if (o->status == TRIAL_COMPLETED && !(o->cls &&
					      strcmp(o->cls, "note") == 0)) {
		e.error = NULL;
		e.error_class = NULL;
	}
	return db_trial_end(t->sweep->srv->db, t->id, &e);
}

static void
update_hist_end(struct trial *t, const struct outcome *o)
{
	struct sweep_hist *h = hist_at(t->sweep, t->number);

	if (!h)
		return;
	h->value = t->best;
	switch (o->status) {
	case TRIAL_COMPLETED: h->state = SAMPLER_COMPLETE; break;
	case TRIAL_PRUNED:    h->state = SAMPLER_PRUNED; break;
	case TRIAL_QUEUED:    h->state = SAMPLER_RUNNING; h->n_curve = 0; break;
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
	const char *cls = o->cls ? o->cls : "exit";
	char key[sizeof sw->ff_key], msg[sizeof sw->last_fail + 128];

	if (sw->ff_off || sw->ending || sw->spec->has_max_failures)
		return;
	if (strcmp(cls, "storage") == 0)
		return;   /* the daemon's trouble: says nothing about the trainer */
	if (t->stop != STOP_NONE)   /* how it died was the daemon's doing */
		snprintf(key, sizeof key, "%s", cls);
	else
		snprintf(key, sizeof key, "%s/%" PRId64 "/%d/%d", cls,
			 t->exit_status, t->term_signal, t->spawn_error);
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

/* The rest of a trial's end once it is stored: counters, watchers, the
 * sweep's failure budget. Frees t. */
static void
end_recorded(struct trial *t, const struct outcome *o)
{
	struct sweep *sw = t->sweep;

	log_info("sweep %" PRId64 " trial %d %s%s%s", sw->id, t->number,
		 trial_status_name(o->status), o->msg[0] ? ": " : "", o->msg);
	t->status = o->status;
	sw->n_ended++;
	sw->srv->trials_run++;
	update_hist_end(t, o);
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

/* A storage outage kept the end of t from the db: t waits on the sweep's
 * unstored list, its outcome kept, until the retry stores it. */
static void
defer_end(struct trial *t, const struct outcome *o, const char *diag_json)
{
	struct sweep *sw = t->sweep;

	log_warn("sweep %" PRId64 " trial %d %s, not stored yet (storage outage)",
		 sw->id, t->number, trial_status_name(o->status));
	t->status = o->status;
	t->end_cls = o->cls;
	free(t->end_msg);
	free(t->end_diag);
	t->end_msg = strdup(o->msg);
	t->end_diag = diag_json ? strdup(diag_json) : NULL;
	t->prev = NULL;
	t->next = sw->unstored;
	sw->unstored = t;
}

/* Redoes the writes an outage left undone in sw; 0 once all went through,
 * else the first failure. */
static int
flush_sweep(struct sweep *sw)
{
	struct db *db = sw->srv->db;
	struct trial *t;
	int rc;

	for (t = sw->queue; t; t = t->next) {
		if (!t->requeue_unstored)
			continue;
		rc = db_trial_requeue(db, t->id, t->attempt);
		if (rc < 0)
			return rc;
		t->requeue_unstored = 0;
	}
	while ((t = sw->unstored)) {
		struct outcome o = { .status = t->status, .cls = t->end_cls };

		snprintf(o.msg, sizeof o.msg, "%s", t->end_msg ? t->end_msg : "");
		rc = record_end(t, &o, t->end_diag);
		if (rc < 0)
			return rc;
		sw->unstored = t->next;
		t->next = NULL;
		end_recorded(t, &o);
	}
	return 0;
}

/* Without anything to redo, a write of what is stored already tells
 * whether writes go through again (a sweep's own status). */
static int
probe_write(struct server *s)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		if (!sw->ending)
			return db_sweep_set_status(s->db, sw->id,
						   sched_status_name(sw->status),
						   NULL, server_now());
	return 0;
}

static void
on_storage_retry(uv_timer_t *tm)
{
	struct server *s = tm->data;
	struct sweep *sw, *next;
	int rc = 0;

	for (sw = s->sweeps; sw && rc == 0; sw = sw->next)
		rc = flush_sweep(sw);
	if (rc == 0)
		rc = probe_write(s);
	if (rc < 0)
		return;   /* still out; db.c logged the failure */
	log_info("storage: writes go through again after %.0f s; resuming",
		 server_now() - s->storage_since);
	s->storage_rc = 0;
	s->storage_msg[0] = '\0';
	uv_timer_stop(tm);
	for (sw = s->sweeps; sw; sw = next) {
		next = sw->next;
		sweep_check_done(sw);
	}
	sched_kick(s);
	server_maybe_finish(s);
}

int
sched_storage_failed(struct server *s, int rc, const char *what)
{
	if (!db_is_outage(rc))
		return 0;
	if (s->storage_rc)
		return 1;
	s->storage_rc = rc;
	s->storage_since = server_now();
	snprintf(s->storage_msg, sizeof s->storage_msg, "cannot store %s: %s",
		 what, db_last_error(s->db));
	log_error("storage: %s; no trial starts until writes go through "
		  "again (retried every %d s)", s->storage_msg,
		  SCHED_STORAGE_RETRY_MS / 1000);
	if (s->storage_timer_on)
		uv_timer_start(&s->storage_timer, on_storage_retry,
			       SCHED_STORAGE_RETRY_MS, SCHED_STORAGE_RETRY_MS);
	return 1;
}

int
sched_unstored(const struct server *s)
{
	int n = 0;

	for (const struct sweep *sw = s->sweeps; sw; sw = sw->next) {
		for (const struct trial *t = sw->unstored; t; t = t->next)
			n++;
		for (const struct trial *t = sw->queue; t; t = t->next)
			n += t->requeue_unstored;
	}
	return n;
}

struct trial *
sched_running_trial(const struct server *s, int pid, int64_t id)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->running; t; t = t->next)
			if ((pid > 0 && t->pid == pid) || (id > 0 && t->id == id))
				return t;
	return NULL;
}

void
sched_trial_ended(struct trial *t)
{
	struct sweep *sw = t->sweep;
	struct server *s = sw->srv;
	struct outcome o;
	char *diag_json = NULL;
	int rc;

	running_remove(sw, t);
	if (t->spawn_error && spawn_transient(t->spawn_error)) {
		put_back(t);
		goto next;
	}
	classify(t, &o);
	if (!o.requeue && retry_allowed(t, &o)) {
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
		if (t->stop == STOP_OUTAGE)
			log_info("sweep %" PRId64 " trial %d attempt %d: %s; "
				 "requeued", sw->id, t->number, t->attempt, o.msg);
		t->status = TRIAL_QUEUED;
		update_hist_end(t, &o);
		queue_push(sw, t);
		goto next;
	}
	cJSON_Delete(t->diagnosis);
	t->diagnosis = tdiag_run(sw, t, tdiag_end_of(t, o.status));
	tdiag_note_end(sw, t);
	if (t->diagnosis)
		diag_json = json_print(t->diagnosis);
	rc = record_end(t, &o, diag_json);
	if (rc < 0 && sched_storage_failed(s, rc, "a trial's end")) {
		defer_end(t, &o, diag_json);
		cJSON_free(diag_json);
		goto next;
	}
	cJSON_free(diag_json);
	if (rc < 0)
		log_error("sweep %" PRId64 " trial %d: cannot store its end (%s): %s",
			  sw->id, t->number, trial_status_name(o.status),
			  strerror(-rc));
	end_recorded(t, &o);
next:
	if (!s->shutting_down)
		sweep_check_done(sw);
	sched_kick(s);
	server_maybe_finish(s);
}

/* ---- client-facing changes ------------------------------------------- */

static uint64_t
fresh_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
		seed = (uint64_t)time(NULL) * 6364136223846793005ULL;
	return seed & ((1ULL << 53) - 1);   /* exact as a JSON number */
}

/* Takes trial numbers n_before + 1.. back out of memory after their
 * transaction was rolled back: they are the queue's tail. */
static void
forget_created(struct sweep *sw, int n_before)
{
	for (; sw->n_created > n_before; sw->n_created--) {
		struct trial *t = sw->queue_tail;
		struct sweep_hist *h = hist_at(sw, sw->n_created);

		if (t && t->number == sw->n_created) {
			sw->queue_tail = t->prev;
			if (t->prev)
				t->prev->next = NULL;
			else
				sw->queue = NULL;
			trial_free(t);
		}
		if (h) {
			cJSON_Delete(h->params);
			h->params = NULL;
			h->n_curve = 0;
		}
	}
}

/* Creates a trial for each object of params (an object or an array), in
 * order, inside the caller's transaction; on failure the caller rolls it
 * back and calls forget_created. */
static int
create_list(struct sweep *sw, const cJSON *params, char *err, size_t errlen)
{
	const cJSON *one = cJSON_IsArray(params) ? params->child : params;
	/* The new trials carry no value: whether any trial has one holds
	 * for the whole list. */
	int learn = hist_any_valued(sw), i = 0, rc = 0;

	for (; one && rc == 0; one = cJSON_IsArray(params) ? one->next : NULL) {
		struct trial *t;
		char where[32];

		/* Checked here too, so that the message names the set. */
		snprintf(where, sizeof where, "params[%d]", i + 1);   /* 1-based */
		rc = spec_check_params(sw->spec, one, where, err, errlen);
		if (rc < 0)
			return rc;
		rc = create_trial(sw, one, learn, &t, err, errlen);
		if (rc == 0)
			queue_push(sw, t);
		i++;
	}
	return rc;
}

/* Ends the transaction of a submit or enqueue: committed when rc == 0,
 * else rolled back. Returns rc or the commit's failure (with err). */
static int
end_group(struct server *s, int rc, char *err, size_t errlen)
{
	if (rc < 0) {
		db_rollback(s->db);
		return rc;
	}
	rc = db_commit(s->db);
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the trials: %s",
			 db_last_error(s->db));
		sched_storage_failed(s, rc, "new trials");
	}
	return rc;
}

static int
begin_group(struct server *s, char *err, size_t errlen)
{
	int rc = db_begin(s->db);

	if (rc < 0) {
		snprintf(err, errlen, "cannot store anything: %s",
			 db_last_error(s->db));
		sched_storage_failed(s, rc, "new trials");
	}
	return rc;
}

int
sched_enqueue(struct sweep *sw, const cJSON *params, int *n_out, char *err,
	      size_t errlen)
{
	int n = cJSON_IsArray(params) ? cJSON_GetArraySize(params) : 1;
	int room = sw->spec->trials - sw->n_created, before = sw->n_created;
	int rc;

	*n_out = 0;
	if (sw->ending) {
		snprintf(err, errlen, "sweep %" PRId64 " is ending", sw->id);
		return -EALREADY;
	}
	if (n > room) {
		snprintf(err, errlen, "cannot enqueue %d trials: sweep %" PRId64
			 " has room for %d more (search.trials = %d)", n, sw->id,
			 room, sw->spec->trials);
		return -EINVAL;
	}
	/* One transaction: every set is stored and acknowledged, or none. */
	rc = begin_group(sw->srv, err, errlen);
	if (rc == 0)
		rc = end_group(sw->srv, create_list(sw, params, err, errlen),
			       err, errlen);
	if (rc < 0) {
		forget_created(sw, before);
		return rc;
	}
	*n_out = sw->n_created - before;
	sched_kick(sw->srv);
	return 0;
}

/* The checks of a submitted spec; *out owns the parsed spec on success. */
static int
check_submitted(const cJSON *spec_json, struct spec **out, char *err,
		size_t errlen)
{
	struct diag_config dc;
	struct spec *sp = NULL;
	int rc;

	rc = spec_parse(spec_json, &sp, err, errlen);
	if (rc == 0)
		rc = builtin_check_spec(sp, err, errlen);
	/* What the daemon will run must exist now, not fail trial by trial
	 * (sweepctl checks the same before sending; this is for every
	 * client, and uses the PATH the trainers get). */
	if (rc == 0 && !sp->builtin &&
	    cmdcheck_trainer(sp->trainer, err, errlen) < 0)
		rc = -EINVAL;
	if (rc == 0) {
		diag_config_default(&dc);
		rc = diag_config_parse(&dc, sp->diagnosis, err, errlen);
	}
	if (rc < 0) {
		spec_free(sp);
		return rc;
	}
	if (!sp->has_seed)
		spec_set_seed(sp, fresh_seed());
	*out = sp;
	return 0;
}

/* Stores the sweep and its enqueued trials in one transaction, so a
 * failure or a crash half way leaves nothing of it. *out: the sweep, not
 * yet in the server's list. */
static int
store_sweep(struct server *s, struct spec *sp, struct sweep **out, char *err,
	    size_t errlen)
{
	struct sweep *sw = NULL;
	char *text = json_print(sp->json);
	int64_t id;
	int rc = text ? begin_group(s, err, errlen) : -ENOMEM;

	if (rc < 0)
		goto out;
	rc = db_sweep_create(s->db, sp->name, text, sp->trials, server_now(),
			     &id);
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the sweep: %s",
			 db_last_error(s->db));
		sched_storage_failed(s, rc, "a new sweep");
	}
	if (rc == 0 && !(sw = sweep_new(s, id, sp)))
		rc = -ENOMEM;
	if (rc == 0 && sp->enqueue)
		rc = create_list(sw, sp->enqueue, err, errlen);
	rc = end_group(s, rc, err, errlen);
out:
	cJSON_free(text);
	if (rc < 0 && sw) {
		sw->spec = NULL;   /* the caller's */
		sweep_free(sw);
		sw = NULL;
	}
	*out = sw;
	return rc;
}

int
sched_submit(struct server *s, const cJSON *spec_json, int64_t *id_out,
	     char *err, size_t errlen)
{
	struct spec *sp = NULL;
	struct sweep *sw = NULL;
	int rc;

	rc = check_submitted(spec_json, &sp, err, errlen);
	if (rc < 0)
		return rc;
	rc = store_sweep(s, sp, &sw, err, errlen);
	if (rc < 0) {
		if (rc == -ENOMEM && !err[0])
			snprintf(err, errlen, "out of memory");
		spec_free(sp);
		return rc;
	}
	sweep_insert(s, sw);
	log_info("sweep %" PRId64 " submitted: %s, %d trials", sw->id,
		 sw->spec->name, sw->spec->trials);
	*id_out = sw->id;
	sched_kick(s);
	return 0;
}

int
sched_cancel(struct sweep *sw, char *err, size_t errlen)
{
	int rc;

	if (sw->ending) {
		snprintf(err, errlen, "sweep %" PRId64 " is already ending", sw->id);
		return -EALREADY;
	}
	rc = sweep_end(sw, SWEEP_CANCELLED, "cancelled by the user");
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the cancellation: %s",
			 strerror(-rc));
		return rc;
	}
	sweep_check_done(sw);
	return 0;
}

static int
set_status(struct sweep *sw, enum sweep_status st, char *err, size_t errlen)
{
	int rc;

	if (sw->ending) {
		snprintf(err, errlen, "sweep %" PRId64 " is ending", sw->id);
		return -EALREADY;
	}
	if (sw->status == st) {
		snprintf(err, errlen, "sweep %" PRId64 " is already %s", sw->id,
			 sched_status_name(st));
		return -EALREADY;
	}
	rc = db_sweep_set_status(sw->srv->db, sw->id, sched_status_name(st),
				 NULL, server_now());
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the new status: %s",
			 strerror(-rc));
		return rc;
	}
	sw->status = st;
	broadcast_sweep_event(sw, st == SWEEP_PAUSED ? "sweep_paused"
						   : "sweep_resumed", st, NULL);
	sched_kick(sw->srv);
	return 0;
}

int
sched_pause(struct sweep *sw, char *err, size_t errlen)
{
	return set_status(sw, SWEEP_PAUSED, err, errlen);
}

int
sched_resume(struct sweep *sw, char *err, size_t errlen)
{
	return set_status(sw, SWEEP_RUNNING, err, errlen);
}

void
sched_stop_all(struct server *s)
{
	for (struct sweep *sw = s->sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->running; t; t = t->next)
			trial_stop(t, STOP_SHUTDOWN, "sweepd shut down");
}

void
sched_free_all(struct server *s)
{
	struct sweep *sw;

	while ((sw = s->sweeps)) {
		s->sweeps = sw->next;
		sweep_free(sw);
	}
}

/* ---- start-up --------------------------------------------------------- */

struct rows {
	struct db_trial_row *v;
	char **strs;               /* owned copies of params_json and status */
	int n, cap;
};

static int
collect_trial(void *ud, const struct db_trial_row *r)
{
	struct rows *rows = ud;

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

static void
rows_free(struct rows *rows)
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
end_interrupted(struct db *db, const struct db_trial_row *r, const char *status,
		const char *msg)
{
	struct db_trial_end e = {
		.status = status, .objective = r->objective,
		.best_epoch = r->best_epoch, .test_loss = NAN, .test_acc = NAN,
		.error = msg, .error_class = "interrupted", .exit_code = -1,
		.now = server_now(),
	};

	return db_trial_end(db, r->id, &e);
}

/* Trials of ended sweeps that were queued or running when sweepd went
 * down: the only rows of an ended sweep a start reads. */
static int
settle_ended_sweeps(struct server *s)
{
	struct rows rows = { 0 };
	int rc = db_load_unsettled(s->db, collect_trial, &rows);

	for (int i = 0; rc == 0 && i < rows.n; i++) {
		const struct db_trial_row *r = &rows.v[i];
		if (strcmp(r->status, "running") == 0)
			kill_orphan(r);
		rc = end_interrupted(s->db, r, "cancelled",
				     "the sweep ended while sweepd was down");
	}
	rows_free(&rows);
	return rc;
}

static int
load_trial(struct sweep *sw, const struct db_trial_row *r)
{
	struct server *s = sw->srv;
	struct sweep_hist *h;
	struct trial *t;
	int running = strcmp(r->status, "running") == 0;
	int rc;

	if (r->number > sw->n_created)
		sw->n_created = r->number;
	h = hist_at(sw, r->number);
	if (h) {
		h->params = cJSON_Parse(r->params_json);
		h->value = r->objective;
		h->state = strcmp(r->status, "completed") == 0 ? SAMPLER_COMPLETE :
			   strcmp(r->status, "pruned") == 0 ? SAMPLER_PRUNED :
			   strcmp(r->status, "failed") == 0 ||
			   strcmp(r->status, "cancelled") == 0 ? SAMPLER_FAILED :
			   SAMPLER_RUNNING;
	}
	if (r->epochs > 0 || strcmp(r->status, "completed") == 0 ||
	    strcmp(r->status, "pruned") == 0)
		sw->ff_off = 1;   /* fail-fast counts restart, but not past this */
	if (!running && strcmp(r->status, "queued") != 0) {
		sw->n_ended++;
		if (strcmp(r->status, "failed") == 0)
			sw->n_failed++;
		if (strcmp(r->status, "completed") == 0)
			sw->n_completed++;
		return 0;
	}
	if (running) {
		kill_orphan(r);
		if (r->attempt > sw->spec->retries + RESTART_ALLOWANCE) {
			sw->n_ended++;
			sw->n_failed++;
			return end_interrupted(s->db, r, "failed",
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
	queue_push(sw, t);
	return 0;
}

struct curve_ctx {
	struct sweep *sw;
	const struct rows *rows;
	int last;                  /* index of the last matched row */
};

/* Curves come ordered by trial, so the last match is nearly always right. */
static int
on_curve_point(void *ud, int64_t trial_id, int epoch, double objective)
{
	struct curve_ctx *cc = ud;
	const struct rows *rows = cc->rows;

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
	hist_push(cc->sw, rows->v[cc->last].number, epoch, objective);
	return 0;
}

static int
load_sweep(struct server *s, const struct db_sweep_row *r, char *err,
	   size_t errlen)
{
	struct spec *sp = NULL;
	struct sweep *sw;
	struct rows rows = { 0 };
	cJSON *json = cJSON_Parse(r->spec_json);
	int rc;

	rc = json ? spec_parse(json, &sp, err, errlen) : -EINVAL;
	cJSON_Delete(json);
	if (rc < 0) {
		log_error("sweep %" PRId64 ": stored spec no longer valid (%s): "
			  "marked failed", r->id, err);
		return db_sweep_set_status(s->db, r->id, "failed",
					   "stored spec no longer valid",
					   server_now());
	}
	sw = sweep_new(s, r->id, sp);
	if (!sw) {
		spec_free(sp);
		return -ENOMEM;
	}
	sw->status = strcmp(r->status, "paused") == 0 ? SWEEP_PAUSED : SWEEP_RUNNING;
	sweep_insert(s, sw);
	rc = db_load_trials(s->db, sw->id, collect_trial, &rows);
	for (int i = 0; rc == 0 && i < rows.n; i++)
		rc = load_trial(sw, &rows.v[i]);
	if (rc == 0 && sw->need_history) {
		struct curve_ctx cc = { .sw = sw, .rows = &rows };
		rc = db_load_curves(s->db, sw->id, on_curve_point, &cc);
	}
	rows_free(&rows);
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
sched_load(struct server *s, char *err, size_t errlen)
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
		rc = load_sweep(s, &r, err, errlen);
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

/* ---- extend ----------------------------------------------------------- */

/* The stored spec with search.trials raised by n, checked as a submit
 * would; *text is the new spec's JSON (the caller frees). */
static int
extended_spec(struct server *s, int64_t id, int n, char **text, int *trials,
	      char *err, size_t errlen)
{
	cJSON *sum = NULL, *spec, *search, *num;
	struct spec *sp = NULL;
	int rc = db_sweep_json(s->db, id, &sum);

	*text = NULL;
	if (rc < 0)
		return rc;
	spec = cJSON_GetObjectItemCaseSensitive(sum, "spec");
	search = cJSON_GetObjectItemCaseSensitive(spec, "search");
	num = cJSON_GetObjectItemCaseSensitive(search, "trials");
	rc = -EINVAL;
	if (!cJSON_IsNumber(num)) {
		snprintf(err, errlen, "sweep %" PRId64 ": stored spec has no "
			 "search.trials", id);
		goto out;
	}
	cJSON_SetNumberValue(num, num->valuedouble + n);
	if ((rc = spec_parse(spec, &sp, err, errlen)) < 0)
		goto out;
	*trials = sp->trials;
	*text = cJSON_PrintUnformatted(spec);
	rc = *text ? 0 : -ENOMEM;
out:
	spec_free(sp);
	cJSON_Delete(sum);
	return rc;
}

/* extend and rerun of a sweep still in memory: running or paused, or
 * ended but still stopping its trials (a cancel kills them first). */
static int
still_active(struct server *s, int64_t id, const char *what, char *err,
	     size_t errlen)
{
	struct sweep *sw = sched_find(s, id);

	if (!sw->ending &&
	    (sw->status == SWEEP_RUNNING || sw->status == SWEEP_PAUSED))
		snprintf(err, errlen, "sweep %" PRId64 " is still active: %s "
			 "works on an ended sweep", id, what);
	else
		snprintf(err, errlen, "sweep %" PRId64 " is still stopping its "
			 "trials: %s it again in a moment", id, what);
	return -EALREADY;
}

/* An ended sweep, reopened with n more trials and loaded as at a start
 * (not kicked yet). */
static int
reopen(struct server *s, int64_t id, int n, const char *what, char *err,
       size_t errlen)
{
	struct db_sweep_row r = { .id = id, .status = "running" };
	char *text = NULL;
	int trials = 0, rc;

	if (sched_find(s, id))
		return still_active(s, id, what, err, errlen);
	rc = extended_spec(s, id, n, &text, &trials, err, errlen);
	if (rc == 0)
		rc = db_sweep_reopen(s->db, id, text, trials);
	r.spec_json = text;
	if (rc == 0)
		rc = load_sweep(s, &r, err, errlen);
	if (rc == 0)
		log_info("sweep %" PRId64 " reopened with %d trials (%s)", id,
			 trials, what);
	free(text);
	return rc;
}

int
sched_extend(struct server *s, int64_t id, int n, char *err, size_t errlen)
{
	int rc = reopen(s, id, n, "extend", err, errlen);

	if (rc == 0)
		sched_kick(s);
	return rc;
}

/* Trial number's stored params and seed, copied into *params. */
static int
stored_trial(struct server *s, int64_t id, int number, char **params,
	     uint64_t *seed, char *err, size_t errlen)
{
	struct rows rows = { 0 };
	int rc = db_load_trials(s->db, id, collect_trial, &rows);

	*params = NULL;
	for (int i = 0; rc == 0 && i < rows.n; i++)
		if (rows.v[i].number == number) {
			*seed = rows.v[i].seed;
			if (!(*params = strdup(rows.v[i].params_json)))
				rc = -ENOMEM;
			break;
		}
	rows_free(&rows);
	if (rc == 0 && !*params) {
		snprintf(err, errlen, "sweep %" PRId64 " has no trial %d", id,
			 number);
		rc = -ENOENT;
	}
	return rc;
}

int
sched_rerun(struct server *s, int64_t id, int number, int *new_number,
	    char *err, size_t errlen)
{
	struct sweep *sw;
	struct trial *t = NULL;
	char *params = NULL;
	uint64_t seed = 0;
	int64_t tid;
	int rc;

	if (sched_find(s, id))
		return still_active(s, id, "rerun", err, errlen);
	rc = stored_trial(s, id, number, &params, &seed, err, errlen);
	if (rc == 0)
		rc = reopen(s, id, 1, "rerun", err, errlen);
	if (rc < 0 || !(sw = sched_find(s, id)))
		goto out;
	*new_number = sw->n_created + 1;
	rc = db_trial_create(s->db, id, *new_number, params, seed, &tid);
	if (rc == 0 && !(t = trial_new(sw, tid, *new_number, 0, seed, params)))
		rc = -ENOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the new trial: %s",
			 strerror(-rc));
		goto out;
	}
	sw->n_created = *new_number;
	hist_set_params(sw, *new_number, params);
	queue_push(sw, t);
	sched_kick(s);
out:
	free(params);
	return rc;
}
