//! Security keys and passkeys (WebAuthn): add (two halves), list, rename, remove;
//! passwordless sign-in with a passkey.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, MaybeSession};
use crate::openapi::errors;
use crate::providers::webauthn::KeyInfo;
use crate::providers::{EnrollmentAnswer, ProviderId};
use crate::sessions::Stage;
use crate::state::AppState;

use super::two_factor::enrolling;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_begin))
        .routes(routes!(register_finish))
        .routes(routes!(keys))
        .routes(routes!(passkey_register_begin))
        .routes(routes!(passkey_register_finish))
        .routes(routes!(passkey_login_begin))
        .routes(routes!(passkey_login))
        .routes(routes!(rename, remove))
}

/// The options of a WebAuthn ceremony, for `navigator.credentials.create` or `.get`.
#[derive(Serialize, ToSchema)]
pub struct WebauthnOptions {
    /// As webauthn-rs makes them; `null` for a provider without a first half.
    #[schema(value_type = Option<Object>)]
    pub options: Option<serde_json::Value>,
}

/// A key just added.
#[derive(Serialize, ToSchema)]
pub struct AddedKey {
    #[schema(value_type = KeyInfo)]
    pub key: serde_json::Value,
    /// The session's stage: `authenticated` once a key set up in "setup required".
    pub stage: Stage,
}

errors!(RegisterBeginErrors: Unauthorized, ReauthRequired, NotFound, CrossSite,
    UnsupportedMediaType, Unavailable, Internal);

/// The first half of adding a key: the creation options.
#[utoipa::path(post, path = "/api/v1/2fa/webauthn/register", tag = "webauthn",
    security(("session" = [])),
    responses((status = 200, description = "The creation options", body = WebauthnOptions),
        RegisterBeginErrors))]
async fn register_begin(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    let (s, _) = enrolling(current)?;
    let options = crate::actions::begin_enrollment(&state, &s, ProviderId::Webauthn, now()).await?;
    Ok(Json(WebauthnOptions {
        options: Some(options),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    pub name: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

errors!(RegisterFinishErrors: BadRequest, Unauthorized, Conflict, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable, Internal);

/// The key, and in "setup required" the login goes on: a new session cookie, stage
/// `authenticated`.
#[utoipa::path(post, path = "/api/v1/2fa/webauthn/register/finish", tag = "webauthn",
    security(("session" = [])),
    request_body = FinishRequest,
    responses((status = 201, description = "The key was added", body = AddedKey),
        RegisterFinishErrors))]
async fn register_finish(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (s, token) = enrolling(current)?;
    let response = req.credential.to_string();
    let answer = EnrollmentAnswer {
        name: &req.name,
        response: &response,
    };
    let enrolled = crate::actions::finish_enrollment(
        &state,
        &s,
        &client,
        ProviderId::Webauthn,
        &answer,
        now(),
    )
    .await?;
    let key = enrolled.credential.unwrap_or_default();
    let mut stage = s.stage;
    let jar = if s.stage == Stage::SetupRequired {
        let (token, session) = crate::login::setup_step(&state, &s, &token).await?;
        stage = session.stage;
        crate::http::with_login_cookies(&state, jar, token, &session)
    } else {
        jar
    };
    Ok((StatusCode::CREATED, jar, Json(AddedKey { key, stage })))
}

errors!(KeysErrors: Unauthorized, Unavailable);

/// Security keys and passkeys (`kind` tells which).
#[utoipa::path(get, path = "/api/v1/2fa/webauthn/keys", tag = "webauthn",
    security(("session" = [])),
    responses((status = 200, description = "The user's keys", body = Vec<KeyInfo>), KeysErrors))]
async fn keys(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<Vec<KeyInfo>>, AppError> {
    Ok(Json(state.two_factor.webauthn.credentials(&s.uid).await?))
}

/// The first half of adding a passkey (passwordless sign-in): the creation options.
#[utoipa::path(post, path = "/api/v1/2fa/passkeys/register", tag = "webauthn",
    security(("session" = [])),
    responses((status = 200, description = "The creation options", body = WebauthnOptions),
        RegisterBeginErrors))]
async fn passkey_register_begin(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    let options = crate::actions::begin_passkey_registration(&state, &s, now()).await?;
    Ok(Json(WebauthnOptions {
        options: Some(options),
    }))
}

/// The second half of adding a passkey.
#[utoipa::path(post, path = "/api/v1/2fa/passkeys/register/finish", tag = "webauthn",
    security(("session" = [])),
    request_body = FinishRequest,
    responses((status = 201, description = "The passkey was added", body = KeyInfo),
        RegisterFinishErrors))]
async fn passkey_register_finish(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let key = crate::actions::finish_passkey_registration(
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

/// The cookie naming a passwordless sign-in in progress (its ceremony).
const PASSKEY_COOKIE: &str = "twofold_passkey";

fn ceremony_key(state: &AppState, token: &str) -> String {
    state
        .key
        .hash_token(crate::crypto::Purpose::PasskeyCeremony, token)
}

errors!(PasskeyBeginErrors: CrossSite, UnsupportedMediaType, TooManyAttempts, Unavailable,
    Internal);

/// Starts a passwordless sign-in: request options for any passkey of this site (no
/// name asked, so nothing tells which accounts exist).
///
/// Sets the `twofold_passkey` cookie that names the ceremony for `/api/v1/login/passkey`.
#[utoipa::path(post, path = "/api/v1/login/passkey/begin", tag = "webauthn",
    responses((status = 200, description = "The request options", body = WebauthnOptions),
        PasskeyBeginErrors))]
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
        Json(WebauthnOptions {
            options: Some(options),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyLoginRequest {
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    #[serde(default)]
    pub remember: bool,
}

errors!(PasskeyLoginErrors: BadRequest, InvalidCredentials, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, TooManyAttempts, Unavailable, Internal);

/// Finishes a passwordless sign-in: a fully authenticated session with two factors.
#[utoipa::path(post, path = "/api/v1/login/passkey", tag = "webauthn",
    request_body = PasskeyLoginRequest,
    responses((status = 200, description = "Signed in; the session cookie is set",
        body = super::two_factor::StageResponse), PasskeyLoginErrors))]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub name: String,
}

errors!(RenameErrors: BadRequest, Unauthorized, NotFound, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable);

/// Renames a security key or passkey.
#[utoipa::path(patch, path = "/api/v1/2fa/webauthn/keys/{id}", tag = "webauthn",
    security(("session" = [])),
    params(("id" = String, Path, description = "The key's id")),
    request_body = RenameRequest,
    responses((status = 204, description = "Renamed"), RenameErrors))]
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

errors!(RemoveKeyErrors: BadRequest, Unauthorized, ReauthRequired, NotFound, Conflict, CrossSite,
    UnsupportedMediaType, Unavailable);

/// Removes a security key or passkey (needs a recent sign-in); other sessions end.
#[utoipa::path(delete, path = "/api/v1/2fa/webauthn/keys/{id}", tag = "webauthn",
    security(("session" = [])),
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Removed"), RemoveKeyErrors))]
async fn remove(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    crate::actions::remove_key(&state, &s, &client, &id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
