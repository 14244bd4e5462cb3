-- An enrollment in progress belongs to the session that began it (issue 16): a TOTP
-- secret being set up now lives in `ceremonies` (bound to the session, with expiry), so
-- `totp_secrets` holds confirmed secrets only. Pending ones from before are dropped: the
-- user begins again (nothing active is lost).
DELETE FROM totp_secrets WHERE confirmed = 0;

-- One ceremony of a kind per session, enforced by the database: two begins at once can
-- no longer leave two rows (the store upserts on this key).
DELETE FROM ceremonies WHERE id NOT IN (
    SELECT MIN(id) FROM ceremonies GROUP BY session_id, provider, purpose
);
DROP INDEX ceremonies_session;
CREATE UNIQUE INDEX ceremonies_session ON ceremonies (session_id, provider, purpose);

-- The signature counter of a security key or passkey, beside its JSON: a use is saved
-- only if its counter is above the stored one (read and compared in the same statement),
-- so two challenges begun at once cannot each be answered with the same counter (a
-- cloned key). 0 until the first use after this migration.
ALTER TABLE webauthn_credentials ADD COLUMN sign_count BIGINT NOT NULL DEFAULT 0;
