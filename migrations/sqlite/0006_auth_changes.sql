-- Who may pass forward-auth changed: each instance keeps a short-lived cache of its
-- answers and must drop a user's entries when any of these rows change, including changes
-- made by another process (the CLI). The triggers log the user; the server reads the log
-- a few times a second. Kept a minute, then pruned by the server.
CREATE TABLE auth_changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    uid  TEXT NOT NULL,
    at   INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TRIGGER sessions_changed AFTER UPDATE OF token_hash, stage, factors, expires_at ON sessions
BEGIN INSERT INTO auth_changes (uid) VALUES (NEW.uid); END;
CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
BEGIN INSERT INTO auth_changes (uid) VALUES (OLD.uid); END;
CREATE TRIGGER users_changed AFTER UPDATE ON users
BEGIN INSERT INTO auth_changes (uid) VALUES (NEW.uid); END;
CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN INSERT INTO auth_changes (uid) VALUES (OLD.uid); END;
CREATE TRIGGER group_members_added AFTER INSERT ON group_members
BEGIN INSERT INTO auth_changes (uid) VALUES (NEW.uid); END;
CREATE TRIGGER group_members_removed AFTER DELETE ON group_members
BEGIN INSERT INTO auth_changes (uid) VALUES (OLD.uid); END;
CREATE TRIGGER app_passwords_deleted AFTER DELETE ON app_passwords
BEGIN INSERT INTO auth_changes (uid) VALUES (OLD.uid); END;
