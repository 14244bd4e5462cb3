//! Push: approve a sign-in on another device. After the password, the login opens one
//! prompt (a two-digit number and an expiry) and waits; every other session of the user
//! that holds two factors, and every two-factor app password, sees it live and may
//! approve it by picking the number the login screen shows among three, or reject it. A
//! wrong pick rejects. Too many prompts rejected or run out pause push for the user
//! (MFA fatigue). Waiting holds no thread: waiters sleep on [`hub::Hub`], woken by the
//! store's change feed (and `NOTIFY` from other instances).

pub mod config;
pub mod hub;
mod texts;
mod views;

use async_trait::async_trait;
use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;

use super::{Attempt, Enrolled, Enrollment, EnrollmentAnswer, Holder, Outcome, Provider, View};
use super::{ProviderId, in_lang};
use crate::audit::{Actor, Audit, Event};
use crate::error::AppError;
use crate::store::{ApprovalRow, NewApproval, Store};
use config::PushConfig;

pub struct Push {
    store: Store,
    audit: Audit,
    config: PushConfig,
    hub: hub::Hub,
    /// Operating-system notifications of new prompts (Web Push), once the app state
    /// hands them over; none in tools and tests that build the providers alone.
    notifier: std::sync::OnceLock<std::sync::Arc<dyn crate::webpush::PushNotifier>>,
}

/// What the waiting login shows: the number to find on the other device.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Prompt {
    pub approval_id: String,
    pub number: i64,
    pub expires_at: i64,
}

/// A prompt as an approver sees it: what they need to judge it, and three numbers to
/// pick from (never which one is right).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Approval {
    pub id: String,
    pub choices: Vec<i64>,
    /// The address the sign-in comes from.
    pub ip: String,
    /// Browser and system, e.g. "Firefox on Windows".
    pub device: String,
    /// The host of the app the sign-in is for; empty when it is for twofold itself.
    pub app: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Where a waiting login stands.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// No prompt open.
    None,
    Pending,
    /// Approved: the next `POST /api/v1/login/challenge {"provider":"push"}` passes.
    Approved,
    Rejected,
    Expired,
}

/// Who decides a prompt.
#[derive(Debug, Clone, Copy)]
pub enum Approver<'a> {
    /// A browser session: its id, and whether it passed a second factor.
    Session { id: &'a str, second_factor: bool },
    /// A two-factor app password (its id).
    AppPassword { id: &'a str, second_factor: bool },
}

impl Approver<'_> {
    fn second_factor(&self) -> bool {
        match self {
            Approver::Session { second_factor, .. }
            | Approver::AppPassword { second_factor, .. } => *second_factor,
        }
    }

    fn session_id(&self) -> &str {
        match self {
            Approver::Session { id, .. } => id,
            Approver::AppPassword { .. } => "",
        }
    }

    fn describe(&self) -> String {
        match self {
            Approver::Session { id, .. } => format!("session:{}", &id[..id.len().min(8)]),
            Approver::AppPassword { id, .. } => format!("app_password:{}", &id[..id.len().min(8)]),
        }
    }
}

/// An approver's answer: approve (with the number picked, which must be the one the
/// login shows), or reject.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub approve: bool,
    pub number: Option<i64>,
}

/// What a decision came to.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decided {
    Approved,
    Rejected,
    /// The number picked was not the one shown: the prompt is rejected.
    WrongNumber,
}

/// Builds the provider (the registry's entry point).
pub fn build(ctx: &super::Context<'_>) -> anyhow::Result<std::sync::Arc<dyn Provider>> {
    let own: PushConfig = ctx.config.section(config::SECTION)?;
    Ok(std::sync::Arc::new(Push::new(
        ctx.store.clone(),
        ctx.audit.clone(),
        own,
    )))
}

/// The `[push]` section.
pub fn config_section() -> Option<crate::config::Section> {
    Some(config::section())
}

/// "Firefox on Windows", from a user agent; the raw string's start when it says nothing.
pub fn describe_device(user_agent: &str) -> String {
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(r) if r.name != "UNKNOWN" && r.os != "UNKNOWN" => format!("{} on {}", r.name, r.os),
        Some(r) if r.name != "UNKNOWN" => r.name.to_string(),
        _ => user_agent.chars().take(60).collect(),
    }
}

