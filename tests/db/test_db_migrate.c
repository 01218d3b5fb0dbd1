/*
 * tests/db/test_db_migrate.c: schema 9 (schema/0009_status_checks.sql)
 * rebuilds `sweeps` and `trials` with foreign keys off. A version-8 file
 * full of every kind of row comes out with every row equal, its counters
 * and verdicts those of its rows, no foreign key broken, the CHECKs still
 * refusing a bad status, and the writes cheaper (no ephemeral table, a
 * partial failure index); a migration killed or failing half-way leaves
 * version 8 as it was, and the next open migrates.
 */
#include <signal.h>
#include <sys/wait.h>

#include "schema/migrations.h"
#include "tests/db/dbtest.h"

#define V8 8

/* SQL on a raw connection with foreign keys on (as the daemon's). */
static int
raw_fk(const char *path, const char *sql)
{
	char *q = sqlite3_mprintf("PRAGMA foreign_keys = ON; %s", sql);
	int rc = q ? raw_exec(path, q) : SQLITE_NOMEM;

	sqlite3_free(q);
	return rc;
}

/* Rows of every kind: sweeps in each status (one with a 100 kB spec, one
 * deleted), 300 trials through every status (a pending Slurm one too),
 * failed ones with classes and messages, diagnoses with a verdict, a null
 * one, none, and text that is not JSON; epochs over two attempts. */
static const char *const fill_sql =
	"INSERT INTO sweeps (id, name, spec_json, status, error, trials_total,"
	" created_at, ended_at) VALUES"
	" (1, 'run', '{\"a\":1}', 'running', NULL, 300, 1.5, NULL),"
	" (2, 'big', '{\"pad\":\"' || printf('%.*c', 100000, 'x') || '\"}',"
	"  'completed', NULL, 2, 2.25, 3.125),"
	" (3, 'bad', '{}', 'failed', 'trainer missing', 1, 3.0, 4.0),"
	" (4, 'hold', '{}', 'paused', NULL, 1, 4.0, NULL),"
	" (5, 'stop', '{}', 'cancelled', NULL, 1, 5.0, 6.0),"
	" (6, 'gone', '{}', 'completed', NULL, 1, 6.0, 7.0);"
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	" WHERE i < 300)"
	" INSERT INTO trials (sweep_id, number, params_json, seed, status,"
	" attempt, pid, proc_start, started_at, ended_at, epochs, objective,"
	" best_epoch, test_loss, test_acc, diagnosis_json, error, error_class,"
	" exit_code, signal, stderr_tail, job, pending, queue_s)"
	" SELECT 1, i, '{\"lr\":' || (i / 7.0) || '}', -i * 1000003, s,"
	"  (i % 3) + 1, CASE s WHEN 'running' THEN 1000 + i END,"
	"  CASE s WHEN 'running' THEN 77 * i END,"
	"  CASE WHEN s <> 'queued' THEN i + 0.5 END,"
	"  CASE WHEN s NOT IN ('queued', 'running') THEN i + 0.75 END,"
	"  CASE WHEN s <> 'queued' THEN 3 ELSE 0 END,"
	"  CASE WHEN i % 5 THEN i / 301.0 END, CASE WHEN i % 5 THEN 2 END,"
	"  CASE s WHEN 'completed' THEN 0.25 END,"
	"  CASE s WHEN 'completed' THEN 0.875 END,"
	"  CASE i % 4 WHEN 0 THEN '{\"verdict\":\"overfit\"}'"
	"   WHEN 1 THEN '{\"verdict\":\"ok\",\"n\":' || i || '}'"
	"   WHEN 2 THEN 'not json' ELSE '{\"verdict\":null}' END,"
	"  CASE s WHEN 'failed' THEN 'message ' || (i % 3) END,"
	"  CASE s WHEN 'failed' THEN"
	"   CASE i % 4 WHEN 0 THEN 'signal' WHEN 1 THEN 'timeout'"
	"   WHEN 2 THEN 'oom' END END,"
	"  CASE s WHEN 'failed' THEN i % 7 END,"
	"  CASE s WHEN 'failed' THEN CASE i % 4 WHEN 0 THEN 9 END END,"
	"  CASE s WHEN 'failed' THEN 'Traceback ' || i END,"
	"  CASE WHEN s = 'running' AND i % 2 THEN 5000 + i END,"
	"  CASE WHEN s = 'running' AND i % 4 = 1 THEN 1 ELSE 0 END,"
	"  CASE WHEN s = 'running' AND i % 4 = 3 THEN 1.5 END"
	" FROM (SELECT i, CASE i % 6 WHEN 0 THEN 'queued' WHEN 1 THEN"
	"  'running' WHEN 2 THEN 'completed' WHEN 3 THEN 'failed' WHEN 4 THEN"
	"  'pruned' ELSE 'cancelled' END AS s FROM n);"
	"INSERT INTO trials (sweep_id, number, params_json, seed, status,"
	" diagnosis_json) VALUES (2, 1, '{}', 1, 'completed',"
	" '{\"verdict\":\"ok\"}'), (2, 2, '{}', 2, 'failed', NULL),"
	" (6, 1, '{}', 3, 'completed', '{\"verdict\":\"ok\"}');"
	"INSERT INTO epochs (trial_id, attempt, epoch, objective, train_loss,"
	" val_loss, train_acc, val_acc, metrics_json)"
	" SELECT t.id, a.a, e.e, t.id / 1000.0 + e.e, 1.0 / e.e, NULL, 0.5,"
	"  e.e / 10.0, '{\"epoch\":' || e.e || ',\"attempt\":' || a.a || '}'"
	" FROM trials t, (SELECT 1 AS a UNION ALL SELECT 2) a,"
	"  (SELECT 0 AS e UNION ALL SELECT 1 UNION ALL SELECT 2) e"
	" WHERE t.status <> 'queued' AND a.a <= t.attempt;"
	"DELETE FROM sweeps WHERE id = 6;"
	/* someone's own view, made with the sqlite3 shell */
	"CREATE VIEW failed_trials AS SELECT sweep_id, number, error_class"
	" FROM trials WHERE status = 'failed';";

