//! `push_subscriptions`: the browsers a user lets receive Web Push messages (issue 18).
//! The input is checked by `webpush` before it reaches here; this file only keeps rows
//! and the per-user cap.

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushSubscriptionRow {
    pub id: String,
    pub uid: String,
    pub endpoint: String,
    /// The browser's P-256 public key, base64url (65 bytes decoded).
    pub p256dh: String,
    /// The browser's auth secret, base64url (16 bytes decoded).
    pub auth: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

impl Store {
    /// Saves `r`, or, when the user already has its endpoint, replaces that row's keys and
    /// user agent (a browser that subscribes again after clearing its data). Past `cap`
    /// rows for the user, the oldest go. Returns the id the row has.
    pub async fn upsert_push_subscription(
        &self,
        r: &PushSubscriptionRow,
        cap: i64,
    ) -> StoreResult<String> {
        let mut tx = self.writer.begin().await?;
        let (id,): (String,) = sqlx::query_as(
            "INSERT INTO push_subscriptions (id, uid, endpoint, p256dh, auth, user_agent,
                                             created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (uid, endpoint) DO UPDATE SET p256dh = excluded.p256dh,
                 auth = excluded.auth, user_agent = excluded.user_agent
             RETURNING id",
        )
        .bind(&r.id)
        .bind(&r.uid)
        .bind(&r.endpoint)
        .bind(&r.p256dh)
        .bind(&r.auth)
        .bind(&r.user_agent)
        .bind(r.created_at)
        .bind(r.last_used_at)
        .fetch_one(&mut *tx)
        .await?;
        // The row just saved always stays; of the others the newest `cap - 1` do (two made
        // in the same second are in no particular order).
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE uid = $1 AND id <> $2 AND id NOT IN (
                 SELECT id FROM push_subscriptions WHERE uid = $3 AND id <> $4
                 ORDER BY created_at DESC, id DESC LIMIT $5)",
        )
        .bind(&r.uid)
        .bind(&id)
        .bind(&r.uid)
        .bind(&id)
        .bind(cap - 1)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// How many subscriptions there are, of every user.
    pub async fn count_push_subscriptions(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM push_subscriptions")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// The user's subscriptions, oldest first.
    pub async fn push_subscriptions_of(&self, uid: &str) -> StoreResult<Vec<PushSubscriptionRow>> {
        Ok(sqlx::query_as::<_, PushSubscriptionRow>(
            "SELECT id, uid, endpoint, p256dh, auth, user_agent, created_at, last_used_at
             FROM push_subscriptions WHERE uid = $1 ORDER BY created_at, id",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes one of the user's subscriptions; `false` when it is not theirs or is gone.
    pub async fn delete_push_subscription(&self, uid: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND uid = $2")
            .bind(id)
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes every subscription of a user ("log out everywhere"); how many there were.
    pub async fn delete_push_subscriptions_of(&self, uid: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Records a message accepted by the push service.
    pub async fn push_subscription_used(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE push_subscriptions SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
