-- Issue 17: user names are looked up and kept unique without regard to case (`DAVE`
-- signs in as `Dave`); the uid keeps the case it was created with, for display.
-- Lookups compare lower(uid) (uids are ASCII, so lower() is the same on both databases
-- and in Rust), through an index on that expression. Accounts that already differ only
-- by case ("case twins") are kept, both of them, and marked: they sign in only by their
-- exact uid, and the server names them in a warning at every start until an admin
-- deletes all but one (docs/security.md).
ALTER TABLE users ADD COLUMN case_twin BIGINT NOT NULL DEFAULT 0;
UPDATE users SET case_twin = 1
 WHERE lower(uid) IN (SELECT lower(uid) FROM users GROUP BY lower(uid) HAVING COUNT(*) > 1);
-- New accounts are never twins: at most one non-twin per folded name, even under races.
CREATE UNIQUE INDEX users_uid_fold_unique ON users(lower(uid)) WHERE case_twin = 0;
CREATE INDEX users_uid_fold ON users(lower(uid));
