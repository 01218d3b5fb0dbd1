-- 0005_failures_index.sql: the failure summary of a sweep reads an index.
--
-- Every sweep summary carries "failures": its failed trials grouped by
-- error class and message. Through trials_best that took a lookup of each
-- failed row and a sort: 600 ms for `sweeps` over 100 sweeps of 1,000
-- failed trials (load 14). This index holds the grouped columns in group
-- order, so the query is one covering range scan per sweep.

CREATE INDEX trials_failures ON trials(sweep_id, status, error_class, error);
