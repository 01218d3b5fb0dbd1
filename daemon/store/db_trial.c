/*
 * daemon/store/db_trial.c: the trials table: create, start, end, requeue,
 * diagnosis, the start-up loads, and the reads of trial rows for client
 * ops (contract in db.h).
 */
#include "daemon/store/db.h"
#include "daemon/store/db_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/vocab.h"

/* ---- trials ----------------------------------------------------------- */

/* The trial's INSERT; func: the caller named in a failure. */
static int
trial_insert(struct db *db, int64_t sweep_id, int number,
	     const char *params_json, uint64_t seed, int64_t *trial_id_out,
	     const char *func)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_INSERT);
	int b, rc;

	if (number < 1)
		return db_failf(db, func, -EINVAL, "trial number %d is not "
			     "positive", number);
	rc = db_check_object(db, "params_json", params_json, func);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, sweep_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, number);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 3, params_json);
	if (b == SQLITE_OK)   /* the uint64's bits; read back the same way */
		b = sqlite3_bind_int64(st, 4, (int64_t)seed);
	rc = db_run(db, st, b, func);
	if (rc == 0 && trial_id_out)
		*trial_id_out = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int
db_trial_create(struct db *db, int64_t sweep_id, int number,
		const char *params_json, uint64_t seed, int64_t *trial_id_out)
{
	int rc = db_batch_settle(db, __func__);

	return rc < 0 ? rc : trial_insert(db, sweep_id, number, params_json,
					  seed, trial_id_out, __func__);
}

int
db_trial_create_batched(struct db *db, int64_t sweep_id, int number,
			const char *params_json, uint64_t seed,
			int64_t *trial_id_out)
{
	return trial_insert(db, sweep_id, number, params_json, seed,
			    trial_id_out, __func__);
}

int
db_trial_state(struct db *db, int64_t trial_id, char *status, size_t len,
	    int *attempt)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_STATE);
	int rc = sqlite3_bind_int64(st, 1, trial_id);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(status, len, "%s", db_col_text(st, 0));
		*attempt = sqlite3_column_int(st, 1);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = db_fail(db, __func__, rc);
	}
	db_done(st);
	return rc;
}

int
db_trial_start(struct db *db, int64_t trial_id, int attempt, int pid,
	       int64_t proc_start, double now)
{
	int rc = db_batch_settle(db, __func__);

	return rc < 0 ? rc : db_trial_start_batched(db, trial_id, attempt, pid,
						    proc_start, now);
}

int
db_trial_start_batched(struct db *db, int64_t trial_id, int attempt, int pid,
		       int64_t proc_start, double now)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_START);
	char status[16];
	int cur, b, rc;

	if (attempt < 0)
		return db_failf(db, __func__, -EINVAL, "attempt %d is negative",
			     attempt);
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	if (b == SQLITE_OK)
		b = db_bind_int_or_null(st, 3, pid, 0);
	if (b == SQLITE_OK)
		b = db_bind_int_or_null(st, 4, proc_start, 0);
	if (b == SQLITE_OK)
		b = sqlite3_bind_double(st, 5, now);
	rc = db_batch_check(db, db_run(db, st, b, __func__));
	if (rc < 0 || sqlite3_changes(db->h) == 1)
		return rc;
	rc = db_trial_state(db, trial_id, status, sizeof status, &cur);
	if (rc < 0)
		return rc;
	return db_failf(db, __func__, -EINVAL, "trial id %" PRId64 " is %s, not "
		     "queued", trial_id, status);
}

/* The trial's end UPDATE; func: the caller named in a failure. */
static int
trial_end(struct db *db, int64_t trial_id, const struct db_trial_end *e,
	  const char *func)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_END);
	int b, rc;

	if (!e || !vocab_trial_ended(vocab_trial_parse(e->status)))
		return db_failf(db, func, -EINVAL, "\"%s\" is not an end status "
			     "of a trial", e && e->status ? e->status : "(null)");
	if (e->diagnosis_json) {
		rc = db_check_printed(db, "diagnosis_json", e->diagnosis_json,
				      e->diagnosis, func);
		if (rc < 0)
			return rc;
	}
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 2, e->status);
	if (b == SQLITE_OK)
		b = db_bind_real(st, 3, e->objective);
	if (b == SQLITE_OK)
		b = db_bind_int_or_null(st, 4, e->best_epoch, 0);
	if (b == SQLITE_OK)
		b = db_bind_real(st, 5, e->test_loss);
	if (b == SQLITE_OK)
		b = db_bind_real(st, 6, e->test_acc);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 7, e->diagnosis_json);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 8, e->error);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 9, e->error_class);
	if (b == SQLITE_OK)
		b = db_bind_int_or_null(st, 10, e->exit_code, -1);
	if (b == SQLITE_OK)
		b = db_bind_int_or_null(st, 11, e->signal, 0);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 12, e->stderr_tail);
	if (b == SQLITE_OK)
		b = sqlite3_bind_double(st, 13, e->now);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 14, e->asha_rung > 0 ? e->asha_rung : 0);
	rc = db_run(db, st, b, func);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_trial_end(struct db *db, int64_t trial_id, const struct db_trial_end *e)
{
	int rc = db_batch_settle(db, __func__);

	return rc < 0 ? rc : trial_end(db, trial_id, e, __func__);
}

