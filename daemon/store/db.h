/*
 * daemon/store/db.h: sweepd's storage, one SQLite database in the state directory.
 *
 * The daemon keeps live state in memory and writes every change here before
 * it acknowledges it: each db_ call that changes something has committed when
 * it returns 0 (or, between db_begin and db_commit, commits with the group).
 * The database runs in WAL mode with synchronous=NORMAL: a commit survives
 * the daemon being killed at any moment (SIGKILL, OOM), not a power cut
 * (see docs/storage.md). Migrations from schema/NNNN_*.sql are compiled in and
 * applied at open.
 *
 * Errors: every int function returns 0 or a negative errno code:
 *   -EINVAL  bad argument (unknown status string, JSON text that does not
 *            parse, negative number); nothing was written
 *   -ENOENT  no such sweep / trial
 *   -EEXIST  the row exists (duplicate trial number, duplicate epoch)
 *   -EROFS   the database is read-only
 *   -ENOSPC  the disk (or the database's size cap) is full
 *   -EBUSY   another process holds the database lock past the busy timeout
 *   -ENOMEM  out of memory
 *   -EIO     any other SQLite error (corruption, I/O)
 * The module never prints: a failure's message (SQLite's, or one naming
 * the bad argument) is kept for db_last_error and db_last_error_func, and
 * the caller logs it (daemon/log.h). A failed call leaves no partial change
 * behind. Replies to clients are built from the rows of the reads below by
 * daemon/wire/, never here.
 *
 * Not thread-safe: one struct db belongs to one thread (the daemon's loop).
 */
#ifndef SWEEPD_DAEMON_DB_H
#define SWEEPD_DAEMON_DB_H

#include <stddef.h>
#include <stdint.h>

#include "common/vocab.h"

struct db;   /* opaque: the sqlite3 handle and its prepared statements */
struct cJSON; /* cJSON.h's node: a caller's object a text was printed from */

/* Opens (creating if needed) the database at path, checks it
 * (PRAGMA quick_check), sets WAL, synchronous=NORMAL, foreign_keys=ON and
 * applies the pending migrations, each in its own transaction.
 * On success *out is a new handle owned by the caller (db_close).
 * On failure *out is NULL and err (if not NULL) holds a message naming the
 * file: not a database or corrupted (-EIO), schema newer than this build
 * ("database schema version 7 is newer than this sweepd supports (2);
 * upgrade sweepd", -EPROTO), read-only file or directory (-EROFS),
 * cannot open (-EACCES, -ENOENT), a failed migration (-EIO). */
int db_open(const char *path, struct db **out, char *err, size_t errlen);

/* db_open with explicit sqlite3_open_v2 flags; the test seam for storage
 * faults. SQLITE_OPEN_READONLY opens an existing, already migrated database
 * without writing to it (no migration, no journal-mode change): every
 * writing call then fails with -EROFS. Other flags as db_open. */
int db_open_flags(const char *path, int sqlite_flags, struct db **out,
		  char *err, size_t errlen);

/* A second, read-only connection to db's file, for reads made on another
 * thread than db's (a connection is used by one thread at a time): no
 * check and no migration (db has done them), WAL gives it a snapshot per
 * statement while db writes. *out is the caller's (db_close). 0, or a
 * negative errno with a message in err. */
int db_open_reader(const struct db *db, struct db **out, char *err,
		   size_t errlen);

/* Finalizes every statement and closes (the last connection checkpoints the
 * WAL into the main file). NULL is fine. An open db_begin group or batch
 * is rolled back (end a batch first to keep it). */
void db_close(struct db *db);

/* PRAGMA user_version after the migrations: the schema version in use. */
int db_schema_version(struct db *db);

/* The newest schema version this build knows (the number of migrations). */
int db_schema_latest(void);

/* 1 when rc (a db_ call's result) is storage trouble rather than the
 * caller's doing: -ENOSPC, -EROFS, -EIO or -EBUSY (another process holds
 * the lock past the busy timeout). The one definition the daemon uses: the
 * scheduler holds every sweep on it (the outage), and the client protocol
 * answers it with a storage error code, never a state error. -ENOMEM is
 * not: it is the daemon's memory, not its storage. */
