//! `backup_codes`: keyed hashes only; a code is consumed by one conditional UPDATE.

use super::{Store, StoreResult};

impl Store {
    /// Replaces all of a user's codes with these (hashes), in one transaction.
    pub async fn replace_backup_codes(
        &self,
        uid: &str,
        hashes: &[String],
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM backup_codes WHERE uid = $1")
            .bind(uid)
            .execute(&mut *tx)
            .await?;
        for h in hashes {
            sqlx::query(
                "INSERT INTO backup_codes (uid, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(uid)
            .bind(h)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks the code used if it exists and is unused; `true` for exactly one caller.
    pub async fn consume_backup_code(&self, uid: &str, hash: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE backup_codes SET used_at = $1 WHERE uid = $2 AND code_hash = $3 AND used_at = 0",
        )
        .bind(now)
        .bind(uid)
        .bind(hash)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// (total, unused)
    pub async fn backup_code_counts(&self, uid: &str) -> StoreResult<(i64, i64)> {
        let (total, unused): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN used_at = 0 THEN 1 ELSE 0 END), 0)
             FROM backup_codes WHERE uid = $1",
        )
        .bind(uid)
        .fetch_one(&self.pool)
        .await?;
        Ok((total, unused))
    }

    pub async fn delete_backup_codes(&self, uid: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM backup_codes WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
