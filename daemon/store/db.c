/*
 * daemon/store/db.c: sweepd's SQLite storage (contract in db.h, schema in
 * schema/NNNN_*.sql, reasoning in docs/storage.md).
 *
 * Every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) and
 * reused: a call binds, steps and resets it, on every path, through run()
 * or the row walkers, so no statement is ever left holding a read snapshot
 * or a lock between calls. A call that writes more than one statement wraps
 * them in a SAVEPOINT, which is a transaction of its own outside db_begin and
 * a nested one inside it, so a failure never leaves half a change.
 */
#include "daemon/store/db.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "schema/migrations.h"

/* How long a write waits for a lock held by another process (a backup, an
 * sqlite3 shell) before failing with -EBUSY. The daemon is the only writer,
 * so this only bounds how long a stray reader can stall the loop. */
#define DB_BUSY_MS 2000

#define TRIAL_COLS \
	"id, number, status, attempt, params_json, seed, objective, " \
	"best_epoch, epochs, test_loss, test_acc, diagnosis_json, error, " \
	"error_class, exit_code, signal, started_at, ended_at, stderr_tail"
/* Column indexes of TRIAL_COLS, in the same order. */
enum {
	TC_ID, TC_NUMBER, TC_STATUS, TC_ATTEMPT, TC_PARAMS, TC_SEED,
	TC_OBJECTIVE, TC_BEST_EPOCH, TC_EPOCHS, TC_TEST_LOSS, TC_TEST_ACC,
	TC_DIAGNOSIS, TC_ERROR, TC_ERROR_CLASS, TC_EXIT_CODE, TC_SIGNAL,
	TC_STARTED_AT, TC_ENDED_AT, TC_STDERR_TAIL,
};

/* The start-up loaders' trial columns, in db_trial_row's order. */
#define LOAD_COLS \
	"t.id, t.sweep_id, t.number, t.params_json, t.status, t.attempt, " \
	"t.pid, t.proc_start, t.seed, t.objective, t.best_epoch, t.epochs"

#define SWEEP_COLS \
	"s.id, s.name, s.status, s.created_at, s.ended_at, s.trials_total, " \
	"c.n_queued, c.n_running, c.n_completed, c.n_failed, c.n_pruned, " \
	"c.n_cancelled, s.spec_json, s.error"
/* The counters live in their own narrow row (schema/0004), so that counting
 * a trial never rewrites the sweep's row and its spec. */
#define SWEEP_FROM "sweeps s JOIN sweep_counts c ON c.sweep_id = s.id"
enum {
	SC_ID, SC_NAME, SC_STATUS, SC_CREATED_AT, SC_ENDED_AT, SC_TOTAL,
	SC_COUNTS,   /* six counters from here, in trial_statuses[] order */
	SC_SPEC = SC_COUNTS + 6, SC_ERROR,
};

/* Best trial, as two seeks on trials_best (sweep_id, status, objective,
 * number): the subquery's min/max reads one end of the (sweep, completed)
 * range, skipping NULL objectives; the outer query then takes the lowest
 * number holding that value. Accuracies tie often (they are k / n_val), and
 * an ORDER BY objective, number would sort every tied row instead. */
#define BEST_SQL(agg) \
	"SELECT " TRIAL_COLS " FROM trials WHERE sweep_id = ?1 AND " \
	"status = 'completed' AND objective = (SELECT " agg "(objective) " \
	"FROM trials WHERE sweep_id = ?1 AND status = 'completed') " \
	"ORDER BY number LIMIT 1"

/* Every statement the module runs after open, prepared once. */
#define DB_STATEMENTS(X) \
	X(BEGIN, "BEGIN IMMEDIATE") \
	X(COMMIT, "COMMIT") \
	X(ROLLBACK, "ROLLBACK") \
	X(SAVEPOINT, "SAVEPOINT db_op") \
	X(RELEASE, "RELEASE db_op") \
	X(ROLLBACK_TO, "ROLLBACK TO db_op") \
	X(SWEEP_INSERT, "INSERT INTO sweeps (id, name, spec_json, status, " \
	  "trials_total, created_at) VALUES (1 + max(" \
	  "coalesce((SELECT max(id) FROM sweeps), 0), " \
	  "coalesce((SELECT max(id) FROM deleted_sweeps), 0)), " \
	  "?1, ?2, 'running', ?3, ?4)") \
	X(SWEEP_STATUS, "UPDATE sweeps SET status = ?2, error = ?3, " \
	  "ended_at = ?4 WHERE id = ?1") \
	X(SWEEP_SPEC, "UPDATE sweeps SET spec_json = ?2 WHERE id = ?1") \
	X(SWEEP_REOPEN, "UPDATE sweeps SET spec_json = ?2, trials_total = ?3, " \
	  "status = 'running', error = NULL, ended_at = NULL WHERE id = ?1 " \
	  "AND status NOT IN ('running', 'paused')") \
	X(SWEEP_DELETE, "DELETE FROM sweeps WHERE id = ?1 AND " \
	  "status NOT IN ('running', 'paused')") \
	X(SWEEPS_ALL, "SELECT " SWEEP_COLS " FROM " SWEEP_FROM " ORDER BY s.id") \
	X(SWEEPS_ACTIVE, "SELECT " SWEEP_COLS " FROM " SWEEP_FROM " WHERE " \
	  "s.status IN ('running', 'paused') ORDER BY s.id") \
	X(SWEEP_ONE, "SELECT " SWEEP_COLS " FROM " SWEEP_FROM " WHERE s.id = ?1") \
	X(TRIAL_INSERT, "INSERT INTO trials (sweep_id, number, params_json, " \
	  "seed) VALUES (?1, ?2, ?3, ?4)") \
	X(TRIAL_START, "UPDATE trials SET status = 'running', attempt = ?2, " \
	  "pid = ?3, proc_start = ?4, started_at = ?5, ended_at = NULL, " \
	  "epochs = 0, objective = NULL, best_epoch = NULL, test_loss = NULL, " \
	  "test_acc = NULL, diagnosis_json = NULL, error = NULL, " \
	  "error_class = NULL, exit_code = NULL, signal = NULL, " \
	  "stderr_tail = NULL WHERE id = ?1 AND status = 'queued'") \
	X(TRIAL_STATE, "SELECT status, attempt FROM trials WHERE id = ?1") \
	X(TRIAL_END, "UPDATE trials SET status = ?2, objective = ?3, " \
	  "best_epoch = ?4, test_loss = ?5, test_acc = ?6, " \
	  "diagnosis_json = coalesce(?7, diagnosis_json), error = ?8, " \
	  "error_class = ?9, exit_code = ?10, signal = ?11, " \
	  "stderr_tail = ?12, ended_at = ?13 WHERE id = ?1") \
	X(TRIAL_REQUEUE, "UPDATE trials SET status = 'queued', attempt = ?2, " \
	  "pid = NULL, proc_start = NULL WHERE id = ?1") \
	X(TRIAL_DIAG, "UPDATE trials SET diagnosis_json = ?2 WHERE id = ?1") \
	X(EPOCH_INSERT, "INSERT INTO epochs (trial_id, attempt, epoch, " \
	  "objective, train_loss, val_loss, train_acc, val_acc, metrics_json) " \
	  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)") \
	X(EPOCH_COUNT, "UPDATE trials SET epochs = epochs + 1 " \
	  "WHERE id = ?1 AND attempt = ?2") \
	X(TRIALS_LOAD, "SELECT " LOAD_COLS " FROM trials t " \
	  "WHERE t.sweep_id = ?1 ORDER BY t.number") \
	X(UNSETTLED_LOAD, "SELECT " LOAD_COLS " FROM sweeps s CROSS JOIN trials t " \
	  "INDEXED BY trials_best ON t.sweep_id = s.id AND t.status IN ('queued', 'running') " \
	  "WHERE s.status NOT IN ('running', 'paused') " \
	  "ORDER BY s.id, t.number") \
	X(CURVES_LOAD, "SELECT e.trial_id, e.epoch, e.objective FROM trials t " \
	  "JOIN epochs e ON e.trial_id = t.id AND e.attempt = t.attempt " \
	  "WHERE t.sweep_id = ?1 ORDER BY t.number, e.epoch") \
	X(TRIALS_JSON, "SELECT " TRIAL_COLS " FROM trials WHERE sweep_id = ?1 " \
	  "ORDER BY number LIMIT ?2 OFFSET ?3") \
	X(TRIALS_COUNT, "SELECT count(*) FROM trials WHERE sweep_id = ?1") \
	X(TRIAL_ONE, "SELECT " TRIAL_COLS " FROM trials WHERE sweep_id = ?1 " \
	  "AND number = ?2") \
	X(BEST_MAX, BEST_SQL("max")) \
	X(BEST_MIN, BEST_SQL("min")) \
	X(CURVE, "SELECT epoch, metrics_json FROM epochs WHERE trial_id = ?1 " \
	  "AND attempt = ?2 ORDER BY epoch") \
	X(EPOCHS_SAME, "SELECT t.number, e.attempt, e.epoch, e.metrics_json " \
	  "FROM trials t JOIN epochs e ON e.trial_id = t.id " \
	  "WHERE t.sweep_id = ?1 AND t.number = ?2 AND " \
	  "(e.attempt, e.epoch) > (?3, ?4) ORDER BY e.attempt, e.epoch " \
	  "LIMIT ?5") \
	X(EPOCHS_AFTER, "SELECT t.number, e.attempt, e.epoch, e.metrics_json " \
	  "FROM trials t JOIN epochs e ON e.trial_id = t.id " \
	  "WHERE t.sweep_id = ?1 AND t.number > ?2 " \
	  "ORDER BY t.number, e.attempt, e.epoch LIMIT ?3") \
	X(FAILURES, "SELECT coalesce(error_class, 'exit'), coalesce(error, ''), " \
	  "count(*) AS n FROM trials WHERE sweep_id = ?1 AND status = 'failed' " \
	  "GROUP BY error_class, error ORDER BY n DESC, min(id) LIMIT ?2") \
	X(VERDICTS, "SELECT json_extract(diagnosis_json, '$.verdict') AS v, " \
	  "count(*) FROM trials WHERE sweep_id = ?1 AND status NOT IN " \
	  "('queued', 'running') AND diagnosis_json IS NOT " \
	  "NULL AND json_valid(diagnosis_json) GROUP BY v HAVING v IS NOT NULL " \
	  "ORDER BY v")

