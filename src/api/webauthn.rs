//! Security keys (WebAuthn): add (two halves), list, rename, remove; and the first half
//! of a login challenge for any provider that has one.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, MaybeSession};
use crate::providers::webauthn::KeyInfo;
use crate::providers::{Attempt, ProviderId};
use crate::sessions::Stage;
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
        .filter(|(s, _)| s.stage == Stage::SecondFactorPending)
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

/// The first half of adding a key: the creation options.
async fn register_begin(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    let options = crate::actions::begin_key_registration(&state, &s, now()).await?;
    Ok(Json(serde_json::json!({ "options": options })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    pub name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as JSON.
    pub credential: serde_json::Value,
}

async fn register_finish(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let key = crate::actions::finish_key_registration(
        &state,
        &s,
        &client,
        &req.name,
        &req.credential,
        now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

async fn keys(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<Vec<KeyInfo>>, AppError> {
    Ok(Json(state.two_factor.webauthn.keys(&s.uid).await?))
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
