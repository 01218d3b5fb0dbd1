/*
 * daemon/store/db_batch.c: batches, the group commit of the epochs of one
 * turn of the daemon's loop (contract in db.h, reasoning in
 * docs/storage.md, "Group commit").
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

#include <errno.h>
#include <string.h>

/* The outermost level's transaction is gone: committed, rolled back by
 * us, or by SQLite after a storage failure (rc < 0: then it is lost).
 * Its fate is kept for db_batch_fate until the next batch begins. */
static int
batch_gone(struct db *db, int rc)
{
	db->batch_depth = 0;
	db->batch_fate = rc < 0 ? rc : 0;
	if (rc < 0)
		db->batch_lost = rc;
	return rc;
}

int
db_batch_begin(struct db *db)
{
	int rc;

	if (db->batch_depth == 0 && !sqlite3_get_autocommit(db->h))
		return db_failf(db, __func__, -EINVAL, "a db_begin group is "
			     "open (a batch does not go inside one)");
	rc = db_run(db, db_stmt(db, db->batch_depth ? ST_BATCH_SP : ST_BEGIN),
		    SQLITE_OK, __func__);
	if (rc == 0 && db->batch_depth++ == 0)
		db->batch_gen++;
	return rc;
}

/* The outermost level: COMMIT (or ROLLBACK); a failed COMMIT is rolled
 * back, as db_commit's. */
static int
batch_end_outer(struct db *db, int keep)
{
	char saved[sizeof db->err];
	int rc = 0;

	if (keep)
		rc = db_run(db, db_stmt(db, ST_COMMIT), SQLITE_OK, "db_batch_end");
	if ((!keep || rc < 0) && !sqlite3_get_autocommit(db->h)) {
		memcpy(saved, db->err, sizeof saved);
		db_run(db, db_stmt(db, ST_ROLLBACK), SQLITE_OK, "db_batch_end");
		memcpy(db->err, saved, sizeof saved);
	}
	rc = batch_gone(db, rc);
	if (!keep)
		db->batch_fate = -ECANCELED;   /* not stored, not lost */
	return rc;
}

int
db_batch_end(struct db *db, int keep)
{
	char saved[sizeof db->err];
	int rc = 0;

	if (db->batch_depth == 0)
		return db_failf(db, __func__, -EINVAL, "no batch is open");
	if (sqlite3_get_autocommit(db->h))   /* SQLite rolled it all back */
		return batch_gone(db, db->batch_lost ? db->batch_lost : -EIO);
	if (db->batch_depth == 1)
		return batch_end_outer(db, keep);
	memcpy(saved, db->err, sizeof saved);
	if (!keep)
		db_run(db, db_stmt(db, ST_BATCH_ROLLBACK_TO), SQLITE_OK, __func__);
	rc = db_run(db, db_stmt(db, ST_BATCH_RELEASE), SQLITE_OK, __func__);
	if (!keep)
		memcpy(db->err, saved, sizeof saved);
	db->batch_depth--;
	if (sqlite3_get_autocommit(db->h))
		return batch_gone(db, rc < 0 ? rc : -EIO);
	return rc;
}

int
db_batch_depth(const struct db *db)
{
	return db ? db->batch_depth : 0;
}

int
db_batch_lost(struct db *db)
{
	int rc = db->batch_lost;

	db->batch_lost = 0;
	return rc;
}

uint64_t
db_batch_gen(const struct db *db)
{
	return db->batch_gen;
}

int
db_batch_fate(const struct db *db, uint64_t gen)
{
	if (gen == 0)
		return 0;
	if (gen != db->batch_gen)
		return -ESTALE;
	return db->batch_depth > 0 ? DB_BATCH_OPEN : db->batch_fate;
}

int
db_batch_settle(struct db *db, const char *func)
{
	int rc;

	if (db->batch_depth == 0)
		return 0;
	if (db->batch_depth > 1)
		return db_failf(db, func, -EINVAL, "%d batch levels are open",
			     db->batch_depth - 1);
	rc = db_batch_end(db, 1);
	if (rc < 0)
		db->err_func = func;
	return rc;
}

int
db_batch_check(struct db *db, int rc)
{
	if (rc < 0 && db->batch_depth > 0 && sqlite3_get_autocommit(db->h))
		batch_gone(db, rc);
	return rc;
}

/* sqlite3_commit_hook: 0 lets the commit go on. */
static int
on_commit(void *ud)
{
	((struct db *)ud)->commits++;
	return 0;
}

int64_t
db_commits(struct db *db)
{
	if (!db->counting) {
		sqlite3_commit_hook(db->h, on_commit, db);
		db->counting = 1;
	}
	return db->commits;
}