enum stmt_id {
#define X(name, sql) ST_##name,
	DB_STATEMENTS(X)
#undef X
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
#define X(name, sql) sql,
	DB_STATEMENTS(X)
#undef X
};

struct db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];   /* all prepared at open, owned */
	char *path;                   /* owned, for messages */
	int version;                  /* user_version after migrations */
	char err[512];                /* last failure's message, "" if none */
	int64_t trial_rows;           /* handed out by the loaders */
};

static const char *const sweep_statuses[] = {
	"running", "paused", "completed", "failed", "cancelled", NULL,
};
/* Order matters: the n_* counter columns follow it. */
static const char *const trial_statuses[] = {
	"queued", "running", "completed", "failed", "pruned", "cancelled", NULL,
};
static const char *const trial_end_statuses[] = {
	"completed", "failed", "pruned", "cancelled", NULL,
};

/* ---- errors ----------------------------------------------------------- */

static int
in_list(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* An SQLite (extended) result code as a negative errno. */
static int
errno_of(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	}
	switch (rc & 0xff) {
	case SQLITE_READONLY:   return -EROFS;
	case SQLITE_FULL:       return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:     return -EBUSY;
	case SQLITE_NOMEM:      return -ENOMEM;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:     return -EINVAL;
	case SQLITE_PERM:
	case SQLITE_AUTH:       return -EACCES;
	default:                return -EIO;
	}
}

/* Records a failure of ours (bad argument, wrong state) in db->err and logs
 * it; returns code. */
static int __attribute__((format(printf, 4, 5)))
failf(struct db *db, const char *func, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof db->err, fmt, ap);
	va_end(ap);
	fprintf(stderr, "db: %s: %s\n", func, db->err);
	return code;
}

/* A write the OS refused comes back as SQLITE_IOERR, and
 * sqlite3_system_errno may hold a later call's errno by then: ask the file
 * system whether the disk is full or the files were made read-only (a
 * read-only remount, chattr +i) under the open database. -EIO otherwise. */
static int
io_cause(const struct db *db)
{
	int sys = sqlite3_system_errno(db->h);
	char wal[PATH_MAX + 8];
	struct statvfs vfs;

	if (sys == ENOSPC || sys == EDQUOT)
		return -ENOSPC;
	if (sys == EROFS || sys == EPERM || sys == EACCES)
		return -EROFS;
	snprintf(wal, sizeof wal, "%s-wal", db->path);
	if ((access(db->path, W_OK) < 0 && errno != ENOENT) ||
	    (access(wal, W_OK) < 0 && errno != ENOENT))
		return -EROFS;
	if (statvfs(db->path, &vfs) == 0 && vfs.f_bavail == 0)
		return -ENOSPC;
	return -EIO;
}

/* Records SQLite's message for rc (read before the statement is reset) and
 * returns it as an errno. A missing row or a duplicate is the caller's to
 * report, so only storage failures are logged. */
static int
fail(struct db *db, const char *func, int rc)
{
	int code = errno_of(rc);

	if (code == -EIO)
		code = io_cause(db);
	if (code == -EROFS)
		snprintf(db->err, sizeof db->err, "the database is read-only (%s)",
			 sqlite3_errmsg(db->h));
	else if (code == -ENOSPC)
		snprintf(db->err, sizeof db->err, "disk full (%s)",
			 sqlite3_errmsg(db->h));
	else
		snprintf(db->err, sizeof db->err, "%s", sqlite3_errmsg(db->h));
	if (code != -EEXIST && code != -ENOENT)
		fprintf(stderr, "db: %s: %s: %s\n", func, db->path, db->err);
	return code;
}

/* ---- statements ------------------------------------------------------- */

/* The statement id, ready to bind (statements are always left reset). */
static sqlite3_stmt *
stmt(struct db *db, enum stmt_id id)
{
	return db->st[id];
}

static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows; resets it on every path.
 * brc is the result of binding its parameters (SQLITE_OK or the first
 * failure), so callers chain binds without a branch each. */
static int
run(struct db *db, sqlite3_stmt *st, int brc, const char *func)
{
	int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
	int ret = rc == SQLITE_DONE ? 0 : fail(db, func, rc);

	done(st);
	return ret;
}

static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
		 : sqlite3_bind_null(st, i);
}

