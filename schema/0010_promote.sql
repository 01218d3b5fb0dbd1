-- 0010_promote.sql: ASHA's promotion (pruner.promote, docs/spec.md).
--
-- asha_rung: the rung (epoch) ASHA stopped the trial at, 0 if it never
-- did; promoted_rung: the highest rung it was promoted from, 0 if none
-- (a trial is promotable only while asha_rung > promoted_rung);
-- promotions: how many of its attempts were promotions, which the
-- retry and restart limits do not count. Old rows read 0: never stopped
-- by a promoting ASHA, never promoted.

ALTER TABLE trials ADD COLUMN asha_rung INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN promoted_rung INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trials ADD COLUMN promotions INTEGER NOT NULL DEFAULT 0;
