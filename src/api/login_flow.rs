//! Client login flow endpoints: start and poll.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, Client};
use crate::openapi::errors;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(poll))
}

errors!(StartErrors: TooManyAttempts, Unavailable);

/// Starts a flow; the client is named by its User-Agent, as in Nextcloud.
///
/// The client opens `login` in a browser, then polls `poll.endpoint` with `poll.token`.
/// No cookie or cross-site header is needed: native clients call it.
#[utoipa::path(post, path = "/api/v1/login/flow", tag = "login-flow",
    responses((status = 200, description = "The flow's URLs and poll token",
        body = crate::login_flow::Started), StartErrors))]
async fn start(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    let name = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("client");
    let started = crate::login_flow::start(&state, name, &client, now()).await?;
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(started),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PollRequest {
    pub token: String,
}

errors!(PollErrors: BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType, Unavailable);

/// 404 until the user has granted access; then the credentials, once.
#[utoipa::path(post, path = "/api/v1/login/flow/poll", tag = "login-flow",
    request_body = PollRequest,
    responses((status = 200, description = "Granted: a new app password, shown this once",
        body = crate::login_flow::Credentials), PollErrors))]
async fn poll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PollRequest>,
) -> Result<impl IntoResponse, AppError> {
    match crate::login_flow::poll(&state, &req.token, now()).await? {
        Some(credentials) => Ok(([(header::CACHE_CONTROL, "no-store")], Json(credentials))),
        None => Err(AppError::NotFound("granted login flow".into())),
    }
}
