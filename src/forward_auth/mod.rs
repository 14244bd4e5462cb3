//! Forward-auth: one endpoint per proxy family, each reading only the headers its proxy
//! sets, because a client can send any header and Traefik and Caddy pass the client's
//! headers on:
//!
//! - `/api/v1/forward-auth/nginx` — nginx `auth_request`: `X-Original-URL`,
//!   `X-Original-Method` (set in nginx's config, which replaces a client's own);
//! - `/api/v1/forward-auth/traefik` and `/api/v1/forward-auth/caddy` — Traefik
//!   `ForwardAuth`, Caddy `forward_auth`: `X-Forwarded-Method/-Proto/-Host/-Uri`.
//!
//! The request is normalized (`normalize`) before the access rules see it. The answer is
//! 200 with `Remote-*` headers, 401 (with a portal `Location` for browsers behind nginx,
//! which cannot pass a redirect through `auth_request`), 302 to the portal (browsers behind
//! Traefik/Caddy), or 403. Any failure of the store answers 503: fail closed.

mod doc;
pub mod normalize;
pub mod rules;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth_cache::{Entry, Principal};
use crate::clock::now;
use crate::error::{AppError, BASIC_CHALLENGE};
use crate::http::Client;
use crate::login::Stage;
use crate::metrics::ForwardAuthOutcome as Outcome;
use crate::state::AppState;
use normalize::NormalPath;
use rules::{Policy, decide};

/// The endpoints, documented as GET (what Traefik and Caddy send) but answering any
/// method: nginx's `auth_request` asks with the method of the request it checks.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(doc::any_method(routes!(nginx), any(nginx)))
        .routes(doc::any_method(routes!(traefik), any(traefik)))
        .routes(doc::any_method(routes!(caddy), any(caddy)))
        .routes(doc::any_method(routes!(retired), any(retired)))
        .layer(axum::middleware::map_response(mark_proxy_answer))
}

/// The answers here are for proxies, in the shapes the document gives them (an empty 403,
/// a plain 401 for nginx): `http::api_error_body` leaves them as they are.
async fn mark_proxy_answer(mut r: Response) -> Response {
    r.extensions_mut().insert(crate::http::ProxyAnswer);
    r
}

/// Which proxy is asking: it decides which headers are read and how a browser is sent to
/// the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    Nginx,
    /// Traefik and Caddy: the `X-Forwarded-*` family.
    Forwarded,
}

/// The request the proxy is asking about, normalized for the rules.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub method: String,
    /// As the proxy sent it, for the way back after login.
    pub url: String,
    /// Lower case, no port, no trailing dot.
    pub host: String,
    pub path: NormalPath,
    pub proxy: Proxy,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// Why the proxy's headers do not describe a request.
#[derive(Debug, PartialEq, Eq)]
pub struct BadTarget(&'static str);

/// A header the proxy sets, `None` when absent or empty. Sent twice it is refused rather
/// than read one way: a proxy that adds its line instead of replacing the client's leaves
/// two, and which one the proxy meant cannot be told. A value that is not text is refused
/// too, rather than taken as absent (a missing `X-Forwarded-Uri` means `/`).
fn proxy_header<'a>(h: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, BadTarget> {
    let mut lines = h.get_all(name).iter();
    let Some(value) = lines.next() else {
        return Ok(None);
    };
    if lines.next().is_some() {
        return Err(BadTarget(
            "a header of the proxy (X-Original-*, X-Forwarded-*) came more than once",
        ));
    }
    let value = value.to_str().map_err(|_| {
        BadTarget("a header of the proxy (X-Original-*, X-Forwarded-*) is not plain text")
    })?;
    Ok(Some(value).filter(|v| !v.is_empty()))
}

