//! `provider_settings` (system-wide) and `provider_user_state` (per user).

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProviderStateRow {
    pub provider: String,
    pub uid: String,
    pub enabled: i64,
    pub last_used_at: i64,
    pub failures: i64,
}

impl Store {
    /// The admin's choice for a provider, if one was ever made.
    pub async fn provider_setting(&self, provider: &str) -> StoreResult<Option<bool>> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT enabled FROM provider_settings WHERE provider = $1")
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(e,)| e != 0))
    }

    pub async fn provider_settings(&self) -> StoreResult<Vec<(String, bool)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT provider, enabled FROM provider_settings ORDER BY provider")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(p, e)| (p, e != 0)).collect())
    }

    pub async fn set_provider_setting(&self, provider: &str, enabled: bool) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO provider_settings (provider, enabled) VALUES ($1, $2)
             ON CONFLICT (provider) DO UPDATE SET enabled = excluded.enabled",
        )
        .bind(provider)
        .bind(i64::from(enabled))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every provider row of a user, active or not.
    pub async fn provider_states(&self, uid: &str) -> StoreResult<Vec<ProviderStateRow>> {
        Ok(sqlx::query_as::<_, ProviderStateRow>(
            "SELECT provider, uid, enabled, last_used_at, failures FROM provider_user_state
             WHERE uid = $1 ORDER BY provider",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Marks a provider active or inactive for a user (and clears its failure count).
    pub async fn set_provider_state(
        &self,
        provider: &str,
        uid: &str,
        enabled: bool,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO provider_user_state (provider, uid, enabled) VALUES ($1, $2, $3)
             ON CONFLICT (provider, uid) DO UPDATE SET enabled = excluded.enabled, failures = 0",
        )
        .bind(provider)
        .bind(uid)
        .bind(i64::from(enabled))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn delete_provider_state(&self, provider: &str, uid: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM provider_user_state WHERE provider = $1 AND uid = $2")
            .bind(provider)
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A successful challenge: remember it as the last used, reset the failure count.
    pub async fn provider_used(&self, provider: &str, uid: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE provider_user_state SET last_used_at = $1, failures = 0
             WHERE provider = $2 AND uid = $3",
        )
        .bind(now)
        .bind(provider)
        .bind(uid)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Reserves one attempt at a factor: counts it as a failure in advance, unless the
    /// factor already has `max` consecutive failures (locked). A success resets the count
    /// (`provider_used`). `false`: locked, or no such factor for the user.
    pub async fn provider_attempt(&self, provider: &str, uid: &str, max: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE provider_user_state SET failures = failures + 1
             WHERE provider = $1 AND uid = $2 AND failures < $3",
        )
        .bind(provider)
        .bind(uid)
        .bind(max)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives back an attempt reserved by `provider_attempt` that checked nothing.
    pub async fn provider_attempt_released(&self, provider: &str, uid: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE provider_user_state SET failures = failures - 1
             WHERE provider = $1 AND uid = $2 AND failures > 0",
        )
        .bind(provider)
        .bind(uid)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Users with any state row for `provider` (for `twofactorauth cleanup`).
    pub async fn uids_with_provider(&self, provider: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT uid FROM provider_user_state WHERE provider = $1 ORDER BY uid")
                .bind(provider)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }
}
