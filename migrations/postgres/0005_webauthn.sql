-- WebAuthn: registered keys and passkeys, and the state of ceremonies in progress (a registration or a
-- login challenge), bound to the session that started them, single use, with expiry.
CREATE TABLE webauthn_credentials (
    id            TEXT PRIMARY KEY,          -- the credential id, base64url
    uid           TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    -- 'security_key' (a second factor) or 'passkey' (signs in without a password); one
    -- credential is never both (the id is the primary key)
    kind          TEXT NOT NULL,
    credential    TEXT NOT NULL,             -- webauthn-rs SecurityKey or Passkey, JSON
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webauthn_credentials_uid ON webauthn_credentials(uid);

CREATE TABLE ceremonies (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    provider    TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    state       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX ceremonies_session ON ceremonies(session_id, provider, purpose);