impl Target {
    /// nginx: `X-Original-URL` (`$scheme://$host$request_uri`) and `X-Original-Method`.
    pub fn from_nginx(h: &HeaderMap) -> Result<Target, BadTarget> {
        let url = proxy_header(h, "x-original-url")?.ok_or(BadTarget(
            "the nginx endpoint needs X-Original-URL ($scheme://$host$request_uri)",
        ))?;
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(s, _)| matches!(*s, "http" | "https"))
            .ok_or(BadTarget("X-Original-URL must be an absolute http(s) URL"))?;
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        Self::build(
            proxy_header(h, "x-original-method")?,
            scheme,
            authority,
            target,
            Proxy::Nginx,
        )
    }

    /// Traefik and Caddy: `X-Forwarded-Method/-Proto/-Host/-Uri`.
    pub fn from_forwarded(h: &HeaderMap) -> Result<Target, BadTarget> {
        let proto = proxy_header(h, "x-forwarded-proto")?.unwrap_or("https");
        if !matches!(proto, "http" | "https") {
            return Err(BadTarget("X-Forwarded-Proto must be http or https"));
        }
        let host = proxy_header(h, "x-forwarded-host")?.ok_or(BadTarget(
            "the Traefik/Caddy endpoint needs X-Forwarded-Host and X-Forwarded-Uri",
        ))?;
        let uri = proxy_header(h, "x-forwarded-uri")?.unwrap_or("/");
        Self::build(
            proxy_header(h, "x-forwarded-method")?,
            proto,
            host,
            uri,
            Proxy::Forwarded,
        )
    }

    fn build(
        method: Option<&str>,
        scheme: &str,
        authority: &str,
        target: &str,
        proxy: Proxy,
    ) -> Result<Target, BadTarget> {
        let host = normalize::host(authority).ok_or(BadTarget("the original host is invalid"))?;
        let target = if target.is_empty() { "/" } else { target };
        let method = method.unwrap_or("GET");
        if method.is_empty()
            || method.len() > 32
            || !method.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Err(BadTarget("the original method is invalid"));
        }
        Ok(Target {
            method: method.to_ascii_uppercase(),
            url: format!("{scheme}://{authority}{target}"),
            host,
            path: normalize::path(target),
            proxy,
        })
    }
}

/// Access check for nginx `auth_request`.
///
/// Reads `X-Original-URL` and `X-Original-Method` only. A browser without a session gets
/// 401 with the portal in `Location` (nginx cannot pass a redirect through
/// `auth_request`); a throttled HTTP Basic client gets 401 with `Retry-After`, because
/// nginx turns any other status into a 500.
#[utoipa::path(get, path = "/api/v1/forward-auth/nginx", tag = "forward-auth",
    security((), ("session" = []), ("basic" = [])),
    params(
        ("X-Original-URL" = String, Header,
            description = "The checked request's URL: `$scheme://$host$request_uri`"),
        ("X-Original-Method" = Option<String>, Header,
            description = "The checked request's method (default GET)"),
        ("Accept" = Option<String>, Header,
            description = "`text/html` (without `Authorization`) marks a browser"),
    ),
    responses(doc::NginxAnswers))]
async fn nginx(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    let target = Target::from_nginx(&headers);
    answer(&state, &client, &headers, target).await
}

/// Access check for Traefik `ForwardAuth`.
///
/// Reads `X-Forwarded-Method/-Proto/-Host/-Uri` only. A browser without a session is
/// redirected (302) to the portal.
#[utoipa::path(get, path = "/api/v1/forward-auth/traefik", tag = "forward-auth",
    security((), ("session" = []), ("basic" = [])),
    params(doc::ForwardedHeaders),
    responses(doc::ForwardedAnswers))]
async fn traefik(state: State<AppState>, client: Client, headers: HeaderMap) -> Response {
    forwarded(state, client, headers).await
}

/// Access check for Caddy `forward_auth`.
///
/// Reads `X-Forwarded-Method/-Proto/-Host/-Uri` only. A browser without a session is
/// redirected (302) to the portal.
#[utoipa::path(get, path = "/api/v1/forward-auth/caddy", tag = "forward-auth",
    security((), ("session" = []), ("basic" = [])),
    params(doc::ForwardedHeaders),
    responses(doc::ForwardedAnswers))]
async fn caddy(state: State<AppState>, client: Client, headers: HeaderMap) -> Response {
    forwarded(state, client, headers).await
}

async fn forwarded(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
) -> Response {
    let target = Target::from_forwarded(&headers);
    answer(&state, &client, &headers, target).await
}

/// The endpoint of twofold 0.1 read whichever proxy's headers were present, so a client
/// behind Traefik or Caddy could choose its own `X-Original-URL`. It now refuses, so that
/// an old proxy config fails closed and its operator sees why.
#[utoipa::path(get, path = "/api/v1/forward-auth", tag = "forward-auth",
    responses((status = 410, description = "Retired: use the endpoint of your proxy",
        body = String, content_type = "text/plain")))]
async fn retired() -> Response {
    tracing::warn!(
        "a proxy called /api/v1/forward-auth; use /api/v1/forward-auth/nginx, /traefik or /caddy"
    );
    (
        StatusCode::GONE,
        "use /api/v1/forward-auth/nginx, /api/v1/forward-auth/traefik or /api/v1/forward-auth/caddy",
    )
        .into_response()
}

