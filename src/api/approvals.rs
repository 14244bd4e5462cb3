//! Push approvals over the API: the approver's side (list, live stream, decide), for a
//! browser session that holds two factors or a client with a two-factor app password;
//! and the waiting login's live stream of its own prompt.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::Actor;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{ApiJson, Client, MaybeSession};
use crate::login::Stage;
use crate::openapi::errors;
use crate::providers::push::{Approval, Approver, Decided, Decision, Waiting, hub};
use crate::sessions::ClientInfo;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(stream))
        .routes(routes!(decide))
        .routes(routes!(login_events))
}

/// A stream looks again at least this often (a session revoked meanwhile ends it).
const RECHECK: Duration = Duration::from_secs(20);
/// A stream ends after this long; `EventSource` reconnects by itself.
const STREAM_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Who may decide the user's prompts: a fully signed-in session, or HTTP Basic with an
/// app password. Whether it holds two factors is checked by the decision itself.
enum Credentials {
    Session { token: String },
    AppPassword { uid: String, password: String },
}

struct ApproverClient {
    uid: String,
    /// The session's or app password's id.
    id: String,
    second_factor: bool,
    via_session: bool,
    credentials: Credentials,
    client: ClientInfo,
}

impl ApproverClient {
    fn approver(&self) -> Approver<'_> {
        if self.via_session {
            Approver::Session {
                id: &self.id,
                second_factor: self.second_factor,
            }
        } else {
            Approver::AppPassword {
                id: &self.id,
                second_factor: self.second_factor,
            }
        }
    }

    /// The viewer's own session (its own prompt is never shown to it).
    fn own_session(&self) -> &str {
        if self.via_session { &self.id } else { "" }
    }

    /// Whether the credentials still hold (a long stream looks again).
    async fn still_valid(&self, state: &AppState) -> bool {
        let now = now();
        match &self.credentials {
            Credentials::Session { token } => matches!(
                state.sessions.find(token, now).await,
                Ok(Some(s)) if s.stage == Stage::Authenticated && s.id == self.id
            ),
            Credentials::AppPassword { uid, password } => matches!(
                state.app_passwords.verify(uid, password, &self.client, now).await,
                Ok(Some(a)) if a.id == self.id
            ),
        }
    }
}

impl FromRequestParts<AppState> for ApproverClient {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let Ok(Client(client)) = Client::from_request_parts(parts, state).await;
        let basic = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::app_passwords::parse_basic);
        if let Some((typed, password)) = basic {
            // As everywhere HTTP Basic is taken (throttled, any case of the name); the
            // main password of an account without 2FA gets in with one factor only, which
            // decides nothing (403).
            let p = crate::actions::authenticate_basic(state, &typed, &password, &client, now())
                .await?;
            return Ok(Self {
                uid: p.user.uid.clone(),
                id: p.app_password.clone().unwrap_or_default(),
                second_factor: p.second_factor,
                via_session: false,
                credentials: Credentials::AppPassword {
                    uid: p.user.uid,
                    password,
                },
                client,
            });
        }
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some((s, token)) if s.stage == Stage::Authenticated => Ok(Self {
                uid: s.uid,
                id: s.id,
                second_factor: s.second_factor,
                via_session: true,
                credentials: Credentials::Session { token },
                client,
            }),
            _ => Err(AppError::Unauthorized),
        }
    }
}

errors!(ListErrors: Unauthorized, InvalidCredentials, AppPasswordRequired, Forbidden,
    TooManyAttempts, Busy, Unavailable, Internal);

/// The sign-in requests waiting for the user's approval (not the caller's own login).
/// For a session or app password that holds two factors.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "push",
    security(("session" = []), ("app_password" = [])),
    responses((status = 200, description = "Waiting requests, oldest first",
        body = Vec<Approval>), ListErrors))]
async fn list(
    State(state): State<AppState>,
    who: ApproverClient,
) -> Result<Json<Vec<Approval>>, AppError> {
    if !who.second_factor {
        return Err(AppError::Forbidden);
    }
    Ok(Json(
        state
            .two_factor
            .push
            .pending_for(&who.uid, who.own_session(), now())
            .await?,
    ))
}

/// The same list, live: server-sent events named `approvals`, each the whole list as
/// JSON, sent at once and again whenever it changes (on any instance). `204` when push is
/// not on for the user: nothing will ever come, and `EventSource` does not reconnect after
/// a 204 (every signed-in page asks; an open stream per tab would be held for nothing,
/// and a browser keeps at most six HTTP/1.1 connections per host).
#[utoipa::path(get, path = "/api/v1/approvals/stream", tag = "push",
    security(("session" = []), ("app_password" = [])),
    responses((status = 200, description = "text/event-stream of `approvals` events",
        content_type = "text/event-stream", body = String),
        (status = 204, description = "Push is not on for this user"), ListErrors))]
