/*
 * daemon/store/db_impl.h: what the files of daemon/store/ share and nobody
 * else sees: the handle, the prepared statements and the small helpers
 * every call is made of. The public contract is db.h (included first by
 * each .c; this header includes no other of the daemon, so that the
 * module graph has no cycle).
 *
 * Every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) and
 * reused: a call binds, steps and resets it, on every path, through db_run
 * or db_walk, so no statement is ever left holding a read snapshot or a
 * lock between calls. A call that writes more than one statement wraps
 * them in a SAVEPOINT (db_op_begin / db_op_end), which is a transaction of
 * its own outside db_begin and a nested one inside it, so a failure never
 * leaves half a change. Nothing here prints: a failure's message is kept
 * in db->err for db_last_error, and the caller logs it.
 */
#ifndef SWEEPD_DAEMON_DB_IMPL_H
#define SWEEPD_DAEMON_DB_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct db;   /* defined below; the contract (db.h) is included by each .c */

/* How long a write waits for a lock held by another process (a backup, an
 * sqlite3 shell) before failing with -EBUSY. The daemon is the only writer,
 * so this only bounds how long a stray reader can stall the loop. */
#define DB_BUSY_MS 2000

/* A running trial whose Slurm job waits in the queue reads "pending". */
#define TRIAL_COLS \
	"id, number, CASE WHEN status = 'running' AND pending = 1 " \
	"THEN 'pending' ELSE status END, attempt, params_json, seed, objective, " \
	"best_epoch, epochs, test_loss, test_acc, diagnosis_json, error, " \
	"error_class, exit_code, signal, started_at, ended_at, stderr_tail, " \
	"job, queue_s, promoted_rung, promotions"
/* Column indexes of TRIAL_COLS, in the same order. */
enum {
	TC_ID, TC_NUMBER, TC_STATUS, TC_ATTEMPT, TC_PARAMS, TC_SEED,
	TC_OBJECTIVE, TC_BEST_EPOCH, TC_EPOCHS, TC_TEST_LOSS, TC_TEST_ACC,
	TC_DIAGNOSIS, TC_ERROR, TC_ERROR_CLASS, TC_EXIT_CODE, TC_SIGNAL,
	TC_STARTED_AT, TC_ENDED_AT, TC_STDERR_TAIL, TC_JOB, TC_QUEUE_S,
	TC_PROMOTED_RUNG, TC_PROMOTIONS,
};

/* The start-up loaders' trial columns, in db_trial_row's order. */
#define LOAD_COLS \
	"t.id, t.sweep_id, t.number, t.params_json, t.status, t.attempt, " \
	"t.pid, t.proc_start, t.seed, t.objective, t.best_epoch, t.epochs, " \
	"t.job, t.asha_rung, t.promoted_rung, t.promotions"

#define SWEEP_COLS \
	"s.id, s.name, s.status, s.created_at, s.ended_at, s.trials_total, " \
	"c.n_queued, c.n_running, c.n_completed, c.n_failed, c.n_pruned, " \
	"c.n_cancelled, s.spec_json, s.error, " \
	"(SELECT count(*) FROM trials p INDEXED BY trials_best " \
	"WHERE p.sweep_id = s.id AND p.status = 'running' AND p.pending = 1)"
/* The counters live in their own narrow row (schema/0004), so that counting
 * a trial never rewrites the sweep's row and its spec. */
