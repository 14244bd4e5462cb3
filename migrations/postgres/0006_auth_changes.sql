-- Who may pass forward-auth changed: each instance keeps a short-lived cache of its
-- answers and must drop a user's entries when any of these rows change, on every instance
-- and whoever made the change (another instance, the CLI, an admin's SQL). The triggers
-- NOTIFY the user's id on commit; each instance LISTENs on its own connection.
CREATE FUNCTION twofold_auth_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('twofold_auth', OLD.uid);
    ELSE
        PERFORM pg_notify('twofold_auth', NEW.uid);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER sessions_changed AFTER UPDATE OF token_hash, stage, factors, expires_at OR DELETE
    ON sessions FOR EACH ROW EXECUTE FUNCTION twofold_auth_changed();
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE
    ON users FOR EACH ROW EXECUTE FUNCTION twofold_auth_changed();
CREATE TRIGGER group_members_changed AFTER INSERT OR DELETE
    ON group_members FOR EACH ROW EXECUTE FUNCTION twofold_auth_changed();
CREATE TRIGGER app_passwords_deleted AFTER DELETE
    ON app_passwords FOR EACH ROW EXECUTE FUNCTION twofold_auth_changed();
