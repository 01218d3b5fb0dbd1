/*
 * tests/db/test_db.c: the storage API round trip. Every test opens its own
 * database in its own temp dir, writes through db_ calls and checks the
 * exact values that come back through the loaders and the *_json reads.
 */
#include "tests/db/dbtest.h"

#define SPEC_MAX "{\"name\":\"s\",\"objective\":{\"metric\":\"val_acc\"," \
		 "\"mode\":\"max\"},\"search\":{\"trials\":4}}"
#define SPEC_MIN "{\"name\":\"m\",\"objective\":{\"metric\":\"val_loss\"," \
		 "\"mode\":\"min\"}}"

static struct db_trial_end
end_completed(double objective, int best_epoch, double now)
{
	struct db_trial_end e = {
		.status = "completed", .objective = objective,
		.best_epoch = best_epoch, .test_loss = NAN, .test_acc = NAN,
		.exit_code = 0, .now = now,
	};
	return e;
}

/* A trial that ran attempt 1 with the given per-epoch objectives and
 * completed with the best of them (mode max). */
static int64_t
completed_trial(struct db *db, int64_t sweep, int number, const double *obj,
		int n, int mode_max)
{
	int64_t id = -1;
	int best = 0;
	char m[128];

	CHECK(db_trial_create(db, sweep, number, "{\"x\":1}", 7, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1000 + number, 55, 10.0) == 0);
	for (int e = 1; e <= n; e++) {
		snprintf(m, sizeof m, "{\"epoch\":%d,\"val_acc\":%.17g}", e,
			 obj[e - 1]);
		CHECK(db_trial_epoch(db, id, 1, e, obj[e - 1], m) == 0);
		if (!best || (mode_max ? obj[e - 1] > obj[best - 1]
				       : obj[e - 1] < obj[best - 1]))
			best = e;
	}
	struct db_trial_end e = end_completed(obj[best - 1], best, 20.0);
	CHECK(db_trial_end(db, id, &e) == 0);
	return id;
}

static void
open_close_null_is_harmless(void)
{
	db_close(NULL);
	CHECK(db_schema_version(NULL) == -EINVAL);
	CHECK_STR(db_last_error(NULL), "");
}

static void
create_start_epoch_end_round_trip(void)
{
	struct tdir t;
	struct db *db;
	cJSON *j = NULL, *one = NULL, *arr = NULL;
	int64_t sid = 0, tid = 0;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "fashion", SPEC_MAX, 4, 1000.5, &sid) == 0);
	CHECK(sid == 1);
	CHECK(db_trial_create(db, sid, 1, "{\"lr\":0.001,\"act\":\"relu\"}",
			      12345678901ULL, &tid) == 0);
	CHECK(db_trial_start(db, tid, 1, 4242, 987654, 1001.25) == 0);
	CHECK(db_trial_epoch(db, tid, 1, 1, 0.81,
		"{\"epoch\":1,\"train_loss\":0.61,\"val_loss\":0.52,"
		"\"train_acc\":0.78,\"val_acc\":0.81,\"grad_norm\":[0.3,0.1]}") == 0);
	CHECK(db_trial_epoch(db, tid, 1, 2, 0.84,
		"{\"epoch\":2,\"train_loss\":0.41,\"val_loss\":0.45,"
		"\"train_acc\":0.85,\"val_acc\":0.84,\"lr\":0.001}") == 0);
	CHECK(db_trial_set_diagnosis(db, tid, "{\"verdict\":\"good_fit\"}") == 0);
	struct db_trial_end e = {
		.status = "completed", .objective = 0.84, .best_epoch = 2,
		.test_loss = 0.33, .test_acc = 0.884, .diagnosis_json = NULL,
		.exit_code = 0, .signal = 0, .stderr_tail = "done\n",
		.now = 1005.75,
	};
	CHECK(db_trial_end(db, tid, &e) == 0);

	CHECK(wire_trials_json(db, sid, &arr) == 0);
	CHECK(cJSON_GetArraySize(arr) == 1);
	const cJSON *tr = cJSON_GetArrayItem(arr, 0);
	CHECK(jnum(tr, "id") == (double)tid);
	CHECK(jnum(tr, "number") == 1);
	CHECK_STR(jstr(tr, "status"), "completed");
	CHECK(jnum(tr, "attempt") == 1);
	CHECK(jnum(jget(tr, "params"), "lr") == 0.001);
	CHECK_STR(jstr(jget(tr, "params"), "act"), "relu");
	CHECK(jnum(tr, "seed") == 12345678901.0);
	CHECK(jnum(tr, "objective") == 0.84);
	CHECK(jnum(tr, "best_epoch") == 2);
	CHECK(jnum(tr, "epochs") == 2);
	CHECK(jnum(tr, "test_loss") == 0.33);
	CHECK(jnum(tr, "test_acc") == 0.884);
	/* db_trial_end with diagnosis NULL keeps the live one. */
	CHECK_STR(jstr(jget(tr, "diagnosis"), "verdict"), "good_fit");
	CHECK(jnull(tr, "error"));
	CHECK(jnum(tr, "started_at") == 1001.25);
	CHECK(jnum(tr, "ended_at") == 1005.75);
	CHECK(jget(tr, "curve") == NULL);

	CHECK(wire_trial_json(db, sid, 1, &one) == 0);
	CHECK_STR(jstr(one, "stderr_tail"), "done\n");
	const cJSON *curve = jget(one, "curve");
	CHECK(cJSON_GetArraySize(curve) == 2);
	const cJSON *p1 = cJSON_GetArrayItem(curve, 0);
	const cJSON *p2 = cJSON_GetArrayItem(curve, 1);
	CHECK(jnum(p1, "epoch") == 1);
	CHECK(jnum(p1, "train_loss") == 0.61);
	CHECK(jnum(p1, "val_acc") == 0.81);
	CHECK(cJSON_GetArraySize(jget(p1, "grad_norm")) == 2);
	CHECK(jnum(p2, "epoch") == 2);
	CHECK(jnum(p2, "val_acc") == jnum(one, "objective"));
	CHECK(jnum(p2, "lr") == 0.001);
	/* "epoch" comes first and once. */
	CHECK_STR(p2->child ? p2->child->string : NULL, "epoch");
	CHECK(cJSON_GetArraySize((cJSON *)p2) == 6);

	CHECK(wire_sweep_json(db, sid, &j) == 0);
	CHECK(jnum(j, "id") == 1);
	CHECK_STR(jstr(j, "name"), "fashion");
	CHECK_STR(jstr(j, "status"), "running");
	CHECK(jnum(j, "created_at") == 1000.5);
	CHECK(jnull(j, "ended_at"));
	CHECK(jnull(j, "error"));
	CHECK(jnum(j, "trials_total") == 4);
	CHECK(jnum(jget(j, "counts"), "completed") == 1);
	CHECK(jnum(jget(j, "counts"), "queued") == 0);
	CHECK(jnum(jget(j, "counts"), "running") == 0);
	CHECK_STR(jstr(jget(j, "objective"), "metric"), "val_acc");
	CHECK_STR(jstr(jget(j, "objective"), "mode"), "max");
	CHECK(jnum(jget(j, "best"), "number") == 1);
	CHECK(jnum(jget(j, "best"), "objective") == 0.84);
	CHECK(jnum(jget(jget(j, "spec"), "search"), "trials") == 4);

	cJSON_Delete(j);
	cJSON_Delete(one);
	cJSON_Delete(arr);
	db_close(db);
	tdir_clean(&t);
}