/// The answer, counted in the metrics by outcome with the time it took to decide.
async fn answer(
    state: &AppState,
    client: &crate::sessions::ClientInfo,
    headers: &HeaderMap,
    target: Result<Target, BadTarget>,
) -> Response {
    let started = std::time::Instant::now();
    let (outcome, response) = match target {
        Ok(target) => match decide_request(state, client, headers, &target).await {
            Ok(answer) => answer,
            Err(e) => (error_outcome(&e), error_response(e)),
        },
        Err(BadTarget(why)) => (
            Outcome::BadRequest,
            AppError::BadRequest(why.into()).into_response(),
        ),
    };
    crate::metrics::forward_auth(outcome, started.elapsed());
    response
}

fn error_response(e: AppError) -> Response {
    if matches!(e, AppError::Unavailable(_) | AppError::Internal(_)) {
        tracing::error!(error = %format!("{:#}", anyhow::Error::from(e)), "forward-auth failed closed");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    e.into_response()
}

fn error_outcome(e: &AppError) -> Outcome {
    match e {
        AppError::TooManyAttempts(_) => Outcome::Throttled,
        AppError::InvalidCredentials | AppError::AppPasswordRequired => Outcome::WrongCredentials,
        AppError::Unauthorized => Outcome::Unauthenticated,
        AppError::Forbidden => Outcome::Forbidden,
        AppError::BadRequest(_) => Outcome::BadRequest,
        _ => Outcome::Unavailable,
    }
}

/// A browser navigation (wants HTML) rather than an API or sync client.
fn is_browser(h: &HeaderMap) -> bool {
    header(h, "accept").is_some_and(|a| a.contains("text/html"))
        && !h.contains_key(header::AUTHORIZATION)
}

async fn decide_request(
    state: &AppState,
    client: &crate::sessions::ClientInfo,
    headers: &HeaderMap,
    target: &Target,
) -> Result<(Outcome, Response), AppError> {
    let config = &state.config.forward_auth;
    let decision = decide(config, &target.host, &target.path);
    match decision.policy {
        Policy::Bypass => return Ok((Outcome::Bypassed, StatusCode::OK.into_response())),
        Policy::Deny => return Ok((Outcome::Forbidden, StatusCode::FORBIDDEN.into_response())),
        _ => {}
    }
    let now = now();
    let found = if let Some((uid, pw)) =
        header(headers, "authorization").and_then(crate::app_passwords::parse_basic)
    {
        basic_principal(state, client, &uid, &pw, target, now).await?
    } else {
        match session_token(headers) {
            Some(token) => session_principal(state, token, now).await?,
            None => Found::Nobody,
        }
    };
    let entry = match found {
        Found::Principal(e) => e,
        Found::Nobody => {
            return Ok((
                Outcome::Unauthenticated,
                unauthenticated(state, headers, target),
            ));
        }
        Found::Refused(outcome, r) => return Ok((outcome, r)),
    };
    let who = &entry.who;
    if decision.policy == Policy::TwoFactor && !who.second_factor {
        let r = (
            StatusCode::FORBIDDEN,
            "this resource requires two-factor authentication",
        );
        return Ok((Outcome::TwoFactorRequired, r.into_response()));
    }
    if !decision.groups.is_empty() && !who.groups.iter().any(|g| decision.groups.contains(g)) {
        return Ok((Outcome::Forbidden, StatusCode::FORBIDDEN.into_response()));
    }
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    for (name, value) in &who.headers {
        h.insert(name.clone(), value.clone());
    }
    Ok((Outcome::Allowed, response))
}

/// What the credentials of a request come to.
enum Found {
    Principal(std::sync::Arc<Entry>),
    /// No (valid) credentials: the portal, or 401.
    Nobody,
    /// Refused with this answer (a wrong or throttled Basic password).
    Refused(Outcome, Response),
}

/// The value of the session cookie, read straight from the `Cookie` headers (this runs on
/// every request of every protected app: no cookie jar is built for one value). Sent twice,
/// the last one counts, as in the cookie jar the pages read (a test holds the two equal),
/// so that forward-auth and the pages never see two different sessions.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name.trim() == crate::http::SESSION_COOKIE).then_some(value.trim())
        })
        .next_back()
}

/// Re-checks with the database once a minute even without a change, because that is how
/// often a credential's use is recorded.
const REFRESH_SECS: i64 = 60;