/* NaN binds as NULL: SQLite would store it so anyway, this says it. */
static int
bind_real(sqlite3_stmt *st, int i, double v)
{
	return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* v, or NULL when v == none. */
static int
bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	return v == none ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

static double
col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN
		: sqlite3_column_double(st, i);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Runs an SQL text without results (pragmas, migrations) and records
 * SQLite's message on failure. */
static int
exec(struct db *db, const char *sql, const char *func)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return 0;
	rc = sqlite3_extended_errcode(db->h);
	snprintf(db->err, sizeof db->err, "%s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	fprintf(stderr, "db: %s: %s: %s\n", func, db->path, db->err);
	return errno_of(rc);
}

/* Checks that text parses as a JSON object; names the argument if not. */
static int
check_object(struct db *db, const char *what, const char *text,
	     const char *func)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	int ok = cJSON_IsObject(j);

	cJSON_Delete(j);
	return ok ? 0 : failf(db, func, -EINVAL, "%s is not a JSON object", what);
}

/* Opens a savepoint around a call's several statements. */
static int
op_begin(struct db *db, const char *func)
{
	return run(db, stmt(db, ST_SAVEPOINT), SQLITE_OK, func);
}

/* Ends the savepoint: released (committed, when outermost) if rc == 0,
 * rolled back otherwise. Returns rc, or the release's failure. */
static int
op_end(struct db *db, int rc, const char *func)
{
	char keep[sizeof db->err];

	if (rc == 0) {
		rc = run(db, stmt(db, ST_RELEASE), SQLITE_OK, func);
		if (rc == 0)
			return 0;
	}
	/* After SQLITE_FULL, IOERR, BUSY or NOMEM SQLite may have rolled
	 * back the whole transaction itself (savepoint and any db_begin group
	 * with it); then there is nothing left to undo. */
	if (sqlite3_get_autocommit(db->h))
		return rc;
	/* The rollback must not overwrite the message of the failure. */
	memcpy(keep, db->err, sizeof keep);
	run(db, stmt(db, ST_ROLLBACK_TO), SQLITE_OK, func);
	run(db, stmt(db, ST_RELEASE), SQLITE_OK, func);
	memcpy(db->err, keep, sizeof keep);
	return rc;
}

/* ---- open and migrations ---------------------------------------------- */

static int
errf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* One-value pragma read (user_version, journal_mode): the first column of
 * the first row as text in buf. */
static int
pragma_text(struct db *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, len, "%s", col_text(st, 0) ? col_text(st, 0) : "");
		rc = SQLITE_OK;
	} else if (rc != SQLITE_OK) {
		rc = sqlite3_extended_errcode(db->h);
		snprintf(db->err, sizeof db->err, "%s", sqlite3_errmsg(db->h));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : errno_of(rc);
}

static int
user_version(struct db *db, int *v)
{
	char buf[32];
	int rc = pragma_text(db, "PRAGMA user_version", buf, sizeof buf);

	if (rc == 0)
		*v = atoi(buf);
	return rc;
}

/* quick_check reads every page's structure (not index contents): enough to
 * refuse a file that is not a database or was cut short. It is linear in
 * the file's size (docs/storage.md has the cost). */
static int
check_file(struct db *db, char *err, size_t errlen)
{
	char res[256];
	int rc = pragma_text(db, "PRAGMA quick_check(1)", res, sizeof res);

	if (rc == -EIO)
		return errf(err, errlen, rc, "%s: not an SQLite database, or "
			    "corrupted: %s", db->path, db->err);
	if (rc < 0)
		return errf(err, errlen, rc, "%s: cannot read the database: %s",
			    db->path, db->err);
	for (char *p = res; *p; p++)   /* one line per error: keep it one */
		if (*p == '\n')
			*p = ' ';
	if (strcmp(res, "ok") != 0)
		return errf(err, errlen, -EIO, "%s: database is corrupted "
			    "(PRAGMA quick_check: %s)", db->path, res);
	return 0;
}

static int
set_pragmas(struct db *db, int readonly, char *err, size_t errlen)
{
	char mode[32];
	int rc;

	rc = exec(db, "PRAGMA foreign_keys = ON", __func__);
	if (rc == 0 && !readonly) {
		/* WAL: readers never block the writer, and a commit is one
		 * append to the log. NORMAL syncs only at checkpoints: a
		 * commit survives the process being killed, not power loss. */
		rc = pragma_text(db, "PRAGMA journal_mode = WAL", mode,
				 sizeof mode);
		if (rc == 0 && strcmp(mode, "wal") != 0 &&
		    strcmp(mode, "memory") != 0)
			return errf(err, errlen, -EIO, "%s: cannot use WAL "
				    "journal mode (the file system gave \"%s\")",
				    db->path, mode);
		if (rc == 0)
			rc = exec(db, "PRAGMA synchronous = NORMAL", __func__);
	}
	if (rc == -EROFS)
		return errf(err, errlen, rc, "%s: the database is read-only "
			    "(cannot write the file or its directory): %s",
			    db->path, db->err);
	if (rc < 0)
		return errf(err, errlen, rc, "%s: cannot configure the database: "
			    "%s", db->path, db->err);
	return 0;
}

/* Applies migration m in its own transaction. user_version is read again
 * under the write lock, so two processes opening one file at once cannot
 * both apply it. */
static int
migrate_one(struct db *db, const struct schema_migration *m)
{
	char sql[64];
	int v = 0, rc;

	rc = exec(db, "BEGIN IMMEDIATE", __func__);
	if (rc < 0)
		return rc;
	rc = user_version(db, &v);
	if (rc == 0 && v >= m->version)
		return exec(db, "COMMIT", __func__);
	if (rc == 0)
		rc = exec(db, m->sql, __func__);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
	if (rc == 0)
		rc = exec(db, sql, __func__);
	if (rc == 0)
		rc = exec(db, "COMMIT", __func__);
	if (rc < 0) {
		char keep[sizeof db->err];
		memcpy(keep, db->err, sizeof keep);
		if (!sqlite3_get_autocommit(db->h))
			exec(db, "ROLLBACK", __func__);
		memcpy(db->err, keep, sizeof keep);
	}
	return rc;
}

static int
migrate(struct db *db, int readonly, char *err, size_t errlen)
{
	int latest = schema_migrations_n, rc;

	rc = user_version(db, &db->version);
	if (rc < 0)
		return errf(err, errlen, rc, "%s: cannot read the schema "
			    "version: %s", db->path, db->err);
	if (db->version > latest)
		return errf(err, errlen, -EPROTO, "%s: database schema version "
			    "%d is newer than this sweepd supports (%d); upgrade "
			    "sweepd", db->path, db->version, latest);
	if (db->version < latest && readonly)
		return errf(err, errlen, -EROFS, "%s: database schema version "
			    "%d needs migrating to %d but the database is "
			    "read-only", db->path, db->version, latest);
	for (int i = db->version; i < latest; i++) {
		const struct schema_migration *m = &schema_migrations[i];
		rc = migrate_one(db, m);
		if (rc < 0)
			return errf(err, errlen, rc, "%s: migration %s failed: %s",
				    db->path, m->name, db->err);
		db->version = m->version;
	}
	return 0;
}

static int
prepare_all(struct db *db, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(db->h, stmt_sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &db->st[i], NULL);
		if (rc != SQLITE_OK)
			return errf(err, errlen, errno_of(rc), "%s: cannot "
				    "prepare \"%.40s...\": %s", db->path,
				    stmt_sql[i], sqlite3_errmsg(db->h));
	}
	return 0;
}

