//! Request plumbing shared by the API and the pages: cookies, the current session, client
//! information, and a JSON extractor whose rejections use the app's error format.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::clock::now;
use crate::error::AppError;
use crate::sessions::{ClientInfo, Session};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "twofold_session";

/// JSON body extractor: a wrong content type, a body too large or bad JSON each get a
/// clear error in the API's own format.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::UnsupportedMediaType),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
            Err(r) => Err(AppError::BadRequest(r.body_text())),
        }
    }
}

/// The session named by the cookie, at whatever stage, with its token. A database
/// failure is an error (fail closed), never "no session".
pub struct MaybeSession(pub Option<(Session, String)>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Ok(MaybeSession(None));
        };
        let found = state.sessions.find(&token, now()).await?;
        Ok(MaybeSession(found.map(|s| (s, token))))
    }
}

/// Where a request comes from. Behind a trusted proxy (`server.trusted_proxies`) the
/// address is taken from `X-Forwarded-For`: the rightmost entry that is not itself a
/// trusted proxy, so a client cannot choose its address by sending the header. Every line
/// of the header counts, in order: a proxy that adds its own line (HAProxy's `option
/// forwardfor`) rather than appending to the client's puts it last.
pub struct Client(pub ClientInfo);

/// Where forward-auth wants the browser back, kept across the login steps.
pub const RETURN_COOKIE: &str = "twofold_rd";

/// The host of the app a login is for (its return URL, if that is one twofold may send
/// the browser to); empty when the login is for twofold itself.
pub fn return_app(state: &AppState, jar: &CookieJar) -> String {
    jar.get(RETURN_COOKIE)
        .and_then(|c| state.safe_return_url(c.value()))
        .and_then(|u| url::Url::parse(&u).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_default();
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            // Not text: still a line, holding no address.
            .map(|v| v.to_str().unwrap_or("?"))
            .collect();
        let ip = client_ip(&peer, &forwarded, &state.config.server.trusted_proxies);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let device_cookie = CookieJar::from_headers(&parts.headers)
            .get(crate::throttle::device::COOKIE)
            .map(|c| c.value().to_string());
        Ok(Client(ClientInfo {
            ip,
            user_agent,
            device_cookie,
        }))
    }
}

/// The client address given the TCP peer, the lines of `X-Forwarded-For` in the order
/// they came (read as one comma-separated list) and the trusted proxies. The client is the
/// rightmost entry that is not a trusted proxy; if that entry is no address (`unknown`, a
/// port, empty, a line that is not text), the peer is: an entry left of it was written by someone
/// no trusted proxy vouches for.
pub fn client_ip(peer: &str, forwarded: &[&str], trusted: &[String]) -> String {
    let is_trusted = |ip: &str| trusted.iter().any(|t| t == ip);
    if !is_trusted(peer) {
        return peer.to_string();
    }
    let hops: Vec<&str> = forwarded
        .iter()
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .collect();
    let is_ip = |h: &str| h.parse::<std::net::IpAddr>().is_ok();
    match hops.iter().rev().find(|h| !is_trusted(h)) {
        Some(h) => Some(*h).filter(|h| is_ip(h)),
        // Only trusted proxies: the first of them is where the request began.
        None => hops.first().copied().filter(|h| is_ip(h)),
    }
    .map_or_else(|| peer.to_string(), str::to_string)
}

/// The session cookie: HttpOnly, SameSite=Lax (a redirect back from the portal must carry
/// it), Secure outside localhost; persistent only for "remember me".
pub fn session_cookie(
    token: String,
    max_age: Option<i64>,
    secure: bool,
    domain: &str,
) -> Cookie<'static> {
    let mut c = Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build();
    if !domain.is_empty() {
        c.set_domain(domain.to_string());
    }
    if let Some(secs) = max_age {
        c.set_max_age(time_duration(secs));
    }
    c
}

pub fn removal_cookie(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, "")).path("/").build()
}

/// Removes the session cookie, with the same domain it was set with.
pub fn session_removal(state: &AppState) -> Cookie<'static> {
    let mut c = removal_cookie(SESSION_COOKIE);
    if !state.config.session.cookie_domain.is_empty() {
        c.set_domain(state.config.session.cookie_domain.clone());
    }
    c
}

fn time_duration(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

/// The cookie that carries a session's token.
pub fn cookie_for(state: &AppState, token: String, session: &Session) -> Cookie<'static> {
    let max_age = state
        .sessions
        .cookie_max_age(session.remember, session.stage);
    session_cookie(
        token,
        max_age,
        state.config.secure_cookies(),
        &state.config.session.cookie_domain,
    )
}

