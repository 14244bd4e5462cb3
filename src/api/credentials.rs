//! Any provider's enrollment (two halves), and the named credentials of providers whose
//! users may hold several: list, rename, remove. The provider is a path segment; what it
//! begins with and what it takes as an answer are its own (`crate::providers`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::Purpose;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, MaybeSession};
use crate::openapi::errors;
use crate::providers::{Credential, EnrollmentAnswer, ProviderId};
use crate::sessions::Stage;
use crate::state::AppState;

use super::two_factor::enrolling;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enroll_begin))
        .routes(routes!(enroll_finish))
        .routes(routes!(credentials))
        .routes(routes!(rename, remove))
}

/// A provider's answer as the text it checks: a string as is (a code), anything else
/// (a browser credential) as its JSON.
pub(super) fn answer_text(answer: &serde_json::Value) -> String {
    match answer {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// Enroll a credential that signs in without the password rather than a
    /// second factor; only a signed-in session, only providers that can.
    #[serde(default)]
    pub sign_in: bool,
}

/// What the client must show or do to finish the enrollment.
#[derive(Serialize, ToSchema)]
pub struct EnrollOptions {
    /// The provider's: a TOTP secret and its QR code, or creation options for
    /// `navigator.credentials.create`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

errors!(EnrollBeginErrors: BadRequest, Unauthorized, ReauthRequired, NotFound, Conflict,
    CrossSite, PayloadTooLarge, UnsupportedMediaType, Unavailable, Internal);

/// The first half of setting up a provider, or of adding one more credential (needs a
/// recent sign-in; also in "setup required").
#[utoipa::path(post, path = "/api/v1/2fa/{provider}/enroll", tag = "two-factor",
    security(("session" = [])),
    params(("provider" = ProviderId, Path, description = "The provider's id")),
    request_body = EnrollRequest,
    responses((status = 200, description = "What to show or do", body = EnrollOptions),
        EnrollBeginErrors))]
async fn enroll_begin(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    Path(provider): Path<String>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<impl IntoResponse, AppError> {
    let provider = ProviderId::named(&provider)?;
    let (s, _) = enrolling(current)?;
    let purpose = Purpose {
        sign_in: req.sign_in,
    };
    let options = crate::actions::begin_enrollment(&state, &s, provider, purpose, now()).await?;
    Ok(Json(EnrollOptions { options }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    /// The name of the new credential, where a user may have several.
    #[serde(default)]
    pub name: String,
    /// The answer: the first code (a string), or the `PublicKeyCredential` from
    /// `navigator.credentials.create` as JSON.
    #[schema(value_type = Object)]
    pub answer: serde_json::Value,
    #[serde(default)]
    pub sign_in: bool,
}

/// What an enrollment added.
#[derive(Serialize, ToSchema)]
pub struct Enrolled {
    /// The new credential, for providers with named ones.
    #[schema(value_type = Option<Credential>)]
    pub credential: Option<serde_json::Value>,
    /// The session's stage: `authenticated` once a factor is set up in "setup required".
    pub stage: Stage,
}

errors!(EnrollFinishErrors: BadRequest, Unauthorized, InvalidCode, NotFound, Conflict,
    CrossSite, PayloadTooLarge, UnsupportedMediaType, Unavailable, Internal);

/// The second half: the answer activates the factor (or stores the sign-in credential).
/// In "setup required" the login goes on: a new session cookie, stage `authenticated`.
#[utoipa::path(post, path = "/api/v1/2fa/{provider}/enroll/finish", tag = "two-factor",
    security(("session" = [])),
    params(("provider" = ProviderId, Path, description = "The provider's id")),
    request_body = FinishRequest,
    responses((status = 201, description = "Set up", body = Enrolled), EnrollFinishErrors))]
async fn enroll_finish(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Path(provider): Path<String>,
    ApiJson(req): ApiJson<FinishRequest>,
) -> Result<impl IntoResponse, AppError> {
    let provider = ProviderId::named(&provider)?;
    let (s, token) = enrolling(current)?;
    let response = answer_text(&req.answer);
    let answer = EnrollmentAnswer {
        name: &req.name,
        response: &response,
    };
    let purpose = Purpose {
        sign_in: req.sign_in,
    };
    let (enrolled, next) = crate::actions::enroll_and_continue(
        &state,
        &s,
        &token,
        &client,
        provider,
        purpose,
        &answer,
        now(),
    )
    .await?;
    let (jar, stage) = match next {
        Some((token, session)) => (
            crate::http::with_login_cookies(&state, jar, token, &session),
            session.stage,
        ),
        None => (jar, s.stage),
    };
    let body = Enrolled {
        credential: enrolled.credential,
        stage,
    };
    Ok((StatusCode::CREATED, jar, Json(body)))
}

errors!(CredentialsErrors: Unauthorized, NotFound, Unavailable);

/// The user's named credentials of a provider (`sign_in` tells a sign-in credential
/// from a second-factor one); empty for providers without such.
#[utoipa::path(get, path = "/api/v1/2fa/{provider}/credentials", tag = "two-factor",
    security(("session" = [])),
    params(("provider" = ProviderId, Path, description = "The provider's id")),
    responses((status = 200, description = "The credentials", body = Vec<Credential>),
        CredentialsErrors))]
async fn credentials(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
    Path(provider): Path<String>,
) -> Result<Json<Vec<Credential>>, AppError> {
    let provider = ProviderId::named(&provider)?;
    Ok(Json(
        state.two_factor.get(provider)?.credentials(&s.uid).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub name: String,
}

errors!(RenameErrors: BadRequest, Unauthorized, NotFound, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable);

/// Renames a credential.
#[utoipa::path(patch, path = "/api/v1/2fa/{provider}/credentials/{id}", tag = "two-factor",
    security(("session" = [])),
    params(("provider" = ProviderId, Path, description = "The provider's id"),
        ("id" = String, Path, description = "The credential's id")),
    request_body = RenameRequest,
    responses((status = 204, description = "Renamed"), RenameErrors))]
async fn rename(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path((provider, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<RenameRequest>,
) -> Result<StatusCode, AppError> {
    let provider = ProviderId::named(&provider)?;
    crate::actions::rename_credential(&state, &s, &client, provider, &id, &req.name, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(RemoveErrors: BadRequest, Unauthorized, ReauthRequired, NotFound, Conflict, CrossSite,
    UnsupportedMediaType, Unavailable);

/// Removes a credential (needs a recent sign-in); the user's other sessions end. The
/// last second-factor one turns the provider off, refused while 2FA is enforced and
/// nothing else is set up.
#[utoipa::path(delete, path = "/api/v1/2fa/{provider}/credentials/{id}", tag = "two-factor",
    security(("session" = [])),
    params(("provider" = ProviderId, Path, description = "The provider's id"),
        ("id" = String, Path, description = "The credential's id")),
    responses((status = 204, description = "Removed"), RemoveErrors))]
async fn remove(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path((provider, id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let provider = ProviderId::named(&provider)?;
    crate::actions::remove_credential(&state, &s, &client, provider, &id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
