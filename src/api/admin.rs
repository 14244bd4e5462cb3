//! Admin endpoints: enforcement, providers system-wide, and a user's 2FA state and reset.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::Actor;
use crate::clock::now;
use crate::enforcement::Enforcement;
use crate::error::AppError;
use crate::http::{AdminChange, AdminSession, ApiJson, Client};
use crate::openapi::errors;
use crate::providers::{ProviderId, UserStatus};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enforcement, set_enforcement))
        .routes(routes!(providers))
        .routes(routes!(set_provider))
        .routes(routes!(user_status))
        .routes(routes!(reset_provider))
}

errors!(AdminErrors: Unauthorized, Forbidden, Unavailable);

/// Who must use two-factor authentication.
#[utoipa::path(get, path = "/api/v1/admin/enforcement", tag = "admin",
    security(("session" = [])),
    responses((status = 200, description = "The enforcement setting", body = Enforcement),
        AdminErrors))]
async fn enforcement(
    State(state): State<AppState>,
    _: AdminSession,
) -> Result<Json<Enforcement>, AppError> {
    Ok(Json(state.two_factor.enforcement().await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnforcementRequest {
    pub enforced: bool,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub excluded: Vec<String>,
}

errors!(SetEnforcementErrors: BadRequest, Unauthorized, Forbidden, ReauthRequired, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable);

/// Sets who must use two-factor authentication: everyone (no `groups`) or members of
/// `groups`, except members of `excluded` who are not also in `groups`.
#[utoipa::path(put, path = "/api/v1/admin/enforcement", tag = "admin",
    security(("session" = [])),
    request_body = EnforcementRequest,
    responses((status = 200, description = "The new setting", body = Enforcement),
        SetEnforcementErrors))]
async fn set_enforcement(
    State(state): State<AppState>,
    Client(client): Client,
    AdminChange(admin): AdminChange,
    ApiJson(req): ApiJson<EnforcementRequest>,
) -> Result<Json<Enforcement>, AppError> {
    let actor = Actor::client(&admin.uid, &client);
    let e = crate::actions::set_enforcement(
        &state,
        &actor,
        req.enforced,
        req.groups,
        req.excluded,
        now(),
    )
    .await?;
    Ok(Json(e))
}

#[derive(Serialize, ToSchema)]
pub struct ProviderInfo {
    pub id: &'static str,
    pub enabled: bool,
    pub always_on: bool,
    /// Why this server's configuration leaves the provider unavailable (then `enabled`
    /// is false whatever the admin chose): WebAuthn on an IP address. Null when usable.
    pub unavailable: Option<String>,
}

/// The two-factor providers and whether each is enabled system-wide.
#[utoipa::path(get, path = "/api/v1/admin/providers", tag = "admin",
    security(("session" = [])),
    responses((status = 200, description = "The providers", body = Vec<ProviderInfo>),
        AdminErrors))]
async fn providers(
    State(state): State<AppState>,
    _: AdminSession,
) -> Result<Json<Vec<ProviderInfo>>, AppError> {
    let mut out = Vec::new();
    for p in state.two_factor.registered() {
        out.push(ProviderInfo {
            id: p.id().as_str(),
            enabled: state.two_factor.system_enabled(p.id()).await?,
            always_on: !p.can_disable_system_wide(),
            unavailable: p.unavailable(),
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderRequest {
    pub enabled: bool,
}

errors!(SetProviderErrors: BadRequest, Unauthorized, Forbidden, ReauthRequired, NotFound, CrossSite,
    PayloadTooLarge, UnsupportedMediaType, Unavailable);

/// Enables or disables a provider system-wide (backup codes cannot be disabled).
#[utoipa::path(put, path = "/api/v1/admin/providers/{id}", tag = "admin",
    security(("session" = [])),
    params(("id" = String, Path, description = "The provider's id (`totp`, `backup_codes`…)")),
    request_body = ProviderRequest,
    responses((status = 204, description = "Changed"), SetProviderErrors))]
async fn set_provider(
    State(state): State<AppState>,
    Client(client): Client,
    AdminChange(admin): AdminChange,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ProviderRequest>,
) -> Result<StatusCode, AppError> {
    let actor = Actor::client(&admin.uid, &client);
    state
        .two_factor
        .set_system_enabled(&id, req.enabled, &actor, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(UserStatusErrors: Unauthorized, Forbidden, NotFound, Unavailable);

/// A user's two-factor state.
#[utoipa::path(get, path = "/api/v1/admin/users/{uid}/2fa", tag = "admin",
    security(("session" = [])),
    params(("uid" = String, Path, description = "The user")),
    responses((status = 200, description = "The user's 2FA state", body = UserStatus),
        UserStatusErrors))]
async fn user_status(
    State(state): State<AppState>,
    _: AdminSession,
    Path(uid): Path<String>,
) -> Result<Json<UserStatus>, AppError> {
    let user = state.accounts.get(&uid).await?;
    Ok(Json(state.two_factor.status(&user.uid).await?))
}

errors!(ResetErrors: BadRequest, Unauthorized, Forbidden, ReauthRequired, NotFound, CrossSite,
    UnsupportedMediaType, Unavailable);

/// The admin reset for a lost device: like `twofactorauth disable`.
///
/// The factor is removed and every session of the user ends.
#[utoipa::path(delete, path = "/api/v1/admin/users/{uid}/2fa/{provider}", tag = "admin",
    security(("session" = [])),
    params(("uid" = String, Path, description = "The user"),
        ("provider" = ProviderId, Path, description = "The provider to reset")),
    responses((status = 204, description = "Reset"), ResetErrors))]
async fn reset_provider(
    State(state): State<AppState>,
    Client(client): Client,
    AdminChange(admin): AdminChange,
    Path((uid, provider)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let provider = ProviderId::named(&provider)?;
    let actor = Actor::client(&admin.uid, &client);
    crate::actions::reset_factor(&state, &actor, &uid, provider, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
