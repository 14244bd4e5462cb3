-- Hardening: what an app password carries (1 or 2 factors: no more than the login that
-- made it; older ones count as one factor), the client login flow makes its app password
-- only at the poll and shows who started it.
ALTER TABLE app_passwords ADD COLUMN factors BIGINT NOT NULL DEFAULT 1;
ALTER TABLE login_flows ADD COLUMN factors BIGINT NOT NULL DEFAULT 1;
ALTER TABLE login_flows ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE login_flows ADD COLUMN client_agent TEXT NOT NULL DEFAULT '';
-- A flow granted under the old scheme holds a sealed password no client may ever fetch.
DELETE FROM login_flows WHERE uid <> '';
-- When the user last proved who they are in a session (re-authentication before
-- sensitive changes); sessions from before count as not recent.
ALTER TABLE sessions ADD COLUMN auth_at BIGINT NOT NULL DEFAULT 0;

-- The audit trail of security events.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    target      TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_target ON audit_log(target, at);
CREATE INDEX audit_log_actor ON audit_log(actor, at);
