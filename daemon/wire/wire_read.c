/*
 * daemon/wire/wire_read.c: the protocol's objects read from the database
 * (trial objects, sweep summaries, failure groups, epoch pages, verdict
 * counts), built from the rows daemon/store/ hands out (contract in
 * wire.h, the protocol in docs/DESIGN.md, "Client protocol").
 */
#include "daemon/wire/wire.h"
#include "daemon/wire/wire_impl.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "common/vocab.h"

/* ---- members ---------------------------------------------------------- */

/* The parsed JSON text, or null when NULL or unparsable (stored text was
 * checked on the way in; a hand edit may still break it). */
static void
add_parsed(cJSON *o, const char *key, const char *s)
{
	cJSON *j = s ? cJSON_Parse(s) : NULL;

	if (!j)
		j = cJSON_CreateNull();
	if (!cJSON_AddItemToObject(o, key, j))
		cJSON_Delete(j);
}

static int
in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Moves every member of the metrics object text into o, except the keys
 * in skip (NULL-terminated), which o already holds. */
static void
add_metrics(cJSON *o, const char *metrics_json, const char *const *skip)
{
	cJSON *m = metrics_json ? cJSON_Parse(metrics_json) : NULL;
	cJSON *c;

	while (cJSON_IsObject(m) && (c = m->child)) {
		cJSON_DetachItemViaPointer(m, c);
		if (!c->string || in_list(c->string, skip) ||
		    !cJSON_AddItemToObject(o, c->string, c))
			cJSON_Delete(c);
	}
	cJSON_Delete(m);
}