static void
sweep_status_sets_and_clears_ended_at(void)
{
	struct tdir t;
	struct db *db;
	cJSON *j = NULL, *all = NULL;
	int64_t a = 0, b = 0;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "a", SPEC_MAX, 2, 1.0, &a) == 0);
	CHECK(db_sweep_create(db, "b", SPEC_MIN, 3, 2.0, &b) == 0);
	CHECK(db_sweep_set_status(db, a, "failed", "too many failures", 9.5) == 0);
	CHECK(wire_sweep_json(db, a, &j) == 0);
	CHECK_STR(jstr(j, "status"), "failed");
	CHECK_STR(jstr(j, "error"), "too many failures");
	CHECK(jnum(j, "ended_at") == 9.5);
	cJSON_Delete(j);
	CHECK(db_sweep_set_status(db, b, "paused", NULL, 3.0) == 0);
	CHECK(db_sweep_set_status(db, b, "running", NULL, 4.0) == 0);
	CHECK(wire_sweep_json(db, b, &j) == 0);
	CHECK(jnull(j, "ended_at"));
	CHECK_STR(jstr(jget(j, "objective"), "mode"), "min");
	cJSON_Delete(j);
	CHECK(db_sweep_set_spec(db, b, "{\"objective\":{\"metric\":\"x\"}}") == 0);
	CHECK(wire_sweeps_json(db, &all) == 0);
	CHECK(cJSON_GetArraySize(all) == 2);
	const cJSON *s1 = cJSON_GetArrayItem(all, 0), *s2 = cJSON_GetArrayItem(all, 1);
	CHECK(jnum(s1, "id") == (double)a && jnum(s2, "id") == (double)b);
	CHECK(jnull(s1, "best"));
	CHECK(jget(s1, "spec") == NULL && jget(s1, "error") == NULL);
	CHECK_STR(jstr(jget(s2, "objective"), "metric"), "x");
	CHECK_STR(jstr(jget(s2, "objective"), "mode"), "max");
	cJSON_Delete(all);
	db_close(db);
	tdir_clean(&t);
}

static int
count_sweep(void *ud, const struct db_sweep_row *r)
{
	int *n = ud;

	CHECK(r->name && r->spec_json && r->status);
	CHECK(r->trials_total == 5);
	CHECK(r->created_at == 3.0);
	(*n)++;
	return 0;
}

static int
stop_at_first(void *ud, const struct db_sweep_row *r)
{
	(void)r;
	(*(int *)ud)++;
	return 42;
}

static void
load_sweeps_filters_active(void)
{
	struct tdir t;
	struct db *db;
	int64_t id;
	int n = 0;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	for (int i = 0; i < 4; i++)
		CHECK(db_sweep_create(db, "s", SPEC_MAX, 5, 3.0, &id) == 0);
	CHECK(db_sweep_set_status(db, 1, "completed", NULL, 4.0) == 0);
	CHECK(db_sweep_set_status(db, 2, "paused", NULL, 4.0) == 0);
	CHECK(db_sweep_set_status(db, 3, "cancelled", NULL, 4.0) == 0);
	CHECK(db_load_sweeps(db, 0, count_sweep, &n) == 0);
	CHECK(n == 4);
	n = 0;
	CHECK(db_load_sweeps(db, 1, count_sweep, &n) == 0);
	CHECK(n == 2);   /* the paused one and the running one */
	n = 0;
	CHECK(db_load_sweeps(db, 0, stop_at_first, &n) == 42);
	CHECK(n == 1);
	/* The walk left no statement busy: writes still commit. */
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 5, 3.0, &id) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 5);
	db_close(db);
	tdir_clean(&t);
}

struct trial_rows {
	int n;
	int numbers[8];
	struct db_trial_row last;
	char status[8][16];
};

static int
collect_trial(void *ud, const struct db_trial_row *r)
{
	struct trial_rows *rows = ud;

	if (rows->n < 8) {
		rows->numbers[rows->n] = r->number;
		snprintf(rows->status[rows->n], 16, "%s", r->status);
	}
	rows->n++;
	rows->last = *r;
	rows->last.params_json = rows->last.status = NULL;   /* borrowed */
	return 0;
}

static void
load_trials_in_number_order(void)
{
	struct tdir t;
	struct db *db;
	struct trial_rows rows = { 0 };
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 3, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 3, "{}", 3, &id) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_create(db, sid, 2, "{}", UINT64_MAX, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 777, 123456789012LL, 2.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{}") == 0);
	CHECK(db_load_trials(db, sid, collect_trial, &rows) == 0);
	CHECK(rows.n == 3);
	CHECK(rows.numbers[0] == 1 && rows.numbers[1] == 2 && rows.numbers[2] == 3);
	CHECK_STR(rows.status[1], "running");
	CHECK_STR(rows.status[0], "queued");
	memset(&rows, 0, sizeof rows);
	CHECK(db_load_trials(db, sid, collect_trial, &rows) == 0);
	/* The last row is number 3: queued, never started. */
	CHECK(rows.last.number == 3 && rows.last.pid == 0 &&
	      rows.last.proc_start == 0 && rows.last.attempt == 0);
	CHECK(isnan(rows.last.objective) && rows.last.best_epoch == 0);
	CHECK(rows.last.seed == 3);
	memset(&rows, 0, sizeof rows);
	CHECK(db_load_trials(db, 99, collect_trial, &rows) == 0);
	CHECK(rows.n == 0);
	db_close(db);
	tdir_clean(&t);
}

/* Of an ended sweep a start reads only what its end left queued or running
 * (the daemon died between the sweep's end and its trials'): never the
 * settled rows, never an active sweep's, and by two index seeks per ended
 * sweep, not a walk over its trials. */
