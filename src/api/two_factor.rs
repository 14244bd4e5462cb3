//! Second-factor endpoints: the login challenge, and the user's own 2FA settings.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::actions::SECOND_FACTOR;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client, MaybeSession, with_login_cookies};
use crate::login::Stage;
use crate::openapi::errors;
use crate::providers::{Attempt, EnrollmentAnswer, ProviderId, UserStatus};
use crate::sessions::Session;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_providers))
        .routes(routes!(challenge_begin))
        .routes(routes!(login_challenge))
        .routes(routes!(status))
        .routes(routes!(totp_begin, totp_remove))
        .routes(routes!(totp_verify))
        .routes(routes!(totp_qr_png))
        .routes(routes!(backup_codes_generate))
}

/// What a provider's challenge needs the client to do first.
#[derive(Serialize, ToSchema)]
pub struct ChallengeOptions {
    /// The provider's options (for the browser's credential API); `null` for a
    /// provider without a first half.
    #[schema(value_type = Option<Object>)]
    pub options: Option<serde_json::Value>,
    /// `push`: the waiting request's id, the number to show, and when it expires (also
    /// inside `options`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginRequest {
    pub provider: String,
}

errors!(ChallengeBeginErrors: BadRequest, Unauthorized, NotFound, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable, Internal);

/// The first half of a challenge, for any provider that has one (a browser ceremony: the request
/// options for `navigator.credentials.get`; the answer then goes to
/// `POST /api/v1/login/challenge` as `code`, the credential as JSON). `{"options": null}`
/// for code providers.
#[utoipa::path(post, path = "/api/v1/login/challenge/begin", tag = "two-factor",
    security(("session" = [])),
    request_body = BeginRequest,
    responses((status = 200, description = "The request options", body = ChallengeOptions),
        ChallengeBeginErrors))]
async fn challenge_begin(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<BeginRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (session, _) = current
        .filter(|(s, _)| {
            matches!(
                s.stage,
                Stage::SecondFactorPending | Stage::AwaitingApproval
            )
        })
        .ok_or(AppError::Unauthorized)?;
    let provider = ProviderId::parse(&req.provider)
        .ok_or_else(|| AppError::BadRequest(format!("unknown provider {:?}", req.provider)))?;
    let app = crate::http::return_app(&state, &jar);
    let attempt = Attempt {
        uid: &session.uid,
        session_id: &session.id,
        now: now(),
        ip: &client.ip,
        user_agent: &client.user_agent,
        app: &app,
    };
    let options = state.two_factor.begin_challenge(&attempt, provider).await?;
    let field = |name: &str| options.as_ref().and_then(|o| o.get(name)).cloned();
    Ok(Json(ChallengeOptions {
        approval_id: field("approval_id").and_then(|v| v.as_str().map(str::to_string)),
        number: field("number").and_then(|v| v.as_i64()),
        expires_at: field("expires_at").and_then(|v| v.as_i64()),
        options,
    }))
}

errors!(SessionErrors: Unauthorized, Unavailable);

fn parse_provider(s: &str) -> Result<ProviderId, AppError> {
    ProviderId::parse(s).ok_or_else(|| AppError::BadRequest(format!("unknown provider {s:?}")))
}

/// A session in the middle of the login flow, or fully in: enrollment is allowed in both
/// (setup required happens before the session is authenticated).
pub(super) fn enrolling(current: Option<(Session, String)>) -> Result<(Session, String), AppError> {
    match current {
        Some((s, t)) if matches!(s.stage, Stage::Authenticated | Stage::SetupRequired) => {
            Ok((s, t))
        }
        _ => Err(AppError::Unauthorized),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginProviders {
    pub stage: Stage,
    /// Usable now, last used first.
    pub providers: Vec<ProviderId>,
    /// "Could not load at least one of your enabled two-factor methods."
    pub some_unavailable: bool,
}

/// The second factors the session's user can answer a challenge with now.
#[utoipa::path(get, path = "/api/v1/login/providers", tag = "two-factor",
    security(("session" = [])),
    responses((status = 200, description = "Usable providers", body = LoginProviders),
        SessionErrors))]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    pub provider: String,
    /// The code or the ceremony's answer; none for `push` (its answer comes from
    /// another device).
    #[serde(default)]
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct StageResponse {
    pub uid: String,
    pub stage: Stage,
}

errors!(ChallengeErrors: BadRequest, Unauthorized, InvalidCode, NotFound, CrossSite,
    PayloadTooLarge, UnsupportedMediaType, TooManyAttempts, FactorLocked, Unavailable, Internal);

/// Answers the second-factor challenge of a session in the login flow.
///
/// `code` is the TOTP or backup code, or for a browser ceremony the credential from
/// `navigator.credentials.get` as JSON (see `/api/v1/login/challenge/begin`). A new session
/// cookie is set.
#[utoipa::path(post, path = "/api/v1/login/challenge", tag = "two-factor",
    security(("session" = [])),
    request_body = ChallengeRequest,
    responses((status = 200, description = "Passed (or waiting for an approval)",
        body = StageResponse), ChallengeErrors))]