#define SWEEP_FROM "sweeps s JOIN sweep_counts c ON c.sweep_id = s.id"
enum {
	SC_ID, SC_NAME, SC_STATUS, SC_CREATED_AT, SC_ENDED_AT, SC_TOTAL,
	SC_COUNTS,   /* six counters from here: queued, running, completed, failed,
		      * pruned, cancelled (db_sweep.c maps them) */
	SC_SPEC = SC_COUNTS + 6, SC_ERROR,
	SC_PENDING,  /* of the running ones, those waiting in Slurm's queue */
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
	X(BATCH_SP, "SAVEPOINT db_batch") \
	X(BATCH_RELEASE, "RELEASE db_batch") \
	X(BATCH_ROLLBACK_TO, "ROLLBACK TO db_batch") \
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
	  "job = NULL, pending = 0, queue_s = NULL, " \
	  "epochs = 0, objective = NULL, best_epoch = NULL, test_loss = NULL, " \
	  "test_acc = NULL, diagnosis_json = NULL, error = NULL, " \
	  "error_class = NULL, exit_code = NULL, signal = NULL, " \
	  "stderr_tail = NULL WHERE id = ?1 AND status = 'queued'") \
	X(TRIAL_STATE, "SELECT status, attempt FROM trials WHERE id = ?1") \
	X(TRIAL_END, "UPDATE trials SET status = ?2, objective = ?3, " \
	  "best_epoch = ?4, test_loss = ?5, test_acc = ?6, " \
	  "diagnosis_json = coalesce(?7, diagnosis_json), error = ?8, " \
	  "error_class = ?9, exit_code = ?10, signal = ?11, " \
	  "stderr_tail = ?12, ended_at = ?13, asha_rung = ?14 WHERE id = ?1") \
	X(TRIAL_REQUEUE, "UPDATE trials SET status = 'queued', attempt = ?2, " \
	  "pid = NULL, proc_start = NULL, pending = 0 WHERE id = ?1") \
	/* From pruned to queued, once per rung; the start clears the rest. */ \
	X(TRIAL_PROMOTE, "UPDATE trials SET status = 'queued', " \
	  "promoted_rung = ?2, promotions = promotions + 1, pid = NULL, " \
	  "proc_start = NULL, pending = 0, ended_at = NULL, error = NULL, " \
	  "error_class = NULL WHERE id = ?1 AND status = 'pruned' AND " \
	  "asha_rung = ?2 AND promoted_rung < ?2") \
	X(TRIAL_JOB, "UPDATE trials SET job = ?2, pending = ?3, " \
	  "queue_s = ?4 WHERE id = ?1 AND status = 'running'") \
	X(TRIAL_DIAG, "UPDATE trials SET diagnosis_json = ?2 WHERE id = ?1") \
	X(EPOCH_INSERT, "INSERT INTO epochs (trial_id, attempt, epoch, " \
	  "objective, train_loss, val_loss, train_acc, val_acc, metrics_json) " \
	  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)") \
	/* ?3: the epochs of the trial's curve across its attempts (resume.c), \
	 * or -1 to count this attempt's rows one by one. */ \
	X(EPOCH_COUNT, "UPDATE trials SET epochs = CASE WHEN ?3 >= 0 THEN ?3 " \
	  "ELSE epochs + 1 END WHERE id = ?1 AND attempt = ?2") \
	X(TRIALS_LOAD, "SELECT " LOAD_COLS " FROM trials t " \
	  "WHERE t.sweep_id = ?1 ORDER BY t.number") \
	X(UNSETTLED_LOAD, "SELECT " LOAD_COLS " FROM sweeps s CROSS JOIN trials t " \
	  "INDEXED BY trials_best ON t.sweep_id = s.id AND t.status IN ('queued', 'running') " \
	  "WHERE s.status NOT IN ('running', 'paused') " \
	  "ORDER BY s.id, t.number") \
	X(CURVES_LOAD, "SELECT e.trial_id, e.epoch, e.objective FROM trials t " \
	  "JOIN epochs e ON e.trial_id = t.id AND e.attempt <= t.attempt " \
	  "WHERE t.sweep_id = ?1 ORDER BY t.number, e.attempt, e.epoch") \
	X(TRIALS_JSON, "SELECT " TRIAL_COLS " FROM trials WHERE sweep_id = ?1 " \
	  "ORDER BY number LIMIT ?2 OFFSET ?3") \
	X(TRIALS_COUNT, "SELECT count(*) FROM trials WHERE sweep_id = ?1") \
	X(TRIAL_ONE, "SELECT " TRIAL_COLS " FROM trials WHERE sweep_id = ?1 " \
	  "AND number = ?2") \
	X(BEST_MAX, BEST_SQL("max")) \
	X(BEST_MIN, BEST_SQL("min")) \
	/* The metrics of each completed trial's best epoch: the row of the \
	 * latest attempt that reported that epoch (a resumed attempt keeps \
	 * the rows of the epochs before it: CURVE below). */ \
	X(BEST_EPOCH_METRICS, "SELECT t.number, e.metrics_json FROM trials t " \
	  "JOIN epochs e ON e.trial_id = t.id AND e.epoch = t.best_epoch AND " \
	  "e.attempt = (SELECT max(x.attempt) FROM epochs x WHERE " \
	  "x.trial_id = t.id AND x.epoch = t.best_epoch AND " \
	  "x.attempt <= t.attempt) WHERE t.sweep_id = ?1 AND " \
	  "t.status = 'completed' ORDER BY t.number") \
	/* The trial's curve as of attempt ?2: a row counts unless a later \
	 * attempt has reported its epoch or one below (docs/DESIGN.md). */ \
	X(CURVE, "SELECT e.epoch, e.metrics_json FROM epochs e " \
	  "WHERE e.trial_id = ?1 AND e.attempt <= ?2 AND e.epoch < " \
	  "coalesce((SELECT min(x.epoch) FROM epochs x WHERE x.trial_id = ?1 " \
	  "AND x.attempt > e.attempt AND x.attempt <= ?2), 2147483647) " \
	  "ORDER BY e.epoch") \
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
	/* Kept by schema/0008's triggers: no diagnosis is parsed here. */ \
	X(VERDICTS, "SELECT verdict, n FROM sweep_verdicts WHERE " \
	  "sweep_id = ?1 AND n > 0 ORDER BY verdict")