/* A file at schema version 8, made by this build's first eight
 * migrations as an older sweepd left it, and filled. */
static int
make_v8(const char *path)
{
	int rc = 0;

	for (int i = 0; rc == 0 && i < V8; i++)
		rc = raw_exec(path, schema_migrations[i].sql);
	if (rc == 0)
		rc = raw_fk(path, fill_sql);
	if (rc == 0)
		rc = raw_exec(path, "PRAGMA user_version = 8");
	return rc;
}

/* Each table (and the view) with its key's columns, and the columns
 * compared: trials' of version 8 (later migrations, 0010, add some). */
#define V8_TRIAL_COLS \
	"id, sweep_id, number, params_json, seed, status, attempt, pid, " \
	"proc_start, started_at, ended_at, epochs, objective, best_epoch, " \
	"test_loss, test_acc, diagnosis_json, error, error_class, exit_code, " \
	"signal, stderr_tail, job, pending, queue_s"
static const char *const dump_tables[][3] = {
	{ "sweeps", "1", "*" }, { "sweep_counts", "1", "*" },
	{ "sweep_verdicts", "1, 2", "*" }, { "deleted_sweeps", "1", "*" },
	{ "trials", "1", V8_TRIAL_COLS }, { "epochs", "1, 2, 3", "*" },
	{ "failed_trials", "1, 2", "*" },
};

/* Every row of every table (and the view), each value with its type, in
 * key order; then the names and kinds of every schema object. Owned by
 * the caller (sqlite3_free); NULL when a query fails. */