int db_is_outage(int rc);

/* SQLite's message for the last failed call on db, "" when none. Borrowed:
 * valid until the next db_ call on db. */
const char *db_last_error(const struct db *db);
/* The name of the db_ function whose failure that is ("" when none), for
 * the caller's log line. Static storage. */
const char *db_last_error_func(const struct db *db);

/* Test seam: caps the database at pages pages (PRAGMA max_page_count), so
 * that writes past it fail as a full disk (-ENOSPC) does. Returns 0 or a
 * negative errno. */
int db_set_max_pages(struct db *db, int64_t pages);

/* Diagnostic: the EXPLAIN QUERY PLAN of the statement db_best_get runs
 * (mode_max picks which), one plan line per "\n"-ended line, into buf
 * (truncated to len). Lets a test or an operator check that `best` is an
 * index search, not a scan. 0 or a negative errno. */
int db_best_plan(struct db *db, int mode_max, char *buf, size_t len);
/* The same for the query of db_failures (a covering index search). */
int db_failures_plan(struct db *db, char *buf, size_t len);
/* The same for db_load_unsettled: a search of trials_best on (sweep_id,
 * status) per ended sweep, never a scan of its trials. */
int db_unsettled_plan(struct db *db, char *buf, size_t len);
/* Diagnostic: how many instructions of the EXPLAIN of the prepared
 * statement name (its name in db_impl.h's DB_STATEMENTS, e.g.
 * "TRIAL_START") are opcode (e.g. "OpenEphemeral": schema 9's CHECKs need
 * none). Trigger programs are not counted. The count, -ENOENT for an
 * unknown name, or another negative errno. */
int db_explain_ops(struct db *db, const char *name, const char *opcode);

/* A number that changes whenever a row of `sweeps` or `trials` may have
 * changed on this connection (an insert, update or delete, a trigger's
 * included, or a rollback): equal numbers before and after mean that
 * nothing a read of those tables returns has changed, so an answer built
 * from them can be kept (serve/ops_best.h). `epochs` is not watched: its
 * rows change only with their trial's. Starts at 1. */
uint64_t db_change_gen(const struct db *db);

/* ---- transactions ----------------------------------------------------- */

/* Groups the following writes into one transaction (BEGIN IMMEDIATE),
 * after committing an open batch (below; its failure is returned).
 * Calls do not nest: db_begin inside db_begin is -EINVAL. */
int db_begin(struct db *db);
/* Commits the group. On failure the group is rolled back (nothing of it is
 * stored) and the connection is out of the transaction again.
 * A call inside the group that fails undoes its own change only, except
 * after a storage failure (-ENOSPC, -EIO, -EBUSY, -ENOMEM), when SQLite may
 * have rolled back the whole group already: call db_rollback then (it is
 * harmless when nothing is open) and redo the group if it matters. */
int db_commit(struct db *db);
/* Drops the group. 0 also when no transaction is open. */
int db_rollback(struct db *db);

/* ---- batches (group commit) ------------------------------------------- */
/* A batch groups the epochs the daemon reads in one turn of its loop into
 * one transaction (docs/storage.md, "Group commit"). Levels nest with a
 * depth counter: the outermost db_batch_begin is BEGIN IMMEDIATE, an inner
 * one a SAVEPOINT. Only db_trial_epoch, db_trial_epoch_n,
 * db_trial_epoch_obj, db_trial_set_diagnosis(_obj),
 * db_trial_create_batched, db_trial_start_batched and db_trial_end_batched
 * join an open batch:
 * their change is committed when the outermost level ends, not when they
 * return. Every other writing
 * call (and db_begin) first commits an open batch at depth 1, so that its
 * own change is committed when it returns (-EINVAL at depth > 1); when
 * that commit fails the call writes nothing and returns the failure. */

/* Opens a level: 0, or a negative errno (-EINVAL inside db_begin). */
int db_batch_begin(struct db *db);
/* Ends the innermost level: keep releases it (the outermost commits),
 * !keep rolls back what was written since it began. A failed commit is
 * rolled back. A batch SQLite rolled back by itself (a storage failure of
 * a call in it) is lost: this returns the failure then. */
