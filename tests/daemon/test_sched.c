/*
 * test_sched.c: the scheduler (daemon/sched/) on a real libuv loop and a
 * real database in a temp dir, without the server: its events go to this
 * test (struct sched_events), and trials run the fake trainer
 * (tests/trainers/fake_trainer.c, $FAKE_TRAINER). No root needed: a full
 * disk is the database's max_page_count (db_set_max_pages).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <uv.h>

#include "daemon/sched/batch.h"
#include "daemon/sched/control.h"
#include "daemon/sched/end.h"
#include "daemon/sched/hist.h"
#include "daemon/sched/init.h"
#include "daemon/sched/manual.h"
#include "daemon/sched/recover.h"
#include "daemon/sched/scheduler.h"
#include "daemon/sched/trial.h"
#include "daemon/store/db.h"
#include "daemon/wire/wire.h"
#include "tests/db/dbtest.h"

/* A wait gives up after this long (a bound for a broken scheduler, not a
 * timing asserted: every wait is for a state). The tick wakes the loop so
 * that a wait for a state that never comes ends. */
#define WAIT_MS 60000
#define TICK_MS 50

struct fx {
	struct tdir t;
	uv_loop_t loop;
	struct db *db;
	struct sched s;
	uv_timer_t tick;
	int up;                   /* sched_init succeeded, tick running */
	int n_events, n_started, n_ended, n_sweep_ended, n_idle;
	int max_running;          /* s.n_running seen at any event, at most */
	char last_sweep_status[32];
	/* Told before stored (a separate connection did not see the row):
	 * epoch events and trial_started events. */
	int early_epochs, early_starts;
	int n_epoch_ev;           /* epoch events */
	int told[64];             /* the epochs of the first 64, in order */
	int64_t commits_at[64];   /* db_commits when each was told */
	/* trial_ended events told before the row had its end; db_commits
	 * when trial N's start and end were told (N < 64) */
	int early_ends;
	int64_t started_at[64], ended_at[64];
	/* At the next idle call with an end in the open batch (test of a lost
	 * end): that batch is lost, padded with epochs of this trial id. */
	int64_t lose_end_of;
	int lost_end;
};

/* Whether a separate connection sees the row an event tells of: the
 * epoch of the trial's current attempt, or (epoch 0) its start. */
static int
stored(struct fx *f, int64_t sid, const cJSON *ev, int epoch)
{
	char sql[512];

	if (epoch > 0)
		snprintf(sql, sizeof sql, "SELECT count(*) FROM epochs e JOIN "
			 "trials t ON t.id = e.trial_id AND e.attempt = t.attempt "
			 "WHERE t.sweep_id = %" PRId64 " AND t.number = %d AND "
			 "e.epoch = %d", sid, (int)jnum(ev, "number"), epoch);
	else
		snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE "
			 "sweep_id = %" PRId64 " AND number = %d AND status = "
			 "'running' AND attempt = %d", sid,
			 (int)jnum(ev, "number"), (int)jnum(ev, "attempt"));
	return raw_int(f->t.path, sql) == 1;
}

/* Whether a separate connection sees the end a trial_ended event tells. */
static int
end_stored(struct fx *f, int64_t sid, const cJSON *ev)
{
	char sql[512];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE sweep_id = %"
		 PRId64 " AND number = %d AND status = '%s'", sid,
		 (int)jnum(ev, "number"), jstr(ev, "status") ? jstr(ev, "status")
							     : "?");
	return raw_int(f->t.path, sql) == 1;
}

static void lose_open_batch(struct fx *f, int64_t trial_id);

static void
note_epoch(struct fx *f, int64_t sid, const cJSON *ev)
{
	int epoch = (int)jnum(ev, "epoch");

	f->early_epochs += !stored(f, sid, ev, epoch);
	if (f->n_epoch_ev < 64) {
		f->told[f->n_epoch_ev] = epoch;
		f->commits_at[f->n_epoch_ev] = db_commits(f->db);
	}
	f->n_epoch_ev++;
}

