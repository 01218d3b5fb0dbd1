-- 0001_init.sql: sweeps, their trials and every reported epoch.
--
-- Applied by db_open in one transaction, then PRAGMA user_version = 1.
-- Times are unix seconds (REAL). JSON columns hold the text exactly as the
-- daemon produced it; the REAL columns beside them exist so that SQL (the
-- best-trial lookup, ad-hoc analysis with the sqlite3 shell) needs no JSON.

CREATE TABLE sweeps (
	id            INTEGER PRIMARY KEY,
	name          TEXT NOT NULL,
	spec_json     TEXT NOT NULL,
	status        TEXT NOT NULL DEFAULT 'running'
	              CHECK (status IN ('running', 'paused', 'completed',
	                                'failed', 'cancelled')),
	error         TEXT,                  -- why it failed, NULL otherwise
	trials_total  INTEGER NOT NULL CHECK (trials_total >= 0),
	created_at    REAL NOT NULL,
	ended_at      REAL                   -- NULL while running or paused
);

CREATE TABLE trials (
	id            INTEGER PRIMARY KEY,
	sweep_id      INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
	number        INTEGER NOT NULL CHECK (number >= 1),  -- 1.. within the sweep
	params_json   TEXT NOT NULL,
	seed          INTEGER NOT NULL,      -- uint64 stored as its int64 bits
	status        TEXT NOT NULL DEFAULT 'queued'
	              CHECK (status IN ('queued', 'running', 'completed',
	                                'failed', 'pruned', 'cancelled')),
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
	stderr_tail   TEXT
);

-- One trial per number in a sweep; also the order of every per-sweep listing.
CREATE UNIQUE INDEX trials_number ON trials(sweep_id, number);

-- `best`: equality on (sweep_id, status), then the first or last objective
-- of that range. NULL objectives sort first and are skipped by a range bound.
CREATE INDEX trials_best ON trials(sweep_id, status, objective);

-- One row per reported epoch. The primary key rejects a duplicate report and
-- is the curve's order, so the table is stored WITHOUT ROWID, clustered on it.
CREATE TABLE epochs (
	trial_id      INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	attempt       INTEGER NOT NULL,
	epoch         INTEGER NOT NULL CHECK (epoch >= 0),
	objective     REAL,
	train_loss    REAL,
	val_loss      REAL,
	train_acc     REAL,
	val_acc       REAL,
	metrics_json  TEXT NOT NULL,         -- the report line minus bookkeeping
	PRIMARY KEY (trial_id, attempt, epoch)
) WITHOUT ROWID;
