//! App passwords and connected devices: list, create, revoke, log out everywhere.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app_passwords::AppPassword;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, session_removal};
use crate::openapi::errors;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_app_passwords, create_app_password))
        .routes(routes!(revoke_app_password))
        .routes(routes!(devices))
        .routes(routes!(revoke_session))
        .routes(routes!(logout_everywhere))
}

errors!(ListErrors: Unauthorized, Unavailable);
errors!(RevokeErrors: Unauthorized, NotFound, CrossSite, UnsupportedMediaType, Unavailable);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAppPassword {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedAppPassword {
    /// Shown this once.
    pub password: String,
    pub login_name: String,
    #[serde(flatten)]
    pub app_password: AppPassword,
}

errors!(CreateErrors: BadRequest, Unauthorized, ReauthRequired, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable);

/// Creates an app password (needs a recent sign-in). The password is shown this once.
#[utoipa::path(post, path = "/api/v1/app-passwords", tag = "devices",
    security(("session" = [])),
    request_body = NewAppPassword,
    responses((status = 201, description = "Created", body = CreatedAppPassword), CreateErrors))]
async fn create_app_password(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<NewAppPassword>,
) -> Result<impl IntoResponse, AppError> {
    let (password, app_password) =
        crate::actions::create_app_password(&state, &s, &client, &req.name, now()).await?;
    tracing::info!(uid = %s.uid, name = %app_password.name, "app password created");
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(CreatedAppPassword {
            password,
            login_name: s.uid,
            app_password,
        }),
    ))
}

/// The user's app passwords, with their last use.
#[utoipa::path(get, path = "/api/v1/app-passwords", tag = "devices",
    security(("session" = [])),
    responses((status = 200, description = "App passwords", body = Vec<AppPassword>), ListErrors))]
async fn list_app_passwords(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<Vec<AppPassword>>, AppError> {
    Ok(Json(state.app_passwords.list(&s.uid).await?))
}

/// Revokes one app password.
#[utoipa::path(delete, path = "/api/v1/app-passwords/{id}", tag = "devices",
    security(("session" = [])),
    params(("id" = String, Path, description = "The app password's id")),
    responses((status = 204, description = "Revoked"), RevokeErrors))]
async fn revoke_app_password(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    crate::actions::revoke_app_password(&state, &s, &client, &id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub current: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Serialize, ToSchema)]
pub struct Devices {
    /// One page of the sessions, oldest first.
    pub sessions: Vec<SessionInfo>,
    /// How many live sessions there are in all (`page` × `per_page` past it: the end).
    pub sessions_total: i64,
    pub page: i64,
    pub per_page: i64,
    pub app_passwords: Vec<AppPassword>,
}

/// Which page of the sessions.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DevicesQuery {
    /// From 1 (default 1).
    pub page: Option<i64>,
    /// Sessions per page (default 50, at most 200).
    pub per_page: Option<i64>,
}

errors!(DevicesErrors: BadRequest, Unauthorized, Unavailable);

/// Connected browsers (sessions, a page at a time) and devices (app passwords).
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    security(("session" = [])),
    params(DevicesQuery),
    responses((status = 200, description = "Sessions and app passwords", body = Devices),
        DevicesErrors))]
async fn devices(
    State(state): State<AppState>,
    AuthSession(current, _): AuthSession,
    Query(q): Query<DevicesQuery>,
) -> Result<Json<Devices>, AppError> {
    let page = match q.page.unwrap_or(1) {
        n @ 1..=1_000_000 => n,
        _ => return Err(AppError::BadRequest("page must be 1 or more".into())),
    };
    let per_page = match q.per_page.unwrap_or(50) {
        n @ 1..=200 => n,
        _ => return Err(AppError::BadRequest("per_page must be 1 to 200".into())),
    };
    let (sessions, sessions_total) = state
        .sessions
        .page(&current.uid, now(), page, per_page)
        .await?;
    let sessions = sessions
        .into_iter()
        .map(|s| SessionInfo {
            current: s.id == current.id,
            id: s.id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    Ok(Json(Devices {
        sessions,
        sessions_total,
        page,
        per_page,
        app_passwords: state.app_passwords.list(&current.uid).await?,
    }))
}

/// Ends one of the user's sessions.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "devices",
    security(("session" = [])),
    params(("id" = String, Path, description = "The session's id, from `/api/v1/devices`")),
    responses((status = 204, description = "Ended"), RevokeErrors))]
async fn revoke_session(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    state.sessions.revoke(&s.uid, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(EverywhereErrors: Unauthorized, CrossSite, UnsupportedMediaType, Unavailable);

/// What logging out everywhere ended, and what it leaves.
#[derive(Serialize, ToSchema)]
pub struct LoggedOutEverywhere {
    pub sessions: u64,
    pub app_passwords: u64,
    /// The names of the passkeys that still sign in without the password (removed one
    /// by one on the security page).
    pub passkeys_remaining: Vec<String>,
}

/// Ends every session of the user, this one included, and revokes every app password.
#[utoipa::path(post, path = "/api/v1/logout-everywhere", tag = "devices",
    security(("session" = [])),
    responses((status = 200, description = "Logged out everywhere; what remains",
        body = LoggedOutEverywhere), EverywhereErrors))]
async fn logout_everywhere(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    let (sessions, app_passwords) =
        crate::actions::log_out_everywhere(&state, &s.uid, &client, now()).await?;
    let passkeys_remaining = crate::actions::passkey_names(&state, &s.uid).await?;
    Ok((
        jar.remove(session_removal(&state)),
        Json(LoggedOutEverywhere {
            sessions,
            app_passwords,
            passkeys_remaining,
        }),
    ))
}
