-- 0006_deleted_sweeps.sql: `sweepctl rm` deletes a sweep; its id is never
-- given again.
--
-- sweeps.id is an INTEGER PRIMARY KEY without AUTOINCREMENT, so SQLite
-- would hand the highest deleted id to the next sweep, and a script or a
-- note that says "sweep 12" would then name another sweep. The ids of
-- deleted sweeps are kept here (with when), and a new sweep's id is one
-- more than the highest of both tables (db.c's SWEEP_INSERT).

CREATE TABLE deleted_sweeps (
	id          INTEGER PRIMARY KEY,
	deleted_at  REAL NOT NULL              -- Unix time
);

CREATE TRIGGER sweeps_delete_record AFTER DELETE ON sweeps
BEGIN
	INSERT OR REPLACE INTO deleted_sweeps (id, deleted_at)
	VALUES (OLD.id, (julianday('now') - 2440587.5) * 86400.0);
END;
