//! `throttle`: attempt counters keyed by what is being guessed at (account, IP, device).
//! An attempt is counted by one conditional statement, so that parallel attempts cannot
//! both take the last free slot.

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

    /// Counts an attempt in one statement unless the key is in its delay: the delay of
    /// `failures` attempts (the same as `throttle::delay_for`: none below `free`, then
    /// doubling from 2 s up to `max_delay`) must have passed since the last one, or the
    /// window since it. Returns the new count, or `None` when in the delay or no row
    /// exists. One statement, so parallel attempts on one counter (several people behind
    /// one address) queue on the row instead of failing a compare-and-swap.
    pub async fn throttle_take(
        &self,
        key: &str,
        now: i64,
        window: i64,
        free: i64,
        max_delay: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "UPDATE throttle
             SET failures = CASE WHEN $2 - last_failure >= $3 THEN 1 ELSE failures + 1 END,
                 last_failure = $2
             WHERE key = $1
               AND ($2 - last_failure >= $3
                    OR failures < $4
                    OR last_failure + CASE
                         WHEN failures - $4 + 1 >= 20 THEN $5
                         WHEN (CAST(1 AS BIGINT) << CAST(failures - $4 + 1 AS INTEGER)) < $5
                           THEN (CAST(1 AS BIGINT) << CAST(failures - $4 + 1 AS INTEGER))
                         ELSE $5 END <= $2)
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(window)
        .bind(free)
        .bind(max_delay)
        .fetch_optional(&self.writer)
        .await?)
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
