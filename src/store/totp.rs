//! `totp_secrets`: one confirmed secret per user, encrypted by the caller before it gets
//! here. A secret being set up is not here: it is state of the session that began it
//! (`ceremonies`).

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TotpRow {
    pub uid: String,
    pub secret: String,
    pub algorithm: String,
    pub digits: i64,
    pub period: i64,
    pub confirmed: i64,
    pub last_step: i64,
    pub created_at: i64,
}

impl Store {
    /// Stores a confirmed secret; `Conflict` when the user already has one (two sessions
    /// confirming at once: the first wins, the second never replaces it).
    pub async fn insert_totp(&self, row: &TotpRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO totp_secrets (uid, secret, algorithm, digits, period, confirmed, last_step, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.uid)
        .bind(&row.secret)
        .bind(&row.algorithm)
        .bind(row.digits)
        .bind(row.period)
        .bind(row.confirmed)
        .bind(row.last_step)
        .bind(row.created_at)
        .execute(&self.writer)
        .await
        .map_err(super::conflict_on_unique("TOTP is already active"))?;
        Ok(())
    }

    pub async fn totp(&self, uid: &str) -> StoreResult<Option<TotpRow>> {
        Ok(sqlx::query_as::<_, TotpRow>(
            "SELECT uid, secret, algorithm, digits, period, confirmed, last_step, created_at
             FROM totp_secrets WHERE uid = $1",
        )
        .bind(uid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records `step` as used, only if it is later than the last one: of two requests
    /// with the same code, exactly one gets `true`.
    pub async fn claim_totp_step(&self, uid: &str, step: i64) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE totp_secrets SET last_step = $1 WHERE uid = $2 AND last_step < $1")
                .bind(step)
                .bind(uid)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_totp(&self, uid: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM totp_secrets WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