async fn session_principal(state: &AppState, token: &str, now: i64) -> Result<Found, AppError> {
    let key = format!("s:{}", state.sessions.hash(token));
    if let Some(e) = state.auth_cache.get(&key, now) {
        return Ok(Found::Principal(e));
    }
    let ticket = state.auth_cache.ticket();
    let session = match state.sessions.find(token, now).await? {
        Some(s) if s.stage == Stage::Authenticated => s,
        _ => return Ok(Found::Nobody),
    };
    let user = match state.accounts.get(&session.uid).await {
        Ok(u) if u.enabled => u,
        Ok(_) | Err(AppError::NotFound(_)) => return Ok(Found::Nobody),
        Err(e) => return Err(e),
    };
    let entry = entry_for(
        state,
        user,
        session.second_factor,
        session.expires_at,
        "",
        now,
    )
    .await?;
    Ok(Found::Principal(state.auth_cache.keep(
        Some(key),
        ticket,
        entry,
    )))
}

async fn basic_principal(
    state: &AppState,
    client: &crate::sessions::ClientInfo,
    uid: &str,
    password: &str,
    target: &Target,
    now: i64,
) -> Result<Found, AppError> {
    // Only app passwords are kept (the main password goes through the throttle and the
    // password hash every time); their key is their hash, and the entry names its user.
    let key = (password.len() <= 64).then(|| format!("a:{}", state.app_passwords.hash(password)));
    if let Some(e) = key.as_deref().and_then(|k| state.auth_cache.get(k, now))
        && e.who.uid == uid
        && e.who.ip == client.ip
    {
        return Ok(Found::Principal(e));
    }
    let ticket = state.auth_cache.ticket();
    match crate::actions::authenticate_basic(state, uid, password, client, now).await {
        Ok(p) => {
            // An app password carries what the login that made it had proved.
            let entry =
                entry_for(state, p.user, p.second_factor, i64::MAX, &client.ip, now).await?;
            let key = key.filter(|_| p.app_password.is_some());
            Ok(Found::Principal(state.auth_cache.keep(key, ticket, entry)))
        }
        Err(e @ (AppError::InvalidCredentials | AppError::AppPasswordRequired)) => {
            Ok(Found::Refused(Outcome::WrongCredentials, basic_refusal(e)))
        }
        // nginx turns any auth answer but 200/401/403 into a 500: a throttled sync
        // client would see a server error. 401 with Retry-After tells it to wait.
        Err(AppError::TooManyAttempts(secs)) if target.proxy == Proxy::Nginx => {
            let mut r = basic_refusal(AppError::TooManyAttempts(secs));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(Found::Refused(Outcome::Throttled, r))
        }
        Err(e) => Err(e),
    }
}

/// The entry for an enabled user: groups and answer headers, read and built once.
async fn entry_for(
    state: &AppState,
    user: crate::accounts::User,
    second_factor: bool,
    valid_until: i64,
    ip: &str,
    now: i64,
) -> Result<Principal, AppError> {
    let groups = state.store.groups_of(&user.uid).await?;
    let mut headers = Vec::with_capacity(4);
    for (name, value) in [
        ("remote-user", user.uid.as_str()),
        ("remote-groups", &groups.join(",")),
        ("remote-email", user.email.as_str()),
        ("remote-name", user.display_name.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.push((HeaderName::from_static(name), v));
        }
    }
    Ok(Principal {
        uid: user.uid,
        second_factor,
        groups,
        headers,
        valid_until,
        refresh_at: now + REFRESH_SECS,
        ip: ip.to_string(),
    })
}

/// 401 for HTTP Basic clients, with the reason in the body and the Basic challenge. The
/// reason is also in `X-Twofold-Reason`, because a proxy's auth subrequest (nginx
/// `auth_request`) drops the body: examples/nginx.conf answers with that header's text.
fn basic_refusal(e: AppError) -> Response {
    let reason = HeaderValue::from_str(&e.to_string()).ok();
    let mut r = e.into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(BASIC_CHALLENGE),
    );
    if let Some(reason) = reason {
        r.headers_mut().insert("x-twofold-reason", reason);
    }
    r
}