static void
unsettled_skips_settled_trials(void)
{
	struct tdir t;
	struct db *db;
	struct trial_rows rows = { 0 };
	int64_t ended, active, id;
	int64_t before;
	char plan[1024];

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "ended", SPEC_MAX, 40, 1.0, &ended) == 0);
	CHECK(db_sweep_create(db, "active", SPEC_MAX, 2, 1.0, &active) == 0);
	for (int i = 1; i <= 40; i++) {
		CHECK(db_trial_create(db, ended, i, "{}", (uint64_t)i, &id) == 0);
		if (i == 7)
			continue;   /* left queued */
		CHECK(db_trial_start(db, id, 1, 100 + i, 1000 + i, 2.0) == 0);
		if (i == 3)
			continue;   /* left running */
		struct db_trial_end e = end_completed(i / 40.0, 1, 3.0);
		CHECK(db_trial_end(db, id, &e) == 0);
	}
	CHECK(db_trial_create(db, active, 1, "{}", 1, &id) == 0);
	CHECK(db_sweep_set_status(db, ended, "cancelled", NULL, 4.0) == 0);
	before = db_trial_rows_loaded(db);
	CHECK(db_load_unsettled(db, collect_trial, &rows) == 0);
	CHECK_MSG(rows.n == 2, "%d rows", rows.n);
	CHECK(rows.numbers[0] == 3 && rows.numbers[1] == 7);
	CHECK_STR(rows.status[0], "running");
	CHECK_STR(rows.status[1], "queued");
	CHECK(rows.last.sweep_id == ended && rows.last.seed == 7);
	CHECK(db_trial_rows_loaded(db) - before == 2);
	CHECK(db_load_unsettled(db, NULL, NULL) == -EINVAL);
	CHECK(db_unsettled_plan(db, plan, sizeof plan) == 0);
	printf("# unsettled plan:\n");
	for (char *l = plan, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		printf("#   %.*s\n", (int)(nl - l), l);
	}
	CHECK_MSG(strstr(plan, "trials_best (sweep_id=? AND status=?)") &&
		  !strstr(plan, "SCAN t"), "%s", plan);
	db_close(db);
	tdir_clean(&t);
}

/* The numbers in a page of wire_trials_page_json, as "1,2,3". */
static const char *
page_numbers(struct db *db, int64_t sid, int64_t offset, int64_t limit,
	     int64_t *total)
{
	static char buf[256];
	cJSON *arr = NULL;
	const cJSON *t;
	size_t n = 0;

	buf[0] = '\0';
	if (wire_trials_page_json(db, sid, offset, limit, &arr, total) < 0)
		return "error";
	cJSON_ArrayForEach(t, arr)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%.0f",
				      n ? "," : "", jnum(t, "number"));
	cJSON_Delete(arr);
	return buf;
}

static void
trials_pages_keep_number_order_and_count_all(void)
{
	struct tdir t;
	struct db *db;
	cJSON *arr = NULL;
	int64_t sid, other, id, total = -1;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 5, 1.0, &sid) == 0);
	CHECK(db_sweep_create(db, "o", SPEC_MAX, 1, 1.0, &other) == 0);
	for (int n = 5; n >= 1; n--)   /* created out of order */
		CHECK(db_trial_create(db, sid, n, "{}", (uint64_t)n, &id) == 0);
	CHECK(db_trial_create(db, other, 1, "{}", 1, &id) == 0);

	CHECK_STR(page_numbers(db, sid, 0, -1, &total), "1,2,3,4,5");
	CHECK(total == 5);
	CHECK_STR(page_numbers(db, sid, 1, 2, &total), "2,3");
	CHECK(total == 5);
	CHECK_STR(page_numbers(db, sid, 3, 10, &total), "4,5");
	CHECK_STR(page_numbers(db, sid, 2, -1, &total), "3,4,5");
	CHECK_STR(page_numbers(db, sid, 0, 0, &total), "");
	CHECK(total == 5);
	CHECK_STR(page_numbers(db, sid, 5, 3, &total), "");
	CHECK_STR(page_numbers(db, sid, 1000000, 3, &total), "");
	CHECK(total == 5);
	CHECK_STR(page_numbers(db, other, 0, -1, &total), "1");
	CHECK(total == 1);
	CHECK_STR(page_numbers(db, 99, 0, -1, &total), "");
	CHECK(total == 0);
	CHECK(wire_trials_page_json(db, sid, -1, 2, &arr, &total) == -EINVAL);
	CHECK(arr == NULL);
	db_close(db);
	tdir_clean(&t);
}

static int
find_running(void *ud, const struct db_trial_row *r)
{
	if (strcmp(r->status, "running") == 0)
		*(struct db_trial_row *)ud = *r;
	return 0;
}

static void
trial_row_carries_pid_proc_start_and_seed(void)
{
	struct tdir t;
	struct db *db;
	struct db_trial_row r = { 0 };
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", UINT64_MAX - 5, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 31337, 123456789012LL, 2.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{}") == 0);
	CHECK(db_trial_epoch(db, id, 1, 2, 0.75, "{}") == 0);
	db_close(db);
	CHECK((db = topen(&t)) != NULL);
	CHECK(db_load_trials(db, sid, find_running, &r) == 0);
	CHECK(r.id == id && r.sweep_id == sid && r.number == 1);
	CHECK(r.pid == 31337);
	CHECK(r.proc_start == 123456789012LL);
	CHECK(r.seed == UINT64_MAX - 5);
	CHECK(r.attempt == 1 && r.epochs == 2);
	CHECK(isnan(r.objective));
	db_close(db);
	tdir_clean(&t);
}

