-- The job queue churns: every claim and every completion leaves a dead row version, and its
-- entry in the queue index stays until a vacuum, so each claim steps over the entries of every
-- job claimed since the last one. Autovacuum's default trigger is 20% of the table: 200,000
-- dead rows once a million jobs are kept. In the store bench (paired rounds, a million stored
-- jobs), batch-1 claim+complete ran at 84% of an empty store's rate, and at 110% right after a
-- VACUUM of the table. So the queue is vacuumed after a fixed number of changes instead.
ALTER TABLE jobs SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000
);