static void
on_broadcast(void *ud, int64_t sweep_id, const cJSON *ev)
{
	struct fx *f = ud;
	const char *name = jstr(ev, "event");
	int n = (int)jnum(ev, "number");

	f->n_events++;
	if (f->s.n_running > f->max_running)
		f->max_running = f->s.n_running;
	if (!name)
		return;
	if (strcmp(name, "epoch") == 0)
		note_epoch(f, sweep_id, ev);
	else if (strcmp(name, "trial_started") == 0) {
		f->n_started++;
		f->early_starts += !stored(f, sweep_id, ev, 0);
		if (n >= 0 && n < 64)
			f->started_at[n] = db_commits(f->db);
	}
	else if (strcmp(name, "trial_ended") == 0) {
		f->n_ended++;
		f->early_ends += !end_stored(f, sweep_id, ev);
		if (n >= 0 && n < 64)
			f->ended_at[n] = db_commits(f->db);
	}
	else if (strcmp(name, "sweep_ended") == 0) {
		f->n_sweep_ended++;
		snprintf(f->last_sweep_status, sizeof f->last_sweep_status, "%s",
			 jstr(ev, "status") ? jstr(ev, "status") : "");
	}
}

static int
on_has_watchers(void *ud, int64_t sweep_id)
{
	(void)ud;
	(void)sweep_id;
	return 1;   /* every event is built, and checked */
}

/* Whether an end waits in the open batch (trial.h, end_gen). */
static int
end_in_batch(struct fx *f)
{
	for (struct sweep *sw = f->s.sweeps; sw; sw = sw->next)
		for (struct trial *t = sw->unstored; t; t = t->next)
			if (t->end_gen)
				return 1;
	return 0;
}

static void
on_idle(void *ud)
{
	struct fx *f = ud;

	f->n_idle++;
	/* sched_idle comes at the end of a trial's end, before the loop
	 * polls: its end, and the next trial's row and start, are in the
	 * open batch then. */
	if (f->lose_end_of && end_in_batch(f)) {
		lose_open_batch(f, f->lose_end_of);
		f->lose_end_of = 0;
		f->lost_end = 1;
	}
}

static void
on_tick(uv_timer_t *tm)
{
	(void)tm;
}

/* Opens the scheduler on the database in t (made by the caller). */
static int
fx_open_at(struct fx *f, int workers, const struct tdir *t)
{
	const struct sched_events ev = {
		.broadcast = on_broadcast, .has_watchers = on_has_watchers,
		.idle = on_idle, .ud = f,
	};
	struct sched_config cfg = { .worker_bin = "/bin/false",
				    .workers = workers, .cgroups = 0 };
	char err[512];

	memset(f, 0, sizeof *f);
	f->t = *t;
	if (uv_loop_init(&f->loop) != 0)
		return -1;
	f->db = topen(&f->t);
	if (!f->db)
		return -1;
	db_commits(f->db);   /* counted from here */
	cfg.state_dir = f->t.dir;
	if (sched_init(&f->s, &f->loop, f->db, &cfg, &ev, err, sizeof err) < 0) {
		printf("# sched_init: %s\n", err);
		return -1;
	}
	uv_timer_init(&f->loop, &f->tick);
	uv_timer_start(&f->tick, on_tick, TICK_MS, TICK_MS);
	f->up = 1;
	return 0;
}

static int
fx_open(struct fx *f, int workers)
{
	struct tdir t;

	if (tdir_make(&t) < 0) {
		memset(f, 0, sizeof *f);
		return -1;
	}
	return fx_open_at(f, workers, &t);
}

/* Runs the loop until *flag is at least want; 1 when it got there. */
static int
fx_wait(struct fx *f, const int *flag, int want)
{
	uint64_t t0 = uv_now(&f->loop);

	while (*flag < want && uv_now(&f->loop) - t0 < WAIT_MS)
		uv_run(&f->loop, UV_RUN_ONCE);
	return *flag >= want;
}

/* Runs the loop until pred(f) holds; 1 when it does. */
static int
fx_until(struct fx *f, int (*pred)(struct fx *f))
{
	uint64_t t0 = uv_now(&f->loop);

	while (!pred(f) && uv_now(&f->loop) - t0 < WAIT_MS)
		uv_run(&f->loop, UV_RUN_ONCE);
	return pred(f);
}

static int
none_running(struct fx *f)
{
	return f->s.n_running == 0;
}

/* Stops what runs, closes every handle: uv_loop_close must succeed. */
static void
fx_close(struct fx *f)
{
	if (f->up) {
		sched_stop_all(&f->s);
		CHECK(fx_until(f, none_running));
		uv_close((uv_handle_t *)&f->tick, NULL);
		sched_close(&f->s);
		uv_run(&f->loop, UV_RUN_DEFAULT);
		sched_free(&f->s);
		CHECK(uv_loop_close(&f->loop) == 0);
	}
	if (f->db)
		db_close(f->db);
	tdir_clean(&f->t);
}