static void
best_max_and_min_modes(void)
{
	struct tdir t;
	struct db *db;
	cJSON *b = NULL, *s = NULL;
	int64_t sid, id;
	const double c1[] = { 0.5, 0.7, 0.6 };   /* best 0.7 */
	const double c2[] = { 0.8, 0.9 };        /* best 0.9 */
	const double c3[] = { 0.2, 0.1 };        /* best 0.2 (max) */

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 5, 1.0, &sid) == 0);
	completed_trial(db, sid, 1, c1, 3, 1);
	completed_trial(db, sid, 2, c2, 2, 1);
	completed_trial(db, sid, 3, c3, 2, 1);
	/* A pruned and a running trial with better values never count. */
	CHECK(db_trial_create(db, sid, 4, "{}", 4, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	struct db_trial_end e = end_completed(0.99, 1, 2.0);
	e.status = "pruned";
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(db_trial_create(db, sid, 5, "{}", 5, &id) == 0);

	CHECK(wire_best_json(db, sid, 1, &b) == 0);
	CHECK(jnum(b, "number") == 2);
	CHECK(jnum(b, "objective") == 0.9);
	CHECK(jnum(b, "best_epoch") == 2);
	CHECK_STR(jstr(b, "status"), "completed");
	cJSON_Delete(b);
	CHECK(wire_best_json(db, sid, 0, &b) == 0);
	CHECK(jnum(b, "number") == 3);
	CHECK(jnum(b, "objective") == 0.2);
	cJSON_Delete(b);

	/* A tie goes to the lower number. */
	const double c6[] = { 0.9 };
	completed_trial(db, sid, 6, c6, 1, 1);
	CHECK(wire_best_json(db, sid, 1, &b) == 0);
	CHECK(jnum(b, "number") == 2);
	cJSON_Delete(b);

	/* The summary picks the direction from the spec. */
	CHECK(wire_sweep_json(db, sid, &s) == 0);
	CHECK(jnum(jget(s, "best"), "number") == 2);
	CHECK(jnum(jget(s, "counts"), "completed") == 4);
	CHECK(jnum(jget(s, "counts"), "pruned") == 1);
	CHECK(jnum(jget(s, "counts"), "queued") == 1);
	cJSON_Delete(s);
	CHECK(db_sweep_set_spec(db, sid, SPEC_MIN) == 0);
	CHECK(wire_sweep_json(db, sid, &s) == 0);
	CHECK(jnum(jget(s, "best"), "number") == 3);
	CHECK(jnum(jget(s, "best"), "objective") == 0.2);
	cJSON_Delete(s);
	db_close(db);
	tdir_clean(&t);
}

static void
best_without_completed_trial_is_enoent(void)
{
	struct tdir t;
	struct db *db;
	cJSON *b = (cJSON *)1, *s = NULL;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 2, 1.0, &sid) == 0);
	CHECK(wire_best_json(db, sid, 1, &b) == -ENOENT);
	CHECK(b == NULL);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	/* completed but without an objective (the trainer reported none) */
	struct db_trial_end e = end_completed(NAN, 0, 2.0);
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(wire_best_json(db, sid, 1, &b) == -ENOENT);
	CHECK(wire_best_json(db, sid, 0, &b) == -ENOENT);
	CHECK(wire_best_json(db, 77, 1, &b) == -ENOENT);
	CHECK(wire_sweep_json(db, sid, &s) == 0);
	CHECK(jnull(s, "best"));
	cJSON_Delete(s);
	/* Beside a NULL objective, min still finds the real one. */
	CHECK(db_trial_create(db, sid, 2, "{}", 2, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	e = end_completed(5.0, 1, 2.0);
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(wire_best_json(db, sid, 0, &b) == 0);
	CHECK(jnum(b, "number") == 2);
	cJSON_Delete(b);
	CHECK(wire_best_json(db, sid, 1, &b) == 0);
	CHECK(jnum(b, "number") == 2);
	cJSON_Delete(b);
	CHECK(wire_sweep_json(db, sid, &s) == 0);
	CHECK(jnum(jget(s, "best"), "objective") == 5.0);
	cJSON_Delete(s);
	db_close(db);
	tdir_clean(&t);
}

struct curve_pts {
	int n;
	int64_t trial[16];
	int epoch[16];
	double obj[16];
};

static int
collect_point(void *ud, int64_t trial_id, int epoch, double objective)
{
	struct curve_pts *c = ud;

	if (c->n < 16) {
		c->trial[c->n] = trial_id;
		c->epoch[c->n] = epoch;
		c->obj[c->n] = objective;
	}
	c->n++;
	return 0;
}

static void
nan_objective_is_stored_as_null(void)
{
	struct tdir t;
	struct db *db;
	struct curve_pts c = { 0 };
	cJSON *one = NULL;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.4, "{\"val_loss\":0.4}") == 0);
	CHECK(db_trial_epoch(db, id, 1, 2, NAN, "{\"val_loss\":null}") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs WHERE objective IS "
		      "NULL AND val_loss IS NULL AND epoch = 2") == 1);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs WHERE epoch = 1 AND "
		      "val_loss = 0.4 AND train_loss IS NULL") == 1);
	CHECK(db_load_curves(db, sid, collect_point, &c) == 0);
	CHECK(c.n == 2);
	CHECK(c.obj[0] == 0.4 && isnan(c.obj[1]));
	struct db_trial_end e = end_completed(NAN, 0, 2.0);
	e.status = "failed";
	e.error = "diverged: loss is NaN";
	e.error_class = "exit";
	e.exit_code = 3;
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(wire_trial_json(db, sid, 1, &one) == 0);
	CHECK(jnull(one, "objective"));
	CHECK(jnull(one, "best_epoch"));
	CHECK(jnull(one, "test_loss"));
	CHECK(jnull(jget(one, "curve")->child->next, "val_loss"));
	const cJSON *err = jget(one, "error");
	CHECK_STR(jstr(err, "class"), "exit");
	CHECK_STR(jstr(err, "message"), "diverged: loss is NaN");
	CHECK(jnum(err, "exit_code") == 3);
	CHECK(jnull(err, "signal"));
	cJSON_Delete(one);
	db_close(db);
	tdir_clean(&t);
}

static void
signal_end_keeps_signal_and_stderr(void)
{
	struct tdir t;
	struct db *db;
	cJSON *one = NULL;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	struct db_trial_end e = {
		.status = "failed", .objective = NAN, .test_loss = NAN,
		.test_acc = NAN, .error = "killed by signal 11",
		.error_class = "signal", .exit_code = -1, .signal = 11,
		.stderr_tail = "Segmentation fault\n",
		.diagnosis_json = "{\"verdict\":\"unknown\"}", .now = 3.0,
	};
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(wire_trial_json(db, sid, 1, &one) == 0);
	CHECK_STR(jstr(one, "status"), "failed");
	CHECK(jnum(jget(one, "error"), "signal") == 11);
	CHECK(jnull(jget(one, "error"), "exit_code"));
	CHECK_STR(jstr(jget(one, "error"), "class"), "signal");
	CHECK_STR(jstr(one, "stderr_tail"), "Segmentation fault\n");
	CHECK_STR(jstr(jget(one, "diagnosis"), "verdict"), "unknown");
	CHECK(cJSON_GetArraySize(jget(one, "curve")) == 0);
	cJSON_Delete(one);
	db_close(db);
	tdir_clean(&t);
}

static void
fail_trial(struct db *db, int64_t sid, int number, const char *cls,
	   const char *msg)
{
	int64_t id;
	struct db_trial_end e = {
		.status = "failed", .objective = NAN, .test_loss = NAN,
		.test_acc = NAN, .error = msg, .error_class = cls,
		.exit_code = 1, .now = 3.0,
	};

	CHECK(db_trial_create(db, sid, number, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	CHECK(db_trial_end(db, id, &e) == 0);
}

/* "failures": failed trials grouped by class and message, largest group
 * first, ties to the group that failed first; the list has only the top
 * group, the one sweep up to WIRE_FAILURES_DETAIL. */
static void
failures_are_grouped_by_class_and_message(void)
{
	struct tdir t;
	struct db *db;
	cJSON *f = NULL, *one = NULL, *all = NULL;
	const cJSON *g;
	int64_t sid, sid2;
	const double c[] = { 0.5 };

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 9, 1.0, &sid) == 0);
	CHECK(db_sweep_create(db, "ok", SPEC_MAX, 1, 1.0, &sid2) == 0);
	completed_trial(db, sid2, 1, c, 1, 1);
	fail_trial(db, sid, 1, "signal", "killed by signal 9");
	fail_trial(db, sid, 2, "exit", "exited with status 1: E");
	fail_trial(db, sid, 3, "exit", "exited with status 1: E");
	fail_trial(db, sid, 4, "exit", "exited with status 2");
	fail_trial(db, sid, 5, "timeout", "timed out");
	fail_trial(db, sid, 6, "signal", "killed by signal 9");
	fail_trial(db, sid, 7, "exit", "exited with status 1: E");
	completed_trial(db, sid, 8, c, 1, 1);

	CHECK(wire_failures_json(db, sid, 10, &f) == 0);
	CHECK(cJSON_GetArraySize(f) == 4);
	g = cJSON_GetArrayItem(f, 0);
	CHECK_STR(jstr(g, "class"), "exit");
	CHECK_STR(jstr(g, "message"), "exited with status 1: E");
	CHECK(jnum(g, "count") == 3);
	g = cJSON_GetArrayItem(f, 1);
	CHECK_STR(jstr(g, "class"), "signal");
	CHECK(jnum(g, "count") == 2);
	g = cJSON_GetArrayItem(f, 2);   /* 1 each: trial 4 failed before 5 */
	CHECK_STR(jstr(g, "message"), "exited with status 2");
	cJSON_Delete(f);
	CHECK(wire_failures_json(db, sid, 2, &f) == 0);
	CHECK(cJSON_GetArraySize(f) == 2);
	cJSON_Delete(f);

	CHECK(wire_sweep_json(db, sid, &one) == 0);
	CHECK(cJSON_GetArraySize(jget(one, "failures")) == 4);
	CHECK(wire_sweeps_json(db, &all) == 0);
	g = cJSON_GetArrayItem(all, 0);
	CHECK(cJSON_GetArraySize(jget(g, "failures")) == 1);
	CHECK(jnum(cJSON_GetArrayItem(jget(g, "failures"), 0), "count") == 3);
	g = cJSON_GetArrayItem(all, 1);
	CHECK(cJSON_IsArray(jget(g, "failures")) &&
	      cJSON_GetArraySize(jget(g, "failures")) == 0);
	cJSON_Delete(one);
	cJSON_Delete(all);
	/* Every summary runs it: one covering index range, no table scan
	 * and no lookup of each failed row. */
	{
		char plan[1024];
		CHECK(db_failures_plan(db, plan, sizeof plan) == 0);
		CHECK_CONTAINS(plan, "COVERING INDEX trials_failures");
		CHECK_MSG(!strstr(plan, "SCAN"), "%s", plan);
	}
	db_close(db);
	tdir_clean(&t);
}

