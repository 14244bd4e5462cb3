//! `push_approvals`: the prompts of the push provider, a login waiting for the user to
//! approve it on another device. Every decision is one conditional statement, so of two
//! approvers (or an approver and the expiry) exactly one wins; every change is announced
//! to the waiters, on this instance at once and on the others through `NOTIFY`.

use super::changes::Change;
use super::{Backend, Store, StoreResult};

/// How long an approved prompt may wait for its login to go on (the waiting page is
/// told at once; this covers a page that was reloaded or a slow client).
pub const APPROVED_GRACE_SECS: i64 = 60;
/// The PostgreSQL channel of approval changes (payload: the uid).
pub const CHANNEL: &str = "twofold_push";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApprovalRow {
    pub id: String,
    pub uid: String,
    pub session_id: String,
    pub number: i64,
    pub choices: String,
    pub ip: String,
    pub user_agent: String,
    pub app: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub state: String,
    pub decided_at: i64,
    pub decided_by: String,
}

/// The columns of [`ApprovalRow`], for `concat!` (SQL is never built at run time).
macro_rules! columns {
    () => {
        "id, uid, session_id, number, choices, ip, user_agent, app, created_at, expires_at, \
         state, decided_at, decided_by"
    };
}

/// A prompt to open for a login attempt.
#[derive(Debug, Clone)]
pub struct NewApproval<'a> {
    pub id: &'a str,
    pub uid: &'a str,
    pub session_id: &'a str,
    pub number: i64,
    pub choices: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub app: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

