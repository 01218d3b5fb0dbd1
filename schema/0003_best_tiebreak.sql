-- 0003_best_tiebreak.sql: `best` stays an index search when objectives tie.
--
-- Accuracies are quantized (k / n_val), so many trials of a sweep share the
-- best value. With trials_best on (sweep_id, status, objective) the tie-break
-- on number needed a sort of every tied row (1.7 ms for a sweep of 10,000
-- trials with 1,000 ties, bench/db). With number as the last column, `best`
-- is two index seeks: the max (or min) objective, then the lowest number
-- holding it.

DROP INDEX trials_best;
CREATE INDEX trials_best ON trials(sweep_id, status, objective, number);
