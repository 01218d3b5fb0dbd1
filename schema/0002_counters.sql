-- 0002_counters.sql: per-status trial counters on sweeps.
--
-- `sweeps` lists every sweep with its counts; counting trials per sweep on
-- each listing grows with the history, so the counts are kept by triggers
-- in the same transaction as the change that moves them. Existing rows are
-- backfilled from trials.

ALTER TABLE sweeps ADD COLUMN n_queued    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN n_running   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN n_completed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN n_failed    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN n_pruned    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN n_cancelled INTEGER NOT NULL DEFAULT 0;

UPDATE sweeps SET
	n_queued    = (SELECT count(*) FROM trials t WHERE t.sweep_id = sweeps.id AND t.status = 'queued'),
	n_running   = (SELECT count(*) FROM trials t WHERE t.sweep_id = sweeps.id AND t.status = 'running'),
	n_completed = (SELECT count(*) FROM trials t WHERE t.sweep_id = sweeps.id AND t.status = 'completed'),
	n_failed    = (SELECT count(*) FROM trials t WHERE t.sweep_id = sweeps.id AND t.status = 'failed'),
	n_pruned    = (SELECT count(*) FROM trials t WHERE t.sweep_id = sweeps.id AND t.status = 'pruned'),
	n_cancelled = (SELECT count(*) FROM trials t WHERE t.sweep_id = sweeps.id AND t.status = 'cancelled');

CREATE TRIGGER trials_count_insert AFTER INSERT ON trials
BEGIN
	UPDATE sweeps SET
		n_queued    = n_queued    + (NEW.status = 'queued'),
		n_running   = n_running   + (NEW.status = 'running'),
		n_completed = n_completed + (NEW.status = 'completed'),
		n_failed    = n_failed    + (NEW.status = 'failed'),
		n_pruned    = n_pruned    + (NEW.status = 'pruned'),
		n_cancelled = n_cancelled + (NEW.status = 'cancelled')
	WHERE id = NEW.sweep_id;
END;

CREATE TRIGGER trials_count_update AFTER UPDATE OF status ON trials
WHEN OLD.status IS NOT NEW.status
BEGIN
	UPDATE sweeps SET
		n_queued    = n_queued    + (NEW.status = 'queued')    - (OLD.status = 'queued'),
		n_running   = n_running   + (NEW.status = 'running')   - (OLD.status = 'running'),
		n_completed = n_completed + (NEW.status = 'completed') - (OLD.status = 'completed'),
		n_failed    = n_failed    + (NEW.status = 'failed')    - (OLD.status = 'failed'),
		n_pruned    = n_pruned    + (NEW.status = 'pruned')    - (OLD.status = 'pruned'),
		n_cancelled = n_cancelled + (NEW.status = 'cancelled') - (OLD.status = 'cancelled')
	WHERE id = NEW.sweep_id;
END;

CREATE TRIGGER trials_count_delete AFTER DELETE ON trials
BEGIN
	UPDATE sweeps SET
		n_queued    = n_queued    - (OLD.status = 'queued'),
		n_running   = n_running   - (OLD.status = 'running'),
		n_completed = n_completed - (OLD.status = 'completed'),
		n_failed    = n_failed    - (OLD.status = 'failed'),
		n_pruned    = n_pruned    - (OLD.status = 'pruned'),
		n_cancelled = n_cancelled - (OLD.status = 'cancelled')
	WHERE id = OLD.sweep_id;
END;