/// No credentials: browsers are sent to the portal (and back), everything else gets 401.
fn unauthenticated(state: &AppState, headers: &HeaderMap, target: &Target) -> Response {
    if !is_browser(headers) {
        let mut r = (StatusCode::UNAUTHORIZED, "authentication required").into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(BASIC_CHALLENGE),
        );
        return r;
    }
    let mut portal = format!(
        "{}/login",
        state.config.server.public_url.trim_end_matches('/')
    );
    if let Some(rd) = state.safe_return_url(&target.url) {
        portal.push_str("?rd=");
        portal.push_str(&url::form_urlencoded::byte_serialize(rd.as_bytes()).collect::<String>());
    }
    let status = if target.proxy == Proxy::Nginx {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::FOUND
    };
    let mut r = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&portal) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn each_endpoint_reads_only_its_own_proxys_headers() {
        let nginx = Target::from_nginx(&headers(&[
            ("x-original-url", "https://Files.Example.org./dav/a.txt?x=1"),
            ("x-original-method", "PUT"),
        ]))
        .unwrap();
        assert_eq!(
            (nginx.method.as_str(), nginx.host.as_str(), &nginx.path),
            (
                "PUT",
                "files.example.org",
                &NormalPath::Clear("/dav/a.txt".into())
            )
        );
        let traefik_headers = [
            ("x-forwarded-method", "GET"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "wiki.example.org"),
            ("x-forwarded-uri", "/secret?a=b"),
            // Sent by the client, passed on by Traefik: must not count.
            ("x-original-url", "https://wiki.example.org/public/"),
        ];
        let traefik = Target::from_forwarded(&headers(&traefik_headers)).unwrap();
        assert_eq!(traefik.url, "https://wiki.example.org/secret?a=b");
        assert_eq!(traefik.path, NormalPath::Clear("/secret".into()));
        assert_eq!(traefik.proxy, Proxy::Forwarded);
        // And nginx's endpoint ignores the X-Forwarded-* family.
        assert!(Target::from_nginx(&headers(&traefik_headers[..4])).is_err());
        assert!(Target::from_forwarded(&headers(&[])).is_err());
        for bad in ["ftp://x/", "https://", "https://a b/", "/relative"] {
            assert!(
                Target::from_nginx(&headers(&[("x-original-url", bad)])).is_err(),
                "{bad}"
            );
        }
    }

    /// Issue 16, defect 4: a repeated header of the proxy is refused, not read one way.
    #[test]
    fn defect_16_4_a_repeated_proxy_header_is_refused() {
        let nginx = [
            ("x-original-url", "https://files.example.org/public/x"),
            ("x-original-method", "GET"),
        ];
        let forwarded = [
            ("x-forwarded-method", "GET"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "files.example.org"),
            ("x-forwarded-uri", "/public/x"),
        ];
        let with_twice = |pairs: &[(&'static str, &'static str)], twice: &str| {
            let mut h = headers(pairs);
            let (name, value) = pairs.iter().find(|(n, _)| *n == twice).unwrap();
            h.append(*name, HeaderValue::from_static(value));
            h
        };
        assert!(Target::from_nginx(&headers(&nginx)).is_ok());
        assert!(Target::from_forwarded(&headers(&forwarded)).is_ok());
        for (name, _) in nginx {
            assert!(
                Target::from_nginx(&with_twice(&nginx, name)).is_err(),
                "{name}"
            );
        }
        for (name, _) in forwarded {
            assert!(
                Target::from_forwarded(&with_twice(&forwarded, name)).is_err(),
                "{name}"
            );
        }
        // Not text: refused, not read as a missing X-Forwarded-Uri (which means `/`).
        let mut h = headers(&forwarded[..3]);
        h.insert(
            "x-forwarded-uri",
            HeaderValue::from_bytes(b"/deny/\xc3\xa9").unwrap(),
        );
        assert!(Target::from_forwarded(&h).is_err());
    }

    #[test]
    fn the_session_cookie_is_read_as_the_cookie_jar_reads_it() {
        let cases: &[&[&str]] = &[
            &[],
            &["a=1"],
            &["twofold_session=abc"],
            &["a=1; twofold_session=abc; b=2"],
            &["twofold_session=first; twofold_session=second"],
            &["twofold_session=first", "twofold_session=second"],
            &["twofold_session = spaced ;x=y"],
            &["twofold_session="],
            &["twofold_sessionx=no; xtwofold_session=no"],
            &["garbage; ;=; twofold_session=ok"],
        ];
        for headers_in in cases {
            let mut h = HeaderMap::new();
            for v in *headers_in {
                h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
            }
            let jar = axum_extra::extract::CookieJar::from_headers(&h);
            let expected = jar
                .get(crate::http::SESSION_COOKIE)
                .map(|c| c.value().to_string());
            assert_eq!(
                session_token(&h).map(str::to_string),
                expected,
                "{headers_in:?}"
            );
        }
    }

    #[test]
    fn browsers_are_told_apart_from_clients() {
        assert!(is_browser(&headers(&[(
            "accept",
            "text/html,application/xhtml+xml"
        )])));
        assert!(!is_browser(&headers(&[("accept", "*/*")])));
        assert!(!is_browser(&headers(&[
            ("accept", "text/html"),
            ("authorization", "Basic eDp5")
        ])));
    }
}
