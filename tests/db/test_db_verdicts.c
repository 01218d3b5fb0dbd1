/*
 * tests/db/test_db_verdicts.c: the verdict counts of `status`
 * (db_verdicts) are kept by triggers (schema/0007); after every kind of
 * change to a trial they must equal a count made from the trials
 * themselves: the ended trials whose diagnosis_json is valid and has a
 * non-null verdict. A database made before 0007 gets its counts filled.
 */
#include "tests/db/dbtest.h"

#define SPEC "{\"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"}}"

/* The counts as the rule says, from the trials: "verdict=n " each. */
static void
direct(const char *path, int64_t sid, char *buf, size_t len)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	size_t off = 0;

	buf[0] = '\0';
	if (sqlite3_open(path, &h) != SQLITE_OK ||
	    sqlite3_prepare_v2(h, "SELECT json_extract(diagnosis_json, "
			       "'$.verdict') AS v, count(*) FROM trials WHERE "
			       "sweep_id = ?1 AND status NOT IN ('queued', "
			       "'running') AND diagnosis_json IS NOT NULL AND "
			       "json_valid(diagnosis_json) GROUP BY v HAVING v "
			       "IS NOT NULL ORDER BY v", -1, &st, NULL) != SQLITE_OK) {
		snprintf(buf, len, "(query failed: %s)", sqlite3_errmsg(h));
	} else {
		sqlite3_bind_int64(st, 1, sid);
		while (sqlite3_step(st) == SQLITE_ROW && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s=%d ",
						(const char *)sqlite3_column_text(st, 0),
						sqlite3_column_int(st, 1));
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
}

struct out {
	char buf[256];
	size_t off;
};

static int
add(void *ud, const char *verdict, int count)
{
	struct out *o = ud;

	if (o->off < sizeof o->buf)
		o->off += (size_t)snprintf(o->buf + o->off, sizeof o->buf - o->off,
					   "%s=%d ", verdict, count);
	return 0;
}

/* db_verdicts must read want, and so must the count from the trials. */
static void
expect(struct db *db, const char *path, int64_t sid, const char *want,
       const char *step)
{
	struct out o = { "", 0 };
	char d[256];

	direct(path, sid, d, sizeof d);
	CHECK(db_verdicts(db, sid, add, &o) == 0);
	if (strcmp(o.buf, want) != 0 || strcmp(d, want) != 0)
		printf("# %s: db_verdicts \"%s\", from the trials \"%s\", want \"%s\"\n",
		       step, o.buf, d, want);
	CHECK_STR(o.buf, want);
	CHECK_STR(d, want);
}

static int
end(struct db *db, int64_t tid, const char *status, const char *diag)
{
	struct db_trial_end e = {
		.status = status, .objective = 0.5, .best_epoch = 1,
		.test_loss = NAN, .test_acc = NAN, .diagnosis_json = diag,
		.now = 2000,
	};

	return db_trial_end(db, tid, &e);
}