static void
duplicate_epoch_is_eexist(void)
{
	struct tdir t;
	struct db *db;
	cJSON *one = NULL;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 9, 9, 1.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{\"val_acc\":0.5}") == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.9, "{\"val_acc\":0.9}") == -EEXIST);
	CHECK(wire_trial_json(db, sid, 1, &one) == 0);
	CHECK(jnum(one, "epochs") == 1);   /* the failed insert did not count */
	CHECK(cJSON_GetArraySize(jget(one, "curve")) == 1);
	CHECK(jnum(jget(one, "curve")->child, "val_acc") == 0.5);
	cJSON_Delete(one);
	/* Same epoch number, another attempt, is a different row. */
	CHECK(db_trial_requeue(db, id, 1) == 0);
	CHECK(db_trial_start(db, id, 2, 10, 10, 2.0) == 0);
	CHECK(db_trial_epoch(db, id, 2, 1, 0.6, "{\"val_acc\":0.6}") == 0);
	db_close(db);
	tdir_clean(&t);
}

static void
requeue_starts_a_fresh_attempt(void)
{
	struct tdir t;
	struct db *db;
	struct db_trial_row r = { 0 };
	struct curve_pts c = { 0 };
	cJSON *one = NULL, *ep = NULL;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 500, 600, 1.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.1, "{\"val_acc\":0.1}") == 0);
	CHECK(db_trial_epoch(db, id, 1, 2, 0.2, "{\"val_acc\":0.2}") == 0);
	CHECK(db_trial_requeue(db, id, 1) == 0);
	struct trial_rows rows = { 0 };
	CHECK(db_load_trials(db, sid, collect_trial, &rows) == 0);
	CHECK_STR(rows.status[0], "queued");
	CHECK(rows.last.attempt == 1 && rows.last.pid == 0 &&
	      rows.last.proc_start == 0);
	CHECK(wire_sweep_json(db, sid, &one) == 0);
	CHECK(jnum(jget(one, "counts"), "queued") == 1);
	CHECK(jnum(jget(one, "counts"), "running") == 0);
	cJSON_Delete(one);

	/* Epochs of a stale attempt are refused and not stored. */
	CHECK(db_trial_start(db, id, 2, 501, 601, 5.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 3, 0.3, "{}") == -EINVAL);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs WHERE epoch = 3") == 0);
	CHECK(db_trial_epoch(db, id, 2, 1, 0.7, "{\"val_acc\":0.7}") == 0);
	CHECK(db_load_trials(db, sid, find_running, &r) == 0);
	CHECK(r.attempt == 2 && r.pid == 501 && r.proc_start == 601 &&
	      r.epochs == 1);
	/* Every attempt's rows, by attempt then epoch: the caller's history
	 * lets attempt 2's epoch 1 replace attempt 1's curve. */
	CHECK(db_load_curves(db, sid, collect_point, &c) == 0);
	CHECK(c.n == 3 && c.epoch[0] == 1 && c.epoch[1] == 2 &&
	      c.epoch[2] == 1 && c.obj[2] == 0.7 && c.trial[2] == id);
	CHECK(wire_trial_json(db, sid, 1, &one) == 0);
	CHECK(jnum(one, "attempt") == 2);
	CHECK(jnum(one, "started_at") == 5.0);
	CHECK(cJSON_GetArraySize(jget(one, "curve")) == 1);
	CHECK(jnum(jget(one, "curve")->child, "val_acc") == 0.7);
	cJSON_Delete(one);
	/* The export keeps every attempt. */
	struct db_epoch_key from = { 0, 0, 0 }, next;
	int more;
	CHECK(wire_epochs_page_json(db, sid, &from, 100, 0, &ep, &next, &more) == 0);
	CHECK(cJSON_GetArraySize(ep) == 3 && !more);
	const cJSON *e0 = cJSON_GetArrayItem(ep, 0), *e2 = cJSON_GetArrayItem(ep, 2);
	CHECK(jnum(e0, "number") == 1 && jnum(e0, "attempt") == 1 &&
	      jnum(e0, "epoch") == 1 && jnum(e0, "val_acc") == 0.1);
	CHECK(jnum(e2, "attempt") == 2 && jnum(e2, "val_acc") == 0.7);
	cJSON_Delete(ep);
	/* In pages: the cursor is the last row's key, within a trial too. */
	CHECK(wire_epochs_page_json(db, sid, &from, 2, 0, &ep, &next, &more) == 0);
	CHECK(cJSON_GetArraySize(ep) == 2 && more);
	CHECK(next.number == 1 && next.attempt == 1 && next.epoch == 2);
	cJSON_Delete(ep);
	CHECK(wire_epochs_page_json(db, sid, &next, 2, 0, &ep, &next, &more) == 0);
	CHECK(cJSON_GetArraySize(ep) == 1 && !more);
	CHECK(jnum(ep->child, "attempt") == 2 && jnum(ep->child, "epoch") == 1);
	cJSON_Delete(ep);
	CHECK(wire_epochs_page_json(db, sid, &from, 0, 0, &ep, &next, &more) ==
	      -EINVAL);
	db_close(db);
	tdir_clean(&t);
}

struct curve_rows {
	int n;
	int epoch[16];
	char json[16][64];
};