/* sqlite3_open_v2's failure, with the system's reason when it has one. */
static int
open_error(struct db *db, int rc, char *err, size_t errlen)
{
	int sys = db->h ? sqlite3_system_errno(db->h) : 0;
	int code = (rc & 0xff) == SQLITE_CANTOPEN ? (sys ? -sys : -EACCES)
						   : errno_of(rc);

	return errf(err, errlen, code, "%s: cannot open the database: %s%s%s",
		    db->path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc),
		    sys ? ": " : "", sys ? strerror(sys) : "");
}

int
db_open_flags(const char *path, int sqlite_flags, struct db **out,
	      char *err, size_t errlen)
{
	int readonly = (sqlite_flags & SQLITE_OPEN_READONLY) != 0;
	struct db *db;
	int rc;

	if (out)
		*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path || !out)
		return errf(err, errlen, -EINVAL, "no database path given");
	db = calloc(1, sizeof *db);
	if (!db || !(db->path = strdup(path))) {
		free(db);
		return errf(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	rc = sqlite3_open_v2(path, &db->h, sqlite_flags, NULL);
	if (rc != SQLITE_OK) {
		rc = open_error(db, rc, err, errlen);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_MS);
	/* SQLITE_OPEN_READWRITE silently falls back to read-only when the
	 * file is write-protected; the daemon would then fail at its first
	 * write, long after start-up. */
	if (!readonly && sqlite3_db_readonly(db->h, "main") == 1) {
		rc = errf(err, errlen, -EROFS, "%s: the database is read-only "
			  "(check the permissions of the file and its "
			  "directory)", path);
		goto fail;
	}
	rc = check_file(db, err, errlen);
	if (rc == 0)
		rc = set_pragmas(db, readonly, err, errlen);
	if (rc == 0)
		rc = migrate(db, readonly, err, errlen);
	if (rc == 0)
		rc = prepare_all(db, err, errlen);
	if (rc < 0)
		goto fail;
	db->err[0] = '\0';
	*out = db;
	return 0;
fail:
	db_close(db);
	return rc;
}

int
db_open(const char *path, struct db **out, char *err, size_t errlen)
{
	return db_open_flags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     out, err, errlen);
}

void
db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	if (db->h && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	/* Every statement is finalized, so this closes for real; the last
	 * connection checkpoints the WAL into the database and removes it. */
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		fprintf(stderr, "db: %s: %s: close: %s\n", __func__, db->path,
			sqlite3_errmsg(db->h));
	free(db->path);
	free(db);
}

int
db_schema_version(struct db *db)
{
	return db ? db->version : -EINVAL;
}

int
db_schema_latest(void)
{
	return schema_migrations_n;
}

int
db_is_outage(int rc)
{
	return rc == -ENOSPC || rc == -EROFS || rc == -EIO || rc == -EBUSY;
}

const char *
db_last_error(const struct db *db)
{
	return db ? db->err : "";
}

int
db_set_max_pages(struct db *db, int64_t pages)
{
	char sql[64];

	if (!db || pages < 1)
		return -EINVAL;
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %" PRId64, pages);
	return exec(db, sql, __func__);
}

/* The EXPLAIN QUERY PLAN of one prepared statement's SQL, a line each. */
static int
plan_of(struct db *db, int id, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	size_t used = 0;
	char *q;
	int rc;

	if (!db || !buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", stmt_sql[id]);
	if (!q)
		return -ENOMEM;
	rc = sqlite3_prepare_v2(db->h, q, -1, &st, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && used < len) {
			/* Columns: id, parent, notused, detail. */
			int n = snprintf(buf + used, len - used, "%s\n",
					 col_text(st, 3));
			used += n > 0 ? (size_t)n : 0;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : fail(db, __func__, rc);
	sqlite3_finalize(st);
	sqlite3_free(q);
	return rc;
}

int
db_best_plan(struct db *db, int mode_max, char *buf, size_t len)
{
	return plan_of(db, mode_max ? ST_BEST_MAX : ST_BEST_MIN, buf, len);
}

int
db_failures_plan(struct db *db, char *buf, size_t len)
{
	return plan_of(db, ST_FAILURES, buf, len);
}

int
db_unsettled_plan(struct db *db, char *buf, size_t len)
{
	return plan_of(db, ST_UNSETTLED_LOAD, buf, len);
}

/* ---- transactions ----------------------------------------------------- */

int
db_begin(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		return failf(db, __func__, -EINVAL, "a transaction is open "
			     "already (db_begin does not nest)");
	return run(db, stmt(db, ST_BEGIN), SQLITE_OK, __func__);
}

int
db_commit(struct db *db)
{
	int rc;

	if (sqlite3_get_autocommit(db->h))
		return failf(db, __func__, -EINVAL, "no transaction is open");
	rc = run(db, stmt(db, ST_COMMIT), SQLITE_OK, __func__);
	/* A failed COMMIT (busy, full disk) may leave the transaction open;
	 * the contract is that nothing of the group is stored. */
	if (rc < 0 && !sqlite3_get_autocommit(db->h)) {
		char keep[sizeof db->err];
		memcpy(keep, db->err, sizeof keep);
		run(db, stmt(db, ST_ROLLBACK), SQLITE_OK, __func__);
		memcpy(db->err, keep, sizeof keep);
	}
	return rc;
}

int
db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return 0;
	return run(db, stmt(db, ST_ROLLBACK), SQLITE_OK, __func__);
}

/* ---- sweeps ----------------------------------------------------------- */

int
db_sweep_create(struct db *db, const char *name, const char *spec_json,
		int trials_total, double now, int64_t *id_out)
{
	sqlite3_stmt *st = stmt(db, ST_SWEEP_INSERT);
	int b, rc;

	if (!name)
		return failf(db, __func__, -EINVAL, "sweep name missing");
	if (trials_total < 0)
		return failf(db, __func__, -EINVAL, "trials_total %d is negative",
			     trials_total);
	rc = check_object(db, "spec_json", spec_json, __func__);
	if (rc < 0)
		return rc;
	b = bind_text(st, 1, name);
	if (b == SQLITE_OK)
		b = bind_text(st, 2, spec_json);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, trials_total);
	if (b == SQLITE_OK)
		b = sqlite3_bind_double(st, 4, now);
	rc = run(db, st, b, __func__);
	if (rc == 0 && id_out)
		*id_out = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int
db_sweep_set_status(struct db *db, int64_t id, const char *status,
		    const char *error, double now)
{
	sqlite3_stmt *st = stmt(db, ST_SWEEP_STATUS);
	int end, b, rc;

	if (!in_list(status, sweep_statuses))
		return failf(db, __func__, -EINVAL, "unknown sweep status \"%s\"",
			     status ? status : "(null)");
	end = strcmp(status, "running") != 0 && strcmp(status, "paused") != 0;
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = bind_text(st, 2, status);
	if (b == SQLITE_OK)
		b = bind_text(st, 3, error);
	if (b == SQLITE_OK)
		b = end ? sqlite3_bind_double(st, 4, now) : sqlite3_bind_null(st, 4);
	rc = run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_sweep_set_spec(struct db *db, int64_t id, const char *spec_json)
{
	sqlite3_stmt *st = stmt(db, ST_SWEEP_SPEC);
	int b, rc;

	rc = check_object(db, "spec_json", spec_json, __func__);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = bind_text(st, 2, spec_json);
	rc = run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_sweep_reopen(struct db *db, int64_t id, const char *spec_json,
		int trials_total)
{
	sqlite3_stmt *st = stmt(db, ST_SWEEP_REOPEN);
	int b, rc = check_object(db, "spec_json", spec_json, __func__);

	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = bind_text(st, 2, spec_json);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, trials_total);
	rc = run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;   /* no such sweep, or an active one */
	return rc;
}

int
db_sweep_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st = stmt(db, ST_SWEEP_DELETE);
	int rc = run(db, st, sqlite3_bind_int64(st, 1, id), __func__);

	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;   /* no such sweep, or an active one */
	return rc;
}

/* ---- trials ----------------------------------------------------------- */

int
db_trial_create(struct db *db, int64_t sweep_id, int number,
		const char *params_json, uint64_t seed, int64_t *trial_id_out)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_INSERT);
	int b, rc;

	if (number < 1)
		return failf(db, __func__, -EINVAL, "trial number %d is not "
			     "positive", number);
	rc = check_object(db, "params_json", params_json, __func__);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, sweep_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, number);
	if (b == SQLITE_OK)
		b = bind_text(st, 3, params_json);
	if (b == SQLITE_OK)   /* the uint64's bits; read back the same way */
		b = sqlite3_bind_int64(st, 4, (int64_t)seed);
	rc = run(db, st, b, __func__);
	if (rc == 0 && trial_id_out)
		*trial_id_out = sqlite3_last_insert_rowid(db->h);
	return rc;
}

