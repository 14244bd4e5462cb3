//! `throttle`: leaky buckets keyed by what is being guessed at (account, address,
//! device), each stored as the time it will be empty (`tat`, see `throttle::Limits`). An
//! attempt is counted by one conditional statement, so that parallel attempts cannot both
//! take the last free place, and queue on the row rather than fail a compare-and-swap.

use super::{Store, StoreResult};

/// Rows deleted per statement when purging, so that a purge never holds a long lock.
const PURGE_BATCH: i64 = 1000;

impl Store {
    /// When the bucket `key` will be empty; `None` when it has no row.
    pub async fn throttle_tat(&self, key: &str) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT tat FROM throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Takes one attempt in the bucket `key` at `now` unless it is full (the GCRA step of
    /// `throttle::Limits::take`: from `max(tat, now)`, one `interval` further, at most
    /// `burst` intervals ahead of `now`). Returns the new `tat`, or `None` when full.
    pub async fn throttle_take(
        &self,
        key: &str,
        now: i64,
        burst: i64,
        interval: i64,
    ) -> StoreResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "INSERT INTO throttle (key, tat) VALUES ($1, $2 + $4)
             ON CONFLICT (key) DO UPDATE
             SET tat = CASE WHEN throttle.tat > $2 THEN throttle.tat ELSE $2 END + $4
             WHERE CASE WHEN throttle.tat > $2 THEN throttle.tat ELSE $2 END + $4 - $2
                   <= $3 * $4
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(burst)
        .bind(interval)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// Gives one reserved attempt back: the bucket is empty one `interval` earlier.
    pub async fn throttle_release(&self, key: &str, interval: i64) -> StoreResult<()> {
        sqlx::query("UPDATE throttle SET tat = tat - $2 WHERE key = $1")
            .bind(key)
            .bind(interval)
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

    /// Forgets the buckets empty at `now` (a missing row is an empty bucket), in batches.
    /// The outer condition is checked again on the row itself, so that a bucket taken
    /// while the purge runs is kept.
    pub async fn purge_throttle(&self, now: i64) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM throttle WHERE tat <= $1
                 AND key IN (SELECT key FROM throttle WHERE tat <= $1 LIMIT $2)",
            )
            .bind(now)
            .bind(PURGE_BATCH)
            .execute(&self.writer)
            .await?;
            total += done.rows_affected();
            if done.rows_affected() < PURGE_BATCH as u64 {
                return Ok(total);
            }
        }
    }
}
