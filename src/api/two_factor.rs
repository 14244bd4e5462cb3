//! Second-factor endpoints: the login challenge, and the user's own 2FA settings.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, MaybeSession, with_login_cookies};
use crate::login::Stage;
use crate::providers::{ProviderId, UserStatus};
use crate::sessions::Session;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login/providers", get(login_providers))
        .route("/api/v1/login/challenge", post(login_challenge))
        .route("/api/v1/2fa", get(status))
        .route("/api/v1/2fa/totp", post(totp_begin).delete(totp_remove))
        .route("/api/v1/2fa/totp/verify", post(totp_verify))
        .route("/api/v1/2fa/totp/qr.png", get(totp_qr_png))
        .route("/api/v1/2fa/backup-codes", post(backup_codes_generate))
}

fn parse_provider(s: &str) -> Result<ProviderId, AppError> {
    ProviderId::parse(s).ok_or_else(|| AppError::BadRequest(format!("unknown provider {s:?}")))
}

/// A session in the middle of the login flow, or fully in: enrollment is allowed in both
/// (setup required happens before the session is authenticated).
fn enrolling(current: Option<(Session, String)>) -> Result<(Session, String), AppError> {
    match current {
        Some((s, t)) if matches!(s.stage, Stage::Authenticated | Stage::SetupRequired) => {
            Ok((s, t))
        }
        _ => Err(AppError::Unauthorized),
    }
}

#[derive(Serialize)]
pub struct LoginProviders {
    pub stage: Stage,
    /// Usable now, last used first.
    pub providers: Vec<ProviderId>,
    /// "Could not load at least one of your enabled two-factor methods."
    pub some_unavailable: bool,
}

async fn login_providers(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<Json<LoginProviders>, AppError> {
    let (s, _) = current.ok_or(AppError::Unauthorized)?;
    let status = state.two_factor.status(&s.uid).await?;
    Ok(Json(LoginProviders {
        stage: s.stage,
        providers: status.usable(),
        some_unavailable: status.some_unavailable(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub provider: String,
    pub code: String,
}

#[derive(Serialize)]
pub struct StageResponse {
    pub uid: String,
    pub stage: Stage,
}

async fn login_challenge(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<impl IntoResponse, AppError> {
    let provider = parse_provider(&req.provider)?;
    let (session, token) = current.ok_or(AppError::Unauthorized)?;
    let (token, session) =
        crate::login::challenge_step(&state, &session, &token, provider, &req.code, &client)
            .await?;
    let jar = with_login_cookies(&state, jar, token, &session);
    Ok((
        jar,
        Json(StageResponse {
            uid: session.uid,
            stage: session.stage,
        }),
    ))
}

async fn status(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<UserStatus>, AppError> {
    Ok(Json(state.two_factor.status(&s.uid).await?))
}

async fn totp_begin(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    let (s, _) = enrolling(current)?;
    let enrollment = state.two_factor.totp.begin(&s.uid, now()).await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

/// Activates TOTP with a first code; a session in "setup required" becomes authenticated.
async fn totp_verify(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (s, token) = enrolling(current)?;
    crate::actions::confirm_totp(&state, &s, &client, &req.code, now()).await?;
    if s.stage == Stage::SetupRequired {
        let (token, session) = crate::login::setup_step(&state, &s, &token).await?;
        let jar = with_login_cookies(&state, jar, token, &session);
        return Ok((
            jar,
            Json(StageResponse {
                uid: session.uid,
                stage: session.stage,
            }),
        ));
    }
    Ok((
        jar,
        Json(StageResponse {
            uid: s.uid,
            stage: s.stage,
        }),
    ))
}

/// Turns TOTP off (needs a recent sign-in); every other session of the user ends.
async fn totp_remove(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
) -> Result<StatusCode, AppError> {
    crate::actions::remove_factor(&state, &s, &client, ProviderId::Totp, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The pending enrollment's QR code as a PNG download.
async fn totp_qr_png(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    let (s, _) = enrolling(current)?;
    let pending = state
        .two_factor
        .totp
        .pending(&s.uid)
        .await?
        .ok_or_else(|| AppError::NotFound("TOTP setup in progress".into()))?;
    let png = crate::providers::totp::qr::png(&pending.uri).map_err(AppError::Internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"twofold-totp.png\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    ))
}

#[derive(Serialize)]
pub struct BackupCodesResponse {
    /// Shown this once; only their hashes are kept.
    pub codes: Vec<String>,
}

async fn backup_codes_generate(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    let codes = crate::actions::regenerate_backup_codes(&state, &s, &client, now()).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(BackupCodesResponse { codes }),
    ))
}