/// Adds the cookies of a login step: the session's, and once the session is fully
/// authenticated, a fresh device cookie that keeps this browser out of the account's
/// throttle bucket next time (`throttle::device`).
pub fn with_login_cookies(
    state: &AppState,
    jar: CookieJar,
    token: String,
    session: &Session,
) -> CookieJar {
    let jar = jar.add(cookie_for(state, token, session));
    if session.stage != crate::login::Stage::Authenticated {
        return jar;
    }
    let device = Cookie::build((
        crate::throttle::device::COOKIE,
        crate::throttle::device::issue(&state.key, &session.uid),
    ))
    .path("/")
    .http_only(true)
    .same_site(SameSite::Strict)
    .secure(state.config.secure_cookies())
    .max_age(time_duration(crate::throttle::device::MAX_AGE_SECS))
    .build();
    jar.add(device)
}

/// The second line against cross-site requests, for every state-changing request but
/// those made by proxies and native clients (forward-auth, the client login flow):
/// - a browser that says the request is cross-site (`Sec-Fetch-Site`), or whose `Origin`
///   is neither twofold's public URL nor the host it talks to, is refused;
/// - the JSON API also wants `Content-Type: application/json` or an `X-Requested-With`
///   header, which a cross-site form or image cannot send without a CORS preflight,
///   bodiless requests (log out, new backup codes…) included.
///
/// `own_origin`: [`own_origin`] of the public URL, computed once. The `guards` module
/// answers the refusal this returns.
pub fn cross_site_refusal(req: &Request, own_origin: Option<&str>) -> Option<AppError> {
    let path = req.uri().path();
    if !cross_site_checked(req.method(), path) {
        return None;
    }
    let h = req.headers();
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("cross-site") {
        return Some(AppError::CrossSite);
    }
    // `Origin: null` (sandboxed frames, some privacy settings) says nothing either way;
    // the form token and Sec-Fetch-Site still stand.
    if let Some(origin) = text("origin").filter(|o| *o != "null") {
        let host = text("host").unwrap_or_default();
        let same_host = origin
            .split_once("://")
            .is_some_and(|(_, authority)| !host.is_empty() && authority == host);
        if Some(origin) != own_origin && !same_host {
            return Some(AppError::CrossSite);
        }
    }
    if path.starts_with("/api/") {
        let json = text("content-type").is_some_and(|ct| {
            ct.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json && !h.contains_key("x-requested-with") {
            // A body of another type (what a cross-site form sends) is refused as such.
            let has_body = h.contains_key("content-type")
                || text("content-length").is_some_and(|l| l != "0")
                || h.contains_key("transfer-encoding");
            return Some(if has_body {
                AppError::UnsupportedMediaType
            } else {
                AppError::CrossSite
            });
        }
    }
    None
}

/// Whether the cross-site guard looks at a request: a state-changing one, unless a proxy
/// (forward-auth) or a native client (the client login flow) makes it. On `/api/` it can
/// answer `cross_site` (403) or `unsupported_media_type` (415): the API document lists
/// those for each operation this is true of.
pub fn cross_site_checked(method: &axum::http::Method, path: &str) -> bool {
    use axum::http::Method;
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !path.starts_with("/api/v1/forward-auth")
        && !path.starts_with("/api/v1/login/flow")
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
pub fn own_origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(u.origin().ascii_serialization())
}

/// Marks an answer under `/api/` that is deliberately not the JSON error body: forward-auth
/// answers proxies in their own terms (an empty 403, a plain 401), as the document says.
#[derive(Clone, Copy, Debug)]
pub struct ProxyAnswer;

/// Every error answer under `/api/` is the API's error body. Handlers answer with
/// `AppError`; what refuses a request before a handler runs (the router's 404 and 405,
/// axum's `Path`, `Query` and body rejections: a path parameter that decodes to invalid
/// UTF-8, a query that does not parse) answers plain text, which [`error_body`] rewrites
/// with its status, its headers (`Allow`) and, for a 400, its message. This says whether
/// an answer under `/api/` is such a one (the `guards` module applies both).
pub fn needs_error_body(response: &axum::response::Response) -> bool {
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    (status.is_client_error() || status.is_server_error())
        && !json
        && response.extensions().get::<ProxyAnswer>().is_none()
}

/// The answer of [`needs_error_body`] rewritten as the API's error body.
pub async fn error_body(response: axum::response::Response) -> axum::response::Response {
    let status = response.status();
    let (parts, body) = response.into_parts();
    let error = match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            let text = axum::body::to_bytes(body, 2048).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_string();
            AppError::BadRequest(if text.is_empty() {
                "bad request".into()
            } else {
                text
            })
        }
        StatusCode::UNAUTHORIZED => AppError::Unauthorized,
        StatusCode::FORBIDDEN => AppError::Forbidden,
        StatusCode::NOT_FOUND => AppError::NotFound("route".into()),
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        StatusCode::SERVICE_UNAVAILABLE => {
            AppError::Unavailable(anyhow::anyhow!("a plain 503 answer under /api/"))
        }
        s if s.is_client_error() => {
            AppError::BadRequest(s.canonical_reason().unwrap_or("bad request").to_lowercase())
        }
        _ => AppError::Internal(anyhow::anyhow!("a plain {status} answer under /api/")),
    };
    let mut rewritten = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name, value.clone());
        }
    }
    // An unexpected 4xx keeps its status: only its body is the error body's.
    if status.is_client_error() && status != StatusCode::UNPROCESSABLE_ENTITY {
        *rewritten.status_mut() = status;
    }
    rewritten
}

