/*
 * daemon/store/db_epoch.c: the epochs table: storing a reported epoch, the
 * start-up load of the learning curves, a trial's curve and the export's
 * pages of epoch rows (contract in db.h).
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <cJSON.h>

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
	sqlite3_stmt *st = db_stmt(db, ST_EPOCH_INSERT);
	int b;

	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, epoch);
	if (b == SQLITE_OK)
		b = db_bind_real(st, 4, objective);
	if (b == SQLITE_OK)
		b = db_bind_real(st, 5, metric(m, "train_loss"));
	if (b == SQLITE_OK)
		b = db_bind_real(st, 6, metric(m, "val_loss"));
	if (b == SQLITE_OK)
		b = db_bind_real(st, 7, metric(m, "train_acc"));
	if (b == SQLITE_OK)
		b = db_bind_real(st, 8, metric(m, "val_acc"));
	if (b == SQLITE_OK)
		b = db_bind_text(st, 9, metrics_json);
	return db_run(db, st, b, "db_trial_epoch");
}

/* Counts the epoch in the trial, which must be at this attempt: n when
 * n >= 0, else one more. */
static int
count_epoch(struct db *db, int64_t trial_id, int attempt, int n)
{
	sqlite3_stmt *st = db_stmt(db, ST_EPOCH_COUNT);
	char status[16];
	int b, cur, rc;

	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, n);
	rc = db_run(db, st, b, "db_trial_epoch");
	if (rc < 0 || sqlite3_changes(db->h) == 1)
		return rc;
	rc = db_trial_state(db, trial_id, status, sizeof status, &cur);
	if (rc < 0)
		return rc;
	return db_failf(db, "db_trial_epoch", -EINVAL, "trial id %" PRId64
		     " is at attempt %d, not %d", trial_id, cur, attempt);
}

int
db_trial_epoch(struct db *db, int64_t trial_id, int attempt, int epoch,
	       double objective, const char *metrics_json)
{
	return db_trial_epoch_n(db, trial_id, attempt, epoch, objective,
				metrics_json, -1);
}

int
db_trial_epoch_n(struct db *db, int64_t trial_id, int attempt, int epoch,
		 double objective, const char *metrics_json, int curve_epochs)
{
	cJSON *m = metrics_json ? cJSON_Parse(metrics_json) : NULL;   /* owned */
	int rc;

	rc = db_trial_epoch_obj(db, trial_id, attempt, epoch, objective, m,
				metrics_json, curve_epochs);
	cJSON_Delete(m);
	return rc;
}

int
db_trial_epoch_obj(struct db *db, int64_t trial_id, int attempt, int epoch,
		   double objective, const cJSON *m, const char *metrics_json,
		   int curve_epochs)
{
	int rc;

	if (epoch < 0)
		return db_failf(db, __func__, -EINVAL, "epoch %d is negative", epoch);
	if (!cJSON_IsObject(m) || !metrics_json)
		return db_failf(db, __func__, -EINVAL, "metrics_json is not a JSON "
				"object");
	rc = db_op_begin(db, __func__);
	if (rc < 0)
		return rc;
	rc = insert_epoch(db, trial_id, attempt, epoch, objective, m,
			  metrics_json);
	if (rc == 0)
		rc = count_epoch(db, trial_id, attempt, curve_epochs);
	return db_batch_check(db, db_op_end(db, rc, __func__));
}

/* ---- loading at start-up ---------------------------------------------- */

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
		     sqlite3_column_int(st, 1), db_col_real(st, 2));
}

int
db_load_curves(struct db *db, int64_t sweep_id,
	       int (*cb)(void *ud, int64_t trial_id, int epoch, double objective),
	       void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_CURVES_LOAD);
	struct curve_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return db_walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), curve_row, &c,
		    __func__);
}

/* ---- reads ------------------------------------------------------------ */

struct curve_point_cb {
	int (*cb)(void *ud, int epoch, const char *metrics_json);
	void *ud;
};

static int
curve_point(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct curve_point_cb *c = ctx;

	(void)db;
	return c->cb(c->ud, sqlite3_column_int(st, 0), db_col_text(st, 1));
}

int
db_curve(struct db *db, int64_t trial_id, int attempt,
	 int (*cb)(void *ud, int epoch, const char *metrics_json), void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_CURVE);
	struct curve_point_cb c = { cb, ud };
	int b = sqlite3_bind_int64(st, 1, trial_id);

	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	return db_walk(db, st, b, curve_point, &c, __func__);
}

struct epoch_row_cb {
	int (*cb)(void *ud, const struct db_epoch_row *r);
	void *ud;
	int64_t n;   /* rows handed out */
};

static int
epoch_row(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct epoch_row_cb *c = ctx;
	struct db_epoch_row r = {
		.key = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			 sqlite3_column_int64(st, 2) },
		.metrics_json = db_col_text(st, 3),
	};

	(void)db;
	c->n++;
	return c->cb(c->ud, &r);
}

int
db_epochs_after(struct db *db, int64_t sweep_id,
		const struct db_epoch_key *after, int64_t limit,
		int (*cb)(void *ud, const struct db_epoch_row *r), void *ud)
{
	struct epoch_row_cb c = { cb, ud, 0 };
	sqlite3_stmt *st = db_stmt(db, ST_EPOCHS_SAME);
	int rc, brc;

	if (limit < 1 || !cb)
		return -EINVAL;
	/* The rest of the cursor's trial, then the trials after it: two index
	 * seeks, so a page costs its rows whatever its place in the table. */
	brc = sqlite3_bind_int64(st, 1, sweep_id) ||
	      sqlite3_bind_int64(st, 2, after->number) ||
	      sqlite3_bind_int64(st, 3, after->attempt) ||
	      sqlite3_bind_int64(st, 4, after->epoch) ||
	      sqlite3_bind_int64(st, 5, limit);
	rc = db_walk(db, st, brc, epoch_row, &c, __func__);
	if (rc != 0 || c.n >= limit)
		return rc;
	st = db_stmt(db, ST_EPOCHS_AFTER);
	brc = sqlite3_bind_int64(st, 1, sweep_id) ||
	      sqlite3_bind_int64(st, 2, after->number) ||
	      sqlite3_bind_int64(st, 3, limit - c.n);
	return db_walk(db, st, brc, epoch_row, &c, __func__);
}
