/*
 * daemon/store/db.c: sweepd's SQLite storage: opening, migrations, the
 * prepared statements, transactions and the errors every call returns
 * (contract in db.h, shared internals in db_impl.h, schema in
 * schema/NNNN_*.sql, reasoning in docs/storage.md). The calls themselves
 * live by concept: db_sweep.c, db_trial.c, db_epoch.c.
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cJSON.h>

#include "schema/migrations.h"

static const char *const stmt_sql[ST_COUNT] = {
#define X(name, sql) sql,
	DB_STATEMENTS(X)
#undef X
};

static const char *const stmt_name[ST_COUNT] = {
#define X(name, sql) #name,
	DB_STATEMENTS(X)
#undef X
};

const char *
db_stmt_sql(enum stmt_id id)
{
	return stmt_sql[id];
}

const char *
db_stmt_name(enum stmt_id id)
{
	return stmt_name[id];
}

/* ---- errors ----------------------------------------------------------- */

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

int
db_failf(struct db *db, const char *func, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof db->err, fmt, ap);
	va_end(ap);
	db->err_func = func;
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

/* A missing row or a duplicate is the caller's to report; the message is
 * kept for all the same. */
int
db_fail(struct db *db, const char *func, int rc)
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
	db->err_func = func;
	return code;
}

/* ---- statements ------------------------------------------------------- */

int
db_run(struct db *db, sqlite3_stmt *st, int brc, const char *func)
{
	int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;
	int ret = rc == SQLITE_DONE ? 0 : db_fail(db, func, rc);

	db_done(st);
	return ret;
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
	db->err_func = func;
	return errno_of(rc);
}

int
db_check_object(struct db *db, const char *what, const char *text,
	     const char *func)
{
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	int ok = cJSON_IsObject(j);

	cJSON_Delete(j);
	return ok ? 0 : db_failf(db, func, -EINVAL, "%s is not a JSON object", what);
}

int
db_check_printed(struct db *db, const char *what, const char *text,
		 const struct cJSON *obj, const char *func)
{
	if (!obj)
		return db_check_object(db, what, text, func);
	return cJSON_IsObject(obj) && text ? 0 :
	       db_failf(db, func, -EINVAL, "%s is not a JSON object", what);
}

int
db_op_begin(struct db *db, const char *func)
{
	return db_run(db, db_stmt(db, ST_SAVEPOINT), SQLITE_OK, func);
}