/* The trial's status and attempt: -ENOENT when there is no such trial. */
static int
trial_state(struct db *db, int64_t trial_id, char *status, size_t len,
	    int *attempt)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_STATE);
	int rc = sqlite3_bind_int64(st, 1, trial_id);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(status, len, "%s", col_text(st, 0));
		*attempt = sqlite3_column_int(st, 1);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = fail(db, __func__, rc);
	}
	done(st);
	return rc;
}

int
db_trial_start(struct db *db, int64_t trial_id, int attempt, int pid,
	       int64_t proc_start, double now)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_START);
	char status[16];
	int cur, b, rc;

	if (attempt < 0)
		return failf(db, __func__, -EINVAL, "attempt %d is negative",
			     attempt);
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	if (b == SQLITE_OK)
		b = bind_int_or_null(st, 3, pid, 0);
	if (b == SQLITE_OK)
		b = bind_int_or_null(st, 4, proc_start, 0);
	if (b == SQLITE_OK)
		b = sqlite3_bind_double(st, 5, now);
	rc = run(db, st, b, __func__);
	if (rc < 0 || sqlite3_changes(db->h) == 1)
		return rc;
	rc = trial_state(db, trial_id, status, sizeof status, &cur);
	if (rc < 0)
		return rc;
	return failf(db, __func__, -EINVAL, "trial id %" PRId64 " is %s, not "
		     "queued", trial_id, status);
}

/* A number member of the metrics object, NAN when absent. */
static double
metric(const cJSON *m, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, name);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int
insert_epoch(struct db *db, int64_t trial_id, int attempt, int epoch,
	     double objective, const cJSON *m, const char *metrics_json)
{
	sqlite3_stmt *st = stmt(db, ST_EPOCH_INSERT);
	int b;

	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, epoch);
	if (b == SQLITE_OK)
		b = bind_real(st, 4, objective);
	if (b == SQLITE_OK)
		b = bind_real(st, 5, metric(m, "train_loss"));
	if (b == SQLITE_OK)
		b = bind_real(st, 6, metric(m, "val_loss"));
	if (b == SQLITE_OK)
		b = bind_real(st, 7, metric(m, "train_acc"));
	if (b == SQLITE_OK)
		b = bind_real(st, 8, metric(m, "val_acc"));
	if (b == SQLITE_OK)
		b = bind_text(st, 9, metrics_json);
	return run(db, st, b, "db_trial_epoch");
}

/* Counts the epoch in the trial, which must be at this attempt. */
static int
count_epoch(struct db *db, int64_t trial_id, int attempt)
{
	sqlite3_stmt *st = stmt(db, ST_EPOCH_COUNT);
	char status[16];
	int b, cur, rc;

	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	rc = run(db, st, b, "db_trial_epoch");
	if (rc < 0 || sqlite3_changes(db->h) == 1)
		return rc;
	rc = trial_state(db, trial_id, status, sizeof status, &cur);
	if (rc < 0)
		return rc;
	return failf(db, "db_trial_epoch", -EINVAL, "trial id %" PRId64
		     " is at attempt %d, not %d", trial_id, cur, attempt);
}

int
db_trial_epoch(struct db *db, int64_t trial_id, int attempt, int epoch,
	       double objective, const char *metrics_json)
{
	cJSON *m = NULL;
	int rc;

	if (epoch < 0)
		return failf(db, __func__, -EINVAL, "epoch %d is negative", epoch);
	m = metrics_json ? cJSON_Parse(metrics_json) : NULL;
	if (!cJSON_IsObject(m)) {
		rc = failf(db, __func__, -EINVAL, "metrics_json is not a JSON "
			   "object");
		goto out;
	}
	rc = op_begin(db, __func__);
	if (rc < 0)
		goto out;
	rc = insert_epoch(db, trial_id, attempt, epoch, objective, m,
			  metrics_json);
	if (rc == 0)
		rc = count_epoch(db, trial_id, attempt);
	rc = op_end(db, rc, __func__);
out:
	cJSON_Delete(m);
	return rc;
}

int
db_trial_end(struct db *db, int64_t trial_id, const struct db_trial_end *e)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_END);
	int b, rc;

	if (!e || !in_list(e->status, trial_end_statuses))
		return failf(db, __func__, -EINVAL, "\"%s\" is not an end status "
			     "of a trial", e && e->status ? e->status : "(null)");
	if (e->diagnosis_json) {
		rc = check_object(db, "diagnosis_json", e->diagnosis_json,
				  __func__);
		if (rc < 0)
			return rc;
	}
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = bind_text(st, 2, e->status);
	if (b == SQLITE_OK)
		b = bind_real(st, 3, e->objective);
	if (b == SQLITE_OK)
		b = bind_int_or_null(st, 4, e->best_epoch, 0);
	if (b == SQLITE_OK)
		b = bind_real(st, 5, e->test_loss);
	if (b == SQLITE_OK)
		b = bind_real(st, 6, e->test_acc);
	if (b == SQLITE_OK)
		b = bind_text(st, 7, e->diagnosis_json);
	if (b == SQLITE_OK)
		b = bind_text(st, 8, e->error);
	if (b == SQLITE_OK)
		b = bind_text(st, 9, e->error_class);
	if (b == SQLITE_OK)
		b = bind_int_or_null(st, 10, e->exit_code, -1);
	if (b == SQLITE_OK)
		b = bind_int_or_null(st, 11, e->signal, 0);
	if (b == SQLITE_OK)
		b = bind_text(st, 12, e->stderr_tail);
	if (b == SQLITE_OK)
		b = sqlite3_bind_double(st, 13, e->now);
	rc = run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_trial_requeue(struct db *db, int64_t trial_id, int attempt)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_REQUEUE);
	int b, rc;

	if (attempt < 0)
		return failf(db, __func__, -EINVAL, "attempt %d is negative",
			     attempt);
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	rc = run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_trial_set_diagnosis(struct db *db, int64_t trial_id,
		       const char *diagnosis_json)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_DIAG);
	int b, rc;

	if (diagnosis_json) {
		rc = check_object(db, "diagnosis_json", diagnosis_json, __func__);
		if (rc < 0)
			return rc;
	}
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = bind_text(st, 2, diagnosis_json);
	rc = run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

/* ---- row walks -------------------------------------------------------- */

typedef int (*row_fn)(struct db *db, sqlite3_stmt *st, void *ctx);

