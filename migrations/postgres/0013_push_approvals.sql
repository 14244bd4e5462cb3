-- Push approvals (issue 18): a login waiting for the user to approve it on another
-- device. One row per prompt; the login's session is `session_id`. A prompt is
-- `pending` until decided (`approved`, `rejected`), then `used` once its login went on, or
-- `expired` / `cancelled` (the login finished another way or ended). A pending prompt past
-- `expires_at` is expired even before anything marks it so.
CREATE TABLE push_approvals (
    id TEXT PRIMARY KEY,
    uid TEXT NOT NULL,
    session_id TEXT NOT NULL,
    number BIGINT NOT NULL,
    choices TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    app TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    decided_at BIGINT NOT NULL DEFAULT 0,
    decided_by TEXT NOT NULL DEFAULT ''
);
-- At most one open prompt per login attempt, enforced by the database: two begins at
-- once (a reload, a double click) leave one row.
CREATE UNIQUE INDEX push_approvals_open ON push_approvals (session_id)
    WHERE state IN ('pending', 'approved');
CREATE INDEX push_approvals_user ON push_approvals (uid, created_at);
