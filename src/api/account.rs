//! The signed-in user's own account: re-authentication, password change, and the
//! security activity (the audit trail), plus the admins' view of the whole trail.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::Revoked;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{AdminSession, ApiJson, AuthSession, Client};
use crate::openapi::errors;
use crate::state::AppState;
use crate::store::{AuditQuery, AuditRow};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reauth))
        .routes(routes!(change_password))
        .routes(routes!(check_password))
        .routes(routes!(activity))
        .routes(routes!(admin_activity))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthRequest {
    pub password: String,
}

errors!(ReauthErrors: BadRequest, Unauthorized, InvalidCredentials, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, TooManyAttempts, Busy, Unavailable, Internal);

/// Confirms the password again, for the changes that need a recent sign-in.
#[utoipa::path(post, path = "/api/v1/reauth", tag = "account",
    security(("session" = [])),
    request_body = ReauthRequest,
    responses((status = 204, description = "Confirmed"), ReauthErrors))]
async fn reauth(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<ReauthRequest>,
) -> Result<StatusCode, AppError> {
    crate::actions::reauthenticate(&state, &s, &client, &req.password, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    pub current_password: String,
    pub new_password: String,
    /// Also remove the passkeys (they sign in without the password), in the same step.
    #[serde(default)]
    pub remove_passkeys: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// What the change ended: other sessions, app passwords, pending client logins.
    pub revoked: Revoked,
    /// Passkeys removed with the change (`remove_passkeys`).
    pub passkeys_removed: u64,
    /// The names of the passkeys that still sign in without the password.
    pub passkeys_remaining: Vec<String>,
}

errors!(PasswordErrors: BadRequest, WeakPassword, Unauthorized, InvalidCredentials, CrossSite,
    PayloadTooLarge, UnsupportedMediaType, TooManyAttempts, Busy, Unavailable, Internal);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordCheckRequest {
    pub password: String,
    /// The language of `message`: `en` (default) or `fr`.
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordVerdict {
    /// Whether the policy would accept it as the new password (local checks only).
    pub acceptable: bool,
    /// Why not, stable: the `reason` of a `weak_password` error.
    pub reason: Option<&'static str>,
    /// Why not, for people, in `lang`.
    pub message: Option<String>,
}

errors!(PasswordCheckErrors: Unauthorized, CrossSite, PayloadTooLarge, UnsupportedMediaType,
    Unavailable, Internal);

/// What the password policy says of a candidate new password for the signed-in user,
/// without setting it (the live hint of the password pages). The online breach check,
/// if configured, runs only when the password is set.
#[utoipa::path(post, path = "/api/v1/password/check", tag = "account",
    security(("session" = [])),
    request_body = PasswordCheckRequest,
    responses((status = 200, description = "The verdict", body = PasswordVerdict),
        PasswordCheckErrors))]
async fn check_password(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<PasswordCheckRequest>,
) -> Result<Json<PasswordVerdict>, AppError> {
    let weakness = crate::actions::judge_new_password(&state, &s, &req.password).await?;
    let french = req.lang.as_deref() == Some("fr");
    Ok(Json(PasswordVerdict {
        acceptable: weakness.is_none(),
        reason: weakness.map(|w| w.code()),
        message: weakness.map(|w| w.message(french)),
    }))
}

/// Changes the password, given the current one. Every other session, app password and
/// pending client login ends.
#[utoipa::path(post, path = "/api/v1/password", tag = "account",
    security(("session" = [])),
    request_body = PasswordRequest,
    responses((status = 200, description = "Changed; what it ended", body = PasswordChanged),
        PasswordErrors))]
async fn change_password(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<impl IntoResponse, AppError> {
    let done = crate::actions::change_password(
        &state,
        &s,
        &client,
        &req.current_password,
        req.new_password,
        req.remove_passkeys,
        now(),
    )
    .await?;
    Ok(Json(PasswordChanged {
        revoked: done.revoked,
        passkeys_removed: done.passkeys_removed,
        passkeys_remaining: done.passkeys_left,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// Unix seconds; events from then on.
    #[serde(default)]
    pub since: i64,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Admins only: one user's events.
    pub user: Option<String>,
}

fn limit(q: &ActivityQuery) -> Result<i64, AppError> {
    match q.limit.unwrap_or(100) {
        n @ 1..=1000 => Ok(n),
        _ => Err(AppError::BadRequest(
            "limit must be between 1 and 1000".into(),
        )),
    }
}

errors!(ActivityErrors: BadRequest, Unauthorized, Unavailable);

/// The signed-in user's own security events, newest first.
#[utoipa::path(get, path = "/api/v1/activity", tag = "account",
    security(("session" = [])),
    params(ActivityQuery),
    responses((status = 200, description = "Security events", body = Vec<AuditRow>),
        ActivityErrors))]
async fn activity(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
    Query(q): Query<ActivityQuery>,
) -> Result<impl IntoResponse, AppError> {
    if q.user.is_some() {
        return Err(AppError::BadRequest(
            "user is for /api/v1/admin/activity".into(),
        ));
    }
    let rows: Vec<AuditRow> = state
        .audit
        .list(&AuditQuery {
            user: Some(s.uid),
            since: q.since,
            limit: limit(&q)?,
        })
        .await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(rows)))
}

errors!(AdminActivityErrors: BadRequest, Unauthorized, Forbidden, Unavailable);

/// Every security event, or one user's (admins only).
#[utoipa::path(get, path = "/api/v1/admin/activity", tag = "admin",
    security(("session" = [])),
    params(ActivityQuery),
    responses((status = 200, description = "Security events, newest first", body = Vec<AuditRow>),
        AdminActivityErrors))]
async fn admin_activity(
    State(state): State<AppState>,
    _: AdminSession,
    Query(q): Query<ActivityQuery>,
) -> Result<impl IntoResponse, AppError> {
    let rows = state
        .audit
        .list(&AuditQuery {
            user: q.user.clone(),
            since: q.since,
            limit: limit(&q)?,
        })
        .await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(rows)))
}