int
db_trial_end_batched(struct db *db, int64_t trial_id,
		     const struct db_trial_end *e)
{
	return trial_end(db, trial_id, e, __func__);
}

int
db_trial_requeue(struct db *db, int64_t trial_id, int attempt)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_REQUEUE);
	int b, rc;

	rc = db_batch_settle(db, __func__);
	if (rc < 0)
		return rc;
	if (attempt < 0)
		return db_failf(db, __func__, -EINVAL, "attempt %d is negative",
			     attempt);
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, attempt);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_trial_promote(struct db *db, int64_t trial_id, int rung)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_PROMOTE);
	int b, rc;

	if (rung < 1)
		return db_failf(db, __func__, -EINVAL, "rung %d is not one", rung);
	rc = db_batch_settle(db, __func__);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 2, rung);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_trial_job(struct db *db, int64_t trial_id, int64_t job, int pending,
	     double queue_s)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_JOB);
	int b, rc;

	rc = db_batch_settle(db, __func__);
	if (rc < 0)
		return rc;
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = db_bind_int_or_null(st, 2, job, 0);
	if (b == SQLITE_OK)
		b = sqlite3_bind_int(st, 3, pending ? 1 : 0);
	if (b == SQLITE_OK)
		b = db_bind_real(st, 4, queue_s < 0 ? NAN : queue_s);
	rc = db_run(db, st, b, __func__);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

int
db_trial_set_diagnosis(struct db *db, int64_t trial_id,
		       const char *diagnosis_json)
{
	return db_trial_set_diagnosis_obj(db, trial_id, NULL, diagnosis_json);
}

int
db_trial_set_diagnosis_obj(struct db *db, int64_t trial_id,
			   const struct cJSON *d, const char *diagnosis_json)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_DIAG);
	int b, rc;

	if (diagnosis_json || d) {
		rc = db_check_printed(db, "diagnosis_json", diagnosis_json, d,
				      "db_trial_set_diagnosis");
		if (rc < 0)
			return rc;
	}
	b = sqlite3_bind_int64(st, 1, trial_id);
	if (b == SQLITE_OK)
		b = db_bind_text(st, 2, diagnosis_json);
	rc = db_batch_check(db, db_run(db, st, b, __func__));
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = -ENOENT;
	return rc;
}

/* ---- loading at start-up ---------------------------------------------- */

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
		.params_json = db_col_text(st, 3),
		.status = db_col_text(st, 4),
		.attempt = sqlite3_column_int(st, 5),
		.pid = sqlite3_column_int(st, 6),           /* NULL reads 0 */
		.proc_start = sqlite3_column_int64(st, 7),
		.seed = (uint64_t)sqlite3_column_int64(st, 8),
		.objective = db_col_real(st, 9),
		.best_epoch = sqlite3_column_int(st, 10),
		.epochs = sqlite3_column_int(st, 11),
		.job = sqlite3_column_int64(st, 12),        /* NULL reads 0 */
		.asha_rung = sqlite3_column_int(st, 13),
		.promoted_rung = sqlite3_column_int(st, 14),
		.promotions = sqlite3_column_int(st, 15),
	};

	db->trial_rows++;
	return c->cb(c->ud, &r);
}

int
db_load_trials(struct db *db, int64_t sweep_id,
	       int (*cb)(void *ud, const struct db_trial_row *r), void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIALS_LOAD);
	struct trial_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return db_walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), trial_row, &c,
		    __func__);
}

