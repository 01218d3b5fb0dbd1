-- 0004_sweep_counts.sql: the per-status counters move to their own table.
--
-- 0002 kept them on `sweeps`, so every trial insert and status change
-- rewrote the sweep's row, spec_json included (SQLite rewrites a whole
-- record, overflow pages and all). A spec that enqueues 20,000 param sets
-- is ~0.5 MB: submitting it rewrote that row 20,000 times (12 s, quadratic
-- in the sets; bench/daemon/bench_enqueue.py). A narrow row per sweep
-- costs the same whatever the spec. Values are carried over; 0002's
-- columns and triggers go.

CREATE TABLE sweep_counts (
	sweep_id    INTEGER PRIMARY KEY REFERENCES sweeps(id) ON DELETE CASCADE,
	n_queued    INTEGER NOT NULL DEFAULT 0,
	n_running   INTEGER NOT NULL DEFAULT 0,
	n_completed INTEGER NOT NULL DEFAULT 0,
	n_failed    INTEGER NOT NULL DEFAULT 0,
	n_pruned    INTEGER NOT NULL DEFAULT 0,
	n_cancelled INTEGER NOT NULL DEFAULT 0
);

INSERT INTO sweep_counts (sweep_id, n_queued, n_running, n_completed,
                          n_failed, n_pruned, n_cancelled)
	SELECT id, n_queued, n_running, n_completed, n_failed, n_pruned,
	       n_cancelled FROM sweeps;

DROP TRIGGER trials_count_insert;
DROP TRIGGER trials_count_update;
DROP TRIGGER trials_count_delete;

ALTER TABLE sweeps DROP COLUMN n_queued;
ALTER TABLE sweeps DROP COLUMN n_running;
ALTER TABLE sweeps DROP COLUMN n_completed;
ALTER TABLE sweeps DROP COLUMN n_failed;
ALTER TABLE sweeps DROP COLUMN n_pruned;
ALTER TABLE sweeps DROP COLUMN n_cancelled;

-- Every sweep has its counters row from the start.
CREATE TRIGGER sweeps_counts_insert AFTER INSERT ON sweeps
BEGIN
	INSERT INTO sweep_counts (sweep_id) VALUES (NEW.id);
END;

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