enum stmt_id {
#define X(name, sql) ST_##name,
	DB_STATEMENTS(X)
#undef X
	ST_COUNT
};

struct db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];   /* all prepared at open, owned */
	char *path;                   /* owned, for messages */
	int version;                  /* user_version after migrations */
	char err[512];                /* last failure's message, "" if none */
	const char *err_func;         /* the db_ call that failed, static */
	int64_t trial_rows;           /* handed out by the loaders */
	uint64_t change_gen;          /* db_change_gen */
	int batch_depth;              /* db_batch_begin levels open; the
				       * outermost is the transaction */
	int batch_lost;               /* 0, or the error that lost an open
				       * batch, until db_batch_lost takes it */
	uint64_t batch_gen;           /* db_batch_gen: outermost levels begun */
	int batch_fate;               /* db_batch_fate of batch batch_gen
				       * once it has ended */
	int counting;                 /* the commit hook is set (db_commits) */
	int64_t commits;              /* write transactions committed since */
};

/* The SQL text of statement id (for EXPLAIN QUERY PLAN). */
const char *db_stmt_sql(enum stmt_id id);
/* Its name in DB_STATEMENTS ("TRIAL_START"), for db_explain_ops. */
const char *db_stmt_name(enum stmt_id id);

/* ---- errors (db.c) ---------------------------------------------------- */

/* Records a failure of ours (bad argument, wrong state) in db->err;
 * returns code. */
int db_failf(struct db *db, const char *func, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Records SQLite's message for rc (read before the statement is reset) and
 * returns it as a negative errno. */
int db_fail(struct db *db, const char *func, int rc);

/* ---- statements (db.c) ------------------------------------------------ */

/* The statement id, ready to bind (statements are always left reset). */
static inline sqlite3_stmt *
db_stmt(struct db *db, enum stmt_id id)
{
	return db->st[id];
}

static inline void
db_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static inline int
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
		 : sqlite3_bind_null(st, i);
}

/* NaN binds as NULL: SQLite would store it so anyway, this says it. */
static inline int
db_bind_real(sqlite3_stmt *st, int i, double v)
{
	return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* v, or NULL when v == none. */
static inline int
db_bind_int_or_null(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	return v == none ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

/* The column as a double, NAN when it is NULL. */
static inline double
db_col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN
		: sqlite3_column_double(st, i);
}

static inline const char *
db_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Steps a statement that returns no rows; resets it on every path.
 * brc is the result of binding its parameters (SQLITE_OK or the first
 * failure), so callers chain binds without a branch each. */
int db_run(struct db *db, sqlite3_stmt *st, int brc, const char *func);

/* Checks that text parses as a JSON object; names the argument if not. */
int db_check_object(struct db *db, const char *what, const char *text,
		    const char *func);
/* The same for text printed from obj (borrowed): obj is checked, the text
 * not parsed again; obj NULL: db_check_object. */
int db_check_printed(struct db *db, const char *what, const char *text,
		     const struct cJSON *obj, const char *func);

/* A savepoint around a call's several statements; db_op_end releases it
 * (committed, when outermost) if rc == 0, rolls it back otherwise, and
 * returns rc or the release's failure. */
int db_op_begin(struct db *db, const char *func);
/* Every writing call that does not join a batch (all but db_trial_epoch*,
 * db_trial_set_diagnosis and db_trial_start_batched) calls this first: it
 * commits an open batch (depth 1), so that the call's own change is committed when it returns.
 * 0, or the commit's failure (the call then writes nothing; the batch is
 * lost, db_batch_lost says so); -EINVAL inside an inner batch level. */
int db_batch_settle(struct db *db, const char *func);
/* After a call that joined a batch failed: when SQLite rolled back the
 * whole transaction (storage failure), the batch is lost. Returns rc. */
int db_batch_check(struct db *db, int rc);
int db_op_end(struct db *db, int rc, const char *func);

typedef int (*db_row_fn)(struct db *db, sqlite3_stmt *st, void *ctx);

/* Steps st (bound by the caller, brc = the binds' result), calling fn for
 * every row until fn returns nonzero (then returned); resets st on every
 * path. */
int db_walk(struct db *db, sqlite3_stmt *st, int brc, db_row_fn fn, void *ctx,
	    const char *func);

/* Steps a bound statement for its first row: fn's result, or -ENOENT when
 * there is no row. */
int db_one(struct db *db, sqlite3_stmt *st, int brc, db_row_fn fn, void *ctx,
	   const char *func);

/* The trial's status and attempt: -ENOENT when there is no such trial
 * (db_trial.c). */
int db_trial_state(struct db *db, int64_t trial_id, char *status, size_t len,
		   int *attempt);

#endif
