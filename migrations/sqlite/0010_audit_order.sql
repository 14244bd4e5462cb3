-- Issue 17.10: timestamps are whole seconds and ids random UUIDs, so events of one second
-- were listed in random order. `seq` numbers events in the order they were written, and
-- every listing breaks ties on it. SQLite cannot add an autoincrement column to a table,
-- so the table is rebuilt; the old rows keep their order of insertion (rowid).
CREATE TABLE audit_log_new (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    target      TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    detail      TEXT NOT NULL
);
INSERT INTO audit_log_new (id, at, event, actor, target, ip, user_agent, detail)
    SELECT id, at, event, actor, target, ip, user_agent, detail FROM audit_log
    ORDER BY at, rowid;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_at ON audit_log(at, seq);
CREATE INDEX audit_log_target ON audit_log(target, at, seq);
CREATE INDEX audit_log_actor ON audit_log(actor, at, seq);
