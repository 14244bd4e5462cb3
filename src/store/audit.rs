//! `audit_log`: security events, newest last. Written where each action happens; listed
//! newest first, events of the same second in the order they were written (`seq`).

use super::{Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub event: String,
    /// Who did it: a uid, `cli` for the admin command line, or empty for an unknown client.
    pub actor: String,
    /// Whose account it concerns (may name no existing user: a failed login).
    pub target: String,
    pub ip: String,
    pub user_agent: String,
    /// A short machine-readable detail: the provider, a reason, an app password's name.
    pub detail: String,
    /// How many events this row stands for: 1, or for failed logins of unknown user
    /// names the count from one address in one hour (see `Audit::unknown_login_failed`).
    pub repeats: i64,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Events whose actor or target is this user.
    pub user: Option<String>,
    pub since: i64,
    pub limit: i64,
}

impl Store {
    pub async fn insert_audit(&self, r: &AuditRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, event, actor, target, ip, user_agent, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&r.id)
        .bind(r.at)
        .bind(&r.event)
        .bind(&r.actor)
        .bind(&r.target)
        .bind(&r.ip)
        .bind(&r.user_agent)
        .bind(&r.detail)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Counts one more event in the row `r.id`, or writes it (`repeats` 1) when there is
    /// none: an aggregate row stays where it was first written in the listing.
    pub async fn count_audit(&self, r: &AuditRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (id, at, event, actor, target, ip, user_agent, detail, repeats)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)
             ON CONFLICT (id) DO UPDATE SET repeats = audit_log.repeats + 1",
        )
        .bind(&r.id)
        .bind(r.at)
        .bind(&r.event)
        .bind(&r.actor)
        .bind(&r.target)
        .bind(&r.ip)
        .bind(&r.user_agent)
        .bind(&r.detail)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The newest `q.limit` events matching `q`, newest first.
    pub async fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let rows = match &q.user {
            Some(uid) => {
                sqlx::query_as::<_, AuditRow>(
                    "SELECT id, at, event, actor, target, ip, user_agent, detail, repeats FROM audit_log
                     WHERE (target = $1 OR actor = $1) AND at >= $2
                     ORDER BY at DESC, seq DESC LIMIT $3",
                )
                .bind(uid)
                .bind(q.since)
                .bind(q.limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as::<_, AuditRow>(
                    "SELECT id, at, event, actor, target, ip, user_agent, detail, repeats FROM audit_log
                     WHERE at >= $1 ORDER BY at DESC, seq DESC LIMIT $2",
                )
                .bind(q.since)
                .bind(q.limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// Deletes the events before `before`, a thousand at a time (SQLite's one writer is
    /// never held for long); returns how many went.
    pub async fn prune_audit(&self, before: i64) -> StoreResult<u64> {
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM audit_log WHERE id IN
                     (SELECT id FROM audit_log WHERE at < $1 LIMIT 1000)",
            )
            .bind(before)
            .execute(&self.writer)
            .await?;
            total += done.rows_affected();
            if done.rows_affected() < 1000 {
                return Ok(total);
            }
        }
    }

    /// How many events the trail holds, and the time of the oldest.
    pub async fn audit_size(&self) -> StoreResult<(i64, Option<i64>)> {
        Ok(sqlx::query_as("SELECT COUNT(*), MIN(at) FROM audit_log")
            .fetch_one(&self.pool)
            .await?)
    }
}