/* Steps st (bound by the caller, brc = the binds' result), calling fn for
 * every row until fn returns nonzero; resets st on every path. */
static int
walk(struct db *db, sqlite3_stmt *st, int brc, row_fn fn, void *ctx,
     const char *func)
{
	int rc = brc;

	while (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int r = fn(db, st, ctx);
			if (r != 0) {
				done(st);
				return r;
			}
			rc = SQLITE_OK;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : fail(db, func, rc);
	done(st);
	return rc;
}

/* ---- loading at start-up ---------------------------------------------- */

struct sweep_cb {
	int (*cb)(void *ud, const struct db_sweep_row *r);
	void *ud;
};

static int
sweep_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct sweep_cb *c = ctx;
	struct db_sweep_row r = {
		.id = sqlite3_column_int64(st, SC_ID),
		.name = col_text(st, SC_NAME),
		.spec_json = col_text(st, SC_SPEC),
		.status = col_text(st, SC_STATUS),
		.trials_total = sqlite3_column_int(st, SC_TOTAL),
		.created_at = sqlite3_column_double(st, SC_CREATED_AT),
	};

	(void)db;
	return c->cb(c->ud, &r);
}

int
db_load_sweeps(struct db *db, int only_active,
	       int (*cb)(void *ud, const struct db_sweep_row *r), void *ud)
{
	struct sweep_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return walk(db, stmt(db, only_active ? ST_SWEEPS_ACTIVE : ST_SWEEPS_ALL),
		    SQLITE_OK, sweep_row, &c, __func__);
}

struct trial_cb {
	int (*cb)(void *ud, const struct db_trial_row *r);
	void *ud;
};

static int
trial_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct trial_cb *c = ctx;
	struct db_trial_row r = {
		.id = sqlite3_column_int64(st, 0),
		.sweep_id = sqlite3_column_int64(st, 1),
		.number = sqlite3_column_int(st, 2),
		.params_json = col_text(st, 3),
		.status = col_text(st, 4),
		.attempt = sqlite3_column_int(st, 5),
		.pid = sqlite3_column_int(st, 6),           /* NULL reads 0 */
		.proc_start = sqlite3_column_int64(st, 7),
		.seed = (uint64_t)sqlite3_column_int64(st, 8),
		.objective = col_real(st, 9),
		.best_epoch = sqlite3_column_int(st, 10),
		.epochs = sqlite3_column_int(st, 11),
	};

	db->trial_rows++;
	return c->cb(c->ud, &r);
}

int
db_load_trials(struct db *db, int64_t sweep_id,
	       int (*cb)(void *ud, const struct db_trial_row *r), void *ud)
{
	sqlite3_stmt *st = stmt(db, ST_TRIALS_LOAD);
	struct trial_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), trial_row, &c,
		    __func__);
}

int
db_load_unsettled(struct db *db,
		  int (*cb)(void *ud, const struct db_trial_row *r), void *ud)
{
	struct trial_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return walk(db, stmt(db, ST_UNSETTLED_LOAD), SQLITE_OK, trial_row, &c,
		    __func__);
}

int64_t
db_trial_rows_loaded(const struct db *db)
{
	return db ? db->trial_rows : 0;
}

struct curve_cb {
	int (*cb)(void *ud, int64_t trial_id, int epoch, double objective);
	void *ud;
};

static int
curve_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct curve_cb *c = ctx;

	(void)db;
	return c->cb(c->ud, sqlite3_column_int64(st, 0),
		     sqlite3_column_int(st, 1), col_real(st, 2));
}

int
db_load_curves(struct db *db, int64_t sweep_id,
	       int (*cb)(void *ud, int64_t trial_id, int epoch, double objective),
	       void *ud)
{
	sqlite3_stmt *st = stmt(db, ST_CURVES_LOAD);
	struct curve_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), curve_row, &c,
		    __func__);
}

/* ---- JSON reads ------------------------------------------------------- */

/* Adds column i as a number, or null when it is NULL. */
static void
add_num(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, sqlite3_column_double(st, i));
}

