/*
 * control.c: what clients change (control.h).
 */
#include "daemon/sched/control.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/cmdcheck.h"
#include "common/json.h"
#include "common/vocab.h"
#include "daemon/log.h"
#include "daemon/sched/slurm_sched.h"
#include "daemon/sched/hold.h"
#include "daemon/sched/recover.h"
#include "daemon/sched/scheduler.h"
#include "daemon/sched/trial.h"
#include "daemon/search/builtin.h"
#include "daemon/search/spec.h"
#include "daemon/sched/state.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"

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
		struct sweep_hist *h = hist_at(&sw->hist, sw->n_created);

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
	int learn = hist_any_valued(&sw->hist, sw->n_created), i = 0, rc = 0;

	for (; one && rc == 0; one = cJSON_IsArray(params) ? one->next : NULL) {
		struct trial *t;
		char where[32];

		/* Checked here too, so that the message names the set. */
		snprintf(where, sizeof where, "params[%d]", i + 1);   /* 1-based */
		rc = spec_check_params(sw->spec, one, where, err, errlen);
		if (rc < 0)
			return rc;
		rc = sched_create_trial(sw, one, learn, &t, err, errlen);
		if (rc == 0)
			sweep_queue_push(sw, t);
		i++;
	}
	return rc;
}

/* Ends the transaction of a submit or enqueue: committed when rc == 0,
 * else rolled back. Returns rc or the commit's failure (with err). */
static int
end_group(struct sched *s, int rc, char *err, size_t errlen)
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
begin_group(struct sched *s, char *err, size_t errlen)
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
	rc = begin_group(sw->sched, err, errlen);
	if (rc == 0)
		rc = end_group(sw->sched, create_list(sw, params, err, errlen),
			       err, errlen);
	if (rc < 0) {
		forget_created(sw, before);
		return rc;
	}
	*n_out = sw->n_created - before;
	sched_kick(sw->sched);
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
 * yet in the scheduler's list. */
static int
store_sweep(struct sched *s, struct spec *sp, struct sweep **out, char *err,
	    size_t errlen)
{
	struct sweep *sw = NULL;
	char *text = json_print(sp->json);
	int64_t id;
	int rc = text ? begin_group(s, err, errlen) : -ENOMEM;

	if (rc < 0)
		goto out;
	rc = db_sweep_create(s->db, sp->name, text, sp->trials, sched_now(),
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
sched_submit(struct sched *s, const cJSON *spec_json, int64_t *id_out,
	     char *err, size_t errlen)
{
	struct spec *sp = NULL;
	struct sweep *sw = NULL;
	struct slurm_opts so;
	int rc, slurm = 0;

	rc = check_submitted(spec_json, &sp, err, errlen);
	if (rc < 0)
		return rc;
	rc = sched_slurm_resolve(s, sp, &slurm, &so, err, errlen);
	if (rc == 0 && slurm)   /* Slurm refuses what no node can meet */
		rc = sched_slurm_refuse(s, sp, &so, err, errlen);
	else if (rc == 0)   /* a trial that could never fit would wait forever */
		rc = res_check_spec(&s->res, sp, err, errlen);
	if (rc == 0)
		rc = store_sweep(s, sp, &sw, err, errlen);
	if (rc < 0) {
		if (rc == -ENOMEM && !err[0])
			snprintf(err, errlen, "out of memory");
		slurm_opts_free(&so);
		spec_free(sp);
		return rc;
	}
	sw->slurm = slurm;
	sw->slurm_opts = so;
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
			 vocab_sweep_name(st));
		return -EALREADY;
	}
	rc = db_sweep_set_status(sw->sched->db, sw->id, vocab_sweep_name(st),
				 NULL, sched_now());
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the new status: %s",
			 strerror(-rc));
		return rc;
	}
	sw->status = st;
	sweep_broadcast_event(sw, st == SWEEP_PAUSED ? "sweep_paused"
						   : "sweep_resumed", st, NULL);
	sched_kick(sw->sched);
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

/* ---- extend ----------------------------------------------------------- */

/* The stored spec with search.trials raised by n, checked as a submit
 * would; *text is the new spec's JSON (the caller frees). */
static int
extended_spec(struct sched *s, int64_t id, int n, char **text, int *trials,
	      char *err, size_t errlen)
{
	cJSON *sum = NULL, *spec, *search, *num;
	struct spec *sp = NULL;
	int rc = wire_sweep_json(s->db, id, &sum);

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
still_active(struct sched *s, int64_t id, const char *what, char *err,
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
reopen(struct sched *s, int64_t id, int n, const char *what, char *err,
       size_t errlen)
{
	struct db_sweep_row r = {
		.id = id, .status = vocab_sweep_name(SWEEP_RUNNING),
	};
	char *text = NULL;
	int trials = 0, rc;

	if (sched_find(s, id))
		return still_active(s, id, what, err, errlen);
	rc = extended_spec(s, id, n, &text, &trials, err, errlen);
	if (rc == 0)
		rc = db_sweep_reopen(s->db, id, text, trials);
	r.spec_json = text;
	if (rc == 0)
		rc = recover_load_sweep(s, &r, err, errlen);
	if (rc == 0)
		log_info("sweep %" PRId64 " reopened with %d trials (%s)", id,
			 trials, what);
	free(text);
	return rc;
}

int
sched_extend(struct sched *s, int64_t id, int n, char *err, size_t errlen)
{
	int rc = reopen(s, id, n, "extend", err, errlen);

	if (rc == 0)
		sched_kick(s);
	return rc;
}

/* Trial number's stored params and seed, copied into *params. */
static int
stored_trial(struct sched *s, int64_t id, int number, char **params,
	     uint64_t *seed, char *err, size_t errlen)
{
	struct recover_rows rows = { 0 };
	int rc = db_load_trials(s->db, id, recover_collect_trial, &rows);

	*params = NULL;
	for (int i = 0; rc == 0 && i < rows.n; i++)
		if (rows.v[i].number == number) {
			*seed = rows.v[i].seed;
			if (!(*params = strdup(rows.v[i].params_json)))
				rc = -ENOMEM;
			break;
		}
	recover_rows_free(&rows);
	if (rc == 0 && !*params) {
		snprintf(err, errlen, "sweep %" PRId64 " has no trial %d", id,
			 number);
		rc = -ENOENT;
	}
	return rc;
}

int
sched_rerun(struct sched *s, int64_t id, int number, int *new_number,
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
	hist_set_params(&sw->hist, *new_number, params);
	sweep_queue_push(sw, t);
	sched_kick(s);
out:
	free(params);
	return rc;
}