int
db_op_end(struct db *db, int rc, const char *func)
{
	char keep[sizeof db->err];

	if (rc == 0) {
		rc = db_run(db, db_stmt(db, ST_RELEASE), SQLITE_OK, func);
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
	db_run(db, db_stmt(db, ST_ROLLBACK_TO), SQLITE_OK, func);
	db_run(db, db_stmt(db, ST_RELEASE), SQLITE_OK, func);
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
		snprintf(buf, len, "%s", db_col_text(st, 0) ? db_col_text(st, 0) : "");
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

/* After a migration that ran with foreign keys off (a table rebuild):
 * 0 when PRAGMA foreign_key_check finds no row, else -EIO naming the
 * first one, so that the transaction is rolled back. */
static int
fk_clean(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db->h, "PRAGMA foreign_key_check", -1, &st,
				    NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)   /* columns: table, rowid, parent, fkid */
		rc = db_failf(db, __func__, -EIO, "it would leave a row of %s "
			      "(rowid %lld) referring to no row of %s (PRAGMA "
			      "foreign_key_check)", db_col_text(st, 0),
			      (long long)sqlite3_column_int64(st, 1),
			      db_col_text(st, 2));
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = db_fail(db, __func__, rc);
	sqlite3_finalize(st);
	return rc;
}

/* Applies migration m in its own transaction. user_version is read again
 * under the write lock, so two processes opening one file at once cannot
 * both apply it. */
static int
migrate_tx(struct db *db, const struct schema_migration *m)
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
	if (rc == 0 && m->fk_off)
		rc = fk_clean(db);
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

/* A migration marked fk_off (schema/migrations.h) runs with foreign keys
 * off: the pragma is a no-op inside a transaction, so it is set before
 * BEGIN, and set back on (with legacy_alter_table off, which a rebuild
 * may turn on) after COMMIT or ROLLBACK, whatever happened. */
static int
migrate_one(struct db *db, const struct schema_migration *m)
{
	char keep[sizeof db->err];
	int rc, on;

	if (!m->fk_off)
		return migrate_tx(db, m);
	rc = exec(db, "PRAGMA foreign_keys = OFF", __func__);
	if (rc == 0)
		rc = migrate_tx(db, m);
	memcpy(keep, db->err, sizeof keep);
	on = exec(db, "PRAGMA foreign_keys = ON; "
		  "PRAGMA legacy_alter_table = OFF", __func__);
	if (rc < 0)
		memcpy(db->err, keep, sizeof keep);
	return rc < 0 ? rc : on;
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

/* sqlite3_update_hook: a row of table changed. epochs and the other
 * WITHOUT ROWID tables never get here. */
static void
on_row_change(void *ud, int op, const char *dbname, const char *table,
	      sqlite3_int64 rowid)
{
	struct db *db = ud;

	(void)op;
	(void)dbname;
	(void)rowid;
	if (strcmp(table, "trials") == 0 || strcmp(table, "sweeps") == 0)
		db->change_gen++;
}

/* sqlite3_rollback_hook: what was read since the last change may be gone. */
static void
on_rollback(void *ud)
{
	((struct db *)ud)->change_gen++;
}

uint64_t
db_change_gen(const struct db *db)
{
	return db->change_gen;
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
	db->change_gen = 1;
	sqlite3_update_hook(db->h, on_row_change, db);
	sqlite3_rollback_hook(db->h, on_rollback, db);
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

int
db_open_reader(const struct db *db, struct db **out, char *err,
	       size_t errlen)
{
	struct db *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof *r);
	if (!r || !(r->path = strdup(db->path))) {
		free(r);
		return errf(err, errlen, -ENOMEM, "%s: out of memory", db->path);
	}
	r->version = db->version;
	rc = sqlite3_open_v2(r->path, &r->h, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = open_error(r, rc, err, errlen);
		goto fail;
	}
	sqlite3_extended_result_codes(r->h, 1);
	sqlite3_busy_timeout(r->h, DB_BUSY_MS);
	rc = prepare_all(r, err, errlen);
	if (rc < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	db_close(r);
	return rc;
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
	/* Every statement is finalized, so this closes for real (it cannot
	 * fail then); the last connection checkpoints the WAL into the
	 * database and removes it. */
	if (db->h)
		sqlite3_close(db->h);
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

const char *
db_last_error_func(const struct db *db)
{
	return db && db->err[0] && db->err_func ? db->err_func : "";
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

/* ---- transactions ----------------------------------------------------- */

int
db_begin(struct db *db)
{
	int rc = db_batch_settle(db, __func__);

	if (rc < 0)
		return rc;
	if (!sqlite3_get_autocommit(db->h))
		return db_failf(db, __func__, -EINVAL, "a transaction is open "
			     "already (db_begin does not nest)");
	return db_run(db, db_stmt(db, ST_BEGIN), SQLITE_OK, __func__);
}

int
db_commit(struct db *db)
{
	int rc;

	if (sqlite3_get_autocommit(db->h))
		return db_failf(db, __func__, -EINVAL, "no transaction is open");
	rc = db_run(db, db_stmt(db, ST_COMMIT), SQLITE_OK, __func__);
	/* A failed COMMIT (busy, full disk) may leave the transaction open;
	 * the contract is that nothing of the group is stored. */
	if (rc < 0 && !sqlite3_get_autocommit(db->h)) {
		char keep[sizeof db->err];
		memcpy(keep, db->err, sizeof keep);
		db_run(db, db_stmt(db, ST_ROLLBACK), SQLITE_OK, __func__);
		memcpy(db->err, keep, sizeof keep);
	}
	return rc;
}

int
db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h))
		return 0;
	return db_run(db, db_stmt(db, ST_ROLLBACK), SQLITE_OK, __func__);
}

/* ---- row walks -------------------------------------------------------- */

int
db_walk(struct db *db, sqlite3_stmt *st, int brc, db_row_fn fn, void *ctx,
     const char *func)
{
	int rc = brc;

	while (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int r = fn(db, st, ctx);
			if (r != 0) {
				db_done(st);
				return r;
			}
			rc = SQLITE_OK;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(db, func, rc);
	db_done(st);
	return rc;
}

int
db_one(struct db *db, sqlite3_stmt *st, int brc, db_row_fn fn, void *ctx,
       const char *func)
{
	int rc = brc == SQLITE_OK ? sqlite3_step(st) : brc;

	if (rc == SQLITE_ROW)
		rc = fn(db, st, ctx);
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = db_fail(db, func, rc);
	db_done(st);
	return rc;
}
