//! Admin endpoints: enforcement, providers system-wide, and a user's 2FA state and reset.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::clock::now;
use crate::enforcement::{Enforcement, group_names};
use crate::error::AppError;
use crate::http::{AdminSession, ApiJson, Client};
use crate::providers::UserStatus;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/enforcement",
            get(enforcement).put(set_enforcement),
        )
        .route("/api/v1/admin/providers", get(providers))
        .route("/api/v1/admin/providers/{id}", put(set_provider))
        .route("/api/v1/admin/users/{uid}/2fa", get(user_status))
        .route(
            "/api/v1/admin/users/{uid}/2fa/{provider}",
            delete(reset_provider),
        )
}

async fn enforcement(
    State(state): State<AppState>,
    _: AdminSession,
) -> Result<Json<Enforcement>, AppError> {
    Ok(Json(state.two_factor.enforcement().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementRequest {
    pub enforced: bool,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub excluded: Vec<String>,
}

async fn set_enforcement(
    State(state): State<AppState>,
    Client(client): Client,
    AdminSession(admin): AdminSession,
    ApiJson(req): ApiJson<EnforcementRequest>,
) -> Result<Json<Enforcement>, AppError> {
    let e = Enforcement {
        enforced: req.enforced,
        groups: group_names(req.groups)?,
        excluded: group_names(req.excluded)?,
    };
    let actor = Actor::client(&admin.uid, &client);
    state.two_factor.set_enforcement(&e, &actor, now()).await?;
    tracing::info!(admin = %admin.uid, setting = %e.describe(), "enforcement changed");
    Ok(Json(e))
}

#[derive(Serialize)]
pub struct ProviderInfo {
    pub id: &'static str,
    pub enabled: bool,
    pub always_on: bool,
}

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
        });
    }
    Ok(Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderRequest {
    pub enabled: bool,
}

async fn set_provider(
    State(state): State<AppState>,
    Client(client): Client,
    AdminSession(admin): AdminSession,
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

async fn user_status(
    State(state): State<AppState>,
    _: AdminSession,
    Path(uid): Path<String>,
) -> Result<Json<UserStatus>, AppError> {
    state.accounts.get(&uid).await?;
    Ok(Json(state.two_factor.status(&uid).await?))
}

/// The admin reset for a lost device: like `twofactorauth disable`.
async fn reset_provider(
    State(state): State<AppState>,
    Client(client): Client,
    AdminSession(admin): AdminSession,
    Path((uid, provider)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    state.accounts.get(&uid).await?;
    let actor = Actor::client(&admin.uid, &client);
    state
        .two_factor
        .admin_disable(&uid, &provider, &actor, now())
        .await?;
    tracing::info!(admin = %admin.uid, uid, provider, "second factor reset by admin");
    Ok(StatusCode::NO_CONTENT)
}
