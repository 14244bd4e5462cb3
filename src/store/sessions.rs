//! The `sessions` table. Only keyed hashes of session tokens are stored.

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub token_hash: String,
    pub uid: String,
    pub stage: String,
    /// 0 or 1.
    pub remember: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// 1 after the password, 2 once a second factor was passed.
    pub factors: i64,
    /// When the user last proved who they are in this session (password, second factor
    /// or re-authentication): sensitive changes need it to be recent.
    pub auth_at: i64,
}

/// What a session becomes when it moves on in the login flow.
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    pub new_hash: &'a str,
    pub stage: &'a str,
    pub factors: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session, only while its user exists and is enabled (checked in the
    /// same statement: a login racing the user being disabled or deleted makes no
    /// session). `false` when nothing was stored.
    pub async fn insert_session(&self, s: &SessionRow) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO sessions (id, token_hash, uid, stage, remember, created_at, last_seen_at,
                                   expires_at, ip, user_agent, factors, auth_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
             WHERE EXISTS (SELECT 1 FROM users WHERE uid = $3 AND enabled = 1)",
        )
        .bind(&s.id)
        .bind(&s.token_hash)
        .bind(&s.uid)
        .bind(&s.stage)
        .bind(s.remember)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(s.factors)
        .bind(s.auth_at)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The live (unexpired) session whose token hashes to `token_hash`.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<SessionRow>> {
        Ok(sqlx::query_as::<_, SessionRow>(
            "SELECT id, token_hash, uid, stage, remember, created_at, last_seen_at, expires_at,
                    ip, user_agent, factors, auth_at
             FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Moves a session to a new token and stage, only if it still has `old_hash`: of two
    /// concurrent rotations one wins and the other sees `false`.
    pub async fn rotate_session(
        &self,
        id: &str,
        old_hash: &str,
        to: &Rotation<'_>,
        now: i64,
    ) -> StoreResult<bool> {
        let Rotation {
            new_hash,
            stage,
            factors,
            expires_at,
        } = *to;
        let uid: Option<String> = sqlx::query_scalar(
            "UPDATE sessions SET token_hash = $1, stage = $2, expires_at = $3, last_seen_at = $4,
                                 factors = $5, auth_at = $4
             WHERE id = $6 AND token_hash = $7
             RETURNING uid",
        )
        .bind(new_hash)
        .bind(stage)
        .bind(expires_at)
        .bind(now)
        .bind(factors)
        .bind(id)
        .bind(old_hash)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(uid) = &uid {
            self.changes.user(uid);
        }
        Ok(uid.is_some())
    }

    /// Records a fresh proof in a live session: re-authentication (`auth_at`), or a
    /// second factor confirmed while enrolling it (`factors` only ever rises; `auth_at`
    /// `None` keeps the sign-in time).
    pub async fn session_proved(
        &self,
        id: &str,
        factors: i64,
        auth_at: Option<i64>,
    ) -> StoreResult<()> {
        let uid: Option<String> = sqlx::query_scalar(
            "UPDATE sessions SET auth_at = COALESCE($1, auth_at),
                    factors = CASE WHEN factors > $2 THEN factors ELSE $2 END
             WHERE id = $3
             RETURNING uid",
        )
        .bind(auth_at)
        .bind(factors)
        .bind(id)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(uid) = &uid {
            self.changes.user(uid);
        }
        Ok(())
    }

    /// Ends every session of a user but one (password change, factor removal).
    pub async fn delete_other_sessions(&self, uid: &str, keep: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE uid = $1 AND id <> $2")
            .bind(uid)
            .bind(keep)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        Ok(done.rows_affected())
    }

    pub async fn touch_session(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id: &str) -> StoreResult<()> {
        let uid: Option<String> =
            sqlx::query_scalar("DELETE FROM sessions WHERE id = $1 RETURNING uid")
                .bind(id)
                .fetch_optional(&self.writer)
                .await?;
        if let Some(uid) = &uid {
            self.changes.user(uid);
        }
        Ok(())
    }

    /// Deletes one of a user's sessions; `false` when it is not theirs or is gone.
    pub async fn delete_session_of(&self, uid: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND uid = $2")
            .bind(id)
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        Ok(done.rows_affected() == 1)
    }

    /// Ends every session of a user; returns how many there were.
    /// Ends the user's sessions beyond `keep`: `newest` stays, and of the others the
    /// most recently seen (the longest idle end first). Returns how many ended.
    pub async fn trim_sessions_of(&self, uid: &str, newest: &str, keep: i64) -> StoreResult<u64> {
        // Counted on a reader first: nearly every sign-in is under the bound, and the
        // DELETE would take the single writer (SQLite) for nothing.
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE uid = $1")
            .bind(uid)
            .fetch_one(&self.pool)
            .await?;
        if open <= keep {
            return Ok(0);
        }
        let done = sqlx::query(
            "DELETE FROM sessions WHERE uid = $1 AND id <> $2 AND id NOT IN (
                 SELECT id FROM sessions WHERE uid = $1 AND id <> $2
                 ORDER BY last_seen_at DESC, created_at DESC, id LIMIT $3)",
        )
        .bind(uid)
        .bind(newest)
        .bind(keep - 1)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() > 0 {
            self.changes.user(uid);
        }
        Ok(done.rows_affected())
    }

    pub async fn delete_sessions_of(&self, uid: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        Ok(done.rows_affected())
    }

    pub async fn sessions_of(&self, uid: &str, now: i64) -> StoreResult<Vec<SessionRow>> {
        Ok(sqlx::query_as::<_, SessionRow>(
            "SELECT id, token_hash, uid, stage, remember, created_at, last_seen_at, expires_at,
                    ip, user_agent, factors, auth_at
             FROM sessions WHERE uid = $1 AND expires_at > $2 ORDER BY created_at",
        )
        .bind(uid)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One page of the user's live sessions (oldest first, as `sessions_of`) and how many
    /// there are: a user with many sessions gets pages, not one huge list.
    pub async fn sessions_page(
        &self,
        uid: &str,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<SessionRow>, i64)> {
        let rows = sqlx::query_as::<_, SessionRow>(
            "SELECT id, token_hash, uid, stage, remember, created_at, last_seen_at, expires_at,
                    ip, user_agent, factors, auth_at
             FROM sessions WHERE uid = $1 AND expires_at > $2 ORDER BY created_at, id
             LIMIT $3 OFFSET $4",
        )
        .bind(uid)
        .bind(now)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE uid = $1 AND expires_at > $2")
                .bind(uid)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
        Ok((rows, total))
    }

    pub async fn purge_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
