//! `app_passwords`: device-specific passwords, stored as keyed hashes.

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppPasswordRow {
    pub id: String,
    pub uid: String,
    pub name: String,
    pub token_hash: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub last_used_ip: String,
    pub user_agent: String,
    /// 2 when made from a login that passed a second factor, else 1.
    pub factors: i64,
}

impl Store {
    pub async fn insert_app_password(&self, r: &AppPasswordRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO app_passwords (id, uid, name, token_hash, created_at, last_used_at,
                                        last_used_ip, user_agent, factors)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&r.id)
        .bind(&r.uid)
        .bind(&r.name)
        .bind(&r.token_hash)
        .bind(r.created_at)
        .bind(r.last_used_at)
        .bind(&r.last_used_ip)
        .bind(&r.user_agent)
        .bind(r.factors)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn app_password_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<AppPasswordRow>> {
        Ok(sqlx::query_as::<_, AppPasswordRow>(
            "SELECT id, uid, name, token_hash, created_at, last_used_at, last_used_ip, user_agent,
                    factors
             FROM app_passwords WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn app_passwords_of(&self, uid: &str) -> StoreResult<Vec<AppPasswordRow>> {
        Ok(sqlx::query_as::<_, AppPasswordRow>(
            "SELECT id, uid, name, token_hash, created_at, last_used_at, last_used_ip, user_agent,
                    factors
             FROM app_passwords WHERE uid = $1 ORDER BY created_at, name",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a use, if the row still shows the use `seen_at` that the caller read: of
    /// concurrent requests that saw the same old value one records (and `true` tells it
    /// so, e.g. to log a first use once), the others need not.
    pub async fn app_password_used(
        &self,
        id: &str,
        seen_at: i64,
        now: i64,
        ip: &str,
        user_agent: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE app_passwords SET last_used_at = $1, last_used_ip = $2, user_agent = $3
             WHERE id = $4 AND last_used_at = $5",
        )
        .bind(now)
        .bind(ip)
        .bind(user_agent)
        .bind(id)
        .bind(seen_at)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes one of a user's app passwords; `false` when it is not theirs or is gone.
    pub async fn delete_app_password(&self, uid: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM app_passwords WHERE id = $1 AND uid = $2")
            .bind(id)
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_app_passwords_of(&self, uid: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM app_passwords WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.changes.user(uid);
        Ok(done.rows_affected())
    }
}
