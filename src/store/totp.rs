//! `totp_secrets`: one secret per user, encrypted by the caller before it gets here.

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
    /// Stores a new, unconfirmed secret, replacing whatever the user had.
    pub async fn put_totp(&self, row: &TotpRow) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM totp_secrets WHERE uid = $1")
            .bind(&row.uid)
            .execute(&mut *tx)
            .await?;
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
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
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
    /// with the same code, exactly one gets `true`. Also confirms a pending secret.
    pub async fn claim_totp_step(&self, uid: &str, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE totp_secrets SET last_step = $1, confirmed = 1 WHERE uid = $2 AND last_step < $1",
        )
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