async fn login_challenge(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<impl IntoResponse, AppError> {
    let provider = parse_provider(&req.provider)?;
    let (session, token) = current.ok_or(AppError::Unauthorized)?;
    let app = crate::http::return_app(&state, &jar);
    let (token, session) =
        crate::login::challenge_step(&state, &session, &token, provider, &req.code, &client, &app)
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

/// The signed-in user's two-factor state.
#[utoipa::path(get, path = "/api/v1/2fa", tag = "two-factor",
    security(("session" = [])),
    responses((status = 200, description = "Providers, enforcement, backup codes left",
        body = UserStatus), SessionErrors))]
async fn status(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<UserStatus>, AppError> {
    Ok(Json(state.two_factor.status(&s.uid).await?))
}

errors!(TotpBeginErrors: Unauthorized, ReauthRequired, NotFound, Conflict, CrossSite,
    UnsupportedMediaType, Unavailable, Internal);

/// Starts setting up TOTP: a new secret, its URI and QR code (needs a recent sign-in).
/// Also in "setup required".
#[utoipa::path(post, path = "/api/v1/2fa/totp", tag = "two-factor",
    security(("session" = [])),
    responses((status = 201, description = "The secret to add to an authenticator app",
        body = crate::providers::totp::Enrollment), TotpBeginErrors))]
async fn totp_begin(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    let (s, _) = enrolling(current)?;
    let enrollment =
        crate::actions::begin_enrollment(&state, &s, ProviderId::Totp, SECOND_FACTOR, now())
            .await?;
    Ok((StatusCode::CREATED, Json(enrollment)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

errors!(TotpVerifyErrors: BadRequest, Unauthorized, InvalidCode, Conflict, CrossSite,
    PayloadTooLarge, UnsupportedMediaType, Unavailable, Internal);

/// Activates TOTP with a first code; a session in "setup required" becomes authenticated.
#[utoipa::path(post, path = "/api/v1/2fa/totp/verify", tag = "two-factor",
    security(("session" = [])),
    request_body = CodeRequest,
    responses((status = 200, description = "TOTP is active", body = StageResponse),
        TotpVerifyErrors))]
async fn totp_verify(
    State(state): State<AppState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<impl IntoResponse, AppError> {
    let (s, token) = enrolling(current)?;
    let answer = EnrollmentAnswer {
        name: "",
        response: &req.code,
    };
    let (_, next) = crate::actions::enroll_and_continue(
        &state,
        &s,
        &token,
        &client,
        ProviderId::Totp,
        SECOND_FACTOR,
        &answer,
        now(),
    )
    .await?;
    let (jar, s) = match next {
        Some((token, session)) => (with_login_cookies(&state, jar, token, &session), session),
        None => (jar, s),
    };
    Ok((
        jar,
        Json(StageResponse {
            uid: s.uid,
            stage: s.stage,
        }),
    ))
}

errors!(RemoveErrors: BadRequest, Unauthorized, ReauthRequired, NotFound, Conflict, CrossSite,
    UnsupportedMediaType, Unavailable);

/// Turns TOTP off (needs a recent sign-in); every other session of the user ends.
#[utoipa::path(delete, path = "/api/v1/2fa/totp", tag = "two-factor",
    security(("session" = [])),
    responses((status = 204, description = "Removed"), RemoveErrors))]
async fn totp_remove(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
) -> Result<StatusCode, AppError> {
    crate::actions::remove_factor(&state, &s, &client, ProviderId::Totp, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

errors!(QrErrors: Unauthorized, NotFound, Unavailable, Internal);

/// The pending enrollment's QR code as a PNG download.
#[utoipa::path(get, path = "/api/v1/2fa/totp/qr.png", tag = "two-factor",
    security(("session" = [])),
    responses((status = 200, description = "The QR code", content_type = "image/png"),
        QrErrors))]
async fn totp_qr_png(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<impl IntoResponse, AppError> {
    let (s, _) = enrolling(current)?;
    let pending = state
        .two_factor
        .totp
        .pending(&s.uid, &s.id, now())
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

#[derive(Serialize, ToSchema)]
pub struct BackupCodesResponse {
    /// Shown this once; only their hashes are kept.
    pub codes: Vec<String>,
}

errors!(BackupCodesErrors: Unauthorized, ReauthRequired, Conflict, CrossSite,
    UnsupportedMediaType, Unavailable);

/// New backup codes (needs a recent sign-in); earlier ones stop working.
#[utoipa::path(post, path = "/api/v1/2fa/backup-codes", tag = "two-factor",
    security(("session" = [])),
    responses((status = 201, description = "The codes, shown this once",
        body = BackupCodesResponse), BackupCodesErrors))]
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
