//! Web Push subscriptions of the signed-in user: the VAPID key a browser subscribes
//! with, adding, listing and revoking subscriptions, and a test message.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::Actor;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, AuthSession, Client};
use crate::openapi::errors;
use crate::state::AppState;
use crate::webpush::{PushSubscription, SubscriptionInput};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vapid_key))
        .routes(routes!(list_subscriptions, subscribe))
        .routes(routes!(revoke_subscription))
        .routes(routes!(send_test))
}

errors!(ReadErrors: Unauthorized, Unavailable);
errors!(SubscribeErrors: BadRequest, Unauthorized, ReauthRequired, CrossSite, PayloadTooLarge,
    UnsupportedMediaType, Unavailable);
errors!(RevokeErrors: Unauthorized, NotFound, CrossSite, UnsupportedMediaType, Unavailable);
errors!(TestErrors: Unauthorized, CrossSite, UnsupportedMediaType, TooManyAttempts,
    Unavailable);

#[derive(Serialize, ToSchema)]
pub struct VapidKey {
    /// The server's VAPID public key (uncompressed P-256 point, base64url): the
    /// `applicationServerKey` of `pushManager.subscribe`.
    pub public_key: String,
}

/// The key a browser subscribes with.
#[utoipa::path(get, path = "/api/v1/push/vapid-key", tag = "push",
    security(("session" = [])),
    responses((status = 200, description = "The VAPID public key", body = VapidKey), ReadErrors))]
async fn vapid_key(
    State(state): State<AppState>,
    _session: AuthSession,
) -> Result<Json<VapidKey>, AppError> {
    Ok(Json(VapidKey {
        public_key: state.web_push.vapid_public_key()?,
    }))
}

/// Lets a browser receive sign-in requests: the body is its `PushSubscription.toJSON()`.
/// The same endpoint again replaces its keys; past `web_push.max_per_user` the oldest
/// subscription goes. Needs a recent sign-in.
#[utoipa::path(post, path = "/api/v1/push/subscriptions", tag = "push",
    security(("session" = [])),
    request_body = SubscriptionInput,
    responses((status = 201, description = "Subscribed", body = PushSubscription),
        SubscribeErrors))]
async fn subscribe(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    ApiJson(input): ApiJson<SubscriptionInput>,
) -> Result<impl IntoResponse, AppError> {
    let now = now();
    crate::actions::require_recent(&state, &s, now)?;
    let sub = state
        .web_push
        .subscribe(&s.uid, &input, &Actor::client(&s.uid, &client), now)
        .await?;
    Ok((StatusCode::CREATED, Json(sub)))
}

/// The browsers that receive the user's sign-in requests (never their endpoints or keys).
#[utoipa::path(get, path = "/api/v1/push/subscriptions", tag = "push",
    security(("session" = [])),
    responses((status = 200, description = "Subscriptions", body = Vec<PushSubscription>),
        ReadErrors))]
async fn list_subscriptions(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<Json<Vec<PushSubscription>>, AppError> {
    Ok(Json(state.web_push.list(&s.uid).await?))
}

/// Stops sending to one browser.
#[utoipa::path(delete, path = "/api/v1/push/subscriptions/{id}", tag = "push",
    security(("session" = [])),
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 204, description = "Revoked"), RevokeErrors))]
async fn revoke_subscription(
    State(state): State<AppState>,
    Client(client): Client,
    AuthSession(s, _): AuthSession,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    state
        .web_push
        .revoke(&s.uid, &id, &Actor::client(&s.uid, &client), now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct TestSent {
    /// How many browsers the message goes to (it is sent in the background).
    pub subscriptions: usize,
}

/// Sends a test notification to each of the user's browsers; one per 10 seconds.
#[utoipa::path(post, path = "/api/v1/push/test", tag = "push",
    security(("session" = [])),
    responses((status = 202, description = "Being sent", body = TestSent), TestErrors))]
async fn send_test(
    State(state): State<AppState>,
    AuthSession(s, _): AuthSession,
) -> Result<impl IntoResponse, AppError> {
    let payload = serde_json::json!({
        "title": "twofold",
        "body": "Test notification: this browser receives sign-in requests.",
        "url": "/settings/devices",
    });
    let (subscriptions, _) = state.web_push.send_test(&s.uid, payload).await?;
    Ok((StatusCode::ACCEPTED, Json(TestSent { subscriptions })))
}