fn choices_of(row: &ApprovalRow) -> Vec<i64> {
    row.choices
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

impl From<&ApprovalRow> for Approval {
    fn from(row: &ApprovalRow) -> Self {
        Self {
            id: row.id.clone(),
            choices: choices_of(row),
            ip: row.ip.clone(),
            device: describe_device(&row.user_agent),
            app: row.app.clone(),
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// A number from 10 to 99 and two others, all different, in random order.
fn new_numbers() -> (i64, Vec<i64>) {
    let mut rng = rand::rng();
    let mut choices: Vec<i64> = Vec::with_capacity(3);
    while choices.len() < 3 {
        let n = rng.random_range(10..=99);
        if !choices.contains(&n) {
            choices.push(n);
        }
    }
    let number = choices[0];
    choices.shuffle(&mut rng);
    (number, choices)
}

impl Push {
    pub fn new(store: Store, audit: Audit, config: PushConfig) -> Self {
        let hub = hub::Hub::new(store.changes());
        Self {
            store,
            audit,
            config,
            hub,
            notifier: std::sync::OnceLock::new(),
        }
    }

    /// Where new prompts are announced to the user's subscribed browsers (set once).
    pub fn set_notifier(&self, notifier: std::sync::Arc<dyn crate::webpush::PushNotifier>) {
        let _ = self.notifier.set(notifier);
    }

    pub fn hub(&self) -> &hub::Hub {
        &self.hub
    }

    /// When the user's prompts inside the fatigue window were refused or ran out, newest
    /// first.
    async fn refusals(&self, uid: &str, now: i64) -> Result<Vec<i64>, AppError> {
        let since = now - self.config.pause_window_secs;
        Ok(self.store.refused_approvals_since(uid, since, now).await?)
    }

    /// Paused while `pause_after` refusals are inside the window: until the oldest of the
    /// last `pause_after` leaves it. `refused`: [`Push::refusals`].
    fn pause_end(&self, refused: &[i64], now: i64) -> Option<i64> {
        let n = usize::try_from(self.config.pause_after).unwrap_or(usize::MAX);
        refused
            .get(n.saturating_sub(1))
            .map(|at| at + self.config.pause_window_secs)
            .filter(|until| *until > now)
    }

    /// Until when push is paused for the user (fatigue), if it is now.
    pub async fn paused_until(&self, uid: &str, now: i64) -> Result<Option<i64>, AppError> {
        Ok(self.pause_end(&self.refusals(uid, now).await?, now))
    }

    /// Opens the login attempt's prompt, or gives the one it has (a reload, a second
    /// begin): never a second one.
    pub async fn open(&self, attempt: &Attempt<'_>) -> Result<Prompt, AppError> {
        let now = attempt.now;
        if let Some(row) = self.store.open_approval_of(attempt.session_id, now).await? {
            return Ok(prompt(&row));
        }
        if let Some(until) = self.paused_until(attempt.uid, now).await? {
            return Err(AppError::TooManyAttempts(until - now));
        }
        if self.store.open_approvals_count(attempt.uid, now).await? >= self.config.max_open_per_user
        {
            return Err(AppError::TooManyAttempts(self.config.approval_ttl_secs));
        }
        let (number, choices) = new_numbers();
        let choices = choices
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let id = uuid::Uuid::new_v4().to_string();
        let (row, opened) = self
            .store
            .open_approval(&NewApproval {
                id: &id,
                uid: attempt.uid,
                session_id: attempt.session_id,
                number,
                choices: &choices,
                ip: cut(attempt.ip, 64),
                user_agent: cut(attempt.user_agent, 512),
                app: cut(attempt.app, 253),
                now,
                expires_at: now + self.config.approval_ttl_secs,
            })
            .await?;
        if opened {
            let actor = actor_of(attempt);
            self.audit
                .record(Event::PushRequested, &actor, attempt.uid, &row.app, now)
                .await?;
            if let Some(n) = self.notifier.get() {
                n.notify_user(attempt.uid, notification(&row));
            }
        }
        Ok(prompt(&row))
    }

    /// Where the attempt's prompt stands (for the waiting page), without changing it, and
    /// when a pending one runs out (the waiter must look again then).
    pub async fn waiting(
        &self,
        session_id: &str,
        now: i64,
    ) -> Result<(Waiting, Option<i64>), AppError> {
        if let Some(row) = self.store.open_approval_of(session_id, now).await? {
            return Ok(if row.state == "approved" {
                (Waiting::Approved, None)
            } else {
                (Waiting::Pending, Some(row.expires_at))
            });
        }
        let told = match self.store.untold_refusal(session_id, now).await?.as_deref() {
            Some("rejected") => Waiting::Rejected,
            Some(_) => Waiting::Expired,
            None => Waiting::None,
        };
        Ok((told, None))
    }

    /// The attempt's open prompt, if any.
    pub async fn prompt_of(&self, session_id: &str, now: i64) -> Result<Option<Prompt>, AppError> {
        Ok(self
            .store
            .open_approval_of(session_id, now)
            .await?
            .filter(|r| r.state == "pending")
            .map(|r| prompt(&r)))
    }

    /// The prompts `uid` may decide from `viewer` (not the viewer's own login).
    pub async fn pending_for(
        &self,
        uid: &str,
        viewer_session: &str,
        now: i64,
    ) -> Result<Vec<Approval>, AppError> {
        Ok(self
            .store
            .pending_approvals_of(uid, now)
            .await?
            .iter()
            .filter(|r| r.session_id != viewer_session)
            .map(Approval::from)
            .collect())
    }

    /// Decides one of `uid`'s prompts.
    pub async fn decide(
        &self,
        uid: &str,
        approver: Approver<'_>,
        id: &str,
        decision: Decision,
        actor: &Actor,
        now: i64,
    ) -> Result<Decided, AppError> {
        let Decision { approve, number } = decision;
        if !approver.second_factor() {
            return Err(AppError::Forbidden);
        }
        let row = self
            .store
            .approval(id)
            .await?
            .filter(|r| r.uid == uid)
            .ok_or_else(|| AppError::NotFound(format!("approval {id}")))?;
        if row.session_id == approver.session_id() {
            return Err(AppError::Forbidden);
        }
        let decided = match (approve, number) {
            (true, Some(n)) if n == row.number => Decided::Approved,
            (true, Some(_)) => Decided::WrongNumber,
            (true, None) => {
                return Err(AppError::BadRequest(
                    "approve needs the number shown on the signing-in screen".into(),
                ));
            }
            (false, _) => Decided::Rejected,
        };
        let by = approver.describe();
        if !self
            .store
            .decide_approval(
                id,
                uid,
                decided == Decided::Approved,
                &by,
                approver.session_id(),
                now,
            )
            .await?
        {
            return Err(AppError::Conflict(
                "this sign-in request was already decided or has expired".into(),
            ));
        }
        let (event, detail) = match decided {
            Decided::Approved => (Event::PushApproved, by),
            Decided::Rejected => (Event::PushRejected, by),
            Decided::WrongNumber => (Event::PushRejected, format!("{by} wrong_number")),
        };
        self.audit.record(event, actor, uid, &detail, now).await?;
        if decided != Decided::Approved {
            self.note_pause(uid, actor, now).await?;
        }
        Ok(decided)
    }

    /// Audits the pause when the refusal just made is the one that starts it.
    async fn note_pause(&self, uid: &str, actor: &Actor, now: i64) -> Result<(), AppError> {
        let refused = self.refusals(uid, now).await?;
        if i64::try_from(refused.len()).unwrap_or(i64::MAX) == self.config.pause_after {
            let until = self.pause_end(&refused, now).unwrap_or(now);
            self.audit
                .record(
                    Event::PushPaused,
                    actor,
                    uid,
                    &format!("until={until}"),
                    now,
                )
                .await?;
        }
        Ok(())
    }

    /// Ways the user has to approve a prompt other than from `session_id`: other
    /// sessions holding two factors and two-factor app passwords.
    pub async fn approvers(&self, uid: &str, session_id: &str, now: i64) -> Result<i64, AppError> {
        Ok(self.store.push_approvers(uid, session_id, now).await?)
    }
}

/// The operating-system notification of a new prompt: what it is and where from; the
/// numbers are on the page it opens (the home page's banner), never in the message.
fn notification(row: &ApprovalRow) -> serde_json::Value {
    let mut body = format!("{} · {}", describe_device(&row.user_agent), row.ip);
    if !row.app.is_empty() {
        body.push_str(&format!(" · {}", row.app));
    }
    serde_json::json!({
        "title": "Sign-in request / Demande de connexion",
        "body": body,
        "url": "/",
        "tag": row.id,
    })
}

/// The login attempt's user and client, as the audit trail names them.
fn actor_of(attempt: &Attempt<'_>) -> Actor {
    Actor {
        uid: attempt.uid.to_string(),
        ip: attempt.ip.to_string(),
        user_agent: attempt.user_agent.to_string(),
    }
}

fn prompt(row: &ApprovalRow) -> Prompt {
    Prompt {
        approval_id: row.id.clone(),
        number: row.number,
        expires_at: row.expires_at,
    }
}

fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[async_trait]
impl Provider for Push {
    fn id(&self) -> ProviderId {
        ProviderId::Push
    }

    fn admin_can_disable(&self) -> bool {
        true
    }

    /// A user made to set up 2FA has no session with two factors to approve from.
    fn can_set_up_at_login(&self) -> bool {
        false
    }

    /// Turning push on proves nothing the session did not already prove.
    fn enrollment_proves_possession(&self) -> bool {
        false
    }

    async fn admin_enable(&self, uid: &str) -> Result<(), AppError> {
        let had = self
            .store
            .provider_states(uid)
            .await?
            .iter()
            .any(|r| r.provider == ProviderId::Push.as_str());
        if !had {
            return Err(AppError::BadRequest(format!(
                "{uid} never turned push on: the user must do it themselves"
            )));
        }
        self.store
            .set_provider_state(ProviderId::Push.as_str(), uid, true)
            .await?;
        Ok(())
    }

    async fn remove(&self, uid: &str) -> Result<(), AppError> {
        self.store.delete_approvals_of(uid).await?;
        self.store
            .delete_provider_state(ProviderId::Push.as_str(), uid)
            .await?;
        Ok(())
    }

    /// Push is answered within a login attempt only.
    async fn verify(&self, _uid: &str, _response: &str, _now: i64) -> Result<bool, AppError> {
        Ok(false)
    }

    /// What turning push on needs: another way to approve.
    async fn begin_enrollment(&self, e: &Enrollment<'_>) -> Result<serde_json::Value, AppError> {
        let approvers = self.approvers(e.uid, e.session_id, e.now).await?;
        Ok(serde_json::json!({ "approvers": approvers }))
    }

    /// Turns push on, if there is another way to approve than this session.
    async fn finish_enrollment(
        &self,
        e: &Enrollment<'_>,
        _answer: &EnrollmentAnswer<'_>,
    ) -> Result<Enrolled, AppError> {
        if self.approvers(e.uid, e.session_id, e.now).await? == 0 {
            return Err(AppError::Conflict(
                "no other device can approve sign-ins yet: sign in on another device with your second factor (or create a two-factor app password) first".into(),
            ));
        }
        self.store
            .set_provider_state(ProviderId::Push.as_str(), e.uid, true)
            .await?;
        Ok(Enrolled {
            detail: ProviderId::Push.as_str().into(),
            credential: None,
        })
    }

    async fn begin(&self, attempt: &Attempt<'_>) -> Result<Option<serde_json::Value>, AppError> {
        let p = self.open(attempt).await?;
        Ok(Some(serde_json::to_value(p).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("push prompt: {e}"))
        })?))
    }

    /// Passed once the prompt is approved (taken once); pending while it waits; failed
    /// once when it was rejected or ran out. With no prompt open, one is opened.
    async fn verify_in(&self, attempt: &Attempt<'_>, _response: &str) -> Result<Outcome, AppError> {
        let (session, now) = (attempt.session_id, attempt.now);
        if self.store.use_approval(session, now).await? {
            return Ok(Outcome::Passed);
        }
        if self.store.open_approval_of(session, now).await?.is_some() {
            return Ok(Outcome::Pending);
        }
        if let Some(refusal) = self.store.settle_refusal(session, now).await? {
            if refusal == "expired" {
                let actor = actor_of(attempt);
                self.audit
                    .record(Event::PushExpired, &actor, attempt.uid, "", now)
                    .await?;
                self.note_pause(attempt.uid, &actor, now).await?;
            }
            return Ok(Outcome::Failed);
        }
        self.open(attempt).await?;
        Ok(Outcome::Pending)
    }

    /// The login went on another way: its prompt is no one's to approve any more.
    async fn attempt_finished(&self, attempt: &Attempt<'_>) -> Result<(), AppError> {
        self.store
            .cancel_approvals_of_session(attempt.session_id)
            .await?;
        Ok(())
    }

    fn display_name(&self, lang: &str) -> &'static str {
        texts::for_lang(lang).name
    }

    fn script(&self) -> Option<&'static str> {
        Some(include_str!("push.js"))
    }

    async fn challenge_view(
        &self,
        view: &View<'_>,
        attempt: &Attempt<'_>,
    ) -> Result<Option<String>, AppError> {
        let prompt = self.prompt_of(attempt.session_id, attempt.now).await?;
        let paused = match prompt {
            Some(_) => None,
            None => self.paused_until(attempt.uid, attempt.now).await?,
        };
        views::challenge(view, prompt.as_ref(), paused).map(Some)
    }

    async fn settings_view(
        &self,
        view: &View<'_>,
        who: &Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        let active = self
            .store
            .provider_states(who.uid)
            .await?
            .iter()
            .any(|r| r.provider == ProviderId::Push.as_str() && r.enabled != 0);
        let approvers = self.approvers(who.uid, who.session_id, who.now).await?;
        let paused = self.paused_until(who.uid, who.now).await?;
        views::settings(view, active, approvers, paused).map(Some)
    }
}

/// The provider's texts in `lang`.
pub fn texts_for(lang: &str) -> &'static texts::Texts {
    in_lang(lang, &texts::EN, &texts::FR)
}