int
db_load_unsettled(struct db *db,
		  int (*cb)(void *ud, const struct db_trial_row *r), void *ud)
{
	struct trial_cb c = { cb, ud };

	if (!cb)
		return -EINVAL;
	return db_walk(db, db_stmt(db, ST_UNSETTLED_LOAD), SQLITE_OK, trial_row, &c,
		    __func__);
}

int64_t
db_trial_rows_loaded(const struct db *db)
{
	return db ? db->trial_rows : 0;
}

/* ---- reads ------------------------------------------------------------ */

struct trial_rec_cb {
	db_trial_fn cb;
	void *ud;
};

/* A TRIAL_COLS row as a db_trial_rec. */
static int
trial_rec(struct db *db, sqlite3_stmt *st, void *ctx)
{
	struct trial_rec_cb *c = ctx;
	struct db_trial_rec r = {
		.id = sqlite3_column_int64(st, TC_ID),
		.number = sqlite3_column_int(st, TC_NUMBER),
		.attempt = sqlite3_column_int(st, TC_ATTEMPT),
		.epochs = sqlite3_column_int(st, TC_EPOCHS),
		.status = db_col_text(st, TC_STATUS),
		.params_json = db_col_text(st, TC_PARAMS),
		.seed = (uint64_t)sqlite3_column_int64(st, TC_SEED),
		.objective = db_col_real(st, TC_OBJECTIVE),
		.best_epoch = db_col_real(st, TC_BEST_EPOCH),
		.test_loss = db_col_real(st, TC_TEST_LOSS),
		.test_acc = db_col_real(st, TC_TEST_ACC),
		.diagnosis_json = db_col_text(st, TC_DIAGNOSIS),
		.error = db_col_text(st, TC_ERROR),
		.error_class = db_col_text(st, TC_ERROR_CLASS),
		.stderr_tail = db_col_text(st, TC_STDERR_TAIL),
		.exit_code = db_col_real(st, TC_EXIT_CODE),
		.signal = db_col_real(st, TC_SIGNAL),
		.started_at = db_col_real(st, TC_STARTED_AT),
		.ended_at = db_col_real(st, TC_ENDED_AT),
		.job = db_col_real(st, TC_JOB),
		.queue_s = db_col_real(st, TC_QUEUE_S),
		.promoted_rung = sqlite3_column_int(st, TC_PROMOTED_RUNG),
		.promotions = sqlite3_column_int(st, TC_PROMOTIONS),
	};

	(void)db;
	return c->cb(c->ud, &r);
}

static int
take_count(struct db *db, sqlite3_stmt *st, void *ctx)
{
	(void)db;
	*(int64_t *)ctx = sqlite3_column_int64(st, 0);
	return 0;
}

int
db_trials_count(struct db *db, int64_t sweep_id, int64_t *total)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIALS_COUNT);

	*total = 0;
	return db_walk(db, st, sqlite3_bind_int64(st, 1, sweep_id), take_count,
		       total, __func__);
}

int
db_trials_page(struct db *db, int64_t sweep_id, int64_t offset,
	       int64_t limit, db_trial_fn cb, void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIALS_JSON);
	struct trial_rec_cb c = { cb, ud };
	int brc;

	if (offset < 0)
		return db_failf(db, __func__, -EINVAL, "offset %lld is negative",
				(long long)offset);
	/* SQLite takes a negative LIMIT as no limit. */
	brc = sqlite3_bind_int64(st, 1, sweep_id);
	if (brc == SQLITE_OK)
		brc = sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit);
	if (brc == SQLITE_OK)
		brc = sqlite3_bind_int64(st, 3, offset);
	return db_walk(db, st, brc, trial_rec, &c, __func__);
}

int
db_trial_get(struct db *db, int64_t sweep_id, int64_t number, db_trial_fn cb,
	     void *ud)
{
	sqlite3_stmt *st = db_stmt(db, ST_TRIAL_ONE);
	struct trial_rec_cb c = { cb, ud };
	int b = sqlite3_bind_int64(st, 1, sweep_id);

	if (b == SQLITE_OK)
		b = sqlite3_bind_int64(st, 2, number);
	return db_one(db, st, b, trial_rec, &c, __func__);
}

int
db_best_get(struct db *db, int64_t sweep_id, int mode_max, db_trial_fn cb,
	    void *ud)
{
	sqlite3_stmt *st = db_stmt(db, mode_max ? ST_BEST_MAX : ST_BEST_MIN);
	struct trial_rec_cb c = { cb, ud };

	return db_one(db, st, sqlite3_bind_int64(st, 1, sweep_id), trial_rec, &c,
		      __func__);
}
