-- 0008_sweep_verdicts.sql: the verdict counts of `status` move to their
-- own table, kept by triggers.
--
-- `sweep` (sweepctl status, and every poll of a script waiting on a
-- sweep) counted them with json_extract over every ended trial's
-- diagnosis_json: 37 ms per call for 2,000 trials (0.013 ms now; load 32
-- on 2 cores), O(trials) per poll
-- (bench/daemon/bench_dispatch.py spent 14% of the daemon's CPU there).
-- A trial counts when it has ended (not queued or running) and its
-- diagnosis_json is valid JSON with a non-null "verdict"; the triggers
-- move a trial's count in the same statement as the change, whatever
-- code path makes it, so the counts are always those of that rule.
-- Zero rows are kept (a verdict comes back often): readers skip n = 0.

CREATE TABLE sweep_verdicts (
	sweep_id  INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
	verdict   NOT NULL,
	n         INTEGER NOT NULL,
	PRIMARY KEY (sweep_id, verdict)
) WITHOUT ROWID;

INSERT INTO sweep_verdicts (sweep_id, verdict, n)
	SELECT sweep_id, json_extract(diagnosis_json, '$.verdict') AS v,
	       count(*)
	FROM trials
	WHERE status NOT IN ('queued', 'running') AND
	      diagnosis_json IS NOT NULL AND json_valid(diagnosis_json)
	GROUP BY sweep_id, v HAVING v IS NOT NULL;

CREATE TRIGGER trials_verdict_insert AFTER INSERT ON trials
WHEN NEW.status NOT IN ('queued', 'running') AND
     NEW.diagnosis_json IS NOT NULL AND json_valid(NEW.diagnosis_json) AND
     json_extract(NEW.diagnosis_json, '$.verdict') IS NOT NULL
BEGIN
	INSERT INTO sweep_verdicts (sweep_id, verdict, n)
	VALUES (NEW.sweep_id, json_extract(NEW.diagnosis_json, '$.verdict'), 1)
	ON CONFLICT (sweep_id, verdict) DO UPDATE SET n = n + 1;
END;

-- Fires only when the old or the new row counts: a running trial's
-- per-epoch diagnosis update stops at its status.
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
