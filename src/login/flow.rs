//! The steps of the login flow, shared by the API and the pages. Each step checks what
//! it must, then moves the session through the state machine under a new token.

use crate::audit::{self, Actor};
use crate::clock::now;
use crate::error::AppError;
use crate::metrics::{LoginMethod, LoginResult};
use crate::providers::{Outcome, ProviderId};
use crate::sessions::{ClientInfo, Session};
use crate::state::AppState;

use super::{Event, Stage, after_password, next};

/// Checks the password and starts a session at the stage the user's second-factor
/// status asks for. Returns the new session token. Counted once in the metrics, by how
/// it ended, whichever adapter asked.
pub async fn password_step(
    state: &AppState,
    uid: &str,
    password: &str,
    remember: bool,
    client: &ClientInfo,
) -> Result<(String, Session), AppError> {
    let result = password_login(state, uid, password, remember, client).await;
    count_login(LoginMethod::Password, &result);
    result
}

/// The metrics' verdict on a sign-in attempt.
fn count_login(method: LoginMethod, result: &Result<(String, Session), AppError>) {
    let counted = match result {
        Ok((_, session)) => match session.stage {
            Stage::Authenticated => LoginResult::Succeeded,
            Stage::SetupRequired => LoginResult::SetupRequired,
            Stage::SecondFactorPending | Stage::AwaitingApproval => {
                LoginResult::SecondFactorRequired
            }
        },
        Err(AppError::InvalidCredentials) => LoginResult::WrongCredentials,
        Err(AppError::TooManyAttempts(_)) => LoginResult::Throttled,
        Err(AppError::Busy) => LoginResult::Busy,
        Err(AppError::Unavailable(_) | AppError::Internal(_)) => LoginResult::Error,
        Err(_) => LoginResult::Rejected,
    };
    crate::metrics::login(method, counted);
}

async fn password_login(
    state: &AppState,
    uid: &str,
    password: &str,
    remember: bool,
    client: &ClientInfo,
) -> Result<(String, Session), AppError> {
    let user = check_password(state, uid, password, client).await?;
    state.accounts.note_password_strength(&user, password).await;
    let status = state.two_factor.status(&user.uid).await?;
    let stage = after_password(status.need());
    let (token, session) = state
        .sessions
        .start(&user.uid, stage, remember, false, client, now())
        .await?;
    state
        .audit
        .record(
            audit::Event::LoginSucceeded,
            &Actor::client(&user.uid, client),
            &user.uid,
            stage.as_str(),
            now(),
        )
        .await?;
    tracing::info!(uid = %user.uid, stage = stage.as_str(), "password accepted");
    Ok((token, session))
}

