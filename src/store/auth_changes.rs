//! `auth_changes` (SQLite only): the log its triggers keep of users whose sessions,
//! account, memberships or app passwords changed, read by the notification port.

use super::{Store, StoreResult};

impl Store {
    /// The newest entry's number (0 when the log is empty).
    pub async fn last_auth_change(&self) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM auth_changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// Users changed after entry `after`, and the newest entry's number.
    pub async fn auth_changes_after(&self, after: i64) -> StoreResult<(i64, Vec<String>)> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, uid FROM auth_changes WHERE seq > $1 ORDER BY seq")
                .bind(after)
                .fetch_all(&self.pool)
                .await?;
        let last = rows.last().map(|(seq, _)| *seq).unwrap_or(after);
        Ok((last, rows.into_iter().map(|(_, uid)| uid).collect()))
    }

    pub async fn prune_auth_changes(&self, before: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM auth_changes WHERE at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
