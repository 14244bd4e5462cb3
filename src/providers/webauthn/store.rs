//! `webauthn_credentials`: the registered keys and passkeys. The provider's own table,
//! reached through the store's connections.

use crate::store::{Store, StoreResult};

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

/// What became of a credential asked to be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    NotFound,
    /// It is the user's last one of the kind that must stay: nothing was deleted.
    Last,
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
        .execute(self.writer())
        .await
        .map_err(crate::store::conflict_on_unique("this credential"))?;
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
        .fetch_all(self.reader())
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
        .fetch_optional(self.reader())
        .await?)
    }

    /// Saves a key's state after a login (signature counter, backup flags), only if its
    /// signature counter went up (or the authenticator counts nothing: 0 after 0). `false`
    /// when it did not: a copy of the key answered with a counter already used (compared
    /// with the stored row in this one statement, not with the copy a challenge began
    /// with, so that two challenges begun at once cannot both pass with one counter).
    pub async fn webauthn_credential_used(
        &self,
        id: &str,
        uid: &str,
        credential: &str,
        counter: u32,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE webauthn_credentials SET credential = $1, last_used_at = $2, sign_count = $5
             WHERE id = $3 AND uid = $4 AND (sign_count < $5 OR (sign_count = 0 AND $5 = 0))",
        )
        .bind(credential)
        .bind(now)
        .bind(id)
        .bind(uid)
        .bind(i64::from(counter))
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected() == 1)
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
                .execute(self.writer())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes one credential of the user, unless it is their last one of `keep_kind`
    /// (the last second-factor key: removing it is removing the factor, which the caller
    /// decides). Checked and done in one transaction with the user's rows locked
    /// (PostgreSQL; SQLite's one writer connection serializes it), so two requests
    /// removing the last two keys at once cannot both succeed.
    pub async fn delete_webauthn_credential_keeping_last(
        &self,
        uid: &str,
        id: &str,
        keep_kind: &str,
    ) -> StoreResult<Deletion> {
        const LOCKED: &str =
            "SELECT id, kind FROM webauthn_credentials WHERE uid = $1 ORDER BY id FOR UPDATE";
        const PLAIN: &str = "SELECT id, kind FROM webauthn_credentials WHERE uid = $1";
        let select = match self.backend() {
            crate::store::Backend::Postgres => LOCKED,
            crate::store::Backend::Sqlite => PLAIN,
        };
        let mut tx = self.writer().begin().await?;
        let rows: Vec<(String, String)> =
            sqlx::query_as(select).bind(uid).fetch_all(&mut *tx).await?;
        let Some((_, kind)) = rows.iter().find(|(row_id, _)| row_id == id) else {
            return Ok(Deletion::NotFound);
        };
        if kind == keep_kind && rows.iter().filter(|(_, k)| k == keep_kind).count() == 1 {
            return Ok(Deletion::Last);
        }
        sqlx::query("DELETE FROM webauthn_credentials WHERE id = $1 AND uid = $2")
            .bind(id)
            .bind(uid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Deletion::Deleted)
    }

    /// Removes every credential of one kind of a user (passkeys survive a reset of the
    /// security keys, and the reverse).
    /// Deletes the user's credentials of `kind`, or all of them.
    pub async fn delete_webauthn_credentials_of(
        &self,
        uid: &str,
        kind: Option<&str>,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM webauthn_credentials WHERE uid = $1 AND ($2 IS NULL OR kind = $2)",
        )
        .bind(uid)
        .bind(kind)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// The users who have any credential.
    pub async fn webauthn_holders(&self) -> StoreResult<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT uid FROM webauthn_credentials ORDER BY uid")
                .fetch_all(self.reader())
                .await?,
        )
    }
}