/* A spec for the fake trainer: params as extra_params says (3 epochs
 * unless it sets "epochs"), limits as given. */
static cJSON *
fake_spec(int trials, int parallel, const char *extra_params,
	  const char *limits)
{
	const char *fake = getenv("FAKE_TRAINER");
	char space[512], buf[2048];

	if (!extra_params)
		snprintf(space, sizeof space, "\"epochs\":3");
	else if (strstr(extra_params, "\"epochs\""))
		snprintf(space, sizeof space, "%s", extra_params);
	else
		snprintf(space, sizeof space, "\"epochs\":3,%s", extra_params);
	snprintf(buf, sizeof buf,
		 "{\"name\":\"t\",\"trainer\":{\"command\":[\"%s\"]},"
		 "\"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
		 "\"space\":{%s},"
		 "\"search\":{\"algorithm\":\"random\",\"trials\":%d,"
		 "\"parallel\":%d,\"seed\":7}%s%s}",
		 fake ? fake : "/bin/true", space, trials, parallel,
		 limits ? ",\"limits\":" : "", limits ? limits : "");
	return cJSON_Parse(buf);
}

static int64_t
submit(struct fx *f, cJSON *spec)
{
	char err[512] = "";
	int64_t id = 0;
	int rc = sched_submit(&f->s, spec, &id, err, sizeof err);

	CHECK_MSG(rc == 0, "sched_submit: %d %s", rc, err);
	cJSON_Delete(spec);
	return id;
}

/* A stored trial's status ("" when there is none). */
static const char *
trial_status(struct fx *f, int64_t sid, int number, char *buf, size_t len)
{
	cJSON *tj = NULL;

	buf[0] = '\0';
	if (wire_trial_json(f->db, sid, number, &tj) == 0 && jstr(tj, "status"))
		snprintf(buf, len, "%s", jstr(tj, "status"));
	cJSON_Delete(tj);
	return buf;
}

/* ---- enqueue during a storage outage ----------------------------------- */

/* The database is "full" from now on: no page may be added. */
static void
fill_disk(struct fx *f)
{
	CHECK(db_set_max_pages(f->db, raw_int(f->t.path, "PRAGMA page_count"))
	      == 0);
}

static void
room_again(struct fx *f)
{
	CHECK(db_set_max_pages(f->db, 1 << 30) == 0);
}

/* Trials enough to need new pages. */
static cJSON *
many_sets(int n)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "x", (double)i / n);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static void
test_enqueue_during_outage_is_disk_full(void)
{
	struct fx f;
	struct sweep *sw;
	cJSON *sets = NULL;
	char err[512];
	int64_t sid;
	int n = -1, rc;

	if (fx_open(&f, 0) < 0) {   /* no worker: nothing runs */
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(2000, 1, "\"x\":{\"uniform\":[0,1]}", NULL));
	sw = sched_find(&f.s, sid);
	CHECK(sw != NULL);
	if (!sw)
		goto out;
	fill_disk(&f);
	sets = many_sets(500);
	rc = sched_enqueue(sw, sets, &n, err, sizeof err);
	CHECK_MSG(rc == -ENOSPC, "first enqueue: %d %s", rc, err);
	CHECK(f.s.storage_rc == -ENOSPC);   /* the outage started */
	/* During the outage: the same answer, disk_full, not bad_request. */
	err[0] = '\0';
	rc = sched_enqueue(sw, sets, &n, err, sizeof err);
	CHECK_MSG(rc == -ENOSPC, "enqueue during the outage: %d %s", rc, err);
	CHECK_CONTAINS(err, "disk full");
	CHECK(n == 0);
	CHECK(sw->n_created == 0);
	room_again(&f);
	rc = sched_enqueue(sw, sets, &n, err, sizeof err);
	CHECK_MSG(rc == 0 && n == 500, "enqueue with room again: %d %s", rc, err);
out:
	cJSON_Delete(sets);
	fx_close(&f);
}

/* ---- the scheduler on a loop ---------------------------------------- */

/* Three trials of the fake trainer, two at a time: all complete, watchers
 * hear each start and end and the sweep's end, never more than two run. */
