//! Client login flow endpoints: start and poll.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, Client};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/login/flow", post(start))
        .route("/api/v1/login/flow/poll", post(poll))
}

/// Starts a flow; the client is named by its User-Agent, as in Nextcloud.
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollRequest {
    pub token: String,
}

/// 404 until the user has granted access; then the credentials, once.
async fn poll(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PollRequest>,
) -> Result<impl IntoResponse, AppError> {
    match crate::login_flow::poll(&state, &req.token, now()).await? {
        Some(credentials) => Ok(([(header::CACHE_CONTROL, "no-store")], Json(credentials))),
        None => Err(AppError::NotFound("granted login flow".into())),
    }
}