static void
counts_follow_every_change(void)
{
	struct tdir t;
	struct db *db;
	int64_t sid = 0, other = 0, t1 = 0, t2 = 0, t3 = 0, o1 = 0;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "v", SPEC, 3, 1000, &sid) == 0);
	CHECK(db_sweep_create(db, "w", SPEC, 1, 1000, &other) == 0);
	CHECK(db_trial_create(db, sid, 1, "{}", 1, &t1) == 0);
	CHECK(db_trial_create(db, sid, 2, "{}", 2, &t2) == 0);
	CHECK(db_trial_create(db, sid, 3, "{}", 3, &t3) == 0);
	CHECK(db_trial_create(db, other, 1, "{}", 4, &o1) == 0);
	CHECK(db_trial_start(db, t1, 1, 100, 1, 1001) == 0);
	CHECK(db_trial_start(db, t2, 1, 101, 1, 1001) == 0);
	CHECK(db_trial_start(db, o1, 1, 102, 1, 1001) == 0);
	/* a running trial's diagnosis is provisional */
	CHECK(db_trial_set_diagnosis(db, t1, "{\"verdict\":\"improving\"}") == 0);
	expect(db, t.path, sid, "", "running");
	CHECK(end(db, t1, "completed", "{\"verdict\":\"good_fit\"}") == 0);
	CHECK(end(db, t2, "pruned", "{\"verdict\":\"good_fit\"}") == 0);
	CHECK(end(db, o1, "completed", "{\"verdict\":\"good_fit\"}") == 0);
	expect(db, t.path, sid, "good_fit=2 ", "two ended");
	expect(db, t.path, other, "good_fit=1 ", "the other sweep");
	/* an end without a diagnosis keeps the stored one */
	CHECK(end(db, t2, "failed", NULL) == 0);
	expect(db, t.path, sid, "good_fit=2 ", "end keeps the diagnosis");
	CHECK(db_trial_set_diagnosis(db, t2, "{\"verdict\":\"diverged\"}") == 0);
	expect(db, t.path, sid, "diverged=1 good_fit=1 ", "new diagnosis");
	/* back to the queue (resume, retry): no longer counted */
	CHECK(db_trial_requeue(db, t1, 1) == 0);
	expect(db, t.path, sid, "diverged=1 ", "requeued");
	CHECK(db_trial_start(db, t1, 2, 103, 1, 1003) == 0);
	CHECK(end(db, t1, "completed", "{\"verdict\":\"diverged\"}") == 0);
	expect(db, t.path, sid, "diverged=2 ", "restarted");
	/* whatever writes the rows: invalid JSON, no verdict, a number */
	CHECK(raw_exec(t.path, "UPDATE trials SET diagnosis_json = 'x{' "
		       "WHERE sweep_id = 1 AND number = 2") == SQLITE_OK);
	expect(db, t.path, sid, "diverged=1 ", "invalid JSON");
	CHECK(raw_exec(t.path, "UPDATE trials SET status = 'cancelled', "
		       "diagnosis_json = '{\"verdict\":7}' WHERE sweep_id = 1 AND "
		       "number = 3") == SQLITE_OK);
	expect(db, t.path, sid, "7=1 diverged=1 ", "a number verdict");
	CHECK(raw_exec(t.path, "UPDATE trials SET diagnosis_json = '{}' "
		       "WHERE sweep_id = 1 AND number = 3") == SQLITE_OK);
	expect(db, t.path, sid, "diverged=1 ", "no verdict");
	CHECK(raw_exec(t.path, "INSERT INTO trials (sweep_id, number, params_json, "
		       "seed, status, diagnosis_json) VALUES (1, 4, '{}', 5, "
		       "'failed', '{\"verdict\":\"diverged\"}')") == SQLITE_OK);
	expect(db, t.path, sid, "diverged=2 ", "inserted ended");
	CHECK(raw_exec(t.path, "DELETE FROM trials WHERE sweep_id = 1 AND "
		       "number = 1") == SQLITE_OK);
	expect(db, t.path, sid, "diverged=1 ", "deleted");
	CHECK(db_sweep_set_status(db, sid, "completed", NULL, 2001) == 0);
	CHECK(db_sweep_delete(db, sid) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweep_verdicts WHERE "
		      "sweep_id = 1") == 0);
	expect(db, t.path, other, "good_fit=1 ", "the other sweep stays");
	db_close(db);
	tdir_clean(&t);
}

/* A database of schema 7 (no counts table) gets the counts of its trials
 * when it is opened. */
static void
migration_fills_the_counts(void)
{
	struct tdir t;
	struct db *db;
	int64_t sid = 0, tid = 0;

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_sweep_create(db, "v", SPEC, 3, 1000, &sid) == 0);
	for (int i = 1; i <= 3; i++) {
		CHECK(db_trial_create(db, sid, i, "{}", i, &tid) == 0);
		CHECK(db_trial_start(db, tid, 1, 100 + i, 1, 1001) == 0);
		CHECK(end(db, tid, i == 3 ? "failed" : "completed", i == 3 ?
			  "{\"verdict\":\"diverged\"}" : "{\"verdict\":\"good_fit\"}") == 0);
	}
	db_close(db);
	CHECK(raw_exec(t.path, "DROP TRIGGER trials_verdict_insert; "
		       "DROP TRIGGER trials_verdict_update; "
		       "DROP TRIGGER trials_verdict_delete; "
		       "DROP TABLE sweep_verdicts; "
		       /* and 0009's columns: a version 7 database */
		       "ALTER TABLE trials DROP COLUMN asha_rung; "
		       "ALTER TABLE trials DROP COLUMN promoted_rung; "
		       "ALTER TABLE trials DROP COLUMN promotions; "
		       "PRAGMA user_version = 7") == SQLITE_OK);
	db = topen(&t);
	CHECK(db != NULL);
	if (db) {
		CHECK(db_schema_version(db) >= 8);
		expect(db, t.path, sid, "diverged=1 good_fit=2 ", "migrated");
		db_close(db);
	}
	tdir_clean(&t);
}

int
main(void)
{
	RUN(counts_follow_every_change);
	RUN(migration_fills_the_counts);
	return harness_done();
}
