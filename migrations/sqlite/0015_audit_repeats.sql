-- Issue 24: failed logins of user names nobody has are counted in one row per client
-- address (IPv6: per prefix) and hour, not written one row each, so a stranger cannot grow
-- the audit trail at request rate. `repeats` says how many events a row stands for (1
-- for every other event).
ALTER TABLE audit_log ADD COLUMN repeats BIGINT NOT NULL DEFAULT 1;
