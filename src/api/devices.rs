//! App passwords and connected devices: list, create, revoke, log out everywhere.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};

use crate::app_passwords::AppPassword;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, session_removal};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/app-passwords",
            get(list_app_passwords).post(create_app_password),
        )
        .route("/api/v1/app-passwords/{id}", delete(revoke_app_password))
        .route("/api/v1/devices", get(devices))
        .route("/api/v1/sessions/{id}", delete(revoke_session))
        .route("/api/v1/logout-everywhere", post(logout_everywhere))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAppPassword {
    pub name: String,
}

#[derive(Serialize)]
pub struct CreatedAppPassword {
    /// Shown this once.
    pub password: String,
    pub login_name: String,
    #[serde(flatten)]
    pub app_password: AppPassword,
}

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

async fn list_app_passwords(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<Vec<AppPassword>>, AppError> {
    Ok(Json(state.app_passwords.list(&s.uid).await?))
}

async fn revoke_app_password(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    crate::actions::revoke_app_password(&state, &s, &client, &id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub current: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Serialize)]
pub struct Devices {
    pub sessions: Vec<SessionInfo>,
    pub app_passwords: Vec<AppPassword>,
}

/// Connected browsers (sessions) and devices (app passwords).
async fn devices(
    State(state): State<AppState>,
    AuthSession(current, _): AuthSession,
) -> Result<Json<Devices>, AppError> {
    let sessions = state
        .sessions
        .list(&current.uid, now())
        .await?
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
        app_passwords: state.app_passwords.list(&current.uid).await?,
    }))
}

async fn revoke_session(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    state.sessions.revoke(&s.uid, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the user, this one included, and revokes every app password.
async fn logout_everywhere(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    crate::actions::log_out_everywhere(&state, &s.uid, &client, now()).await?;
    Ok((jar.remove(session_removal(&state)), StatusCode::NO_CONTENT))
}
