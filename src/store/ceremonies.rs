//! `ceremonies`: the server-side state of a provider's challenge, enrollment or
//! passwordless sign-in in progress, bound to a session (or a sign-in's cookie), with an
//! expiry, taken once.

use super::{Store, StoreResult};

impl Store {
    /// Starts a ceremony for a session: any earlier one of the same kind is replaced, in
    /// one statement on the unique (session, provider, purpose) key, so that two begins at
    /// once leave one row.
    pub async fn put_ceremony(
        &self,
        session_id: &str,
        provider: &str,
        purpose: &str,
        state: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO ceremonies (id, session_id, provider, purpose, state, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (session_id, provider, purpose)
             DO UPDATE SET id = excluded.id, state = excluded.state,
                           expires_at = excluded.expires_at",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(session_id)
        .bind(provider)
        .bind(purpose)
        .bind(state)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A session's live ceremony of that kind, left in place (to show an enrollment in
    /// progress again to the session that began it).
    pub async fn peek_ceremony(
        &self,
        session_id: &str,
        provider: &str,
        purpose: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT state FROM ceremonies
             WHERE session_id = $1 AND provider = $2 AND purpose = $3 AND expires_at > $4",
        )
        .bind(session_id)
        .bind(provider)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Takes a session's live ceremony of that kind: it is deleted, so an answer can be
    /// checked against it once only (of two concurrent takers, one gets it).
    pub async fn take_ceremony(
        &self,
        session_id: &str,
        provider: &str,
        purpose: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT id, state, expires_at FROM ceremonies
             WHERE session_id = $1 AND provider = $2 AND purpose = $3",
        )
        .bind(session_id)
        .bind(provider)
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await?;
        let Some((id, state, expires_at)) = row else {
            return Ok(None);
        };
        let done = sqlx::query("DELETE FROM ceremonies WHERE id = $1")
            .bind(&id)
            .execute(&self.writer)
            .await?;
        Ok((done.rows_affected() == 1 && expires_at > now).then_some(state))
    }

    pub async fn purge_ceremonies(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM ceremonies WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