static int
collect_curve_row(void *ud, int epoch, const char *metrics_json)
{
	struct curve_rows *c = ud;

	if (c->n < 16) {
		c->epoch[c->n] = epoch;
		snprintf(c->json[c->n], sizeof c->json[0], "%s", metrics_json);
	}
	c->n++;
	return 0;
}

/* docs/DESIGN.md: the latest attempt's rows after the earlier curve up to
 * its first epoch; one that starts over replaces it all. */
static void
curve_spans_attempts_the_later_row_winning(void)
{
	struct tdir t;
	struct db *db;
	struct curve_rows c = { 0 };
	cJSON *one = NULL;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 500, 600, 1.0) == 0);
	for (int e = 1; e <= 4; e++)
		CHECK(db_trial_epoch(db, id, 1, e, 0.1 * e, "{\"a\":1}") == 0);
	CHECK(db_trial_requeue(db, id, 1) == 0);
	CHECK(db_trial_start(db, id, 2, 501, 601, 2.0) == 0);
	CHECK(db_trial_epoch(db, id, 2, 3, 0.5, "{\"a\":2}") == 0);
	CHECK(db_trial_epoch(db, id, 2, 4, 0.6, "{\"a\":2}") == 0);
	CHECK(db_trial_epoch(db, id, 2, 5, 0.7, "{\"a\":2}") == 0);
	CHECK(db_curve(db, id, 2, collect_curve_row, &c) == 0);
	CHECK(c.n == 5);
	for (int i = 0; i < 5 && i < c.n; i++) {
		CHECK(c.epoch[i] == i + 1);
		CHECK_STR(c.json[i], i < 2 ? "{\"a\":1}" : "{\"a\":2}");
	}
	/* as of attempt 1 (what attempt 2 resumed from): 1..4 of attempt 1 */
	c.n = 0;
	CHECK(db_curve(db, id, 1, collect_curve_row, &c) == 0);
	CHECK(c.n == 4 && c.epoch[3] == 4 && strcmp(c.json[3], "{\"a\":1}") == 0);
	CHECK(wire_trial_json(db, sid, 1, &one) == 0);
	CHECK(cJSON_GetArraySize(jget(one, "curve")) == 5);
	cJSON_Delete(one);
	/* attempt 3 starts over: only its rows */
	CHECK(db_trial_requeue(db, id, 2) == 0);
	CHECK(db_trial_start(db, id, 3, 502, 602, 3.0) == 0);
	CHECK(db_trial_epoch(db, id, 3, 1, 0.9, "{\"a\":3}") == 0);
	c.n = 0;
	CHECK(db_curve(db, id, 3, collect_curve_row, &c) == 0);
	CHECK(c.n == 1 && c.epoch[0] == 1 && strcmp(c.json[0], "{\"a\":3}") == 0);
	db_close(db);
	tdir_clean(&t);
}

static void
curves_are_ordered_by_trial_then_epoch(void)
{
	struct tdir t;
	struct db *db;
	struct curve_pts c = { 0 };
	int64_t sid, other, a, b;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 2, 1.0, &sid) == 0);
	CHECK(db_sweep_create(db, "o", SPEC_MAX, 1, 1.0, &other) == 0);
	CHECK(db_trial_create(db, sid, 2, "{}", 1, &b) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &a) == 0);
	CHECK(db_trial_start(db, b, 1, 1, 1, 1.0) == 0);
	CHECK(db_trial_start(db, a, 1, 2, 2, 1.0) == 0);
	/* interleaved, epochs out of order */
	CHECK(db_trial_epoch(db, b, 1, 2, 0.22, "{}") == 0);
	CHECK(db_trial_epoch(db, a, 1, 1, 0.11, "{}") == 0);
	CHECK(db_trial_epoch(db, b, 1, 1, 0.21, "{}") == 0);
	CHECK(db_trial_epoch(db, a, 1, 2, 0.12, "{}") == 0);
	int64_t x;
	CHECK(db_trial_create(db, other, 1, "{}", 1, &x) == 0);
	CHECK(db_trial_start(db, x, 1, 3, 3, 1.0) == 0);
	CHECK(db_trial_epoch(db, x, 1, 1, 0.99, "{}") == 0);
	CHECK(db_load_curves(db, sid, collect_point, &c) == 0);
	CHECK(c.n == 4);
	CHECK(c.trial[0] == a && c.epoch[0] == 1 && c.obj[0] == 0.11);
	CHECK(c.trial[1] == a && c.epoch[1] == 2 && c.obj[1] == 0.12);
	CHECK(c.trial[2] == b && c.epoch[2] == 1 && c.obj[2] == 0.21);
	CHECK(c.trial[3] == b && c.epoch[3] == 2 && c.obj[3] == 0.22);
	db_close(db);
	tdir_clean(&t);
}

static void
unknown_ids_are_enoent(void)
{
	struct tdir t;
	struct db *db;
	cJSON *j = (cJSON *)1;
	int64_t id, sid;
	struct db_trial_end e = end_completed(1.0, 1, 1.0);

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_set_status(db, 5, "paused", NULL, 1.0) == -ENOENT);
	CHECK(db_sweep_set_spec(db, 5, "{}") == -ENOENT);
	CHECK(db_trial_create(db, 5, 1, "{}", 1, &id) == -ENOENT);
	CHECK(db_trial_start(db, 9, 1, 1, 1, 1.0) == -ENOENT);
	CHECK(db_trial_epoch(db, 9, 1, 1, 0.5, "{}") == -ENOENT);
	CHECK(db_trial_end(db, 9, &e) == -ENOENT);
	CHECK(db_trial_requeue(db, 9, 1) == -ENOENT);
	CHECK(db_trial_set_diagnosis(db, 9, "{}") == -ENOENT);
	CHECK(wire_sweep_json(db, 5, &j) == -ENOENT);
	CHECK(j == NULL);
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(wire_trial_json(db, sid, 1, &j) == -ENOENT);
	CHECK(wire_trials_json(db, 5, &j) == 0);
	CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 0);
	cJSON_Delete(j);
	struct db_epoch_key k = { 0, 0, 0 };
	int more = 1;
	CHECK(wire_epochs_page_json(db, 5, &k, 10, 0, &j, &k, &more) == 0);
	CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) == 0 && !more);
	cJSON_Delete(j);
	CHECK(wire_sweeps_json(db, &j) == 0);
	CHECK(cJSON_GetArraySize(j) == 1);
	cJSON_Delete(j);
	CHECK(raw_int(t.path, "SELECT count(*) FROM trials") == 0);
	db_close(db);
	tdir_clean(&t);
}