static char *
dump(const char *path)
{
	sqlite3 *h = NULL;
	sqlite3_str *s;
	int ok = sqlite3_open(path, &h) == SQLITE_OK;
	char *q;

	s = sqlite3_str_new(h);
	for (size_t i = 0; ok && i <= sizeof dump_tables / sizeof *dump_tables; i++) {
		sqlite3_stmt *st = NULL;
		q = i < sizeof dump_tables / sizeof *dump_tables ?
		    sqlite3_mprintf("SELECT %s FROM %s ORDER BY %s",
				    dump_tables[i][2], dump_tables[i][0],
				    dump_tables[i][1]) :
		    sqlite3_mprintf("SELECT type, name, tbl_name FROM "
				    "sqlite_master ORDER BY 1, 2");
		ok = q && sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK;
		sqlite3_str_appendf(s, "== %s\n", q ? q : "");
		while (ok && sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				int ty = sqlite3_column_type(st, c);
				if (ty == SQLITE_FLOAT)
					sqlite3_str_appendf(s, "%d:%!.17g|", ty,
						sqlite3_column_double(st, c));
				else
					sqlite3_str_appendf(s, "%d:%Q|", ty,
						sqlite3_column_text(st, c));
			}
			sqlite3_str_appendchar(s, 1, '\n');
		}
		sqlite3_finalize(st);
		sqlite3_free(q);
	}
	q = sqlite3_str_finish(s);
	sqlite3_close(h);
	if (!ok) {
		sqlite3_free(q);
		return NULL;
	}
	return q;
}

/* Rows of sweep_counts and sweep_verdicts that differ from what the
 * trials say (0008's rule for verdicts): 0 when every counter is right. */
#define WRONG_COUNTS \
	"SELECT (SELECT count(*) FROM sweep_counts c WHERE " \
	"n_queued <> (SELECT count(*) FROM trials t WHERE t.sweep_id = " \
	"c.sweep_id AND status = 'queued') OR n_running <> (SELECT count(*) " \
	"FROM trials t WHERE t.sweep_id = c.sweep_id AND status = 'running') " \
	"OR n_completed <> (SELECT count(*) FROM trials t WHERE t.sweep_id = " \
	"c.sweep_id AND status = 'completed') OR n_failed <> (SELECT count(*) " \
	"FROM trials t WHERE t.sweep_id = c.sweep_id AND status = 'failed') " \
	"OR n_pruned <> (SELECT count(*) FROM trials t WHERE t.sweep_id = " \
	"c.sweep_id AND status = 'pruned') OR n_cancelled <> (SELECT count(*) " \
	"FROM trials t WHERE t.sweep_id = c.sweep_id AND status = 'cancelled')" \
	") + (SELECT count(*) FROM sweeps s WHERE NOT EXISTS (SELECT 1 FROM " \
	"sweep_counts c WHERE c.sweep_id = s.id)) + (SELECT count(*) FROM (" \
	"WITH want AS (SELECT sweep_id, json_extract(diagnosis_json, " \
	"'$.verdict') AS v, count(*) AS n FROM trials WHERE status NOT IN " \
	"('queued', 'running') AND json_valid(diagnosis_json) GROUP BY 1, 2 " \
	"HAVING v IS NOT NULL) SELECT * FROM (SELECT * FROM want EXCEPT " \
	"SELECT sweep_id, verdict, n FROM sweep_verdicts WHERE n > 0) UNION " \
	"ALL SELECT * FROM (SELECT sweep_id, verdict, n FROM sweep_verdicts " \
	"WHERE n > 0 EXCEPT SELECT * FROM want)))"

