-- App passwords (keyed hashes), the client login flow, and how many factors a session
-- has passed (forward-auth rules can ask for two).

ALTER TABLE sessions ADD COLUMN factors BIGINT NOT NULL DEFAULT 1;

CREATE TABLE app_passwords (
    id            TEXT PRIMARY KEY,
    uid           TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL DEFAULT 0,
    last_used_ip  TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_passwords_uid ON app_passwords(uid);

CREATE TABLE login_flows (
    id                TEXT PRIMARY KEY,
    login_token_hash  TEXT NOT NULL UNIQUE,
    poll_token_hash   TEXT NOT NULL UNIQUE,
    client_name       TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    -- set when the user grants access: who, and the new app password sealed until polled
    uid               TEXT NOT NULL DEFAULT '',
    sealed_password   TEXT NOT NULL DEFAULT ''
);