static void
bad_arguments_are_einval_and_write_nothing(void)
{
	struct tdir t;
	struct db *db;
	int64_t sid, id;
	struct db_trial_end e = end_completed(1.0, 1, 1.0);

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "s", "[1,2]", 1, 1.0, &sid) == -EINVAL);
	CHECK_CONTAINS(db_last_error(db), "spec_json");
	CHECK(db_sweep_create(db, "s", "{\"a\":", 1, 1.0, &sid) == -EINVAL);
	CHECK(db_sweep_create(db, NULL, "{}", 1, 1.0, &sid) == -EINVAL);
	CHECK(db_sweep_create(db, "s", "{}", -1, 1.0, &sid) == -EINVAL);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 0);
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_sweep_set_status(db, sid, "done", NULL, 1.0) == -EINVAL);
	CHECK_CONTAINS(db_last_error(db), "\"done\"");
	CHECK(db_sweep_set_status(db, sid, NULL, NULL, 1.0) == -EINVAL);
	CHECK(db_trial_create(db, sid, 0, "{}", 1, &id) == -EINVAL);
	CHECK(db_trial_create(db, sid, 1, "nope", 1, &id) == -EINVAL);
	CHECK_CONTAINS(db_last_error(db), "params_json");
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == -EEXIST);
	CHECK(db_trial_create(db, sid, 2, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	CHECK(db_trial_start(db, id, 2, 1, 1, 1.0) == -EINVAL);   /* running */
	CHECK_CONTAINS(db_last_error(db), "not queued");
	CHECK(db_trial_epoch(db, id, 1, 1, 1.0, "[]") == -EINVAL);
	CHECK(db_trial_epoch(db, id, 1, 1, 1.0, NULL) == -EINVAL);
	CHECK(db_trial_epoch(db, id, 1, -1, 1.0, "{}") == -EINVAL);
	CHECK(db_trial_set_diagnosis(db, id, "{") == -EINVAL);
	e.status = "running";
	CHECK(db_trial_end(db, id, &e) == -EINVAL);
	e.status = "completed";
	e.diagnosis_json = "garbage";
	CHECK(db_trial_end(db, id, &e) == -EINVAL);
	CHECK(db_trial_end(db, id, NULL) == -EINVAL);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM trials WHERE status = "
		      "'running'") == 1);
	db_close(db);
	tdir_clean(&t);
}

static void
explicit_transactions_group_and_roll_back(void)
{
	struct tdir t;
	struct db *db;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_commit(db) == -EINVAL);
	CHECK(db_rollback(db) == 0);
	CHECK(db_begin(db) == 0);
	CHECK(db_begin(db) == -EINVAL);
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	/* Not visible to another connection until the commit. */
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 0);
	CHECK(db_rollback(db) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 0);

	CHECK(db_begin(db) == 0);
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{}") == 0);
	/* A failing call inside the group undoes only itself. */
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{}") == -EEXIST);
	CHECK(db_trial_set_diagnosis(db, id, "{\"verdict\":\"x\"}") == 0);
	CHECK(db_commit(db) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 1);
	CHECK(raw_int(t.path, "SELECT epochs FROM trials") == 1);
	db_close(db);
	tdir_clean(&t);
}

static void
writes_are_committed_when_the_call_returns(void)
{
	struct tdir t;
	struct db *db;
	int64_t sid, id;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	/* A second connection sees each change while db is still open. */
	CHECK(db_sweep_create(db, "s", SPEC_MAX, 1, 1.0, &sid) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweeps") == 1);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	CHECK(raw_int(t.path, "SELECT n_running FROM sweep_counts") == 1);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{}") == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 1);
	CHECK(raw_int(t.path, "SELECT epochs FROM trials") == 1);
	db_close(db);
	tdir_clean(&t);
}

static void
best_is_an_index_search(void)
{
	struct tdir t;
	struct db *db;
	char plan[1024];
	int64_t sid, id;
	char p[64];

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	/* Enough rows, and ANALYZE statistics, for the planner to choose
	 * with real numbers rather than defaults; objectives tie in tens,
	 * as quantized accuracies do. */
	CHECK(db_sweep_create(db, "a", SPEC_MAX, 300, 1.0, &sid) == 0);
	CHECK(db_begin(db) == 0);
	for (int i = 1; i <= 300; i++) {
		snprintf(p, sizeof p, "{\"i\":%d}", i);
		CHECK(db_trial_create(db, sid, i, p, 1, &id) == 0);
		if (i % 3 == 0)
			continue;   /* stays queued */
		CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
		struct db_trial_end e = end_completed((i % 10) / 10.0, 1, 2.0);
		CHECK(db_trial_end(db, id, &e) == 0);
	}
	CHECK(db_commit(db) == 0);
	CHECK(raw_exec(t.path, "ANALYZE") == 0);
	for (int mode = 0; mode <= 1; mode++) {
		CHECK(db_best_plan(db, mode, plan, sizeof plan) == 0);
		printf("# best plan (mode_max %d):\n", mode);
		for (char *l = strtok(plan, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
		CHECK(db_best_plan(db, mode, plan, sizeof plan) == 0);
		CHECK_CONTAINS(plan, "SEARCH trials USING INDEX trials_best "
			       "(sweep_id=? AND status=? AND objective=?)");
		CHECK(strstr(plan, "SCAN") == NULL);
		CHECK(strstr(plan, "TEMP B-TREE") == NULL);
	}
	cJSON *b = NULL;
	/* 0.9 is first completed at number 19 (9 stayed queued), then at 29,
	 * 49, ...; 0.0 first at number 10 (then 20, 40, ...). */
	CHECK(wire_best_json(db, sid, 1, &b) == 0);
	CHECK(jnum(b, "number") == 19);
	CHECK(jnum(b, "objective") == 0.9);
	cJSON_Delete(b);
	CHECK(wire_best_json(db, sid, 0, &b) == 0);
	CHECK(jnum(b, "number") == 10);
	CHECK(jnum(b, "objective") == 0.0);
	cJSON_Delete(b);
	db_close(db);
	tdir_clean(&t);
}

/* The verdict counts are over ended trials only: a running trial's
 * diagnosis is provisional, and `watch` counts ended trials, so `status`
 * (which reads these counts) agrees with it. */
static void
verdicts_count_ended_trials_only(void)
{
	struct tdir t;
	struct db *db;
	cJSON *v = NULL;
	int64_t sid = 0, t1 = 0, t2 = 0;
	struct db_trial_end e = {
		.status = "completed", .objective = 0.8, .best_epoch = 1,
		.test_loss = NAN, .test_acc = NAN,
		.diagnosis_json = "{\"verdict\":\"good_fit\"}", .now = 1002,
	};

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "v", SPEC_MAX, 2, 1000, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &t1) == 0);
	CHECK(db_trial_create(db, sid, 2, "{}", 2, &t2) == 0);
	CHECK(db_trial_start(db, t1, 1, 100, 1, 1001) == 0);
	CHECK(db_trial_start(db, t2, 1, 101, 1, 1001) == 0);
	CHECK(db_trial_set_diagnosis(db, t1, "{\"verdict\":\"improving\"}") == 0);
	CHECK(db_trial_set_diagnosis(db, t2, "{\"verdict\":\"improving\"}") == 0);
	CHECK(db_trial_end(db, t2, &e) == 0);
	CHECK(wire_verdicts_json(db, sid, &v) == 0);
	CHECK(jnum(v, "good_fit") == 1);
	CHECK(jget(v, "improving") == NULL);
	CHECK(cJSON_GetArraySize(v) == 1);
	cJSON_Delete(v);
	db_close(db);
	tdir_clean(&t);
}