int db_batch_end(struct db *db, int keep);
/* Levels open, 0 when none. */
int db_batch_depth(const struct db *db);
/* 0, or the error that lost an open batch (a failed commit, or SQLite
 * rolling it back after a storage failure) since the last call; reading
 * it clears it. What the batch held is not stored: the caller must not
 * keep state that says it is. */
int db_batch_lost(struct db *db);
/* The number of the open batch, or of the last one to end (0 before the
 * first): every outermost db_batch_begin opens a new one. A caller that
 * must learn how its batch ended when the store may end it on another
 * write's behalf keeps this number and asks db_batch_fate. */
uint64_t db_batch_gen(const struct db *db);
#define DB_BATCH_OPEN 1
/* How batch gen (db_batch_gen) stands: DB_BATCH_OPEN while it is open; 0
 * once it is committed, whichever call committed it (its db_batch_end, or
 * another write that committed it first), and for gen 0; or the negative
 * errno that lost it (as db_batch_lost; -ECANCELED when its outermost
 * level was ended with !keep). Only the last batch's end is kept: of an
 * older one, -ESTALE (not known to be stored). Reading it clears
 * nothing. */
int db_batch_fate(const struct db *db, uint64_t gen);
/* The commits of write transactions on this connection since the first
 * call (which sets a commit hook and returns 0): a group, a batch, or a
 * single statement outside both; a commit that then failed is counted
 * too. For tests and the stats op (bench/daemon counts them per trial). */
int64_t db_commits(struct db *db);

/* ---- sweeps ----------------------------------------------------------- */
/* Status strings: "running", "paused", "completed", "failed", "cancelled".
 * Times are unix seconds. String arguments are borrowed for the call. */

/* New sweep, status "running". spec_json must be a JSON object (-EINVAL
 * otherwise); trials_total >= 0. *id_out gets the sweep's id. */
int db_sweep_create(struct db *db, const char *name, const char *spec_json,
		    int trials_total, double now, int64_t *id_out);
/* Sets the status and error (NULL clears it). For an end state
 * (completed, failed, cancelled) ended_at = now; otherwise ended_at is
 * cleared. -ENOENT for an unknown id, -EINVAL for an unknown status. */
int db_sweep_set_status(struct db *db, int64_t id, const char *status,
			const char *error, double now);
/* Replaces the stored spec (a JSON object). -ENOENT, -EINVAL. */
int db_sweep_set_spec(struct db *db, int64_t id, const char *spec_json);
/* An ended sweep runs again with this spec and trial count (its trials
 * kept). -ENOENT when there is no such ended sweep. */
int db_sweep_reopen(struct db *db, int64_t id, const char *spec_json,
		    int trials_total);
/* Deletes an ended sweep with its trials and epochs (ON DELETE CASCADE).
 * -ENOENT when there is no such ended sweep. */
int db_sweep_delete(struct db *db, int64_t id);

/* ---- trials ----------------------------------------------------------- */
/* Status strings: "queued", "running", "completed", "failed", "pruned",
 * "cancelled". */

/* New trial number (>= 1) of sweep_id, status queued, attempt 0.
 * params_json must be a JSON object. -ENOENT for an unknown sweep, -EEXIST
 * when the sweep already has that number. */
int db_trial_create(struct db *db, int64_t sweep_id, int number,
		    const char *params_json, uint64_t seed,
		    int64_t *trial_id_out);
/* The same inside an open batch (it joins it: committed when the batch is;
 * outside one it is a change of its own). A lost batch takes the row with
 * it, and its id may be given to the next row created. */
int db_trial_create_batched(struct db *db, int64_t sweep_id, int number,
			    const char *params_json, uint64_t seed,
			    int64_t *trial_id_out);
/* queued -> running for this attempt: stores pid and proc_start (the
 * /proc/PID/stat starttime, to tell an orphan from a recycled pid) and
 * started_at = now, and clears the results of any earlier attempt (epochs
 * count, objective, best epoch, test metrics, diagnosis, error).
 * -ENOENT for an unknown trial, -EINVAL when it is not queued. */
