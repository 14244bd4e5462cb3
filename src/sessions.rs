//! Browser sessions: random tokens handed out in a cookie, stored only as keyed hashes.
//! A session carries its login `Stage`; the token changes at every stage change.

use serde::Serialize;

use crate::config::SessionConfig;
use crate::crypto::{Purpose, ServerKey, random_token};
use crate::store::{Rotation, SessionRow, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: String,
    pub uid: String,
    pub stage: Stage,
    pub remember: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// Whether a second factor was passed in this session (forward-auth `two_factor`).
    pub second_factor: bool,
    /// When the user last proved who they are here (see [`Session::recently_proved`]).
    pub auth_at: i64,
}

impl Session {
    /// A stored row with an unknown stage is not a session anybody can use.
    fn from_row(r: SessionRow) -> Option<Self> {
        Some(Self {
            stage: Stage::parse(&r.stage)?,
            id: r.id,
            uid: r.uid,
            remember: r.remember != 0,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
            second_factor: r.factors >= 2,
            auth_at: r.auth_at,
        })
    }

    /// Whether the user proved who they are here within `window_secs`: removing a factor,
    /// new backup codes, a new app password or a password change ask for that, so that a
    /// browser left unlocked (or a stolen cookie) cannot quietly take over the account.
    pub fn recently_proved(&self, now: i64, window_secs: i64) -> bool {
        now - self.auth_at <= window_secs
    }
}

/// Where a session stands in the login flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Password passed; a second-factor challenge must be passed next.
    SecondFactorPending,
    /// Password passed; 2FA is enforced and the user has no factor: set one up first.
    SetupRequired,
    /// A challenge was begun that something else must settle (an approval on another
    /// device): the login waits, and goes on when it is approved, or back to the
    /// challenge when it is refused or expires.
    AwaitingApproval,
    /// Fully logged in.
    Authenticated,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SecondFactorPending => "second_factor_pending",
            Stage::SetupRequired => "setup_required",
            Stage::AwaitingApproval => "awaiting_approval",
            Stage::Authenticated => "authenticated",
        }
    }

    /// Parses a stored stage. An unknown value is never treated as authenticated.
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "second_factor_pending" => Some(Stage::SecondFactorPending),
            "setup_required" => Some(Stage::SetupRequired),
            "awaiting_approval" => Some(Stage::AwaitingApproval),
            "authenticated" => Some(Stage::Authenticated),
            _ => None,
        }
    }
}

/// Where a request comes from, recorded on the session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
    /// The raw device cookie, if the browser sent one (see `throttle::device`).
    pub device_cookie: Option<String>,
}

// Here rather than in `audit`, so that the audit trail depends on nothing above it.
impl crate::audit::Actor {
    /// A web or API client, known (`uid`) or not (empty).
    pub fn client(uid: &str, client: &ClientInfo) -> Self {
        Self {
            uid: uid.to_string(),
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        }
    }
}

/// Touching `last_seen_at` on every request would be a write per request.
const TOUCH_INTERVAL_SECS: i64 = 60;

#[derive(Clone)]
pub struct Sessions {
    store: Store,
    key: ServerKey,
    config: SessionConfig,
}

impl Sessions {
    pub fn new(store: Store, key: ServerKey, config: SessionConfig) -> Self {
        Self { store, key, config }
    }

    /// The stored (keyed) hash of a session token: also the forward-auth cache's key.
    pub fn hash(&self, token: &str) -> String {
        self.key.hash_token(Purpose::SessionToken, token)
    }

    fn expiry(&self, stage: Stage, remember: bool, now: i64) -> i64 {
        match (stage, remember) {
            (Stage::Authenticated, true) => now + self.config.remember_days * 86_400,
            (Stage::Authenticated, false) => now + self.config.lifetime_minutes * 60,
            _ => now + self.config.pending_minutes * 60,
        }
    }

