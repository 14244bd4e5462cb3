//! `webauthn_credentials` (registered keys) and `ceremonies` (the server-side state of a
//! WebAuthn registration or login in progress, bound to a session, taken once).

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebauthnCredentialRow {
    pub id: String,
    pub uid: String,
    pub name: String,
    /// `security_key` or `passkey`.
    pub kind: String,
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

impl Store {
    pub async fn insert_webauthn_credential(&self, r: &WebauthnCredentialRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webauthn_credentials (id, uid, name, kind, credential, created_at,
                                               last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(&r.id)
        .bind(&r.uid)
        .bind(&r.name)
        .bind(&r.kind)
        .bind(&r.credential)
        .bind(r.created_at)
        .execute(&self.writer)
        .await
        .map_err(super::conflict_on_unique("this credential"))?;
        Ok(())
    }

    pub async fn webauthn_credentials_of(
        &self,
        uid: &str,
    ) -> StoreResult<Vec<WebauthnCredentialRow>> {
        Ok(sqlx::query_as::<_, WebauthnCredentialRow>(
            "SELECT id, uid, name, kind, credential, created_at, last_used_at
             FROM webauthn_credentials WHERE uid = $1 ORDER BY created_at, name, id",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A credential by its id, whoever it belongs to.
    pub async fn webauthn_credential(
        &self,
        id: &str,
    ) -> StoreResult<Option<WebauthnCredentialRow>> {
        Ok(sqlx::query_as::<_, WebauthnCredentialRow>(
            "SELECT id, uid, name, kind, credential, created_at, last_used_at
             FROM webauthn_credentials WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Saves a key's state after a login (signature counter, backup flags).
    pub async fn webauthn_credential_used(
        &self,
        id: &str,
        uid: &str,
        credential: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE webauthn_credentials SET credential = $1, last_used_at = $2
             WHERE id = $3 AND uid = $4",
        )
        .bind(credential)
        .bind(now)
        .bind(id)
        .bind(uid)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn rename_webauthn_credential(
        &self,
        uid: &str,
        id: &str,
        name: &str,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE webauthn_credentials SET name = $1 WHERE id = $2 AND uid = $3")
                .bind(name)
                .bind(id)
                .bind(uid)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_webauthn_credential(&self, uid: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM webauthn_credentials WHERE id = $1 AND uid = $2")
            .bind(id)
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes every credential of one kind of a user (passkeys survive a reset of the
    /// security keys, and the reverse).
    pub async fn delete_webauthn_credentials_of(&self, uid: &str, kind: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM webauthn_credentials WHERE uid = $1 AND kind = $2")
            .bind(uid)
            .bind(kind)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Starts a ceremony for a session: any earlier one of the same kind is replaced.
    pub async fn put_ceremony(
        &self,
        session_id: &str,
        provider: &str,
        purpose: &str,
        state: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM ceremonies WHERE session_id = $1 AND provider = $2 AND purpose = $3",
        )
        .bind(session_id)
        .bind(provider)
        .bind(purpose)
        .execute(&self.writer)
        .await?;
        sqlx::query(
            "INSERT INTO ceremonies (id, session_id, provider, purpose, state, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
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
