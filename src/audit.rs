//! The audit trail: every security event in one table, with who did it, to whom, from
//! where and when. Events are written by the function that performs the action (the
//! password check, the challenge, the factor change…), never by a handler, so no adapter
//! can forget one; a failed audit write fails the action (fail closed). Optionally each
//! event is also printed on stdout as one JSON line, for a log shipper.
//!
//! No event ever holds a secret: details are provider ids, reasons and names.

use serde::Serialize;

use crate::error::AppError;
use crate::store::{AuditQuery, AuditRow, Store};

/// What happened. The stored name is [`Event::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    LoginSucceeded,
    LoginFailed,
    SecondFactorPassed,
    SecondFactorFailed,
    BackupCodeUsed,
    BackupCodesGenerated,
    FactorAdded,
    FactorRemoved,
    /// One of a user's named credentials got a new name.
    FactorRenamed,
    AdminReset,
    AppPasswordCreated,
    AppPasswordFirstUsed,
    AppPasswordRevoked,
    PasswordChanged,
    SessionsEnded,
    Reauthenticated,
    EnforcementChanged,
    ProviderChanged,
    ThrottleTriggered,
    ClientLoginGranted,
    /// A push prompt was sent to the user's other devices.
    PushRequested,
    PushApproved,
    /// Rejected by an approver (or a wrong number picked).
    PushRejected,
    /// A push prompt ran out with no decision.
    PushExpired,
    /// Too many prompts rejected or run out: push paused for the user.
    PushPaused,
    /// A browser was allowed to receive Web Push messages (detail: the subscription id).
    PushSubscribed,
    /// The user revoked a Web Push subscription.
    PushSubscriptionRevoked,
    /// A push service answered 404/410: the subscription was deleted.
    PushSubscriptionExpired,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::SecondFactorPassed => "second_factor_passed",
            Event::SecondFactorFailed => "second_factor_failed",
            Event::BackupCodeUsed => "backup_code_used",
            Event::BackupCodesGenerated => "backup_codes_generated",
            Event::FactorAdded => "factor_added",
            Event::FactorRemoved => "factor_removed",
            Event::FactorRenamed => "factor_renamed",
            Event::AdminReset => "admin_reset",
            Event::AppPasswordCreated => "app_password_created",
            Event::AppPasswordFirstUsed => "app_password_first_used",
            Event::AppPasswordRevoked => "app_password_revoked",
            Event::PasswordChanged => "password_changed",
            Event::SessionsEnded => "sessions_ended",
            Event::Reauthenticated => "reauthenticated",
            Event::EnforcementChanged => "enforcement_changed",
            Event::ProviderChanged => "provider_changed",
            Event::ThrottleTriggered => "throttle_triggered",
            Event::ClientLoginGranted => "client_login_granted",
            Event::PushRequested => "push_requested",
            Event::PushApproved => "push_approved",
            Event::PushRejected => "push_rejected",
            Event::PushExpired => "push_expired",
            Event::PushPaused => "push_paused",
            Event::PushSubscribed => "push_subscribed",
            Event::PushSubscriptionRevoked => "push_subscription_revoked",
            Event::PushSubscriptionExpired => "push_subscription_expired",
        }
    }
}

/// Who acts, and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// A uid; `cli` for the command line; empty when the client is not known yet.
    pub uid: String,
    pub ip: String,
    pub user_agent: String,
}

impl Actor {
    /// The operator at the command line.
    pub fn cli() -> Actor {
        Actor {
            uid: "cli".into(),
            ..Actor::default()
        }
    }
}

#[derive(Clone)]
pub struct Audit {
    store: Store,
    stdout: bool,
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Audit {
    pub fn new(store: Store, stdout: bool) -> Self {
        Self { store, stdout }
    }

    /// Records `event` by `actor` on `target`'s account.
    pub async fn record(
        &self,
        event: Event,
        actor: &Actor,
        target: &str,
        detail: &str,
        now: i64,
    ) -> Result<(), AppError> {
        let row = AuditRow {
            id: uuid::Uuid::new_v4().to_string(),
            at: now,
            event: event.as_str().to_string(),
            actor: cut(&actor.uid, 64),
            // Names typed at the login form are cut like uids and stripped of control
            // characters, so that the trail stays readable and storable.
            target: cut(&target.replace(|c: char| c.is_control(), ""), 64),
            ip: cut(&actor.ip, 64),
            user_agent: cut(&actor.user_agent, 256),
            detail: cut(detail, 200),
            repeats: 1,
        };
        self.store.insert_audit(&row).await?;
        if self.stdout
            && let Ok(line) = serde_json::to_string(&serde_json::json!({ "audit": row }))
        {
            println!("{line}");
        }
        Ok(())
    }

    /// A failed login for a user name nobody has: counted in one row per client address
    /// (its throttle key: IPv6 by prefix) and hour, target `unknown`, instead of a row
    /// each, so that strangers trying names cannot grow the trail at request rate.
    pub async fn unknown_login_failed(
        &self,
        actor: &Actor,
        address: &str,
        detail: &str,
        now: i64,
    ) -> Result<(), AppError> {
        let hour = now - now.rem_euclid(3600);
        let row = AuditRow {
            id: cut(&format!("agg:login_failed:{hour}:{address}"), 120),
            at: now,
            event: Event::LoginFailed.as_str().to_string(),
            actor: String::new(),
            target: "unknown".to_string(),
            ip: cut(address, 64),
            user_agent: cut(&actor.user_agent, 256),
            detail: cut(detail, 200),
            repeats: 1,
        };
        self.store.count_audit(&row).await?;
        if self.stdout
            && let Ok(line) = serde_json::to_string(&serde_json::json!({ "audit": row }))
        {
            println!("{line}");
        }
        Ok(())
    }

    /// The events of `q`; a user filter names an account in any case (`DAVE` lists
    /// `Dave`'s events), or anything else as written (`unknown:…`, a deleted uid).
    pub async fn list(&self, q: &AuditQuery) -> Result<Vec<AuditRow>, AppError> {
        if let Some(user) = &q.user
            && let Ok(Some(row)) = self.store.user(user).await
            && row.uid != *user
        {
            let mut q = q.clone();
            q.user = Some(row.uid);
            return Ok(self.store.audit(&q).await?);
        }
        Ok(self.store.audit(q).await?)
    }
}
