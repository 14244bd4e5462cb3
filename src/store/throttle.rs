//! `throttle`: failure counters keyed by what is being guessed at (account or IP).

use super::{Store, StoreResult};

impl Store {
    /// (failures, last failure time) for a key; (0, 0) when clean.
    pub async fn throttle(&self, key: &str) -> StoreResult<(i64, i64)> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, last_failure FROM throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.unwrap_or((0, 0)))
    }

    pub async fn throttle_failure(&self, key: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO throttle (key, failures, last_failure) VALUES ($1, 1, $2)
             ON CONFLICT (key) DO UPDATE SET failures = throttle.failures + 1, last_failure = $2",
        )
        .bind(key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn throttle_reset(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets counters whose last failure is older than `before`.
    pub async fn purge_throttle(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM throttle WHERE last_failure < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
