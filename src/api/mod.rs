//! The JSON API under `/api/v1`. Handlers validate input first, then call the domain.

mod account;
mod admin;
mod approvals;
mod credentials;
mod devices;
mod login_flow;
mod passwordless;
mod push;
mod two_factor;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::http::{ApiJson, Client, MaybeSession, session_removal};
use crate::login::Stage;
use crate::openapi::errors;
use crate::state::AppState;

/// Every route of the API with its documentation: each handler's `#[utoipa::path]` gives
/// the path and methods it is routed under (`crate::openapi`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(session))
        .routes(routes!(me))
        .merge(account::router())
        .merge(two_factor::router())
        .merge(credentials::router())
        .merge(passwordless::router())
        .merge(admin::router())
        .merge(devices::router())
        .merge(login_flow::router())
        .merge(approvals::router())
        .merge(push::router())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub uid: String,
    pub password: String,
    #[serde(default)]
    pub remember: bool,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub uid: String,
    pub stage: Stage,
}

errors!(LoginErrors: BadRequest, InvalidCredentials, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, TooManyAttempts, Busy, Unavailable, Internal);

/// Password step. Answers the same for an unknown user as for a wrong password.
///
/// Sets a new session cookie (any earlier session of this browser ends). `stage` tells
/// what comes next: `authenticated`, or a second factor (`second_factor_pending`), or
/// setting one up (`setup_required`).
#[utoipa::path(post, path = "/api/v1/login", tag = "session",
    request_body = LoginRequest,
    responses((status = 200, description = "Password accepted; the session cookie is set",
        body = LoginResponse), LoginErrors))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(previous): MaybeSession,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (token, session) =
        crate::login::password_step(&state, &req.uid, &req.password, req.remember, &client).await?;
    // A fresh session every time: any earlier one from this browser ends here.
    if let Some((old, _)) = previous {
        state.sessions.end(&old).await?;
    }
    let jar = crate::http::with_login_cookies(&state, jar, token, &session);
    Ok((
        jar,
        Json(LoginResponse {
            uid: session.uid,
            stage: session.stage,
        }),
    ))
}

errors!(LogoutErrors: CrossSite, UnsupportedMediaType, Unavailable);

/// Ends the current session, if any, and removes its cookie.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session",
    responses((status = 204, description = "Logged out"), LogoutErrors))]
async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    if let Some((session, _)) = current {
        state.sessions.end(&session).await?;
    }
    Ok((jar.remove(session_removal(&state)), StatusCode::NO_CONTENT))
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub uid: String,
    pub stage: Stage,
    pub remember: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

errors!(SessionErrors: Unauthorized, Unavailable);

/// The current session at any stage: tells a client what the login flow needs next.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    security(("session" = [])),
    responses((status = 200, description = "The session", body = SessionResponse), SessionErrors))]
async fn session(MaybeSession(current): MaybeSession) -> Result<Json<SessionResponse>, AppError> {
    let (s, _) = current.ok_or(AppError::Unauthorized)?;
    Ok(Json(SessionResponse {
        uid: s.uid,
        stage: s.stage,
        remember: s.remember,
        created_at: s.created_at,
        expires_at: s.expires_at,
    }))
}

errors!(MeErrors: Unauthorized, InvalidCredentials, AppPasswordRequired, TooManyAttempts,
    Busy, Unavailable, Internal);

/// The logged-in user: a fully authenticated session, or HTTP Basic with an app password
/// (or the main password of an account without 2FA).
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    security(("session" = []), ("basic" = [])),
    responses((status = 200, description = "The signed-in user", body = crate::accounts::User),
        MeErrors))]
async fn me(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    MaybeSession(current): MaybeSession,
) -> Result<Json<crate::accounts::User>, AppError> {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::app_passwords::parse_basic);
    if let Some((uid, pw)) = basic {
        let p = crate::actions::authenticate_basic(&state, &uid, &pw, &client, crate::clock::now())
            .await?;
        return Ok(Json(p.user));
    }
    let (s, _) = current.ok_or(AppError::Unauthorized)?;
    if s.stage != Stage::Authenticated {
        return Err(AppError::Unauthorized);
    }
    Ok(Json(state.accounts.get(&s.uid).await?))
}