    /// Starts a session at `stage`; returns the token for the cookie. `second_factor`:
    /// the sign-in that starts it already proved two factors (a passwordless sign-in).
    /// `InvalidCredentials` when the user was disabled or deleted in the meantime.
    pub async fn start(
        &self,
        uid: &str,
        stage: Stage,
        remember: bool,
        second_factor: bool,
        client: &ClientInfo,
        now: i64,
    ) -> Result<(String, Session), crate::error::AppError> {
        let token = random_token();
        let row = SessionRow {
            id: uuid::Uuid::new_v4().to_string(),
            token_hash: self.hash(&token),
            uid: uid.to_string(),
            stage: stage.as_str().to_string(),
            remember: i64::from(remember),
            created_at: now,
            last_seen_at: now,
            expires_at: self.expiry(stage, remember, now),
            ip: truncate(&client.ip, 64),
            user_agent: truncate(&client.user_agent, 512),
            factors: if second_factor { 2 } else { 1 },
            auth_at: now,
        };
        if !self.store.insert_session(&row).await? {
            // Disabled or deleted since its password was checked.
            return Err(crate::error::AppError::InvalidCredentials);
        }
        // Bounded per user: the longest idle sessions end first (this one was just seen).
        let ended = self
            .store
            .trim_sessions_of(uid, &row.id, self.config.max_per_user)
            .await?;
        if ended > 0 {
            tracing::info!(uid, ended, "sessions over the per-user limit ended");
        }
        let session = Session::from_row(row).unwrap_or_else(|| unreachable!());
        Ok((token, session))
    }

    /// The live session for a cookie token, if any.
    pub async fn find(&self, token: &str, now: i64) -> StoreResult<Option<Session>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let Some(row) = self
            .store
            .session_by_token_hash(&self.hash(token), now)
            .await?
        else {
            return Ok(None);
        };
        let Some(session) = Session::from_row(row) else {
            return Ok(None);
        };
        if now - session.last_seen_at >= TOUCH_INTERVAL_SECS {
            self.store.touch_session(&session.id, now).await?;
        }
        Ok(Some(session))
    }

    /// Moves the session to `stage` under a new token (no fixation); `None` when someone
    /// else rotated it first. `second_factor`: a second factor was just passed.
    pub async fn advance(
        &self,
        session: &Session,
        old_token: &str,
        stage: Stage,
        second_factor: bool,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let token = random_token();
        let new_hash = self.hash(&token);
        let to = Rotation {
            new_hash: &new_hash,
            stage: stage.as_str(),
            factors: if second_factor || session.second_factor {
                2
            } else {
                1
            },
            expires_at: self.expiry(stage, session.remember, now),
        };
        let rotated = self
            .store
            .rotate_session(&session.id, &self.hash(old_token), &to, now)
            .await?;
        Ok(rotated.then_some(token))
    }

    /// The user proved who they are again here (password or passkey): the moment that
    /// [`Session::recently_proved`] measures from.
    pub async fn reauthenticated(&self, session: &Session, now: i64) -> StoreResult<()> {
        self.store.session_proved(&session.id, 1, Some(now)).await
    }

    /// A second factor was confirmed while enrolling it, which counts like passing one;
    /// it does not renew the sign-in time (possession of a new factor is not the password).
    pub async fn second_factor_proved(&self, session: &Session) -> StoreResult<()> {
        self.store.session_proved(&session.id, 2, None).await
    }

    /// Ends every session of the user except `keep`.
    pub async fn end_others(&self, uid: &str, keep: &Session) -> StoreResult<u64> {
        self.store.delete_other_sessions(uid, &keep.id).await
    }

    pub async fn end(&self, session: &Session) -> StoreResult<()> {
        self.store.delete_session(&session.id).await
    }

    /// Ends one of the user's sessions; `NotFound` when it is not theirs or is gone.
    pub async fn revoke(&self, uid: &str, id: &str) -> Result<(), crate::error::AppError> {
        if self.store.delete_session_of(uid, id).await? {
            Ok(())
        } else {
            Err(crate::error::AppError::NotFound(format!("session {id}")))
        }
    }

    pub async fn end_all(&self, uid: &str) -> StoreResult<u64> {
        self.store.delete_sessions_of(uid).await
    }

    pub async fn list(&self, uid: &str, now: i64) -> StoreResult<Vec<Session>> {
        Ok(self
            .store
            .sessions_of(uid, now)
            .await?
            .into_iter()
            .filter_map(Session::from_row)
            .collect())
    }

    /// Page `page` (from 1) of `per_page` of the user's live sessions, and how many
    /// there are in all.
    pub async fn page(
        &self,
        uid: &str,
        now: i64,
        page: i64,
        per_page: i64,
    ) -> StoreResult<(Vec<Session>, i64)> {
        let offset = (page.max(1) - 1).saturating_mul(per_page);
        let (rows, total) = self.store.sessions_page(uid, now, offset, per_page).await?;
        Ok((
            rows.into_iter().filter_map(Session::from_row).collect(),
            total,
        ))
    }

    /// Max-Age for the cookie: remembered sessions persist, others die with the browser.
    pub fn cookie_max_age(&self, session_remember: bool, stage: Stage) -> Option<i64> {
        (session_remember && stage == Stage::Authenticated)
            .then_some(self.config.remember_days * 86_400)
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