/* A fresh database with sweep *sid and its trial *tid started (attempt 1).
 * NULL when it cannot be made. */
static struct db *
open_running_trial(struct tdir *t, int64_t *sid, int64_t *tid)
{
	struct db *db;

	if (tdir_make(t) < 0 || !(db = topen(t)))
		return NULL;
	if (db_sweep_create(db, "m", SPEC_MIN, 1, 1.0, sid) < 0 ||
	    db_trial_create(db, *sid, 1, "{}", 1, tid) < 0 ||
	    db_trial_start(db, *tid, 1, 0, -1, 2.0) < 0) {
		db_close(db);
		tdir_clean(t);
		return NULL;
	}
	return db;
}

/* Epoch epoch's objective, loss and accuracy columns, whether val_acc is
 * NULL, and its metrics_json, as a raw connection sees them. */
static void
epoch_columns(const char *path, int epoch, char *buf, size_t len)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;

	snprintf(buf, len, "(no row)");
	if (sqlite3_open(path, &h) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT objective, train_loss, val_loss, "
			       "train_acc, val_acc, metrics_json FROM epochs "
			       "WHERE epoch = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int(st, 1, epoch);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(buf, len, "%g,%g,%g,%g,%s,%s",
				 sqlite3_column_double(st, 0),
				 sqlite3_column_double(st, 1),
				 sqlite3_column_double(st, 2),
				 sqlite3_column_double(st, 3),
				 sqlite3_column_type(st, 4) == SQLITE_NULL ?
				 "null" : "set",
				 (const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* db_trial_epoch_obj reads the columns from the object it is given (the
 * daemon's own, not a parse of the text), stores the text as it is, counts
 * the epoch, and refuses what is not an object as db_trial_epoch does. */
static void
epoch_obj_takes_columns_from_the_object(void)
{
	struct tdir t;
	struct db *db;
	cJSON *m = cJSON_Parse("{\"epoch\":1,\"train_loss\":0.5,"
			       "\"val_loss\":0.25,\"train_acc\":0.75}");
	cJSON *arr = cJSON_CreateArray();
	int64_t sid = 0, tid = 0;
	char cols[256];

	if (!(db = open_running_trial(&t, &sid, &tid))) {
		CHECK(0);
		return;
	}
	CHECK(db_trial_epoch_obj(db, tid, 1, 1, 0.25, m, "{\"x\":1}", -1) == 0);
	epoch_columns(t.path, 1, cols, sizeof cols);
	CHECK_STR(cols, "0.25,0.5,0.25,0.75,null,{\"x\":1}");
	CHECK(db_trial_epoch_obj(db, tid, 1, 2, 0.5, arr, "[]", -1) == -EINVAL);
	CHECK(db_trial_epoch_obj(db, tid, 1, 2, 0.5, NULL, "{}", -1) == -EINVAL);
	CHECK(db_trial_epoch_obj(db, tid, 1, 2, 0.5, m, NULL, -1) == -EINVAL);
	CHECK(db_trial_epoch_obj(db, tid, 1, -1, 0.5, m, "{}", -1) == -EINVAL);
	epoch_columns(t.path, 2, cols, sizeof cols);
	CHECK_STR(cols, "(no row)");
	CHECK(db_trial_epoch_obj(db, tid, 1, 1, 0.25, m, "{}", -1) == -EEXIST);
	db_close(db);
	cJSON_Delete(m);
	cJSON_Delete(arr);
	tdir_clean(&t);
}

/* What a caller says it printed the diagnosis from is what is checked: an
 * array is refused with a valid text (so the text is not what is read), an
 * object is stored with its text, and NULL falls back to parsing the text. */
static void
diagnosis_obj_is_what_is_checked(void)
{
	struct tdir t;
	struct db *db;
	cJSON *obj = cJSON_Parse("{\"verdict\":\"good_fit\"}");
	cJSON *arr = cJSON_CreateArray(), *j = NULL;
	const char *txt = "{\"verdict\":\"good_fit\"}";
	int64_t sid = 0, tid = 0;

	if (!(db = open_running_trial(&t, &sid, &tid))) {
		CHECK(0);
		return;
	}
	CHECK(db_trial_set_diagnosis_obj(db, tid, arr, txt) == -EINVAL);
	CHECK(db_trial_set_diagnosis_obj(db, tid, obj, NULL) == -EINVAL);
	CHECK(db_trial_set_diagnosis_obj(db, tid, NULL, "[]") == -EINVAL);
	CHECK(db_trial_set_diagnosis_obj(db, tid, obj, txt) == 0);
	CHECK(db_trial_set_diagnosis_obj(db, tid + 1, obj, txt) == -ENOENT);
	struct db_trial_end e = {
		.status = "completed", .objective = NAN, .test_loss = NAN,
		.test_acc = NAN, .diagnosis_json = "{\"verdict\":\"x\"}",
		.diagnosis = arr, .exit_code = 0, .now = 3.0,
	};
	CHECK(db_trial_end(db, tid, &e) == -EINVAL);
	e.diagnosis = obj;
	e.diagnosis_json = "{\"verdict\":\"end\"}";
	CHECK(db_trial_end(db, tid, &e) == 0);
	CHECK(wire_trials_json(db, sid, &j) == 0);
	CHECK_STR(jstr(jget(cJSON_GetArrayItem(j, 0), "diagnosis"), "verdict"),
		  "end");
	CHECK_STR(jstr(cJSON_GetArrayItem(j, 0), "status"), "completed");
	cJSON_Delete(j);
	db_close(db);
	cJSON_Delete(obj);
	cJSON_Delete(arr);
	tdir_clean(&t);
}

int
main(void)
{
	RUN(open_close_null_is_harmless);
	RUN(create_start_epoch_end_round_trip);
	RUN(failures_are_grouped_by_class_and_message);
	RUN(sweep_status_sets_and_clears_ended_at);
	RUN(load_sweeps_filters_active);
	RUN(load_trials_in_number_order);
	RUN(unsettled_skips_settled_trials);
	RUN(trials_pages_keep_number_order_and_count_all);
	RUN(trial_row_carries_pid_proc_start_and_seed);
	RUN(best_max_and_min_modes);
	RUN(best_without_completed_trial_is_enoent);
	RUN(nan_objective_is_stored_as_null);
	RUN(signal_end_keeps_signal_and_stderr);
	RUN(duplicate_epoch_is_eexist);
	RUN(epoch_obj_takes_columns_from_the_object);
	RUN(diagnosis_obj_is_what_is_checked);
	RUN(requeue_starts_a_fresh_attempt);
	RUN(curve_spans_attempts_the_later_row_winning);
	RUN(curves_are_ordered_by_trial_then_epoch);
	RUN(unknown_ids_are_enoent);
	RUN(bad_arguments_are_einval_and_write_nothing);
	RUN(explicit_transactions_group_and_roll_back);
	RUN(writes_are_committed_when_the_call_returns);
	RUN(best_is_an_index_search);
	RUN(verdicts_count_ended_trials_only);
	return harness_done();
}