int db_trial_start(struct db *db, int64_t trial_id, int attempt, int pid,
		   int64_t proc_start, double now);
/* The same inside an open batch (it joins it: committed when the batch is;
 * outside one it is a change of its own). */
int db_trial_start_batched(struct db *db, int64_t trial_id, int attempt,
			   int pid, int64_t proc_start, double now);
/* Stores one reported epoch of this attempt: objective (NAN = absent,
 * stored as NULL) and metrics_json (a JSON object; its train_loss, val_loss,
 * train_acc and val_acc numbers are also kept as columns), and counts it in
 * the trial's epochs. -EEXIST when (trial, attempt, epoch) is stored
 * already, -ENOENT for an unknown trial, -EINVAL when attempt is not the
 * trial's current attempt or metrics_json is not an object. */
int db_trial_epoch(struct db *db, int64_t trial_id, int attempt, int epoch,
		   double objective, const char *metrics_json);
/* The same, with the trial's epochs set to curve_epochs (>= 0): the
 * epochs of its curve across attempts, a resumed attempt's included
 * (docs/storage.md); -1 counts this attempt's rows, as db_trial_epoch. */
int db_trial_epoch_n(struct db *db, int64_t trial_id, int attempt, int epoch,
		     double objective, const char *metrics_json,
		     int curve_epochs);
/* The same for a caller that holds the object (borrowed) metrics_json
 * (borrowed) was printed from: its columns are read from m, so the text is
 * not parsed again (3 parses of 5 were of metrics the daemon had just
 * printed). m must hold what metrics_json says; -EINVAL when m is not an
 * object or metrics_json is NULL. */
int db_trial_epoch_obj(struct db *db, int64_t trial_id, int attempt,
		       int epoch, double objective, const struct cJSON *m,
		       const char *metrics_json, int curve_epochs);

struct db_trial_end {
	const char *status;          /* completed, failed, pruned or cancelled */
	double objective;            /* NAN = none */
	int best_epoch;              /* 0 = none */
	double test_loss, test_acc;  /* NAN = none */
	const char *diagnosis_json;  /* NULL keeps the stored one */
	const struct cJSON *diagnosis;  /* borrowed: the object diagnosis_json
					 * was printed from, checked instead
					 * of a parse of the text; NULL: the
					 * text is parsed */
	const char *error;           /* NULL or message */
	const char *error_class;     /* NULL or "signal", "timeout", "stall",
				      * "oom", "exit", "protocol", "cancelled",
				      * "interrupted" */
	int exit_code;               /* -1 none */
	int signal;                  /* 0 none */
	const char *stderr_tail;     /* NULL or the last bytes of stderr */
	double now;                  /* ended_at */
	int asha_rung;               /* the rung a promoting ASHA stopped it
				      * at (pruner.promote), 0 = none */
};
/* Ends the trial with e (borrowed). -ENOENT, -EINVAL (status not an end
 * state, diagnosis_json not JSON). */
int db_trial_end(struct db *db, int64_t trial_id, const struct db_trial_end *e);
/* The same inside an open batch (it joins it). */
int db_trial_end_batched(struct db *db, int64_t trial_id,
			 const struct db_trial_end *e);
/* Back to queued with attempt as its attempt count; pid cleared. The epochs
 * of earlier attempts stay stored. -ENOENT. */
int db_trial_requeue(struct db *db, int64_t trial_id, int attempt);
/* ASHA's promotion: a trial pruned at rung (its asha_rung), not promoted
 * from it before, is queued again; -ENOENT when it is not such a trial. */
int db_trial_promote(struct db *db, int64_t trial_id, int rung);
/* A running trial's Slurm job (docs/slurm.md): its id (0: not known yet,
 * stored NULL), whether it waits in the queue (the protocol then shows the
 * trial "pending"), and the seconds it waited (< 0: stored NULL). -ENOENT
 * when the trial is not running. */
int db_trial_job(struct db *db, int64_t trial_id, int64_t job, int pending,
		 double queue_s);
/* Replaces the live diagnosis (a JSON object or NULL). -ENOENT, -EINVAL. */
int db_trial_set_diagnosis(struct db *db, int64_t trial_id,
			   const char *diagnosis_json);
