-- Issue 16: throttle counters become leaky buckets that drain on their own. A bucket is
-- the time at which it will be empty (`tat`, unix seconds); an empty one has no row.
-- The old counters (failures since the last attempt) are history: they start clean.
DROP TABLE throttle;
CREATE TABLE throttle (
    key  TEXT PRIMARY KEY,
    tat  INTEGER NOT NULL
);
-- The purge deletes the buckets already empty.
CREATE INDEX throttle_tat ON throttle(tat);