static void
test_sweep_runs_to_completion(void)
{
	struct fx f;
	char st[32];
	int64_t sid;

	if (fx_open(&f, 2) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(3, 2, NULL, NULL));
	CHECK(fx_wait(&f, &f.n_sweep_ended, 1));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK(f.n_started == 3 && f.n_ended == 3);
	CHECK(f.max_running >= 1 && f.max_running <= 2);
	CHECK(sched_find(&f.s, sid) == NULL);   /* ended: out of memory */
	for (int n = 1; n <= 3; n++)
		CHECK_STR(trial_status(&f, sid, n, st, sizeof st), "completed");
	CHECK(f.s.trials_run == 3);
	fx_close(&f);
}

/* ---- the storage outage hold --------------------------------------------- */

static int
outage_on(struct fx *f)
{
	return f->s.storage_rc != 0;
}

static int
outage_over_and_idle(struct fx *f)
{
	return f->s.storage_rc == 0 && f->n_sweep_ended > 0;
}

/* The disk fills while trials run: the hold starts, the trials whose epoch
 * could not be stored are requeued (not failed), none starts; with room
 * again the retry resumes and every trial
 * completes, with nothing lost. */
static void
test_outage_holds_and_resumes(void)
{
	struct fx f;
	struct sweep *sw;
	char st[32];
	int64_t sid;

	if (fx_open(&f, 2) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(4, 2, "\"epochs\":400,\"sleep_ms\":2", NULL));
	sw = sched_find(&f.s, sid);
	if (!sw) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	CHECK(fx_wait(&f, &f.n_started, 2));
	fill_disk(&f);
	CHECK(fx_until(&f, outage_on));
	CHECK(f.s.storage_rc == -ENOSPC);
	CHECK_CONTAINS(f.s.storage_msg, "disk full");
	CHECK(fx_until(&f, none_running));
	CHECK(f.n_ended == 0);                 /* requeued, not ended */
	CHECK(sw && sw->queue != NULL);
	CHECK(sw && sw->n_failed == 0);
	for (int k = 0; k < 50; k++)           /* held: nothing starts */
		uv_run(&f.loop, UV_RUN_NOWAIT);
	CHECK(f.s.n_running == 0);
	room_again(&f);
	CHECK(fx_until(&f, outage_over_and_idle));
	CHECK_STR(f.last_sweep_status, "completed");
	for (int k = 1; k <= 4; k++)
		CHECK_STR(trial_status(&f, sid, k, st, sizeof st), "completed");
	CHECK(sched_unstored(&f.s) == 0);
	fx_close(&f);
}

/* ---- start-up recovery ----------------------------------------------------- */

static int
first_ended(struct fx *f)
{
	return f->n_ended > 0;
}

/* A database a "previous daemon" left with two running trials: the one on
 * its first attempt is requeued and runs again as attempt 2; the one that
 * was interrupted by restarts past retries + RESTART_ALLOWANCE is failed. */
static void
test_recovery_requeues_or_fails(void)
{
	struct tdir t;
	struct fx f;
	struct db *db;
	struct sweep *sw;
	cJSON *spec = fake_spec(2, 2, NULL, "{\"retries\":0}"), *tj = NULL;
	char *text = cJSON_PrintUnformatted(spec), err[512] = "", st[32];
	int64_t sid = 0, id1 = 0, id2 = 0;

	cJSON_Delete(spec);
	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		free(text);
		return;
	}
	CHECK(db_sweep_create(db, "t", text, 2, 1.0, &sid) == 0);
	CHECK(db_trial_create(db, sid, 1, "{\"epochs\":3}", 11, &id1) == 0);
	CHECK(db_trial_start(db, id1, 1, 0, -1, 2.0) == 0);
	CHECK(db_trial_create(db, sid, 2, "{\"epochs\":3}", 12, &id2) == 0);
	CHECK(db_trial_start(db, id2, 1 + RESTART_ALLOWANCE, 0, -1, 2.0) == 0);
	db_close(db);
	free(text);

	if (fx_open_at(&f, 1, &t) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	CHECK(sched_load(&f.s, err, sizeof err) == 0);
	sw = sched_find(&f.s, sid);
	CHECK(sw != NULL);
	CHECK(sw && sw->queue && sw->queue->number == 1 &&
	      sw->queue->attempt == 1 && !sw->queue->next);
	CHECK(sw && sw->n_failed == 1 && sw->n_ended == 1);
	CHECK_STR(trial_status(&f, sid, 1, st, sizeof st), "queued");
	CHECK_STR(trial_status(&f, sid, 2, st, sizeof st), "failed");
	if (wire_trial_json(f.db, sid, 2, &tj) == 0) {
		char *e = cJSON_PrintUnformatted(
			cJSON_GetObjectItemCaseSensitive(tj, "error"));
		CHECK_CONTAINS(e, "interrupted by daemon restarts too often");
		cJSON_free(e);
	}
	cJSON_Delete(tj);
	tj = NULL;
	sched_kick(&f.s);
	CHECK(fx_until(&f, first_ended));
	CHECK_STR(trial_status(&f, sid, 1, st, sizeof st), "completed");
	if (wire_trial_json(f.db, sid, 1, &tj) == 0)
		CHECK(jnum(tj, "attempt") == 2);
	cJSON_Delete(tj);
	fx_close(&f);
}