/* The same for diagnosis_json printed from d (borrowed): d is checked to
 * be an object instead of a parse of the text (d NULL: as above). */
int db_trial_set_diagnosis_obj(struct db *db, int64_t trial_id,
			       const struct cJSON *d,
			       const char *diagnosis_json);

/* ---- loading at start-up ---------------------------------------------- */
/* Each loader calls cb once per row, in order. The row and its strings are
 * borrowed for the callback's duration only. A callback returning nonzero
 * stops the walk and the loader returns that value. A callback may call
 * writing db_ functions but not the same loader again. */

struct db_sweep_row {
	int64_t id;
	const char *name, *spec_json, *status;
	int trials_total;
	double created_at;
};
/* Sweeps ordered by id; only running and paused ones when only_active. */
int db_load_sweeps(struct db *db, int only_active,
		   int (*cb)(void *ud, const struct db_sweep_row *r), void *ud);

struct db_trial_row {
	int64_t id;
	int64_t sweep_id;
	int number;
	const char *params_json, *status;
	int attempt;
	int pid;               /* 0 = none */
	int64_t proc_start;    /* 0 = none */
	uint64_t seed;
	double objective;      /* NAN = none */
	int best_epoch;        /* 0 = none */
	int epochs;            /* epochs stored for the current attempt */
	int64_t job;           /* Slurm job id of the latest attempt, 0 = none */
	int asha_rung;         /* the rung ASHA stopped it at, 0 = never */
	int promoted_rung;     /* the highest rung it was promoted from, 0 = none */
	int promotions;        /* attempts that were promotions */
};
/* The sweep's trials ordered by number (none for an unknown sweep). */
int db_load_trials(struct db *db, int64_t sweep_id,
		   int (*cb)(void *ud, const struct db_trial_row *r), void *ud);
/* The trials left queued or running in an ended sweep (the daemon died
 * between storing the sweep's end and its trials' ends), ordered by sweep
 * then number: all a start needs of the ended sweeps, whose other trials
 * it never reads. Two seeks on trials(sweep_id, status) per ended sweep. */
int db_load_unsettled(struct db *db,
		      int (*cb)(void *ud, const struct db_trial_row *r),
		      void *ud);
/* How many trial rows the loaders above have handed to their callbacks
 * since db_open: what a start-up cost in rows (the daemon logs it). */
int64_t db_trial_rows_loaded(const struct db *db);
/* The objective of every epoch row of each trial, ordered by trial number,
 * attempt, epoch: a caller that lets a row replace those of its epoch and
 * above gets each trial's curve (docs/DESIGN.md); objective is NAN where
 * none was reported. */
int db_load_curves(struct db *db, int64_t sweep_id,
		   int (*cb)(void *ud, int64_t trial_id, int epoch,
			     double objective), void *ud);

/* ---- reads for client ops --------------------------------------------- */
/* Rows as stored, for daemon/wire/ to build the protocol's objects from.
 * Like the loaders, each read calls cb once per row, in order, with the row
 * and its strings borrowed for the callback's duration; a nonzero return
 * stops the walk and is returned. A callback may call other db_ reads (not
 * the same one again). Absent values: NULL strings, NAN numbers. */

/* db_sweep_rec.counts is indexed by common/vocab.h's enum trial_status. */
#define DB_TRIAL_STATUSES TRIAL_N_STATUS

/* A trial row, every column the protocol shows. */
struct db_trial_rec {
	int64_t id;
	int number, attempt, epochs;
	const char *status, *params_json;
	uint64_t seed;
	double objective, best_epoch, test_loss, test_acc;   /* NAN = NULL */
	const char *diagnosis_json, *error, *error_class, *stderr_tail;
	double exit_code, signal, started_at, ended_at;      /* NAN = NULL */
	double job, queue_s;   /* Slurm job id, queue wait (s); NAN = NULL */
	int promoted_rung;     /* the highest rung it was promoted from, 0 = none */
	int promotions;        /* attempts that were promotions */
};
typedef int (*db_trial_fn)(void *ud, const struct db_trial_rec *r);