static void
add_str(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
	const char *s = col_text(st, i);

	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* Adds the parsed JSON text of column i, or null when NULL or unparsable
 * (stored text was checked on the way in; a hand edit may still break it). */
static void
add_parsed(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
	const char *s = col_text(st, i);
	cJSON *j = s ? cJSON_Parse(s) : NULL;

	if (!j)
		j = cJSON_CreateNull();
	if (!cJSON_AddItemToObject(o, key, j))
		cJSON_Delete(j);
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

/* The trial object of db_trials_json from a TRIAL_COLS row. */
/* error_class "note" on a completed trial: error holds a note, not a
 * failure (e.g. it ended without a final report line). */
static int
is_note(sqlite3_stmt *st)
{
	const char *cls = col_text(st, TC_ERROR_CLASS);

	return cls && strcmp(cls, "note") == 0;
}

static cJSON *
trial_object(sqlite3_stmt *st)
{
	cJSON *t = cJSON_CreateObject(), *e;

	if (!t)
		return NULL;
	cJSON_AddNumberToObject(t, "id", (double)sqlite3_column_int64(st, TC_ID));
	cJSON_AddNumberToObject(t, "number", sqlite3_column_int(st, TC_NUMBER));
	add_str(t, "status", st, TC_STATUS);
	cJSON_AddNumberToObject(t, "attempt", sqlite3_column_int(st, TC_ATTEMPT));
	add_parsed(t, "params", st, TC_PARAMS);
	/* Exact while the seed is below 2^53, as the daemon's seeds are. */
	cJSON_AddNumberToObject(t, "seed",
		(double)(uint64_t)sqlite3_column_int64(st, TC_SEED));
	add_num(t, "objective", st, TC_OBJECTIVE);
	add_num(t, "best_epoch", st, TC_BEST_EPOCH);
	cJSON_AddNumberToObject(t, "epochs", sqlite3_column_int(st, TC_EPOCHS));
	add_num(t, "test_loss", st, TC_TEST_LOSS);
	add_num(t, "test_acc", st, TC_TEST_ACC);
	add_parsed(t, "diagnosis", st, TC_DIAGNOSIS);
	if (is_note(st)) {
		/* A completed trial's remark on how it ended (storage.md). */
		add_str(t, "note", st, TC_ERROR);
		cJSON_AddNullToObject(t, "error");
	} else if (sqlite3_column_type(st, TC_ERROR) == SQLITE_NULL &&
	    sqlite3_column_type(st, TC_ERROR_CLASS) == SQLITE_NULL) {
		cJSON_AddNullToObject(t, "note");
		cJSON_AddNullToObject(t, "error");
	} else {
		cJSON_AddNullToObject(t, "note");
		e = cJSON_AddObjectToObject(t, "error");
		add_str(e, "class", st, TC_ERROR_CLASS);
		add_str(e, "message", st, TC_ERROR);
		add_num(e, "exit_code", st, TC_EXIT_CODE);
		add_num(e, "signal", st, TC_SIGNAL);
	}
	add_num(t, "started_at", st, TC_STARTED_AT);
	add_num(t, "ended_at", st, TC_ENDED_AT);
	return t;
}

static int
append_trial(struct db *db, sqlite3_stmt *st, void *ctx)
{
	cJSON *t = trial_object(st);

	(void)db;
	if (!t || !cJSON_AddItemToArray(ctx, t)) {
		cJSON_Delete(t);
		return -ENOMEM;
	}
	return 0;
}

/* Fills c (a new array or object, owned; NULL if creating it failed) with
 * fn over the rows of st and stores it in *out. */
static int
json_fill(struct db *db, sqlite3_stmt *st, int brc, row_fn fn, cJSON *c,
	  cJSON **out, const char *func)
{
	int rc;

	*out = NULL;
	if (!c) {
		done(st);
		return -ENOMEM;
	}
	rc = walk(db, st, brc, fn, c, func);
	if (rc < 0) {
		cJSON_Delete(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
db_trials_json(struct db *db, int64_t sweep_id, cJSON **out)
{
	int64_t total;

	return db_trials_page_json(db, sweep_id, 0, -1, out, &total);
}

static int
take_count(struct db *db, sqlite3_stmt *st, void *ctx)
{
	(void)db;
	*(int64_t *)ctx = sqlite3_column_int64(st, 0);
	return 0;
}

int
db_trials_page_json(struct db *db, int64_t sweep_id, int64_t offset,
		    int64_t limit, cJSON **out, int64_t *total)
{
	sqlite3_stmt *st = stmt(db, ST_TRIALS_COUNT);
	int rc, brc;

	*out = NULL;
	*total = 0;
	if (offset < 0)
		return failf(db, __func__, -EINVAL, "offset %lld is negative",
			     (long long)offset);
	/* SQLite takes a negative LIMIT as no limit. The loop is the only
	 * writer, so the count and the page see the same rows. */
	rc = walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), take_count,
		  total, __func__);
	if (rc < 0)
		return rc;
	st = stmt(db, ST_TRIALS_JSON);
	brc = sqlite3_bind_int64(st, 1, sweep_id);
	if (brc == SQLITE_OK)
		brc = sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit);
	if (brc == SQLITE_OK)
		brc = sqlite3_bind_int64(st, 3, offset);
	return json_fill(db, st, brc, append_trial, cJSON_CreateArray(), out,
			 __func__);
}

/* Takes the first row of a bound statement: fn builds from it into *out.
 * -ENOENT when there is no row. */
static int
json_one(struct db *db, sqlite3_stmt *st, int brc,
	 cJSON *(*fn)(sqlite3_stmt *st), cJSON **out, const char *func)
{
	int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;

	*out = NULL;
	if (rc == SQLITE_ROW) {
		*out = fn(st);
		rc = *out ? 0 : -ENOMEM;
	} else if (rc == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = fail(db, func, rc);
	}
	done(st);
	return rc;
}

static int
add_verdict(struct db *db, sqlite3_stmt *st, void *ctx)
{
	const char *v = (const char *)sqlite3_column_text(st, 0);

	(void)db;
	if (!v)
		return 0;
	return cJSON_AddNumberToObject(ctx, v, sqlite3_column_int(st, 1)) ?
	       0 : -ENOMEM;
}

int
db_verdicts_json(struct db *db, int64_t sweep_id, cJSON **out)
{
	sqlite3_stmt *st = stmt(db, ST_VERDICTS);

	return json_fill(db, st, sqlite3_bind_int64(st, 1, sweep_id), add_verdict,
			 cJSON_CreateObject(), out, __func__);
}

int
db_best_json(struct db *db, int64_t sweep_id, int mode_max, cJSON **out)
{
	sqlite3_stmt *st = stmt(db, mode_max ? ST_BEST_MAX : ST_BEST_MIN);

	return json_one(db, st, sqlite3_bind_int64(st, 1, sweep_id),
			trial_object, out, __func__);
}

static int
append_curve_point(struct db *db, sqlite3_stmt *st, void *ctx)
{
	static const char *const skip[] = { "epoch", NULL };
	cJSON *p = cJSON_CreateObject();

	(void)db;
	if (!p || !cJSON_AddItemToArray(ctx, p)) {
		cJSON_Delete(p);
		return -ENOMEM;
	}
	cJSON_AddNumberToObject(p, "epoch", sqlite3_column_int(st, 0));
	add_metrics(p, col_text(st, 1), skip);
	return 0;
}

/* The trial object of db_trial_json: with stderr_tail and the curve of
 * the current attempt. */
static cJSON *
trial_detail(sqlite3_stmt *st)
{
	cJSON *t = trial_object(st);

	if (t)
		add_str(t, "stderr_tail", st, TC_STDERR_TAIL);
	return t;
}

int
db_trial_json(struct db *db, int64_t sweep_id, int64_t number, cJSON **out)
{
	sqlite3_stmt *st = stmt(db, ST_TRIAL_ONE);
	cJSON *t = NULL, *curve = NULL;
	const cJSON *jid, *jattempt;
	int64_t id;
	int attempt, b, rc;

	*out = NULL;
	b = sqlite3_bind_int64(st, 1, sweep_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int64(st, 2, number);
	rc = json_one(db, st, b, trial_detail, &t, __func__);
	if (rc < 0)
		goto out;
	jid = cJSON_GetObjectItemCaseSensitive(t, "id");
	jattempt = cJSON_GetObjectItemCaseSensitive(t, "attempt");
	if (!cJSON_IsNumber(jid) || !cJSON_IsNumber(jattempt)) {
		rc = -ENOMEM;   /* the only way trial_object leaves them out */
		goto out;
	}
	id = (int64_t)jid->valuedouble;
	attempt = jattempt->valueint;
	st = stmt(db, ST_CURVE);
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	rc = json_fill(db, st, b, append_curve_point, cJSON_CreateArray(), &curve,
		       __func__);
	if (rc < 0)
		goto out;
	cJSON_AddItemToObject(t, "curve", curve);
	*out = t;
	t = NULL;
out:
	cJSON_Delete(t);
	return rc;
}

static int
append_epoch_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	static const char *const skip[] = { "number", "attempt", "epoch", NULL };
	cJSON *p = cJSON_CreateObject();

	(void)db;
	if (!p || !cJSON_AddItemToArray(ctx, p)) {
		cJSON_Delete(p);
		return -ENOMEM;
	}
	cJSON_AddNumberToObject(p, "number", sqlite3_column_int(st, 0));
	cJSON_AddNumberToObject(p, "attempt", sqlite3_column_int(st, 1));
	cJSON_AddNumberToObject(p, "epoch", sqlite3_column_int(st, 2));
	add_metrics(p, col_text(st, 3), skip);
	return 0;
}

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
page_epoch_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct epoch_page *pg = ctx;
	int rc = append_epoch_row(db, st, pg->arr);

	if (rc < 0)
		return rc;
	pg->last.number = sqlite3_column_int64(st, 0);
	pg->last.attempt = sqlite3_column_int64(st, 1);
	pg->last.epoch = sqlite3_column_int64(st, 2);
	pg->n++;
	if (pg->n >= pg->limit)
		return 1;
	if (pg->budget_ns && pg->n % 64 == 0 &&
	    mono_ns() - pg->t0 >= pg->budget_ns)
		return 1;
	return 0;
}

int
db_epochs_page_json(struct db *db, int64_t sweep_id,
		    const struct db_epoch_key *after, int64_t limit,
		    uint64_t budget_ns, cJSON **out, struct db_epoch_key *next,
		    int *more)
{
	struct epoch_page pg = { .arr = cJSON_CreateArray(), .limit = limit,
				 .t0 = mono_ns(), .budget_ns = budget_ns };
	sqlite3_stmt *st = stmt(db, ST_EPOCHS_SAME);
	int rc, brc;

	*out = NULL;
	*more = 0;
	if (!pg.arr)
		return -ENOMEM;
	if (limit < 1) {
		cJSON_Delete(pg.arr);
		return -EINVAL;
	}
	/* The rest of the cursor's trial, then the trials after it: two index
	 * seeks, so a page costs its rows whatever its place in the table. */
	brc = sqlite3_bind_int64(st, 1, sweep_id) ||
	      sqlite3_bind_int64(st, 2, after->number) ||
	      sqlite3_bind_int64(st, 3, after->attempt) ||
	      sqlite3_bind_int64(st, 4, after->epoch) ||
	      sqlite3_bind_int64(st, 5, limit);
	rc = walk(db, st, brc, page_epoch_row, &pg, __func__);
	if (rc == 0) {
		st = stmt(db, ST_EPOCHS_AFTER);
		brc = sqlite3_bind_int64(st, 1, sweep_id) ||
		      sqlite3_bind_int64(st, 2, after->number) ||
		      sqlite3_bind_int64(st, 3, limit - pg.n);
		rc = walk(db, st, brc, page_epoch_row, &pg, __func__);
	}
	if (rc < 0) {
		cJSON_Delete(pg.arr);
		return rc;
	}
	*more = rc == 1;
	*next = pg.last;
	*out = pg.arr;
	return 0;
}

/* ---- sweep summaries -------------------------------------------------- */

/* "best": {"number","objective"} of the sweep's best completed trial, or
 * null. mode_max picks the direction. */
static int
add_best(struct db *db, cJSON *sum, int64_t id, int mode_max)
{
	cJSON *t = NULL, *b;
	const cJSON *number, *objective;
	int rc = db_best_json(db, id, mode_max, &t);

	if (rc == -ENOENT) {
		cJSON_AddNullToObject(sum, "best");
		return 0;
	}
	if (rc < 0)
		return rc;
	number = cJSON_GetObjectItemCaseSensitive(t, "number");
	objective = cJSON_GetObjectItemCaseSensitive(t, "objective");
	if (!cJSON_IsNumber(number) || !cJSON_IsNumber(objective)) {
		cJSON_Delete(t);
		return -ENOMEM;   /* the query never yields a NULL objective */
	}
	b = cJSON_AddObjectToObject(sum, "best");
	cJSON_AddNumberToObject(b, "number", number->valuedouble);
	cJSON_AddNumberToObject(b, "objective", objective->valuedouble);
	cJSON_Delete(t);
	return 0;
}

static int
append_failure(struct db *db, sqlite3_stmt *st, void *ctx)
{
	cJSON *f = cJSON_CreateObject();

	(void)db;
	if (!f || !cJSON_AddItemToArray(ctx, f)) {
		cJSON_Delete(f);
		return -ENOMEM;
	}
	cJSON_AddStringToObject(f, "class", col_text(st, 0));
	cJSON_AddStringToObject(f, "message", col_text(st, 1));
	cJSON_AddNumberToObject(f, "count", sqlite3_column_int(st, 2));
	return 0;
}

int
db_failures_json(struct db *db, int64_t sweep_id, int limit, cJSON **out)
{
	sqlite3_stmt *st = stmt(db, ST_FAILURES);
	int b = sqlite3_bind_int64(st, 1, sweep_id);

	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, limit);
	return json_fill(db, st, b, append_failure, cJSON_CreateArray(), out,
			 __func__);
}

