-- Issue 18: Web Push subscriptions (RFC 8030). One row per browser a user lets receive
-- sign-in requests; `p256dh` and `auth` are the browser's keys (base64url) that each
-- message is encrypted to. A push service answering 404/410 deletes its row.
CREATE TABLE push_subscriptions (
    id            TEXT PRIMARY KEY,
    uid           TEXT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    endpoint      TEXT NOT NULL,
    p256dh        TEXT NOT NULL,
    auth          TEXT NOT NULL,
    user_agent    TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (uid, endpoint)
);
CREATE INDEX push_subscriptions_uid ON push_subscriptions(uid, created_at);
