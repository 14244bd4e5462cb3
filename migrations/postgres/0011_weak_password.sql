-- Issue 25: a password set before the policy (or under a laxer one) still signs in, and
-- the user is asked to change it. Set or cleared at each password sign-in (the policy is
-- checked on the clear password then) and cleared by a password change.
ALTER TABLE users ADD COLUMN weak_password BIGINT NOT NULL DEFAULT 0;
