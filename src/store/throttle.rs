//! `throttle`: attempt counters keyed by what is being guessed at (account, IP, device).
//! Changes are conditional (compare and swap) so that parallel attempts cannot both take
//! the last free slot.

use super::{Store, StoreResult};

impl Store {
    /// (attempts, last attempt time) for a key; `None` when clean.
    pub async fn throttle(&self, key: &str) -> StoreResult<Option<(i64, i64)>> {
        Ok(
            sqlx::query_as("SELECT failures, last_failure FROM throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Counts a first attempt; `false` when another request created the row first.
    pub async fn throttle_insert(&self, key: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO throttle (key, failures, last_failure) VALUES ($1, 1, $2)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets the counter to `new` if it still is `old`; `false` when it changed meanwhile.
    pub async fn throttle_swap(
        &self,
        key: &str,
        old: (i64, i64),
        new: (i64, i64),
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE throttle SET failures = $1, last_failure = $2
             WHERE key = $3 AND failures = $4 AND last_failure = $5",
        )
        .bind(new.0)
        .bind(new.1)
        .bind(key)
        .bind(old.0)
        .bind(old.1)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives one reserved attempt back.
    pub async fn throttle_release(&self, key: &str) -> StoreResult<()> {
        sqlx::query("UPDATE throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn throttle_reset(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets counters whose last attempt is older than `before`.
    pub async fn purge_throttle(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM throttle WHERE last_failure < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
