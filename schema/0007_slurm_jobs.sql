-- 0007_slurm_jobs.sql: trials run as Slurm jobs (docs/slurm.md).
--
-- job:     the Slurm job id of the latest attempt, NULL for a local trial
--          or before squeue has named it; what a restarted sweepd cancels.
-- pending: 1 while the attempt waits in Slurm's queue. The trial's status
--          stays 'running' (it holds its slot and its counters say so);
--          the protocol shows it as "pending" (db_impl.h's TRIAL_COLS).
-- queue_s: the seconds the latest attempt waited in Slurm's queue, NULL
--          until its job started (and for a local trial).

ALTER TABLE trials ADD COLUMN job INTEGER;
ALTER TABLE trials ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN queue_s REAL;