/* Appends a new item to the array ctx: 0, or -ENOMEM (item freed). */
static int
append(cJSON *arr, cJSON *item)
{
	if (!item || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

/* Stores the filled container c in *out when rc is 0, else frees it. */
static int
give(int rc, cJSON *c, cJSON **out)
{
	*out = NULL;
	if (rc == 0 && !c)
		rc = -ENOMEM;
	if (rc < 0) {
		cJSON_Delete(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- trial objects ---------------------------------------------------- */

/* "note" and "error": error class "note" on a completed trial holds a
 * remark on how it ended (e.g. without a final report line), not a
 * failure (storage.md). */
static void
add_error(cJSON *t, const struct db_trial_rec *r)
{
	cJSON *e;

	if (vocab_class_parse(r->error_class) == CLASS_NOTE) {
		wire_add_str(t, "note", r->error);
		cJSON_AddNullToObject(t, "error");
		return;
	}
	cJSON_AddNullToObject(t, "note");
	if (!r->error && !r->error_class) {
		cJSON_AddNullToObject(t, "error");
		return;
	}
	e = cJSON_AddObjectToObject(t, "error");
	wire_add_str(e, "class", r->error_class);
	wire_add_str(e, "message", r->error);
	wire_add_num(e, "exit_code", r->exit_code);
	wire_add_num(e, "signal", r->signal);
}

static cJSON *
trial_object(const struct db_trial_rec *r)
{
	cJSON *t = cJSON_CreateObject();

	if (!t)
		return NULL;
	cJSON_AddNumberToObject(t, "id", (double)r->id);
	cJSON_AddNumberToObject(t, "number", r->number);
	wire_add_str(t, "status", r->status);
	cJSON_AddNumberToObject(t, "attempt", r->attempt);
	add_parsed(t, "params", r->params_json);
	/* Exact while the seed is below 2^53, as the daemon's seeds are. */
	cJSON_AddNumberToObject(t, "seed", (double)r->seed);
	wire_add_num(t, "objective", r->objective);
	wire_add_num(t, "best_epoch", r->best_epoch);
	cJSON_AddNumberToObject(t, "epochs", r->epochs);
	wire_add_num(t, "test_loss", r->test_loss);
	wire_add_num(t, "test_acc", r->test_acc);
	add_parsed(t, "diagnosis", r->diagnosis_json);
	add_error(t, r);
	wire_add_num(t, "started_at", r->started_at);
	wire_add_num(t, "ended_at", r->ended_at);
	wire_add_num(t, "job", r->job);
	wire_add_num(t, "queue_s", r->queue_s);
	/* ASHA's promotion (pruner.promote): how many attempts were
	 * promotions, and the highest rung one came from (null: never) */
	cJSON_AddNumberToObject(t, "promotions", r->promotions);
	if (r->promoted_rung > 0)
		cJSON_AddNumberToObject(t, "promoted_rung", r->promoted_rung);
	else
		cJSON_AddNullToObject(t, "promoted_rung");
	return t;
}

static int
append_trial(void *ud, const struct db_trial_rec *r)
{
	return append(ud, trial_object(r));
}

int
wire_trials_json(struct db *db, int64_t sweep_id, cJSON **out)
{
	int64_t total;

	return wire_trials_page_json(db, sweep_id, 0, -1, out, &total);
}

int
wire_trials_page_json(struct db *db, int64_t sweep_id, int64_t offset,
		      int64_t limit, cJSON **out, int64_t *total)
{
	cJSON *arr;
	int rc;

	*out = NULL;
	*total = 0;
	if (offset < 0)
		return db_trials_page(db, sweep_id, offset, limit, append_trial,
				      NULL);   /* -EINVAL, with its message */
	/* The loop is the only writer: the count and the page see the same
	 * rows. */
	rc = db_trials_count(db, sweep_id, total);
	if (rc < 0)
		return rc;
	arr = cJSON_CreateArray();
	if (!arr)
		return -ENOMEM;
	rc = db_trials_page(db, sweep_id, offset, limit, append_trial, arr);
	return give(rc, arr, out);
}

/* The single trial of a point read: the object, its id and attempt. */
struct one_trial {
	cJSON *t;
	int64_t id;
	int attempt;
	int detail;   /* with stderr_tail */
};

static int
take_trial(void *ud, const struct db_trial_rec *r)
{
	struct one_trial *o = ud;

	o->t = trial_object(r);
	if (!o->t)
		return -ENOMEM;
	if (o->detail)
		wire_add_str(o->t, "stderr_tail", r->stderr_tail);
	o->id = r->id;
	o->attempt = r->attempt;
	return 0;
}

int
wire_best_json(struct db *db, int64_t sweep_id, int mode_max, cJSON **out)
{
	struct one_trial o = { 0 };
	int rc = db_best_get(db, sweep_id, mode_max, take_trial, &o);

	return give(rc, o.t, out);
}

static int
append_curve_point(void *ud, int epoch, const char *metrics_json)
{
	static const char *const skip[] = { "epoch", NULL };
	cJSON *p = cJSON_CreateObject();

	if (p) {
		cJSON_AddNumberToObject(p, "epoch", epoch);
		add_metrics(p, metrics_json, skip);
	}
	return append(ud, p);
}

int
wire_trial_json(struct db *db, int64_t sweep_id, int64_t number, cJSON **out)
{
	struct one_trial o = { .detail = 1 };
	cJSON *curve = NULL;
	int rc = db_trial_get(db, sweep_id, number, take_trial, &o);

	if (rc == 0 && !(curve = cJSON_CreateArray()))
		rc = -ENOMEM;
	if (rc == 0)
		rc = db_curve(db, o.id, o.attempt, append_curve_point, curve);
	if (rc == 0 && !cJSON_AddItemToObject(o.t, "curve", curve))
		rc = -ENOMEM;
	if (rc < 0)
		cJSON_Delete(curve);
	return give(rc, o.t, out);
}

/* ---- epoch pages ------------------------------------------------------ */

/* A page being filled: rows up to limit, or until budget_ns have passed. */
struct epoch_page {
	cJSON *arr;
	int64_t n, limit;
	uint64_t t0, budget_ns;
	struct db_epoch_key last;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 stops the walk: the page is full. */
static int
page_epoch_row(void *ud, const struct db_epoch_row *r)
{
	static const char *const skip[] = { "number", "attempt", "epoch", NULL };
	struct epoch_page *pg = ud;
	cJSON *p = cJSON_CreateObject();

	if (p) {
		cJSON_AddNumberToObject(p, "number", (double)r->key.number);
		cJSON_AddNumberToObject(p, "attempt", (double)r->key.attempt);
		cJSON_AddNumberToObject(p, "epoch", (double)r->key.epoch);
		add_metrics(p, r->metrics_json, skip);
	}
	if (append(pg->arr, p) < 0)
		return -ENOMEM;
	pg->last = r->key;
	pg->n++;
	if (pg->n >= pg->limit)
		return 1;
	if (pg->budget_ns && pg->n % 64 == 0 &&
	    mono_ns() - pg->t0 >= pg->budget_ns)
		return 1;
	return 0;
}

int
wire_epochs_page_json(struct db *db, int64_t sweep_id,
		      const struct db_epoch_key *after, int64_t limit,
		      uint64_t budget_ns, cJSON **out, struct db_epoch_key *next,
		      int *more)
{
	struct epoch_page pg = { .arr = cJSON_CreateArray(), .limit = limit,
				 .t0 = mono_ns(), .budget_ns = budget_ns };
	int rc;

	*out = NULL;
	*more = 0;
	if (!pg.arr)
		return -ENOMEM;
	rc = db_epochs_after(db, sweep_id, after, limit, page_epoch_row, &pg);
	if (rc < 0) {
		cJSON_Delete(pg.arr);
		return rc;
	}
	*more = rc == 1;
	*next = pg.last;
	*out = pg.arr;
	return 0;
}

cJSON *
wire_epoch_key(const struct db_epoch_key *k)
{
	cJSON *n = cJSON_CreateObject();

	if (!n)
		return NULL;
	cJSON_AddNumberToObject(n, "number", (double)k->number);
	cJSON_AddNumberToObject(n, "attempt", (double)k->attempt);
	cJSON_AddNumberToObject(n, "epoch", (double)k->epoch);
	return n;
}

/* ---- verdicts and failures -------------------------------------------- */

static int
add_verdict(void *ud, const char *verdict, int count)
{
	return cJSON_AddNumberToObject(ud, verdict, count) ? 0 : -ENOMEM;
}

int
wire_verdicts_json(struct db *db, int64_t sweep_id, cJSON **out)
{
	cJSON *o = cJSON_CreateObject();
	int rc = o ? db_verdicts(db, sweep_id, add_verdict, o) : -ENOMEM;

	return give(rc, o, out);
}

static int
append_failure(void *ud, const char *cls, const char *msg, int count)
{
	cJSON *f = cJSON_CreateObject();

	if (f) {
		cJSON_AddStringToObject(f, "class", cls);
		cJSON_AddStringToObject(f, "message", msg);
		cJSON_AddNumberToObject(f, "count", count);
	}
	return append(ud, f);
}

int
wire_failures_json(struct db *db, int64_t sweep_id, int limit, cJSON **out)
{
	cJSON *arr = cJSON_CreateArray();
	int rc = arr ? db_failures(db, sweep_id, limit, append_failure, arr)
		     : -ENOMEM;

	return give(rc, arr, out);
}

cJSON *
wire_trial_object(const struct db_trial_rec *r)
{
	return trial_object(r);
}
