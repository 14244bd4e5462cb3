-- Second factors: providers enabled system-wide, per-user provider state (like Nextcloud's
-- twofactor_providers), TOTP secrets (encrypted), backup codes (keyed hashes),
-- enforcement, and brute-force throttling counters. Flags are 0/1 integers.

-- A provider without a row here has its built-in default.
CREATE TABLE provider_settings (
    provider  TEXT PRIMARY KEY,
    enabled   INTEGER NOT NULL
);

CREATE TABLE provider_user_state (
    provider      TEXT NOT NULL,
    uid           TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    enabled       INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL DEFAULT 0,
    -- consecutive failed challenges; at 100 the factor is locked (NIST SP 800-63B)
    failures      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (provider, uid)
);
CREATE INDEX provider_user_state_uid ON provider_user_state(uid);

CREATE TABLE totp_secrets (
    uid         TEXT PRIMARY KEY REFERENCES users(uid) ON DELETE CASCADE,
    secret      TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    digits      INTEGER NOT NULL,
    period      INTEGER NOT NULL,
    confirmed   INTEGER NOT NULL,
    -- the last time step accepted; a code is accepted only for a later step (replay guard)
    last_step   INTEGER NOT NULL DEFAULT -1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE backup_codes (
    uid         TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (uid, code_hash)
);

CREATE TABLE enforcement (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    enforced  INTEGER NOT NULL
);

CREATE TABLE enforcement_groups (
    gid   TEXT NOT NULL REFERENCES groups(gid) ON DELETE CASCADE,
    kind  TEXT NOT NULL CHECK (kind IN ('enforced', 'excluded')),
    PRIMARY KEY (gid, kind)
);

CREATE TABLE throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    last_failure  INTEGER NOT NULL
);
