-- Accounts, groups and sessions. Times are unix seconds, ids TEXT, flags 0/1 integers:
-- sqlx Any maps neither SQLite BOOLEAN nor mixed integer widths, so both dialects use i64.
CREATE TABLE users (
    uid            TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    email          TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    enabled        BIGINT NOT NULL DEFAULT 1,
    is_admin       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);

CREATE TABLE groups (
    gid         TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

CREATE TABLE group_members (
    gid  TEXT NOT NULL REFERENCES groups(gid) ON DELETE CASCADE,
    uid  TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    PRIMARY KEY (gid, uid)
);
CREATE INDEX group_members_uid ON group_members(uid);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    uid           TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    stage         TEXT NOT NULL,
    remember      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_uid ON sessions(uid);
CREATE INDEX sessions_expires ON sessions(expires_at);