async fn stream(
    State(state): State<AppState>,
    who: ApproverClient,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    if !who.second_factor {
        return Err(AppError::Forbidden);
    }
    let push_on = state
        .two_factor
        .status(&who.uid)
        .await?
        .is_active(crate::providers::ProviderId::Push);
    if !push_on {
        return Ok(axum::http::StatusCode::NO_CONTENT.into_response());
    }
    let push = state.two_factor.push.clone();
    // Subscribed before the first read: nothing decided in between is missed.
    let rx = push.hub().subscribe();
    let end = tokio::time::Instant::now() + STREAM_LIFETIME;
    let seed = (state, push, who, rx, None::<String>, end);
    let events =
        futures_util::stream::unfold(seed, |(state, push, who, mut rx, last, end)| async move {
            let mut wake = None;
            loop {
                if let Some(at) = wake {
                    hub::changed_for(&mut rx, &who.uid, end.min(at)).await;
                    if tokio::time::Instant::now() >= end || !who.still_valid(&state).await {
                        return None;
                    }
                }
                let now_s = now();
                // The database failed: end the stream (the client reconnects).
                let list = push
                    .pending_for(&who.uid, who.own_session(), now_s)
                    .await
                    .ok()?;
                // Look again when the next one runs out (it leaves the list), at the latest.
                wake = Some(wake_at(list.iter().map(|a| a.expires_at).min(), now_s));
                let json = serde_json::to_string(&list).ok()?;
                if last.as_deref() != Some(json.as_str()) {
                    let event = Event::default().event("approvals").data(json.clone());
                    return Some((
                        Ok::<_, Infallible>(event),
                        (state, push, who, rx, Some(json), end),
                    ));
                }
            }
        });
    Ok(live(Sse::new(events)))
}

/// An event stream as a proxy must pass it: nginx buffers a proxied answer until it ends
/// unless told not to (`X-Accel-Buffering`), which would hold every event back.
fn live<S>(sse: Sse<S>) -> axum::response::Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    use axum::response::IntoResponse;
    (
        [("x-accel-buffering", "no")],
        sse.keep_alive(KeepAlive::default()),
    )
        .into_response()
}

/// When a stream must look again: just after `expires_at` (a prompt runs out without any
/// change being announced), and at most [`RECHECK`] from now.
fn wake_at(expires_at: Option<i64>, now: i64) -> tokio::time::Instant {
    let wait = match expires_at {
        Some(at) => Duration::from_secs(u64::try_from((at - now).max(0)).unwrap_or(0) + 1),
        None => RECHECK,
    };
    tokio::time::Instant::now() + wait.min(RECHECK)
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: DecisionKind,
    /// The number picked among the three shown; needed to approve.
    #[serde(default)]
    pub number: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionResponse {
    /// `approved`; `rejected`; or `wrong_number`: the number picked was not the one the
    /// signing-in screen shows, and the request is rejected.
    pub decision: Decided,
}

errors!(DecideErrors: BadRequest, Unauthorized, InvalidCredentials, AppPasswordRequired,
    Forbidden, NotFound, TooManyAttempts, Busy,
    Conflict, CrossSite, PayloadTooLarge, UnsupportedMediaType, Unavailable, Internal);

/// Approves (with the number shown on the signing-in screen) or rejects a waiting sign-in
/// request. A wrong number rejects it. The caller's own login, a request already decided
/// or expired, and a caller without two factors are refused; nothing is decided then.
#[utoipa::path(post, path = "/api/v1/approvals/{id}", tag = "push",
    security(("session" = []), ("app_password" = [])),
    params(("id" = String, Path, description = "The request's id")),
    request_body = DecisionRequest,
    responses((status = 200, description = "Decided", body = DecisionResponse), DecideErrors))]
async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    who: ApproverClient,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> Result<Json<DecisionResponse>, AppError> {
    if id.len() > 64 {
        return Err(AppError::NotFound("approval".into()));
    }
    let actor = Actor::client(&who.uid, &who.client);
    let decision = state
        .two_factor
        .push
        .decide(
            &who.uid,
            who.approver(),
            &id,
            Decision {
                approve: matches!(req.decision, DecisionKind::Approve),
                number: req.number,
            },
            &actor,
            now(),
        )
        .await?;
    Ok(Json(DecisionResponse { decision }))
}

#[derive(Serialize)]
struct WaitingEvent {
    state: Waiting,
}

errors!(WaitErrors: Unauthorized, Unavailable, Internal);

/// The waiting login's own prompt, live: server-sent events named `push` with
/// `{"state": "none" | "pending" | "approved" | "rejected" | "expired"}`, sent at once and
/// whenever it changes. After `approved`, `rejected` or `expired` the stream ends: then
/// `POST /api/v1/login/challenge {"provider":"push"}` finishes (or refuses) the login.
#[utoipa::path(get, path = "/api/v1/login/challenge/events", tag = "push",
    security(("session" = [])),
    responses((status = 200, description = "text/event-stream of `push` events",
        content_type = "text/event-stream", body = String), WaitErrors))]
async fn login_events(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
) -> Result<axum::response::Response, AppError> {
    let (session, _) = current
        .filter(|(s, _)| {
            matches!(
                s.stage,
                Stage::SecondFactorPending | Stage::AwaitingApproval
            )
        })
        .ok_or(AppError::Unauthorized)?;
    let push = state.two_factor.push.clone();
    let rx = push.hub().subscribe();
    let end = tokio::time::Instant::now() + STREAM_LIFETIME;
    let seed = (
        push,
        session.uid,
        session.id,
        rx,
        None::<Waiting>,
        end,
        false,
    );
    let events = futures_util::stream::unfold(
        seed,
        |(push, uid, sid, mut rx, last, end, done)| async move {
            if done {
                return None;
            }
            loop {
                let now_s = now();
                let (waiting, expires_at) = push.waiting(&sid, now_s).await.ok()?;
                if last != Some(waiting) {
                    let terminal = matches!(
                        waiting,
                        Waiting::Approved | Waiting::Rejected | Waiting::Expired
                    );
                    let data = serde_json::to_string(&WaitingEvent { state: waiting }).ok()?;
                    let event = Event::default().event("push").data(data);
                    return Some((
                        Ok(event),
                        (push, uid, sid, rx, Some(waiting), end, terminal),
                    ));
                }
                hub::changed_for(&mut rx, &uid, wake_at(expires_at, now_s).min(end)).await;
                if tokio::time::Instant::now() >= end {
                    return None;
                }
            }
        },
    );
    Ok(live(Sse::new(events)))
}