/* The number of trials the sweep has (0 for an unknown sweep). */
int db_trials_count(struct db *db, int64_t sweep_id, int64_t *total);
/* The trials from the offset-th (0-based, in number order) on, at most
 * limit of them (limit < 0: all the rest). offset < 0 is -EINVAL. */
int db_trials_page(struct db *db, int64_t sweep_id, int64_t offset,
		   int64_t limit, db_trial_fn cb, void *ud);
/* Trial number of the sweep: cb's result, -ENOENT when there is none. */
int db_trial_get(struct db *db, int64_t sweep_id, int64_t number,
		 db_trial_fn cb, void *ud);
/* The completed trial with the highest (mode_max) or lowest objective;
 * ties go to the lower number. Two index seeks on trials(sweep_id, status,
 * objective, number), whatever the size of the sweep. -ENOENT when the
 * sweep has no completed trial with an objective. */
int db_best_get(struct db *db, int64_t sweep_id, int mode_max,
		db_trial_fn cb, void *ud);
/* The trial's curve as of attempt (docs/DESIGN.md, "the later attempt's
 * row wins"): each epoch once, from the latest attempt up to this one
 * that reported it with no lower epoch reported after it, in epoch order:
 * its number and the stored metrics object's text. */
int db_curve(struct db *db, int64_t trial_id, int attempt,
	     int (*cb)(void *ud, int epoch, const char *metrics_json),
	     void *ud);

/* Each completed trial of the sweep, by number, with the stored metrics
 * object's text of its best epoch (the row its curve counts: of the
 * latest attempt, up to the current one, that reported it): what several
 * objectives read their values from. A completed trial without a best
 * epoch, or whose best epoch row is missing, is skipped. One index seek
 * per completed trial (the epochs primary key). */
int db_best_epoch_metrics(struct db *db, int64_t sweep_id,
			  int (*cb)(void *ud, int number,
				    const char *metrics_json), void *ud);

/* A sweep row with its trial counters. */
struct db_sweep_rec {
	int64_t id;
	const char *name, *status, *spec_json, *error;
	double created_at, ended_at;                          /* NAN = NULL */
	int trials_total;
	int counts[DB_TRIAL_STATUSES];   /* by enum trial_status; running
					  * without the pending ones */
};
typedef int (*db_sweep_fn)(void *ud, const struct db_sweep_rec *r);
/* Every sweep, ordered by id. */
int db_sweeps_walk(struct db *db, db_sweep_fn cb, void *ud);
/* One sweep: cb's result, -ENOENT for an unknown id. */
int db_sweep_get(struct db *db, int64_t id, db_sweep_fn cb, void *ud);

/* The sweep's failed trials grouped by error class and message, the
 * largest group first (ties: the one whose first trial is oldest), at
 * most limit groups. A failure without class reads "exit", without
 * message "". */
int db_failures(struct db *db, int64_t sweep_id, int limit,
		int (*cb)(void *ud, const char *cls, const char *msg,
			  int count), void *ud);
/* How many ended trials of the sweep carry each diagnosis verdict, in
 * verdict order, read from the counts schema/0008's triggers keep, so
 * that `status` parses no trial and costs the same whatever their number. */
int db_verdicts(struct db *db, int64_t sweep_id,
		int (*cb)(void *ud, const char *verdict, int count), void *ud);

/* An epoch row's place in the export order (number, attempt, epoch). */
struct db_epoch_key {
	int64_t number, attempt, epoch;
};
struct db_epoch_row {
	struct db_epoch_key key;
	const char *metrics_json;
};
/* The sweep's epoch rows, every attempt, ordered by number, attempt,
 * epoch: the rows after *after ({0, 0, 0}: from the first), at most limit
 * (>= 1, else -EINVAL) of them. Two index seeks (the rest of the cursor's
 * trial, then the trials after it), so a page costs its own rows. An
 * unknown sweep gives no row. */
int db_epochs_after(struct db *db, int64_t sweep_id,
		    const struct db_epoch_key *after, int64_t limit,
		    int (*cb)(void *ud, const struct db_epoch_row *r),
		    void *ud);

#endif
