//! Passwordless sign-in with a provider that can: the two halves, bound by a
//! short-lived cookie that names the ceremony.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::http::{ApiJson, Client, MaybeSession};
use crate::openapi::errors;
use crate::providers::ProviderId;
use crate::state::AppState;

use super::credentials::answer_text;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(begin))
        .routes(routes!(finish))
}

/// The cookie naming a passwordless sign-in in progress (its ceremony).
const COOKIE: &str = "twofold_sign_in";
const COOKIE_PATH: &str = "/api/v1/login/passwordless";

fn ceremony_key(state: &AppState, token: &str) -> String {
    state
        .key
        .hash_token(crate::crypto::Purpose::SignInCeremony, token)
}

/// What the browser must do (request options for `navigator.credentials.get`).
#[derive(Serialize, ToSchema)]
pub struct SignInOptions {
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

errors!(BeginErrors: NotFound, CrossSite, UnsupportedMediaType, TooManyAttempts, Unavailable,
    Internal);

/// Starts a passwordless sign-in: options for any sign-in credential of this site (no
/// name asked, so nothing tells which accounts exist). Sets the `twofold_sign_in` cookie
/// that names the ceremony for the second half.
#[utoipa::path(post, path = "/api/v1/login/passwordless/{provider}/begin", tag = "session",
    params(("provider" = ProviderId, Path, description = "A provider that signs in")),
    responses((status = 200, description = "The request options", body = SignInOptions),
        BeginErrors))]
async fn begin(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    Path(provider): Path<String>,
) -> Result<impl IntoResponse, AppError> {
    let provider = ProviderId::named(&provider)?;
    let token = crate::crypto::random_token();
    let options =
        crate::login::sign_in_begin(&state, provider, &ceremony_key(&state, &token), &client)
            .await?;
    let cookie = Cookie::build((COOKIE, token))
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .max_age(cookie::time::Duration::minutes(2))
        .build();
    Ok((jar.add(cookie), Json(SignInOptions { options })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// The answer: the `PublicKeyCredential` from `navigator.credentials.get`.
    #[schema(value_type = Object)]
    pub answer: serde_json::Value,
    #[serde(default)]
    pub remember: bool,
}

errors!(FinishErrors: BadRequest, InvalidCredentials, NotFound, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, TooManyAttempts, Unavailable, Internal);

/// Finishes a passwordless sign-in: a fully authenticated session with two factors (the
/// provider required user verification).
#[utoipa::path(post, path = "/api/v1/login/passwordless/{provider}", tag = "session",
    params(("provider" = ProviderId, Path, description = "A provider that signs in")),
    request_body = FinishRequest,
    responses((status = 200, description = "Signed in; the session cookie is set",
        body = super::two_factor::StageResponse), FinishErrors))]
async fn finish(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(previous): MaybeSession,
    Path(provider): Path<String>,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let provider = ProviderId::named(&provider)?;
    let token = jar
        .get(COOKIE)
        .map(|c| c.value().to_string())
        .ok_or_else(|| AppError::BadRequest("no passwordless sign-in in progress".into()))?;
    let (new_token, session) = crate::login::sign_in_step(
        &state,
        provider,
        &ceremony_key(&state, &token),
        &answer_text(&req.answer),
        req.remember,
        &client,
    )
    .await?;
    if let Some((old, _)) = previous {
        state.sessions.end(&old).await?;
    }
    let jar = jar.remove(Cookie::build(COOKIE).path(COOKIE_PATH));
    let jar = crate::http::with_login_cookies(&state, jar, new_token, &session);
    Ok((
        jar,
        Json(super::two_factor::StageResponse {
            uid: session.uid,
            stage: session.stage,
        }),
    ))
}
