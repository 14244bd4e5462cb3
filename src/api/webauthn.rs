//! Security keys and passkeys (WebAuthn): add (two halves), list, rename, remove; the
//! first half of a login challenge for any provider that has one; passwordless sign-in
//! with a passkey.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{patch, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::actions::CredentialKind;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, MaybeSession};
use crate::providers::webauthn::KeyInfo;
use crate::providers::{Attempt, ProviderId};
use crate::sessions::{Session, Stage};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login/challenge/begin", post(challenge_begin))
        .route("/api/v1/2fa/webauthn/register", post(register_begin))
        .route(
            "/api/v1/2fa/webauthn/register/finish",
            post(register_finish),
        )
        .route("/api/v1/2fa/webauthn/keys", axum::routing::get(keys))
        .route(
            "/api/v1/2fa/passkeys/register",
            post(passkey_register_begin),
        )
        .route(
            "/api/v1/2fa/passkeys/register/finish",
            post(passkey_register_finish),
        )
        .route("/api/v1/login/passkey/begin", post(passkey_login_begin))
        .route("/api/v1/login/passkey", post(passkey_login))
        .route(
            "/api/v1/2fa/webauthn/keys/{id}",
            patch(rename).delete(remove),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeginRequest {
    pub provider: String,
}

/// The first half of a challenge: for `webauthn`, the request options for
/// `navigator.credentials.get`; the answer then goes to `POST /api/v1/login/challenge`
/// as `code` (the credential as JSON). `{"options": null}` for code providers.
async fn challenge_begin(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<BeginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (session, _) = current
        .filter(|(s, _)| {
            matches!(
                s.stage,
                Stage::SecondFactorPending | Stage::AwaitingApproval
            )
        })
        .ok_or(AppError::Unauthorized)?;
    let provider = ProviderId::parse(&req.provider)
        .ok_or_else(|| AppError::BadRequest(format!("unknown provider {:?}", req.provider)))?;
    let attempt = Attempt {
        uid: &session.uid,
        session_id: &session.id,
        now: now(),
    };
    let options = state.two_factor.begin_challenge(&attempt, provider).await?;
    Ok(Json(serde_json::json!({ "options": options })))
}

/// A session that may register a key: signed in, or in "setup required" (the key is
/// then how the user sets up 2FA inside the login flow).
fn enrolling(current: Option<(Session, String)>) -> Result<(Session, String), AppError> {
    match current {
        Some((s, t)) if matches!(s.stage, Stage::Authenticated | Stage::SetupRequired) => {
            Ok((s, t))
        }
        _ => Err(AppError::Unauthorized),
    }
}

/// The first half of adding a key: the creation options.
async fn register_begin(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    let (s, _) = enrolling(current)?;
    let options = crate::actions::begin_credential_registration(
        &state,
        &s,
        CredentialKind::SecurityKey,
        now(),
    )
    .await?;
    Ok(Json(serde_json::json!({ "options": options })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    pub name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as JSON.
    pub credential: serde_json::Value,
}

/// The key, and in "setup required" the login goes on: a new session cookie, stage
/// `authenticated`.
async fn register_finish(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (s, token) = enrolling(current)?;
    let key = crate::actions::finish_credential_registration(
        &state,
        &s,
        &client,
        CredentialKind::SecurityKey,
        &req.name,
        &req.credential,
        now(),
    )
    .await?;
    let mut stage = s.stage;
    let jar = if s.stage == Stage::SetupRequired {
        let (token, session) = crate::login::setup_step(&state, &s, &token).await?;
        stage = session.stage;
        crate::http::with_login_cookies(&state, jar, token, &session)
    } else {
        jar
    };
    Ok((
        StatusCode::CREATED,
        jar,
        Json(serde_json::json!({ "key": key, "stage": stage })),
    ))
}

/// Security keys and passkeys (`kind` tells which).
async fn keys(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<Vec<KeyInfo>>, AppError> {
    Ok(Json(state.two_factor.webauthn.credentials(&s.uid).await?))
}

async fn passkey_register_begin(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    let options =
        crate::actions::begin_credential_registration(&state, &s, CredentialKind::Passkey, now())
            .await?;
    Ok(Json(serde_json::json!({ "options": options })))
}

async fn passkey_register_finish(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let key = crate::actions::finish_credential_registration(
        &state,
        &s,
        &client,
        CredentialKind::Passkey,
        &req.name,
        &req.credential,
        now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// The cookie naming a passwordless sign-in in progress (its ceremony).
const PASSKEY_COOKIE: &str = "twofold_passkey";

fn ceremony_key(state: &AppState, token: &str) -> String {
    state
        .key
        .hash_token(crate::crypto::Purpose::PasskeyCeremony, token)
}

/// Starts a passwordless sign-in: request options for any passkey of this site (no
/// name asked, so nothing tells which accounts exist).
async fn passkey_login_begin(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
) -> Result<impl IntoResponse, AppError> {
    let token = crate::crypto::random_token();
    let options =
        crate::login::passkey_begin(&state, &ceremony_key(&state, &token), &client).await?;
    let cookie = Cookie::build((PASSKEY_COOKIE, token))
        .path("/api/v1/login/passkey")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .max_age(cookie::time::Duration::minutes(2))
        .build();
    Ok((
        jar.add(cookie),
        Json(serde_json::json!({ "options": options })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeyLoginRequest {
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    pub credential: serde_json::Value,
    #[serde(default)]
    pub remember: bool,
}

/// Finishes a passwordless sign-in: a fully authenticated session with two factors.
async fn passkey_login(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(previous): MaybeSession,
    ApiJson(req): ApiJson<PasskeyLoginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let token = jar
        .get(PASSKEY_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or_else(|| AppError::BadRequest("no passkey sign-in in progress".into()))?;
    let (new_token, session) = crate::login::passkey_step(
        &state,
        &ceremony_key(&state, &token),
        &req.credential.to_string(),
        req.remember,
        &client,
    )
    .await?;
    if let Some((old, _)) = previous {
        state.sessions.end(&old).await?;
    }
    let jar = jar.remove(Cookie::build(PASSKEY_COOKIE).path("/api/v1/login/passkey"));
    let jar = crate::http::with_login_cookies(&state, jar, new_token, &session);
    Ok((
        jar,
        Json(serde_json::json!({"uid": session.uid, "stage": session.stage})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub name: String,
}

async fn rename(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> Result<StatusCode, AppError> {
    state
        .two_factor
        .webauthn
        .rename(&s.uid, &id, &req.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    crate::actions::remove_key(&state, &s, &client, &id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