/* ---- ask: a trial that cannot be made keeps its error ------------------ */

/* The next trial's number is taken in the database behind the scheduler's
 * back: the ask fails with the storage's error (-EEXIST, "internal"), not
 * -EINVAL, which would tell the client its request was bad. And during a
 * disk-full outage the ask is told -ENOSPC. */
static void
test_ask_keeps_the_errno(void)
{
	struct fx f;
	struct sweep *sw;
	cJSON *spec, *reply = cJSON_CreateObject();
	char err[512] = "", sql[256];
	int64_t sid;
	int rc;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		cJSON_Delete(reply);
		return;
	}
	spec = cJSON_Parse("{\"name\":\"m\",\"trainer\":{\"manual\":{}},"
			   "\"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
			   "\"space\":{\"x\":{\"uniform\":[0,1]}},"
			   "\"search\":{\"algorithm\":\"random\",\"trials\":500,"
			   "\"parallel\":500,\"seed\":7}}");
	sid = submit(&f, spec);
	sw = sched_find(&f.s, sid);
	if (!sw) {
		CHECK(0);
		goto out;
	}
	snprintf(sql, sizeof sql, "INSERT INTO trials (sweep_id, number, "
		 "params_json, seed) VALUES (%" PRId64 ", 1, '{}', 0)", sid);
	CHECK(raw_exec(f.t.path, sql) == 0);
	rc = manual_ask(sw, reply, err, sizeof err);
	CHECK_MSG(rc == -EEXIST, "ask: %d %s", rc, err);
	CHECK(f.s.storage_rc == 0);   /* not an outage */
	snprintf(sql, sizeof sql, "DELETE FROM trials WHERE sweep_id = %" PRId64,
		 sid);
	CHECK(raw_exec(f.t.path, sql) == 0);
	fill_disk(&f);
	for (int i = 0; i < 400 && rc != -ENOSPC; i++) {
		cJSON_Delete(reply);
		reply = cJSON_CreateObject();
		rc = manual_ask(sw, reply, err, sizeof err);
	}
	CHECK_MSG(rc == -ENOSPC, "ask with the disk full: %d %s", rc, err);
	room_again(&f);
out:
	cJSON_Delete(reply);
	fx_close(&f);
}

/* ---- group commit of a watched sweep (docs/storage.md) ------------------ */

/* A watched sweep's trainer writes 20 epochs in one write: they are one
 * commit (every epoch event is told after the same commit), told in
 * order, none before a separate connection sees its row; its start too
 * is told only once stored. */
static void
test_watched_burst_is_one_commit(void)
{
	struct fx f;
	int64_t sid, c0;
	int in_order = 1;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	c0 = db_commits(f.db);
	sid = submit(&f, fake_spec(1, 1, "\"epochs\":20,\"burst\":1,"
				   "\"burst_ms\":300", NULL));
	CHECK(fx_wait(&f, &f.n_sweep_ended, 1));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK_MSG(f.n_epoch_ev == 20, "%d epoch events", f.n_epoch_ev);
	for (int i = 0; i < f.n_epoch_ev && i < 20; i++)
		in_order &= f.told[i] == i + 1;
	CHECK(in_order);
	CHECK_MSG(f.early_epochs == 0, "%d epochs told before stored",
		  f.early_epochs);
	CHECK(f.n_started == 1 && f.early_starts == 0);
	CHECK_MSG(f.n_epoch_ev == 20 && f.commits_at[19] == f.commits_at[0],
		  "the burst took %" PRId64 " commits",
		  f.commits_at[19] - f.commits_at[0] + 1);
	printf("# sweep %" PRId64 ": %" PRId64 " commits from its submit to its "
	       "end (1 trial)\n", sid, db_commits(f.db) - c0);
	fx_close(&f);
}

