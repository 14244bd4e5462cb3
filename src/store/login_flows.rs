//! `login_flows`: the client login flow (like Nextcloud's Login Flow v2).

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoginFlowRow {
    pub id: String,
    pub login_token_hash: String,
    pub poll_token_hash: String,
    pub client_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub uid: String,
    /// What the granting session had proved: 2 with a second factor, else 1.
    pub factors: i64,
    /// Who started the flow, shown on the grant page.
    pub client_ip: String,
    pub client_agent: String,
}

impl Store {
    pub async fn insert_login_flow(&self, r: &LoginFlowRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_flows (id, login_token_hash, poll_token_hash, client_name, created_at,
                                      expires_at, uid, sealed_password, factors, client_ip,
                                      client_agent)
             VALUES ($1, $2, $3, $4, $5, $6, '', '', 1, $7, $8)",
        )
        .bind(&r.id)
        .bind(&r.login_token_hash)
        .bind(&r.poll_token_hash)
        .bind(&r.client_name)
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(&r.client_ip)
        .bind(&r.client_agent)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A live flow not yet granted, by the token in its login URL.
    pub async fn open_login_flow(
        &self,
        login_token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<LoginFlowRow>> {
        Ok(sqlx::query_as::<_, LoginFlowRow>(
            "SELECT id, login_token_hash, poll_token_hash, client_name, created_at, expires_at, uid,
                    factors, client_ip, client_agent
             FROM login_flows WHERE login_token_hash = $1 AND expires_at > $2 AND uid = ''",
        )
        .bind(login_token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records the grant, once: of two grants only one sticks.
    pub async fn grant_login_flow(
        &self,
        id: &str,
        uid: &str,
        factors: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE login_flows SET uid = $1, factors = $2
             WHERE id = $3 AND uid = '' AND expires_at > $4",
        )
        .bind(uid)
        .bind(factors)
        .bind(id)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Takes a granted flow by its poll token: the row is deleted, so the app password
    /// is made exactly once.
    pub async fn take_granted_flow(
        &self,
        poll_token_hash: &str,
        now: i64,
    ) -> StoreResult<Option<LoginFlowRow>> {
        let row = sqlx::query_as::<_, LoginFlowRow>(
            "SELECT id, login_token_hash, poll_token_hash, client_name, created_at, expires_at, uid,
                    factors, client_ip, client_agent
             FROM login_flows WHERE poll_token_hash = $1 AND expires_at > $2 AND uid <> ''",
        )
        .bind(poll_token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let done = sqlx::query("DELETE FROM login_flows WHERE id = $1")
            .bind(&row.id)
            .execute(&self.writer)
            .await?;
        Ok((done.rows_affected() == 1).then_some(row))
    }

    /// Ends every flow a user granted but no client picked up (password change).
    pub async fn delete_login_flows_of(&self, uid: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM login_flows WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn purge_login_flows(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM login_flows WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}