/* "failures": the largest groups of failed trials, none queried when the
 * counters say there is no failed trial. */
static int
add_failures(struct db *db, cJSON *sum, int64_t id, int n_failed, int limit)
{
	cJSON *arr = NULL;
	int rc = 0;

	if (n_failed > 0)
		rc = db_failures_json(db, id, limit, &arr);
	else
		arr = cJSON_CreateArray();
	if (rc == 0 && !arr)
		rc = -ENOMEM;
	if (rc == 0 && !cJSON_AddItemToObject(sum, "failures", arr)) {
		cJSON_Delete(arr);
		rc = -ENOMEM;
	}
	return rc;
}

/* A summary from a SWEEP_COLS row; with_detail adds "spec" and "error". */
static int
sweep_summary(struct db *db, sqlite3_stmt *st, int with_detail, cJSON **out)
{
	cJSON *sum = cJSON_CreateObject(), *spec, *counts, *obj;
	const cJSON *o, *metric, *mode;
	int64_t id = sqlite3_column_int64(st, SC_ID);
	int mode_max, rc;

	*out = NULL;
	if (!sum)
		return -ENOMEM;
	cJSON_AddNumberToObject(sum, "id", (double)id);
	add_str(sum, "name", st, SC_NAME);
	add_str(sum, "status", st, SC_STATUS);
	add_num(sum, "created_at", st, SC_CREATED_AT);
	add_num(sum, "ended_at", st, SC_ENDED_AT);
	cJSON_AddNumberToObject(sum, "trials_total",
				sqlite3_column_int(st, SC_TOTAL));
	counts = cJSON_AddObjectToObject(sum, "counts");
	for (int i = 0; trial_statuses[i]; i++)
		cJSON_AddNumberToObject(counts, trial_statuses[i],
					sqlite3_column_int(st, SC_COUNTS + i));
	spec = cJSON_Parse(col_text(st, SC_SPEC));
	/* A spec with several objectives: the first is the objective. */
	o = cJSON_GetObjectItemCaseSensitive(spec, "objective");
	if (!o)
		o = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec,
									"objectives"), 0);
	metric = cJSON_GetObjectItemCaseSensitive(o, "metric");
	mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
	/* The spec's default mode is max; only an explicit "min" flips it. */
	mode_max = !(cJSON_IsString(mode) && strcmp(mode->valuestring, "min") == 0);
	obj = cJSON_AddObjectToObject(sum, "objective");
	if (cJSON_IsString(metric))
		cJSON_AddStringToObject(obj, "metric", metric->valuestring);
	else
		cJSON_AddNullToObject(obj, "metric");
	cJSON_AddStringToObject(obj, "mode", mode_max ? "max" : "min");
	rc = add_best(db, sum, id, mode_max);
	if (rc == 0)
		rc = add_failures(db, sum, id,
				  sqlite3_column_int(st, SC_COUNTS + 3 /* failed */),
				  with_detail ? DB_FAILURES_DETAIL : 1);
	if (rc == 0 && with_detail) {
		cJSON_AddItemToObject(sum, "spec", spec ? spec : cJSON_CreateNull());
		spec = NULL;
		add_str(sum, "error", st, SC_ERROR);
	}
	cJSON_Delete(spec);
	if (rc < 0) {
		cJSON_Delete(sum);
		return rc;
	}
	*out = sum;
	return 0;
}

static int
append_summary(struct db *db, sqlite3_stmt *st, void *ctx)
{
	cJSON *sum;
	int rc = sweep_summary(db, st, 0, &sum);

	if (rc == 0 && !cJSON_AddItemToArray(ctx, sum)) {
		cJSON_Delete(sum);
		rc = -ENOMEM;
	}
	return rc;
}

int
db_sweeps_json(struct db *db, cJSON **out)
{
	return json_fill(db, stmt(db, ST_SWEEPS_ALL), SQLITE_OK, append_summary,
			 cJSON_CreateArray(), out, __func__);
}

int
db_sweep_json(struct db *db, int64_t id, cJSON **out)
{
	sqlite3_stmt *st = stmt(db, ST_SWEEP_ONE);
	int rc = sqlite3_bind_int64(st, 1, id);

	*out = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sweep_summary(db, st, 1, out);
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = fail(db, __func__, rc);
	done(st);
	return rc;
}