static int
trial_row_int(struct fx *f, int64_t sid, const char *col)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SELECT %s FROM trials WHERE sweep_id = %"
		 PRId64 " AND number = 1", col, sid);
	return (int)raw_int(f->t.path, sql);
}

static int
trial_rows(struct fx *f, int64_t sid)
{
	char sql[256];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM trials WHERE sweep_id = "
		 "%" PRId64, sid);
	return (int)raw_int(f->t.path, sql);
}

/* Padded epoch rows into the open batch until the disk is full: the batch
 * is lost (SQLite rolls it back), as test_db_faults shows. */
static void
lose_open_batch(struct fx *f, int64_t trial_id)
{
	char pad[3000], m[3100];
	int rc = 0;

	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	snprintf(m, sizeof m, "{\"pad\":\"%s\"}", pad);
	CHECK(db_set_max_pages(f->db, raw_int(f->t.path, "PRAGMA page_count")
			       + 4) == 0);
	for (int ep = 1000; rc == 0 && ep < 1200; ep++) {
		rc = db_batch_begin(f->db);
		if (rc == 0)
			rc = db_trial_epoch(f->db, trial_id, 1, ep, ep, m);
		if (db_batch_depth(f->db) > 1)
			db_batch_end(f->db, rc == 0);
	}
	CHECK(rc < 0);
}

static int
started_once(struct fx *f)
{
	return f->n_started > 0;
}

/* A trial's row and start join the loop turn's batch: not stored, nor
 * told, until it commits. When that batch is lost (the disk full), the
 * trial is stopped, its trial_started event never sent, and it waits in
 * memory with no row; with room again its row is created again (the
 * database and the scheduler then agree: attempt 0), and it runs as its
 * first attempt and completes. */
static void
test_lost_batch_stops_the_trials_it_started(void)
{
	struct fx f;
	struct sweep *sw;
	struct trial *t;
	char st[32];
	int64_t sid;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(1, 1, "\"epochs\":3,\"sleep_ms\":5", NULL));
	sw = sched_find(&f.s, sid);
	t = sw ? sw->running : NULL;
	if (!t) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	/* Spawned by the submit's kick; the loop has not turned since. */
	CHECK(t->child.pid > 0);
	/* (another connection: the daemon's own sees its open batch) */
	CHECK(trial_rows(&f, sid) == 0);
	CHECK(f.n_started == 0);
	lose_open_batch(&f, t->id);
	CHECK(fx_until(&f, outage_on));
	CHECK(fx_until(&f, none_running));
	CHECK(f.n_started == 0 && f.n_ended == 0);   /* never told, requeued */
	CHECK(sw->queue && sw->queue->status == TRIAL_QUEUED);
	CHECK(trial_rows(&f, sid) == 0);
	CHECK(raw_int(f.t.path, "SELECT count(*) FROM epochs") == 0);
	CHECK(sched_unstored(&f.s) == 1);
	room_again(&f);
	CHECK(fx_until(&f, started_once));
	CHECK(f.early_starts == 0);
	/* Memory and database agree on the attempt: the lost one went with
	 * its row, 1 runs. */
	CHECK(sw->running && sw->running->attempt == 1);
	CHECK(trial_row_int(&f, sid, "attempt") == 1);
	CHECK(fx_wait(&f, &f.n_sweep_ended, 1));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK_STR(trial_status(&f, sid, 1, st, sizeof st), "completed");
	CHECK(f.early_epochs == 0 && f.n_epoch_ev == 3);
	fx_close(&f);
}

/* The disk fills as a watched trainer's burst of epochs arrives: whatever
 * was lost is never told (every epoch event's row is stored when it is
 * sent), the trial is requeued, and with room again it completes. */
