/*
 * daemon/store/db_sweep.c: the sweeps table: create, status, spec, reopen,
 * delete, the start-up load of active sweeps, and the reads of sweep rows,
 * failure groups and verdict counts (contract in db.h).
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

#include <errno.h>
#include <string.h>

#include "common/vocab.h"

/* ---- sweeps ----------------------------------------------------------- */

int
db_sweep_create(struct db *db, const char *name, const char *spec_json,
		int trials_total, double now, int64_t *id_out)
{
	sqlite3_stmt *st = db_stmt(db, ST_SWEEP_INSERT);
	int b, rc;

	rc = db_batch_settle(db, __func__);
	if (rc < 0)
		return rc;
	if (!name)
		return db_failf(db, __func__, -EINVAL, "sweep name missing");
	if (trials_total < 0)
		return db_failf(db, __func__, -EINVAL, "trials_total %d is negative",
			     trials_total);
	rc = db_check_object(db, "spec_json", spec_json, __func__);
	if (rc < 0)
		return rc;
	b = db_bind_text(st, 1, name);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 2, spec_json);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, trials_total);
	if (b == SQLITE_OK)
		b = sqlite3_bind_double(st, 4, now);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && id_out)
		*id_out = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int
db_sweep_set_status(struct db *db, int64_t id, const char *status,
		    const char *error, double now)
{
	sqlite3_stmt *st = db_stmt(db, ST_SWEEP_STATUS);
	int end, b, rc;

	rc = db_batch_settle(db, __func__);
	if (rc < 0)
		return rc;
	if (vocab_sweep_parse(status) < 0)
		return db_failf(db, __func__, -EINVAL, "unknown sweep status \"%s\"",
			     status ? status : "(null)");
	end = !vocab_sweep_active(vocab_sweep_parse(status));
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 2, status);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 3, error);
	if (b == SQLITE_OK)
		b = end ? sqlite3_bind_double(st, 4, now) : sqlite3_bind_null(st, 4);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_sweep_set_spec(struct db *db, int64_t id, const char *spec_json)
{
	sqlite3_stmt *st = db_stmt(db, ST_SWEEP_SPEC);
	int b, rc;

	rc = db_batch_settle(db, __func__);
	if (rc < 0)
		return rc;
	rc = db_check_object(db, "spec_json", spec_json, __func__);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 2, spec_json);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_sweep_reopen(struct db *db, int64_t id, const char *spec_json,
		int trials_total)
{
	sqlite3_stmt *st = db_stmt(db, ST_SWEEP_REOPEN);
	int b, rc = db_batch_settle(db, __func__);

	if (rc == 0)
		rc = db_check_object(db, "spec_json", spec_json, __func__);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, id);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 2, spec_json);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, trials_total);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;   /* no such sweep, or an active one */
	return rc;
}

int
db_sweep_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st = db_stmt(db, ST_SWEEP_DELETE);
	int rc = db_batch_settle(db, __func__);

	if (rc == 0)
		rc = db_run(db, st, sqlite3_bind_int64(st, 1, id), __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;   /* no such sweep, or an active one */
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
		.name = db_col_text(st, SC_NAME),
		.spec_json = db_col_text(st, SC_SPEC),
		.status = db_col_text(st, SC_STATUS),
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
	return db_walk(db, db_stmt(db, only_active ? ST_SWEEPS_ACTIVE : ST_SWEEPS_ALL),
		    SQLITE_OK, sweep_row, &c, __func__);
}

/* ---- reads ------------------------------------------------------------ */

struct sweep_rec_cb {
	db_sweep_fn cb;
	void *ud;
};

static int
sweep_rec(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct sweep_rec_cb *c = ctx;
	struct db_sweep_rec r = {
		.id = sqlite3_column_int64(st, SC_ID),
		.name = db_col_text(st, SC_NAME),
		.status = db_col_text(st, SC_STATUS),
		.spec_json = db_col_text(st, SC_SPEC),
		.error = db_col_text(st, SC_ERROR),
		.created_at = db_col_real(st, SC_CREATED_AT),
		.ended_at = db_col_real(st, SC_ENDED_AT),
		.trials_total = sqlite3_column_int(st, SC_TOTAL),
	};

	/* sweep_counts' columns, in SWEEP_COLS order; pending trials are
	 * stored, and counted there, as running: counted apart here. */
	static const enum trial_status col[] = {
		TRIAL_QUEUED, TRIAL_RUNNING, TRIAL_COMPLETED, TRIAL_FAILED,
		TRIAL_PRUNED, TRIAL_CANCELLED,
	};

	(void)db;
	for (size_t i = 0; i < sizeof col / sizeof col[0]; i++)
		r.counts[col[i]] = sqlite3_column_int(st, SC_COUNTS + (int)i);
	r.counts[TRIAL_PENDING] = sqlite3_column_int(st, SC_PENDING);
	r.counts[TRIAL_RUNNING] -= r.counts[TRIAL_PENDING];
	return c->cb(c->ud, &r);
}

int
db_sweeps_walk(struct db *db, db_sweep_fn cb, void *ud)
{
	struct sweep_rec_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return db_walk(db, db_stmt(db, ST_SWEEPS_ALL), SQLITE_OK, sweep_rec, &c,
		       __func__);
}

int
db_sweep_get(struct db *db, int64_t id, db_sweep_fn cb, void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_SWEEP_ONE);
	struct sweep_rec_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return db_one(db, st, sqlite3_bind_int64(st, 1, id), sweep_rec, &c,
		      __func__);
}

struct failure_cb {
	int (*cb)(void *ud, const char *cls, const char *msg, int count);
	void *ud;
};

static int
failure_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct failure_cb *c = ctx;

	(void)db;
	return c->cb(c->ud, db_col_text(st, 0), db_col_text(st, 1),
		     sqlite3_column_int(st, 2));
}

int
db_failures(struct db *db, int64_t sweep_id, int limit,
	    int (*cb)(void *ud, const char *cls, const char *msg, int count),
	    void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_FAILURES);
	struct failure_cb c = { cb, ud };
	int b = sqlite3_bind_int64(st, 1, sweep_id);

	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, limit);
	return db_walk(db, st, b, failure_row, &c, __func__);
}

struct verdict_cb {
	int (*cb)(void *ud, const char *verdict, int count);
	void *ud;
};

static int
verdict_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct verdict_cb *c = ctx;
	const char *v = db_col_text(st, 0);

	(void)db;
	return v ? c->cb(c->ud, v, sqlite3_column_int(st, 1)) : 0;
}

int
db_verdicts(struct db *db, int64_t sweep_id,
	    int (*cb)(void *ud, const char *verdict, int count), void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_VERDICTS);
	struct verdict_cb c = { cb, ud };

	return db_walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), verdict_row,
		       &c, __func__);
}