/// A fully authenticated session (401 otherwise).
pub struct AuthSession(pub Session, pub String);

impl FromRequestParts<AppState> for AuthSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match MaybeSession::from_request_parts(parts, state).await?.0 {
            Some((s, t)) if s.stage == crate::login::Stage::Authenticated => Ok(AuthSession(s, t)),
            _ => Err(AppError::Unauthorized),
        }
    }
}

/// A fully authenticated session of an administrator (401 or 403 otherwise).
pub struct AdminSession(pub Session);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AuthSession(session, _) = AuthSession::from_request_parts(parts, state).await?;
        if !state.accounts.get(&session.uid).await?.is_admin {
            return Err(AppError::Forbidden);
        }
        Ok(AdminSession(session))
    }
}

/// An administrator's session that may change something: signed in recently, like the
/// user's own sensitive changes (403 `reauth_required` otherwise), so that an admin's
/// browser left open cannot quietly reset other people's factors.
pub struct AdminChange(pub Session);

impl FromRequestParts<AppState> for AdminChange {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AdminSession(session) = AdminSession::from_request_parts(parts, state).await?;
        crate::actions::require_recent(state, &session, now())?;
        Ok(AdminChange(session))
    }
}

#[cfg(test)]
mod tests {
    use super::client_ip;

    proptest::proptest! {
        #[test]
        fn a_client_behind_no_trusted_proxy_cannot_choose_its_address(
            peer in "(203\\.0\\.113\\.[0-9]{1,2})",
            header in ".{0,80}",
        ) {
            let trusted = vec!["127.0.0.1".to_string()];
            proptest::prop_assert_eq!(client_ip(&peer, &[&header], &trusted), peer);
        }

        #[test]
        fn behind_a_trusted_proxy_the_answer_is_an_address_it_was_given(
            header in "[0-9., a-z:]{0,60}",
        ) {
            let trusted = vec!["127.0.0.1".to_string()];
            let ip = client_ip("127.0.0.1", &[&header], &trusted);
            proptest::prop_assert!(
                ip == "127.0.0.1" || header.split(',').any(|h| h.trim() == ip),
                "{} from {:?}", ip, header
            );
            proptest::prop_assert!(ip.parse::<std::net::IpAddr>().is_ok());
        }
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted = vec!["127.0.0.1".to_string(), "10.0.0.2".to_string()];
        assert_eq!(
            client_ip("203.0.113.9", &["1.2.3.4"], &trusted),
            "203.0.113.9",
            "untrusted peer: header ignored"
        );
        assert_eq!(
            client_ip("127.0.0.1", &["198.51.100.7"], &trusted),
            "198.51.100.7"
        );
        assert_eq!(
            client_ip("127.0.0.1", &["6.6.6.6, 198.51.100.7, 10.0.0.2"], &trusted),
            "198.51.100.7",
            "rightmost untrusted"
        );
        assert_eq!(client_ip("127.0.0.1", &[], &trusted), "127.0.0.1");
        assert_eq!(client_ip("127.0.0.1", &["garbage"], &trusted), "127.0.0.1");
    }

    /// Issue 16, defect 4: a proxy that adds its own line after the client's (HAProxy's
    /// `option forwardfor`): every line counts, in order.
    #[test]
    fn defect_16_4_every_line_of_x_forwarded_for_counts() {
        let trusted = vec!["127.0.0.1".to_string(), "10.0.0.2".to_string()];
        for (lines, want) in [
            (&["6.6.6.6", "198.51.100.7"][..], "198.51.100.7"),
            (&["6.6.6.6, 7.7.7.7", "198.51.100.7"], "198.51.100.7"),
            (&["6.6.6.6", "198.51.100.7, 10.0.0.2"], "198.51.100.7"),
            (&["6.6.6.6", "198.51.100.7", "10.0.0.2"], "198.51.100.7"),
            (&["198.51.100.7", "10.0.0.2"], "198.51.100.7"),
            (&["10.0.0.2", "10.0.0.2"], "10.0.0.2"),
            // The entry a trusted proxy wrote is no address: nobody vouches for 6.6.6.6.
            (&["6.6.6.6", "unknown"], "127.0.0.1"),
            (&["6.6.6.6", "?"], "127.0.0.1"),
            (&["6.6.6.6", "198.51.100.7:4711"], "127.0.0.1"),
            (&["6.6.6.6", ""], "127.0.0.1"),
        ] {
            assert_eq!(client_ip("127.0.0.1", lines, &trusted), want, "{lines:?}");
        }
    }
}