static void
test_lost_epochs_are_never_told(void)
{
	struct fx f;
	char st[32];
	int64_t sid;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(1, 1, "\"epochs\":300,\"burst\":1,"
				   "\"sleep_ms\":3", NULL));
	CHECK(fx_until(&f, started_once));
	fill_disk(&f);
	CHECK(fx_until(&f, outage_on));
	CHECK(fx_until(&f, none_running));
	CHECK(f.n_ended == 0);
	CHECK_MSG(f.early_epochs == 0, "%d epochs told before stored",
		  f.early_epochs);
	room_again(&f);
	CHECK(fx_until(&f, outage_over_and_idle));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK_STR(trial_status(&f, sid, 1, st, sizeof st), "completed");
	CHECK(f.early_epochs == 0);
	fx_close(&f);
}

/* A lost batch's epochs leave the pruners' history too: while the trial
 * waits out the outage, the curve other trials are pruned against is the
 * stored one, not one with epochs that never were. */
static void
test_lost_epochs_leave_the_history(void)
{
	struct fx f;
	struct sweep *sw;
	struct sweep_hist *h;
	cJSON *spec;
	int64_t sid;
	int stored;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	spec = fake_spec(1, 1, "\"epochs\":300,\"burst\":1,\"sleep_ms\":3", NULL);
	/* a pruner keeps the history; too few trials for it to prune */
	cJSON_AddItemToObject(spec, "pruner", cJSON_Parse(
		"{\"algorithm\":\"median\",\"min_trials\":50}"));
	sid = submit(&f, spec);
	sw = sched_find(&f.s, sid);
	CHECK(fx_until(&f, started_once));
	fill_disk(&f);
	CHECK(fx_until(&f, outage_on));
	CHECK(fx_until(&f, none_running));
	h = sw ? hist_at(&sw->hist, 1) : NULL;
	stored = (int)raw_int(f.t.path, "SELECT count(*) FROM epochs");
	CHECK(h != NULL);
	CHECK_MSG(h && h->n_curve == stored, "history %d points, %d stored",
		  h ? h->n_curve : -1, stored);
	for (int i = 0; h && i < h->n_curve; i++)   /* max: the best left */
		CHECK(h->value >= h->curve[i]);
	room_again(&f);
	CHECK(fx_until(&f, outage_over_and_idle));
	CHECK_STR(f.last_sweep_status, "completed");
	fx_close(&f);
}

/* A batch another write commits first (here a db_begin group, as a
 * manual trial's epoch opens) is settled as committed: the trial's start
 * it held is stored and told, once, and the trial runs on, nothing lost. */
static void
test_batch_committed_by_another_write_is_told(void)
{
	struct fx f;
	struct sweep *sw;
	char st[32];
	int64_t sid;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(1, 1, "\"epochs\":3,\"sleep_ms\":5", NULL));
	sw = sched_find(&f.s, sid);
	/* Spawned by the submit's kick: its row and start are in the open
	 * batch. */
	CHECK(sw && sw->running && db_batch_depth(f.db) == 1);
	CHECK(trial_rows(&f, sid) == 0);
	CHECK(db_begin(f.db) == 0);
	CHECK(db_commit(f.db) == 0);
	CHECK(db_batch_depth(f.db) == 0);
	CHECK(trial_row_int(&f, sid, "status = 'running'") == 1);
	CHECK(fx_wait(&f, &f.n_sweep_ended, 1));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK_STR(trial_status(&f, sid, 1, st, sizeof st), "completed");
	CHECK(f.n_started == 1 && f.early_starts == 0);
	CHECK(f.n_epoch_ev == 3 && f.early_epochs == 0);
	CHECK(trial_row_int(&f, sid, "attempt") == 1);
	CHECK(!f.s.storage_rc);
	fx_close(&f);
}

/* After sched_batch_close (the prepare handle gone) nothing joins a batch:
 * each start and epoch is committed when it is written, so each is
 * stored when told, and no transaction is left open after it. */
static void
test_after_batch_close_each_write_commits(void)
{
	struct fx f;
	int64_t sid;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sched_batch_close(&f.s);
	sid = submit(&f, fake_spec(1, 1, "\"epochs\":3,\"sleep_ms\":5", NULL));
	CHECK(db_batch_depth(f.db) == 0);
	CHECK(trial_row_int(&f, sid, "status = 'running'") == 1);
	CHECK(fx_wait(&f, &f.n_epoch_ev, 1));
	CHECK(db_batch_depth(f.db) == 0);
	CHECK(fx_wait(&f, &f.n_sweep_ended, 1));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK(f.n_started == 1 && f.early_starts == 0);
	CHECK_MSG(f.n_epoch_ev == 3 && f.early_epochs == 0,
		  "%d epoch events, %d told before stored", f.n_epoch_ev,
		  f.early_epochs);
	fx_close(&f);
}

