-- 0009_status_checks.sql: the status CHECKs as chains of `=`; the
-- failure index holds failed trials only.
--
-- migrate: foreign_keys off
--
-- (The line above tells the runner, db.c's migrate_one, to run this file
-- with foreign keys off, outside its transaction, and to refuse the result
-- unless PRAGMA foreign_key_check finds nothing: `epochs` refers to
-- trials(id) ON DELETE CASCADE and would lose every row when `trials` is
-- dropped below. This is SQLite's procedure for a change ALTER TABLE
-- cannot make: https://www.sqlite.org/lang_altertable.html, "Making Other
-- Kinds Of Table Schema Changes".)
--
-- `status IN (six strings)` made SQLite build an ephemeral b-tree of the
-- list at every trial insert and every status update (OpenEphemeral in
-- their EXPLAIN; 3% of the daemon's samples in bench_dispatch.py). A chain
-- of `=` is compared in place; it refuses the same values, and is named
-- (a refusal reads "CHECK constraint failed: trials_status"). `sweeps.status`
-- had the same form, and is rebuilt the same way in this one transaction.
--
-- trials_failures (0005) was rewritten at every status change of every
-- trial, though only failed ones are read through it (db.c's FAILURES,
-- which says status = 'failed' and so can use the partial index). status
-- stays among its columns so that the query reads the index alone.
--
-- Rows, ids and column order are kept; the indexes and the triggers of
-- both tables (0004, 0006, 0008) are made again as they were.

CREATE TABLE sweeps_new (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	spec_json     TEXT NOT NULL,
	status        TEXT NOT NULL DEFAULT 'running'
	              CONSTRAINT sweeps_status
	              CHECK (status = 'running' OR status = 'paused' OR
	                     status = 'completed' OR status = 'failed' OR
	                     status = 'cancelled'),
	error         TEXT,                  -- why it failed, NULL otherwise
	trials_total  INTEGER NOT NULL CHECK (trials_total >= 0),
	created_at    REAL NOT NULL,
	ended_at      REAL                   -- NULL while running or paused
);

INSERT INTO sweeps_new (id, name, spec_json, status, error, trials_total,
                        created_at, ended_at)
	SELECT id, name, spec_json, status, error, trials_total, created_at,
	       ended_at FROM sweeps;

CREATE TABLE trials_new (
	id            INTEGER PRIMARY KEY,
	sweep_id      INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
	number        INTEGER NOT NULL CHECK (number >= 1),  -- 1.. within the sweep
	params_json   TEXT NOT NULL,
	seed          INTEGER NOT NULL,      -- uint64 stored as its int64 bits
	-- ordered by how often each value is written
	status        TEXT NOT NULL DEFAULT 'queued'
	              CONSTRAINT trials_status
	              CHECK (status = 'running' OR status = 'queued' OR
	                     status = 'completed' OR status = 'pruned' OR
	                     status = 'failed' OR status = 'cancelled'),
	attempt       INTEGER NOT NULL DEFAULT 0,  -- 0 before the first start
	pid           INTEGER,               -- the trainer's pid while it runs
	proc_start    INTEGER,               -- /proc/PID/stat starttime of pid
	started_at    REAL,                  -- of the latest attempt
	ended_at      REAL,
	epochs        INTEGER NOT NULL DEFAULT 0,  -- epoch rows of the latest attempt
	objective     REAL,                  -- best value of the objective, NULL = none
	best_epoch    INTEGER,
	test_loss     REAL,
	test_acc      REAL,
	diagnosis_json TEXT,
	error         TEXT,                  -- message, NULL unless it failed
	error_class   TEXT,                  -- signal, timeout, stall, oom, exit, ...
	exit_code     INTEGER,
	signal        INTEGER,
	stderr_tail   TEXT,
	job           INTEGER,               -- 0007: Slurm job of the latest attempt
	pending       INTEGER NOT NULL DEFAULT 0,  -- 0007: 1 while it waits in Slurm
	queue_s       REAL                   -- 0007: seconds it waited in Slurm
);

INSERT INTO trials_new (id, sweep_id, number, params_json, seed, status,
                        attempt, pid, proc_start, started_at, ended_at,
                        epochs, objective, best_epoch, test_loss, test_acc,
                        diagnosis_json, error, error_class, exit_code,
                        signal, stderr_tail, job, pending, queue_s)
	SELECT id, sweep_id, number, params_json, seed, status, attempt, pid,
	       proc_start, started_at, ended_at, epochs, objective, best_epoch,
	       test_loss, test_acc, diagnosis_json, error, error_class,
	       exit_code, signal, stderr_tail, job, pending, queue_s
	FROM trials;

-- With foreign keys off, neither drop deletes a row elsewhere, and no
-- trigger fires (the tables' own triggers go with them). A view someone
-- made on these tables (the sqlite3 shell) would make a RENAME fail while
-- its table is gone, and with it the migration: legacy_alter_table leaves
-- views alone, and they read the new tables by the same names. (The
-- runner sets it back off after this file, whatever happens.)
PRAGMA legacy_alter_table = ON;
DROP TABLE trials;
DROP TABLE sweeps;
ALTER TABLE sweeps_new RENAME TO sweeps;
ALTER TABLE trials_new RENAME TO trials;
PRAGMA legacy_alter_table = OFF;

-- 0001, 0003
CREATE UNIQUE INDEX trials_number ON trials(sweep_id, number);
CREATE INDEX trials_best ON trials(sweep_id, status, objective, number);
-- 0005, now partial
CREATE INDEX trials_failures ON trials(sweep_id, status, error_class, error)
	WHERE status = 'failed';

-- 0004
CREATE TRIGGER sweeps_counts_insert AFTER INSERT ON sweeps
BEGIN
	INSERT INTO sweep_counts (sweep_id) VALUES (NEW.id);
END;

-- 0006
CREATE TRIGGER sweeps_delete_record AFTER DELETE ON sweeps
BEGIN
	INSERT OR REPLACE INTO deleted_sweeps (id, deleted_at)
	VALUES (OLD.id, (julianday('now') - 2440587.5) * 86400.0);
END;

-- 0004
CREATE TRIGGER trials_count_insert AFTER INSERT ON trials
BEGIN
	UPDATE sweep_counts SET
		n_queued    = n_queued    + (NEW.status = 'queued'),
		n_running   = n_running   + (NEW.status = 'running'),
		n_completed = n_completed + (NEW.status = 'completed'),
		n_failed    = n_failed    + (NEW.status = 'failed'),
		n_pruned    = n_pruned    + (NEW.status = 'pruned'),
		n_cancelled = n_cancelled + (NEW.status = 'cancelled')
	WHERE sweep_id = NEW.sweep_id;
END;

CREATE TRIGGER trials_count_update AFTER UPDATE OF status ON trials
WHEN OLD.status IS NOT NEW.status
BEGIN
	UPDATE sweep_counts SET
		n_queued    = n_queued    + (NEW.status = 'queued')    - (OLD.status = 'queued'),
		n_running   = n_running   + (NEW.status = 'running')   - (OLD.status = 'running'),
		n_completed = n_completed + (NEW.status = 'completed') - (OLD.status = 'completed'),
		n_failed    = n_failed    + (NEW.status = 'failed')    - (OLD.status = 'failed'),
		n_pruned    = n_pruned    + (NEW.status = 'pruned')    - (OLD.status = 'pruned'),
		n_cancelled = n_cancelled + (NEW.status = 'cancelled') - (OLD.status = 'cancelled')
	WHERE sweep_id = NEW.sweep_id;
END;

CREATE TRIGGER trials_count_delete AFTER DELETE ON trials
BEGIN
	UPDATE sweep_counts SET
		n_queued    = n_queued    - (OLD.status = 'queued'),
		n_running   = n_running   - (OLD.status = 'running'),
		n_completed = n_completed - (OLD.status = 'completed'),
		n_failed    = n_failed    - (OLD.status = 'failed'),
		n_pruned    = n_pruned    - (OLD.status = 'pruned'),
		n_cancelled = n_cancelled - (OLD.status = 'cancelled')
	WHERE sweep_id = OLD.sweep_id;
END;

-- 0008
CREATE TRIGGER trials_verdict_insert AFTER INSERT ON trials
WHEN NEW.status NOT IN ('queued', 'running') AND
     NEW.diagnosis_json IS NOT NULL AND json_valid(NEW.diagnosis_json) AND
     json_extract(NEW.diagnosis_json, '$.verdict') IS NOT NULL
BEGIN
	INSERT INTO sweep_verdicts (sweep_id, verdict, n)
	VALUES (NEW.sweep_id, json_extract(NEW.diagnosis_json, '$.verdict'), 1)
	ON CONFLICT (sweep_id, verdict) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER trials_verdict_update AFTER UPDATE OF status, diagnosis_json
ON trials
WHEN (OLD.status NOT IN ('queued', 'running') AND
      OLD.diagnosis_json IS NOT NULL AND json_valid(OLD.diagnosis_json) AND
      json_extract(OLD.diagnosis_json, '$.verdict') IS NOT NULL) OR
     (NEW.status NOT IN ('queued', 'running') AND
      NEW.diagnosis_json IS NOT NULL AND json_valid(NEW.diagnosis_json) AND
      json_extract(NEW.diagnosis_json, '$.verdict') IS NOT NULL)
BEGIN
	UPDATE sweep_verdicts SET n = n - 1
	WHERE OLD.status NOT IN ('queued', 'running') AND
	      OLD.diagnosis_json IS NOT NULL AND json_valid(OLD.diagnosis_json) AND
	      sweep_id = OLD.sweep_id AND
	      verdict = json_extract(OLD.diagnosis_json, '$.verdict');
	INSERT INTO sweep_verdicts (sweep_id, verdict, n)
	SELECT NEW.sweep_id, json_extract(NEW.diagnosis_json, '$.verdict'), 1
	WHERE NEW.status NOT IN ('queued', 'running') AND
	      NEW.diagnosis_json IS NOT NULL AND json_valid(NEW.diagnosis_json) AND
	      json_extract(NEW.diagnosis_json, '$.verdict') IS NOT NULL
	ON CONFLICT (sweep_id, verdict) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER trials_verdict_delete AFTER DELETE ON trials
WHEN OLD.status NOT IN ('queued', 'running') AND
     OLD.diagnosis_json IS NOT NULL AND json_valid(OLD.diagnosis_json) AND
     json_extract(OLD.diagnosis_json, '$.verdict') IS NOT NULL
BEGIN
	UPDATE sweep_verdicts SET n = n - 1
	WHERE sweep_id = OLD.sweep_id AND
	      verdict = json_extract(OLD.diagnosis_json, '$.verdict');
END;
