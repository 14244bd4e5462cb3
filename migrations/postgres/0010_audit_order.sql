-- Issue 17.10: timestamps are whole seconds and ids random UUIDs, so events of one second
-- were listed in random order. `seq` numbers events in the order they were written, and
-- every listing breaks ties on it. The old rows are numbered by time, then by their place
-- in the table (ctid, the order of insertion unless rows were updated, which audit rows
-- never are).
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
UPDATE audit_log SET seq = n.rn
    FROM (SELECT id, row_number() OVER (ORDER BY at, ctid) AS rn FROM audit_log) n
    WHERE audit_log.id = n.id;
CREATE SEQUENCE audit_log_seq OWNED BY audit_log.seq;
SELECT setval('audit_log_seq', COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log
    ALTER COLUMN seq SET DEFAULT nextval('audit_log_seq'),
    ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX audit_log_seq_key ON audit_log(seq);
DROP INDEX audit_log_at;
DROP INDEX audit_log_target;
DROP INDEX audit_log_actor;
CREATE INDEX audit_log_at ON audit_log(at, seq);
CREATE INDEX audit_log_target ON audit_log(target, at, seq);
CREATE INDEX audit_log_actor ON audit_log(actor, at, seq);