/// The password check shared by the login form, the API and HTTP Basic. The attempt is
/// reserved in the throttle before the password is hashed: per account name (or, for a
/// browser that signed in as this user before, per device) and per IP. An unknown name is
/// throttled like a real one, so the answer tells nothing.
pub async fn check_password(
    state: &AppState,
    uid: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<crate::accounts::User, AppError> {
    // Too many checks already waiting: refuse before any database work, so that a storm
    // of logins costs little more than its HTTP parsing.
    if !state.accounts.can_check_password() {
        return Err(AppError::Busy);
    }
    let device = client
        .device_cookie
        .as_deref()
        .and_then(|v| crate::throttle::device::device_for(&state.key, v, uid));
    // The audit trail names the account (as stored) or, for a name nobody has, its
    // keyed hash: also when a bucket fills, never the name as typed.
    let target = audit_target(state, uid).await?;
    let mut buckets = crate::throttle::buckets("password", uid, &client.ip, device.as_deref());
    for b in &mut buckets {
        b.target.clone_from(&target);
    }
    let throttle = &state.throttle;
    let actor = Actor::client("", client);
    let reservation = throttle.reserve(buckets, &actor, now()).await?;
    match state.accounts.authenticate(uid, password).await {
        Ok(user) => {
            throttle.succeeded(reservation).await?;
            Ok(user)
        }
        Err(AppError::InvalidCredentials) => {
            reservation.failed();
            // A name nobody has (uids hold no ':'): one counted row per address and hour.
            if target.starts_with("unknown:") {
                let address = crate::throttle::address_key(&client.ip);
                state
                    .audit
                    .unknown_login_failed(&actor, &address, "invalid_credentials", now())
                    .await?;
            } else {
                state
                    .audit
                    .record(
                        audit::Event::LoginFailed,
                        &actor,
                        &target,
                        "invalid_credentials",
                        now(),
                    )
                    .await?;
            }
            Err(AppError::InvalidCredentials)
        }
        // Not a verdict on the password (e.g. too busy to hash it now): give it back.
        Err(e @ AppError::Busy) => {
            throttle.cancelled(reservation).await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

/// How the audit trail names the account of a failed login: the user, or for a name
/// nobody has `unknown:` and a keyed hash's first 12 hex digits (the same typo shows the
/// same tag; people type their password into the name box, and admins read the trail).
async fn audit_target(state: &AppState, typed: &str) -> Result<String, AppError> {
    match state.store.user(typed).await {
        Ok(Some(user)) => return Ok(user.uid),
        // A name the database cannot even hold (a NUL) is nobody's.
        Ok(None) | Err(crate::store::StoreError::InvalidValue) => {}
        Err(e) => return Err(e.into()),
    }
    let hash = state
        .key
        .hash_token(crate::crypto::Purpose::UnknownName, typed);
    Ok(format!("unknown:{}", &hash[..hash.len().min(12)]))
}

/// Answers the second-factor challenge of a half-logged-in session.
pub async fn challenge_step(
    state: &AppState,
    session: &Session,
    token: &str,
    provider: ProviderId,
    code: &str,
    client: &ClientInfo,
    app: &str,
) -> Result<(String, Session), AppError> {
    let stage = next(session.stage, Event::ChallengePassed).map_err(|_| {
        AppError::BadRequest("this session is not waiting for a second factor".into())
    })?;
    let outcome = state
        .two_factor
        .verify_challenge(
            &crate::providers::Attempt {
                uid: &session.uid,
                session_id: &session.id,
                now: now(),
                ip: &client.ip,
                user_agent: &client.user_agent,
                app,
            },
            provider,
            code,
            client,
        )
        .await?;
    match outcome {
        Outcome::Pending => match next(session.stage, Event::ApprovalPending) {
            // The login now waits for the approval (under a new token, like every step).
            Ok(waiting) => advance(state, session, token, waiting, false).await,
            // Already waiting: nothing changes until it is settled.
            Err(_) => Ok((token.to_string(), session.clone())),
        },
        // A right round of several: the login stays where it is; the client begins the
        // next round (the provider's `begin` knows which).
        Outcome::AnotherRound => Ok((token.to_string(), session.clone())),
        Outcome::Passed => advance(state, session, token, stage, true).await,
        // `verify_challenge` turns a failure into an error; never a pass.
        Outcome::Failed => Err(AppError::InvalidCode),
    }
}

/// Finishes "setup required": the user has just activated a factor.
pub async fn setup_step(
    state: &AppState,
    session: &Session,
    token: &str,
) -> Result<(String, Session), AppError> {
    let stage = next(session.stage, Event::FactorSetUp).map_err(|_| {
        AppError::BadRequest("this session is not waiting for a factor to be set up".into())
    })?;
    let status = state.two_factor.status(&session.uid).await?;
    if !status.has_active_factor() {
        return Err(AppError::BadRequest(
            "no two-factor method is active yet".into(),
        ));
    }
    advance(state, session, token, stage, true).await
}

/// Moves the session to `stage` under a new token; `second_factor`: a second factor
/// was just passed (not when the login only starts waiting for an approval).
async fn advance(
    state: &AppState,
    session: &Session,
    token: &str,
    stage: Stage,
    second_factor: bool,
) -> Result<(String, Session), AppError> {
    let now = now();
    let new_token = state
        .sessions
        .advance(session, token, stage, second_factor, now)
        .await?
        // Someone else used this session's token meanwhile: do not let both through.
        .ok_or(AppError::Unauthorized)?;
    let session = state
        .sessions
        .find(&new_token, now)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok((new_token, session))
}

/// Starts a passwordless sign-in with `provider`: options for any of its sign-in
/// credentials on this site, the state kept under `ceremony`. Each start stores a row: a
/// client may not make them endlessly.
pub async fn sign_in_begin(
    state: &AppState,
    provider: ProviderId,
    ceremony: &str,
    client: &ClientInfo,
) -> Result<serde_json::Value, AppError> {
    let now = now();
    let p = state.two_factor.sign_in_provider(provider).await?;
    state
        .throttle
        .count_use(
            "passwordless-begin",
            client,
            crate::throttle::SIGN_IN_STARTS,
            now,
        )
        .await?;
    p.begin_sign_in(ceremony, now).await
}

/// Passwordless sign-in (the provider requires user verification, so it counts as two
/// factors): the session starts fully authenticated. `ceremony` is the key of the
/// sign-in in progress (from its cookie). Throttled per client address: a wrong answer
/// costs like a wrong password, and the answer never says whether the credential
/// exists. Counted once in the metrics.
pub async fn sign_in_step(
    state: &AppState,
    provider: ProviderId,
    ceremony: &str,
    answer: &str,
    remember: bool,
    client: &ClientInfo,
) -> Result<(String, Session), AppError> {
    let result = passwordless_login(state, provider, ceremony, answer, remember, client).await;
    count_login(LoginMethod::Passwordless, &result);
    result
}

async fn passwordless_login(
    state: &AppState,
    provider: ProviderId,
    ceremony: &str,
    answer: &str,
    remember: bool,
    client: &ClientInfo,
) -> Result<(String, Session), AppError> {
    let now = now();
    let p = state.two_factor.sign_in_provider(provider).await?;
    let throttle = &state.throttle;
    let actor = Actor::client("", client);
    let buckets = crate::throttle::ip_bucket("passwordless", &client.ip, crate::throttle::CLIENT);
    let reservation = throttle.reserve(buckets, &actor, now).await?;
    let uid = p.finish_sign_in(ceremony, answer, now).await?;
    let user = match uid {
        Some(uid) => match state.accounts.get(&uid).await {
            Ok(u) if u.enabled => Some(u),
            Ok(_) | Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let detail = format!("passwordless:{}", provider.as_str());
    let Some(user) = user else {
        reservation.failed();
        state
            .audit
            .record(audit::Event::LoginFailed, &actor, "", &detail, now)
            .await?;
        return Err(AppError::InvalidCredentials);
    };
    throttle.succeeded(reservation).await?;
    let (token, session) = state
        .sessions
        .start(&user.uid, Stage::Authenticated, remember, true, client, now)
        .await?;
    state
        .audit
        .record(
            audit::Event::LoginSucceeded,
            &Actor::client(&user.uid, client),
            &user.uid,
            &detail,
            now,
        )
        .await?;
    Ok((token, session))
}