/* The SQLite result of sql on a raw connection with foreign keys on. */
static int
raw_rc(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open(path, &h);

	sqlite3_extended_result_codes(h, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
	sqlite3_close(h);
	return rc;
}

/* What every migrated file must show, whatever was done to it before. */
static void
check_migrated(const struct tdir *t, const char *before)
{
	char *after = dump(t->path);

	CHECK(raw_int(t->path, "PRAGMA user_version") == schema_migrations_n);
	CHECK(before && after);
	CHECK_MSG(before && after && strcmp(before, after) == 0,
		  "rows differ after the migration (%zu bytes before, %zu after)",
		  before ? strlen(before) : 0, after ? strlen(after) : 0);
	sqlite3_free(after);
	CHECK(raw_int(t->path, WRONG_COUNTS) == 0);
	CHECK(raw_int(t->path, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
	CHECK(raw_int(t->path, "SELECT integrity_check = 'ok' FROM "
		      "pragma_integrity_check") == 1);
	CHECK(raw_int(t->path, "SELECT count(*) FROM sqlite_master WHERE "
		      "name LIKE '%\\_new' ESCAPE '\\'") == 0);
}

static void
v8_file_keeps_every_row(void)
{
	struct tdir t;
	struct db *db;
	char *before;

	if (tdir_make(&t) < 0 || make_v8(t.path) != 0) {
		CHECK(0);
		return;
	}
	before = dump(t.path);
	CHECK(before != NULL);
	CHECK(raw_int(t.path, WRONG_COUNTS) == 0);   /* the fill's own */
	/* the fill's: 3 epochs of each attempt (one or two) of every
	 * started trial */
	CHECK(raw_int(t.path, "SELECT count(*) FROM epochs") == 1350);
	db = topen(&t);
	CHECK(db != NULL);
	CHECK(db_schema_version(db) == schema_migrations_n);
	check_migrated(&t, before);
	/* The daemon's connection has its foreign keys on again. */
	CHECK(db && db_trial_create(db, 99, 1, "{}", 1, NULL) == -ENOENT);
	db_close(db);
	sqlite3_free(before);
	tdir_clean(&t);
}

/* The triggers made again by 0009 count as 0004 and 0008's did. */
static void
migrated_triggers_keep_counting(void)
{
	struct tdir t;
	struct db *db;
	int64_t id, sid;
	struct db_trial_end e = { .status = "completed", .objective = 0.5,
		.best_epoch = 1, .test_loss = NAN, .test_acc = NAN,
		.diagnosis_json = "{\"verdict\":\"fresh\"}", .now = 9.0 };

	if (tdir_make(&t) < 0 || make_v8(t.path) != 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	CHECK(db_trial_create(db, 1, 301, "{}", 1, &id) == 0);
	CHECK(db_trial_start(db, id, 1, 1, 1, 1.0) == 0);
	CHECK(db_trial_epoch(db, id, 1, 1, 0.5, "{\"val_acc\":0.5}") == 0);
	CHECK(db_trial_end(db, id, &e) == 0);
	CHECK(db_sweep_create(db, "new", "{}", 1, 1.0, &sid) == 0);
	CHECK(sid == 7);   /* 6 was deleted: never given again */
	CHECK(db_sweep_delete(db, 2) == 0);
	db_close(db);
	CHECK(raw_int(t.path, "SELECT n FROM sweep_verdicts WHERE sweep_id = 1 "
		      "AND verdict = 'fresh'") == 1);
	CHECK(raw_int(t.path, "SELECT count(*) FROM sweep_counts WHERE "
		      "sweep_id = 7") == 1);
	CHECK(raw_int(t.path, "SELECT count(*) FROM deleted_sweeps WHERE "
		      "id IN (2, 6)") == 2);
	CHECK(raw_int(t.path, "SELECT count(*) FROM trials WHERE "
		      "sweep_id = 2") == 0);
	CHECK(raw_int(t.path, WRONG_COUNTS) == 0);
	CHECK(raw_int(t.path, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
	tdir_clean(&t);
}

static void
checks_still_refuse_a_bad_status(void)
{
	struct tdir t;
	struct db *db;

	if (tdir_make(&t) < 0 || make_v8(t.path) != 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	db_close(db);
	CHECK(raw_rc(t.path, "INSERT INTO trials (sweep_id, number, "
		     "params_json, seed, status) VALUES (1, 999, '{}', 1, "
		     "'bogus')") == SQLITE_CONSTRAINT_CHECK);
	CHECK(raw_rc(t.path, "UPDATE trials SET status = 'bogus' WHERE "
		     "id = 1") == SQLITE_CONSTRAINT_CHECK);
	CHECK(raw_rc(t.path, "UPDATE trials SET status = NULL WHERE "
		     "id = 1") == SQLITE_CONSTRAINT_NOTNULL);
	CHECK(raw_rc(t.path, "UPDATE trials SET status = 'Running' WHERE "
		     "id = 1") == SQLITE_CONSTRAINT_CHECK);
	CHECK(raw_rc(t.path, "UPDATE sweeps SET status = 'bogus' WHERE "
		     "id = 1") == SQLITE_CONSTRAINT_CHECK);
	CHECK(raw_rc(t.path, "INSERT INTO sweeps (name, spec_json, status, "
		     "trials_total, created_at) VALUES ('x', '{}', 'queued', "
		     "1, 1)") == SQLITE_CONSTRAINT_CHECK);
	/* every status each table names is still taken */
	CHECK(raw_rc(t.path, "UPDATE trials SET status = 'queued' WHERE id = 1;"
		     "UPDATE trials SET status = 'running' WHERE id = 1;"
		     "UPDATE trials SET status = 'completed' WHERE id = 1;"
		     "UPDATE trials SET status = 'failed' WHERE id = 1;"
		     "UPDATE trials SET status = 'pruned' WHERE id = 1;"
		     "UPDATE trials SET status = 'cancelled' WHERE id = 1;"
		     "UPDATE sweeps SET status = 'paused' WHERE id = 1;"
		     "UPDATE sweeps SET status = 'completed' WHERE id = 1;"
		     "UPDATE sweeps SET status = 'failed' WHERE id = 1;"
		     "UPDATE sweeps SET status = 'cancelled' WHERE id = 1;"
		     "UPDATE sweeps SET status = 'running' WHERE id = 1;") ==
	      SQLITE_OK);
	CHECK(raw_int(t.path, WRONG_COUNTS) == 0);
	tdir_clean(&t);
}

/* The per-trial writes compare a status in place: no ephemeral b-tree of
 * the CHECK's list is built at each one; the failure index holds failed
 * trials only and still answers the failure summary alone. */
static void
writes_build_no_ephemeral_table(void)
{
	static const char *const writes[] = {
		"TRIAL_INSERT", "TRIAL_START", "TRIAL_END", "TRIAL_REQUEUE",
		"SWEEP_INSERT", "SWEEP_STATUS", "SWEEP_REOPEN",
	};
	struct tdir t;
	struct db *db;
	char plan[1024];

	if (tdir_make(&t) < 0 || !(db = topen(&t))) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; i < sizeof writes / sizeof *writes; i++) {
		int n = db_explain_ops(db, writes[i], "OpenEphemeral");
		CHECK_MSG(n == 0, "%s: %d OpenEphemeral", writes[i], n);
		/* and the count is of real instructions */
		CHECK(db_explain_ops(db, writes[i], "Halt") > 0);
	}
	CHECK(db_explain_ops(db, "NO_SUCH", "Halt") == -ENOENT);
	CHECK(db_failures_plan(db, plan, sizeof plan) == 0);
	CHECK_CONTAINS(plan, "COVERING INDEX trials_failures");
	CHECK_MSG(!strstr(plan, "SCAN"), "%s", plan);
	db_close(db);
	CHECK(raw_int(t.path, "SELECT \"partial\" FROM pragma_index_list('trials') "
		      "WHERE name = 'trials_failures'") == 1);
	tdir_clean(&t);
}

/* A v8 file spoilt by spoil_sql is refused by db_open with rc (0: any
 * failure) and a message holding want1 and want2, and left at version 8
 * with every row; once mend_sql has run, the next open migrates it. */
static void
refused_then_mended(const char *spoil_sql, int rc, const char *want1,
		    const char *want2, const char *mend_sql)
{
	struct tdir t;
	struct db *db = NULL;
	char err[512], *before, *mid;
	int got;

	if (tdir_make(&t) < 0 || make_v8(t.path) != 0 ||
	    raw_exec(t.path, spoil_sql) != 0) {
		CHECK(0);
		return;
	}
	before = dump(t.path);
	got = db_open(t.path, &db, err, sizeof err);
	CHECK_MSG(rc ? got == rc : got < 0, "db_open gave %d", got);
	CHECK(db == NULL);
	CHECK_CONTAINS(err, "migration 0009_status_checks.sql failed");
	CHECK_CONTAINS(err, want1);
	CHECK_CONTAINS(err, want2);
	CHECK(raw_int(t.path, "PRAGMA user_version") == V8);
	mid = dump(t.path);
	CHECK(before && mid && strcmp(before, mid) == 0);
	sqlite3_free(mid);
	sqlite3_free(before);
	CHECK(raw_exec(t.path, mend_sql) == 0);
	before = dump(t.path);
	CHECK((db = topen(&t)) != NULL);
	db_close(db);
	check_migrated(&t, before);
	sqlite3_free(before);
	tdir_clean(&t);
}

/* Migration 9 fails half-way: a table in the file already has the name
 * it builds `trials` under, after it built `sweeps` anew. */
static void
failed_rebuild_leaves_v8_and_retries(void)
{
	refused_then_mended("CREATE TABLE trials_new (x)", 0, "trials_new",
			    "already exists", "DROP TABLE trials_new");
}

/* A file that already breaks a foreign key (written with them off by
 * hand) is not migrated over it: the check after the rebuild names the
 * row. */
static void
broken_foreign_key_is_refused_naming_it(void)
{
	refused_then_mended("INSERT INTO epochs (trial_id, attempt, epoch, "
			    "metrics_json) VALUES (4242, 1, 1, '{}')", -EIO,
			    "row of epochs", "foreign_key_check",
			    "DELETE FROM epochs WHERE trial_id = 4242");
}

/* ---- killed half-way ---------------------------------------------------- */

static int kill_after;      /* progress callbacks once armed, then SIGKILL */
static int kill_armed;
static int kill_fd = -1;    /* told 'm' when armed */

static int
kill_progress(void *ud)
{
	(void)ud;
	if (kill_armed && --kill_after <= 0)
		raise(SIGKILL);
	return 0;
}

/* Arms the kill at the first statement of migration 9. */
static int
kill_trace(unsigned type, void *ud, void *p, void *x)
{
	const char *sql = x;

	(void)type;
	(void)ud;
	(void)p;
	if (!kill_armed && sql && strstr(sql, "CREATE TABLE sweeps_new")) {
		kill_armed = 1;
		if (write(kill_fd, "m", 1) != 1)
			_exit(5);
	}
	return 0;
}

static int
kill_ext(sqlite3 *h, const char **msg, const void *api)
{
	(void)msg;
	(void)api;
	sqlite3_progress_handler(h, 50, kill_progress, NULL);
	sqlite3_trace_v2(h, SQLITE_TRACE_STMT, kill_trace, NULL);
	return SQLITE_OK;
}

/* Opens path in a child that SIGKILLs itself after `after` progress
 * steps into migration 9. 1 when it was killed inside the migration,
 * 0 when it finished, -1 on anything else. */
static int
open_killed(const char *path, int after)
{
	struct db *db = NULL;
	char err[512], c;
	int fds[2], status = 0, armed = 0;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		kill_fd = fds[1];
		kill_after = after;
		sqlite3_auto_extension((void (*)(void))kill_ext);
		_exit(db_open(path, &db, err, sizeof err) == 0 ? 0 : 3);
	}
	close(fds[1]);
	while (read(fds[0], &c, 1) == 1)
		armed = 1;
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && armed)
		return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void
killed_migration_leaves_v8_and_reopen_migrates(void)
{
	struct tdir t;
	struct db *db;
	char *before, *now;
	int kills = 0, r = 1;

	if (tdir_make(&t) < 0 || make_v8(t.path) != 0) {
		CHECK(0);
		return;
	}
	before = dump(t.path);
	/* Kill points spread over the whole migration, each at a later
	 * place than the last, until one open gets to the end. */
	for (int after = 1; r == 1 && after < (1 << 20); after *= 2) {
		r = open_killed(t.path, after);
		if (r != 1)
			break;
		kills++;
		CHECK(raw_int(t.path, "PRAGMA user_version") == V8);
		now = dump(t.path);
		CHECK_MSG(before && now && strcmp(before, now) == 0,
			  "killed after %d steps: the file changed", after);
		sqlite3_free(now);
	}
	printf("# killed %d times inside migration 9, then it ran to the end\n",
	       kills);
	CHECK(kills >= 4);
	CHECK(r == 0);
	check_migrated(&t, before);
	CHECK((db = topen(&t)) != NULL);
	CHECK(db_schema_version(db) == schema_migrations_n);
	db_close(db);
	sqlite3_free(before);
	tdir_clean(&t);
}

int
main(void)
{
	RUN(v8_file_keeps_every_row);
	RUN(migrated_triggers_keep_counting);
	RUN(checks_still_refuse_a_bad_status);
	RUN(writes_build_no_ephemeral_table);
	RUN(failed_rebuild_leaves_v8_and_retries);
	RUN(broken_foreign_key_is_refused_naming_it);
	RUN(killed_migration_leaves_v8_and_reopen_migrates);
	return harness_done();
}