/* ---- a trial's end and the next trial's row and start ------------------ */

/* One worker, trials back to back: the end of each, the row of the next
 * and its start are one commit (told after the same commit), and each
 * is told once, after a separate connection sees it. */
static void
test_end_and_next_start_are_one_commit(void)
{
	struct fx f;
	char st[32];
	int64_t sid;
	int k;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(5, 1, "\"epochs\":1", NULL));
	CHECK(fx_wait(&f, &f.n_sweep_ended, 1));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK_MSG(f.n_started == 5 && f.n_ended == 5, "%d started, %d ended",
		  f.n_started, f.n_ended);
	CHECK(f.early_starts == 0 && f.early_ends == 0 && f.early_epochs == 0);
	for (k = 1; k < 5; k++)
		CHECK_MSG(f.ended_at[k] == f.started_at[k + 1], "trial %d's end "
			  "after commit %" PRId64 ", trial %d's start after %"
			  PRId64, k, f.ended_at[k], k + 1, f.started_at[k + 1]);
	for (k = 1; k <= 5; k++)
		CHECK_STR(trial_status(&f, sid, k, st, sizeof st), "completed");
	fx_close(&f);
}

static int
lost_end_and_none_running(struct fx *f)
{
	return f->lost_end && f->s.storage_rc != 0 && f->s.n_running == 0;
}

/* The batch that holds a trial's end (and the next trial's row and start)
 * is lost: the end is not told nor counted, the next trial is stopped
 * and has no row; with room again the end is stored and told once, the
 * next trial's row is created again, it runs, and the sweep completes
 * with both trials, each told once. */
static void
test_lost_end_is_stored_and_told_once(void)
{
	struct fx f;
	struct sweep *sw;
	char st[32];
	int64_t sid;

	if (fx_open(&f, 1) < 0) {
		CHECK(0);
		fx_close(&f);
		return;
	}
	sid = submit(&f, fake_spec(2, 1, "\"epochs\":2", NULL));
	sw = sched_find(&f.s, sid);
	CHECK(fx_wait(&f, &f.n_started, 1));
	f.lose_end_of = sw && sw->running ? sw->running->id : 0;
	CHECK(fx_until(&f, lost_end_and_none_running));
	CHECK(f.n_ended == 0);                   /* not told */
	CHECK(sw && sw->n_ended == 0);           /* not counted */
	CHECK(trial_row_int(&f, sid, "status = 'running'") == 1);
	CHECK(trial_rows(&f, sid) == 1);         /* trial 2's row went too */
	CHECK(sched_unstored(&f.s) == 2);        /* an end, a row */
	room_again(&f);
	CHECK(fx_until(&f, outage_over_and_idle));
	CHECK_STR(f.last_sweep_status, "completed");
	CHECK_STR(trial_status(&f, sid, 1, st, sizeof st), "completed");
	CHECK_STR(trial_status(&f, sid, 2, st, sizeof st), "completed");
	CHECK_MSG(f.n_ended == 2 && f.early_ends == 0, "%d ends told, %d early",
		  f.n_ended, f.early_ends);
	CHECK(f.early_starts == 0 && f.early_epochs == 0);
	CHECK(raw_int(f.t.path, "SELECT count(*) FROM trials WHERE attempt = 1")
	      == 2);
	fx_close(&f);
}

int
main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);   /* TAP lines among the logs */
	RUN(test_enqueue_during_outage_is_disk_full);
	RUN(test_sweep_runs_to_completion);
	RUN(test_outage_holds_and_resumes);
	RUN(test_recovery_requeues_or_fails);
	RUN(test_ask_keeps_the_errno);
	RUN(test_watched_burst_is_one_commit);
	RUN(test_lost_batch_stops_the_trials_it_started);
	RUN(test_lost_epochs_are_never_told);
	RUN(test_lost_epochs_leave_the_history);
	RUN(test_batch_committed_by_another_write_is_told);
	RUN(test_after_batch_close_each_write_commits);
	RUN(test_end_and_next_start_are_one_commit);
	RUN(test_lost_end_is_stored_and_told_once);
	return harness_done();
}