impl Store {
    /// Announces a change of `uid`'s prompts to the waiters here and on other instances.
    async fn approvals_changed(&self, uid: &str) {
        self.changes.emit(&Change::Approval(uid.to_string()));
        if self.backend == Backend::Postgres {
            // Best effort: a lost notification costs the other instance its wake-up, not
            // a wrong answer (waiters read the row, and wake at the expiry anyway).
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(uid)
                .execute(&self.pool)
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "cannot announce an approval change");
            }
        }
    }

    /// Marks the session's open prompts that ran out as expired (the login has been
    /// told, or is about to be).
    async fn expire_open_approvals(&self, session_id: &str, now: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE push_approvals SET state = 'expired', decided_at = expires_at
             WHERE session_id = $1 AND
                   ((state = 'pending' AND expires_at <= $2)
                    OR (state = 'approved' AND decided_at + $3 <= $2))",
        )
        .bind(session_id)
        .bind(now)
        .bind(APPROVED_GRACE_SECS)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// The open prompt of a login attempt, opening `new` if it has none; `true` when it was
    /// opened now. Two calls at once open one (the unique index on open prompts).
    pub async fn open_approval(&self, new: &NewApproval<'_>) -> StoreResult<(ApprovalRow, bool)> {
        self.expire_open_approvals(new.session_id, new.now).await?;
        let inserted = sqlx::query(
            "INSERT INTO push_approvals (id, uid, session_id, number, choices, ip, user_agent,
                                         app, created_at, expires_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')
             ON CONFLICT DO NOTHING",
        )
        .bind(new.id)
        .bind(new.uid)
        .bind(new.session_id)
        .bind(new.number)
        .bind(new.choices)
        .bind(new.ip)
        .bind(new.user_agent)
        .bind(new.app)
        .bind(new.now)
        .bind(new.expires_at)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1;
        let row = self
            .open_approval_of(new.session_id, new.now)
            .await?
            .ok_or_else(|| super::StoreError::NotFound("the approval just opened".into()))?;
        if inserted {
            self.approvals_changed(new.uid).await;
        }
        Ok((row, inserted))
    }

    /// The session's open prompt (pending or approved), if it has not run out.
    pub async fn open_approval_of(
        &self,
        session_id: &str,
        now: i64,
    ) -> StoreResult<Option<ApprovalRow>> {
        // Read from the writer: right after an insert or a decision on this instance.
        Ok(sqlx::query_as::<_, ApprovalRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM push_approvals
             WHERE session_id = $1 AND
                   ((state = 'pending' AND expires_at > $2)
                    OR (state = 'approved' AND decided_at + $3 > $2))"
        ))
        .bind(session_id)
        .bind(now)
        .bind(APPROVED_GRACE_SECS)
        .fetch_optional(&self.writer)
        .await?)
    }

    pub async fn approval(&self, id: &str) -> StoreResult<Option<ApprovalRow>> {
        Ok(sqlx::query_as::<_, ApprovalRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM push_approvals WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// The user's prompts waiting for a decision, oldest first: only those whose login is
    /// still waiting (a session that ended or went on another way is no one's to approve).
    pub async fn pending_approvals_of(&self, uid: &str, now: i64) -> StoreResult<Vec<ApprovalRow>> {
        Ok(sqlx::query_as::<_, ApprovalRow>(concat!(
            "SELECT ",
            columns!(),
            " FROM push_approvals a
             WHERE a.uid = $1 AND a.state = 'pending' AND a.expires_at > $2
               AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = a.session_id
                           AND s.stage IN ('second_factor_pending', 'awaiting_approval'))
             ORDER BY a.created_at, a.id"
        ))
        .bind(uid)
        .bind(now)
        .fetch_all(&self.writer)
        .await?)
    }

    /// Decides a pending prompt of `uid`: `approved` or `rejected`. Only a prompt still
    /// pending, not run out, whose login still waits, and not the deciding session's own;
    /// `false` otherwise (of two deciders, one wins).
    pub async fn decide_approval(
        &self,
        id: &str,
        uid: &str,
        approved: bool,
        decided_by: &str,
        deciding_session: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE push_approvals SET state = $1, decided_at = $2, decided_by = $3
             WHERE id = $4 AND uid = $5 AND state = 'pending' AND expires_at > $2
               AND session_id <> $6
               AND EXISTS (SELECT 1 FROM sessions s WHERE s.id = push_approvals.session_id
                           AND s.stage IN ('second_factor_pending', 'awaiting_approval'))",
        )
        .bind(if approved { "approved" } else { "rejected" })
        .bind(now)
        .bind(decided_by)
        .bind(id)
        .bind(uid)
        .bind(deciding_session)
        .execute(&self.writer)
        .await?;
        let decided = done.rows_affected() == 1;
        if decided {
            self.approvals_changed(uid).await;
        }
        Ok(decided)
    }

    /// Takes the session's approved prompt for its login: `true` once, for one caller.
    pub async fn use_approval(&self, session_id: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE push_approvals SET state = 'used'
             WHERE session_id = $1 AND state = 'approved' AND decided_at + $2 > $3",
        )
        .bind(session_id)
        .bind(APPROVED_GRACE_SECS)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A refusal the session's login has not been told of: `rejected` or `expired`.
    pub async fn untold_refusal(&self, session_id: &str, now: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT CASE WHEN state = 'rejected' THEN 'rejected' ELSE 'expired' END
             FROM push_approvals
             WHERE session_id = $1 AND (state IN ('rejected', 'expired')
                                        OR (state = 'pending' AND expires_at <= $2))
             LIMIT 1",
        )
        .bind(session_id)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?)
    }

    /// Tells the session's login that its prompt was refused or ran out: what it is told
    /// (`rejected` before `expired`), once; `None` when there is nothing to tell. Every
    /// refusal not yet told is told at once (a login has one prompt open at a time, but
    /// an earlier refusal may still be untold when the next prompt is refused).
    pub async fn settle_refusal(&self, session_id: &str, now: i64) -> StoreResult<Option<String>> {
        self.expire_open_approvals(session_id, now).await?;
        let told: Vec<(String, String)> = sqlx::query_as(
            "UPDATE push_approvals SET state = CASE state WHEN 'rejected' THEN 'refused'
                                                          ELSE 'expired_told' END
             WHERE session_id = $1 AND state IN ('rejected', 'expired')
             RETURNING uid, state",
        )
        .bind(session_id)
        .fetch_all(&self.writer)
        .await?;
        let Some((uid, _)) = told.first() else {
            return Ok(None);
        };
        self.approvals_changed(uid).await;
        let rejected = told.iter().any(|(_, state)| state == "refused");
        Ok(Some(if rejected { "rejected" } else { "expired" }.into()))
    }

    /// Closes the session's open prompts: its login went on another way.
    pub async fn cancel_approvals_of_session(&self, session_id: &str) -> StoreResult<()> {
        let uid: Option<String> = sqlx::query_scalar(
            "UPDATE push_approvals SET state = 'cancelled'
             WHERE session_id = $1 AND state IN ('pending', 'approved') RETURNING uid",
        )
        .bind(session_id)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(uid) = uid {
            self.approvals_changed(&uid).await;
        }
        Ok(())
    }

    /// When the user's prompts since `since` were refused or ran out (fatigue), newest
    /// first: a pending prompt past its expiry counts as run out.
    pub async fn refused_approvals_since(
        &self,
        uid: &str,
        since: i64,
        now: i64,
    ) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT CASE WHEN state = 'pending' THEN expires_at ELSE decided_at END AS at
             FROM push_approvals
             WHERE uid = $1 AND (
                 (state IN ('rejected', 'refused', 'expired', 'expired_told') AND decided_at > $2)
                 OR (state = 'pending' AND expires_at <= $3 AND expires_at > $2))
             ORDER BY at DESC",
        )
        .bind(uid)
        .bind(since)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many of the user's prompts wait for a decision now.
    pub async fn open_approvals_count(&self, uid: &str, now: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM push_approvals
             WHERE uid = $1 AND state = 'pending' AND expires_at > $2",
        )
        .bind(uid)
        .bind(now)
        .fetch_one(&self.writer)
        .await?)
    }

    /// Ways `uid` has to approve a prompt other than from `session_id`: the other
    /// sessions fully signed in with two factors, the two-factor app passwords, and the
    /// browsers subscribed to Web Push (a notification brings them to the prompt).
    pub async fn push_approvers(&self, uid: &str, session_id: &str, now: i64) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM sessions
                     WHERE uid = $1 AND id <> $2 AND stage = 'authenticated'
                       AND factors >= 2 AND expires_at > $3)
                  + (SELECT COUNT(*) FROM app_passwords WHERE uid = $1 AND factors >= 2)
                  + (SELECT COUNT(*) FROM push_subscriptions WHERE uid = $1)",
        )
        .bind(uid)
        .bind(session_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Deletes prompts created before `before` (they only served the fatigue window).
    pub async fn prune_approvals(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM push_approvals WHERE created_at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes every prompt of a user (the provider removed or reset).
    pub async fn delete_approvals_of(&self, uid: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM push_approvals WHERE uid = $1")
            .bind(uid)
            .execute(&self.writer)
            .await?;
        self.approvals_changed(uid).await;
        Ok(())
    }
}
