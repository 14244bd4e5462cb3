//! Forward-auth: one endpoint, `/api/v1/forward-auth`, for nginx `auth_request`, Traefik
//! `ForwardAuth` and Caddy `forward_auth`. It reads the original request from the headers
//! each proxy sends, applies the access rules, and answers 200 with `Remote-*` headers,
//! 401 (with a portal `Location` for browsers behind nginx), 302 to the portal (browsers
//! behind Traefik/Caddy), or 403. Any failure of the store answers 503: fail closed.

pub mod rules;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::app::{AppState, now};
use crate::error::{AppError, BASIC_CHALLENGE};
use crate::http::{Client, MaybeSession};
use crate::login::Stage;
use rules::{Policy, decide, safe_return_url};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/forward-auth", any(forward_auth))
}

/// The request the proxy is asking about.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub method: String,
    pub url: String,
    pub host: String,
    pub path: String,
    /// nginx cannot pass a redirect through `auth_request`: it gets 401 + `Location`.
    pub nginx: bool,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

impl Target {
    /// nginx: `X-Original-URL` (+ `X-Original-Method`), set in its config.
    /// Traefik and Caddy: `X-Forwarded-Method/-Proto/-Host/-Uri`.
    pub fn from_headers(h: &HeaderMap) -> Option<Target> {
        if let Some(original) = header(h, "x-original-url") {
            let url = url::Url::parse(original).ok()?;
            return Some(Target {
                method: header(h, "x-original-method").unwrap_or("GET").to_string(),
                host: url.host_str()?.to_string(),
                path: url.path().to_string(),
                url: original.to_string(),
                nginx: true,
            });
        }
        let proto = header(h, "x-forwarded-proto").unwrap_or("https");
        let host = header(h, "x-forwarded-host")?;
        let uri = header(h, "x-forwarded-uri").unwrap_or("/");
        let url = format!("{proto}://{host}{uri}");
        let parsed = url::Url::parse(&url).ok()?;
        Some(Target {
            method: header(h, "x-forwarded-method").unwrap_or("GET").to_string(),
            host: parsed.host_str()?.to_string(),
            path: parsed.path().to_string(),
            url,
            nginx: false,
        })
    }
}

/// A browser navigation (wants HTML) rather than an API or sync client.
fn is_browser(h: &HeaderMap) -> bool {
    header(h, "accept").is_some_and(|a| a.contains("text/html"))
        && !h.contains_key(header::AUTHORIZATION)
}

/// Who made the request, as far as forward-auth is concerned.
struct Principal {
    uid: String,
    second_factor: bool,
}

async fn forward_auth(
    State(state): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    session: Result<MaybeSession, AppError>,
) -> Response {
    match decide_request(&state, &client, &headers, session).await {
        Ok(r) => r,
        Err(e) => {
            if matches!(e, AppError::Unavailable(_) | AppError::Internal(_)) {
                tracing::error!(error = %format!("{:#}", anyhow::Error::from(e)), "forward-auth failed closed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            e.into_response()
        }
    }
}

async fn decide_request(
    state: &AppState,
    client: &crate::sessions::ClientInfo,
    headers: &HeaderMap,
    session: Result<MaybeSession, AppError>,
) -> Result<Response, AppError> {
    let Some(target) = Target::from_headers(headers) else {
        return Err(AppError::BadRequest(
            "forward-auth needs X-Original-URL (nginx) or X-Forwarded-Host/-Uri (Traefik, Caddy)"
                .into(),
        ));
    };
    let config = &state.config.forward_auth;
    let decision = decide(config, &target.host, &target.path);
    match decision.policy {
        Policy::Bypass => return Ok(StatusCode::OK.into_response()),
        Policy::Deny => return Ok(StatusCode::FORBIDDEN.into_response()),
        _ => {}
    }

    let principal = if let Some((uid, pw)) =
        header(headers, "authorization").and_then(crate::app_passwords::parse_basic)
    {
        match crate::app_passwords::authenticate_basic(state, &uid, &pw, client, now()).await {
            Ok(p) => Principal {
                uid: p.user.uid,
                // App passwords stand in for the second factor by design.
                second_factor: p.via_app_password,
            },
            Err(e @ (AppError::InvalidCredentials | AppError::AppPasswordRequired)) => {
                return Ok(basic_refusal(e));
            }
            Err(e) => return Err(e),
        }
    } else {
        match session?.0 {
            Some((s, _)) if s.stage == Stage::Authenticated => Principal {
                uid: s.uid,
                second_factor: s.second_factor,
            },
            _ => return Ok(unauthenticated(state, headers, &target)),
        }
    };

    let user = state.accounts.get(&principal.uid).await?;
    if !user.enabled {
        return Ok(unauthenticated(state, headers, &target));
    }
    let groups = state.store.groups_of(&user.uid).await?;
    if decision.policy == Policy::TwoFactor && !principal.second_factor {
        return Ok((
            StatusCode::FORBIDDEN,
            "this resource requires two-factor authentication",
        )
            .into_response());
    }
    if !decision.groups.is_empty() && !groups.iter().any(|g| decision.groups.contains(g)) {
        return Ok(StatusCode::FORBIDDEN.into_response());
    }
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    for (name, value) in [
        ("remote-user", user.uid.as_str()),
        ("remote-groups", &groups.join(",")),
        ("remote-email", user.email.as_str()),
        ("remote-name", user.display_name.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    Ok(response)
}

/// 401 for HTTP Basic clients, with the reason in the body and the Basic challenge.
fn basic_refusal(e: AppError) -> Response {
    let mut r = e.into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(BASIC_CHALLENGE),
    );
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
    if let Some(rd) = safe_return_url(&target.url, &state.allowed_domains()) {
        portal.push_str("?rd=");
        portal.push_str(&url::form_urlencoded::byte_serialize(rd.as_bytes()).collect::<String>());
    }
    let status = if target.nginx {
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
    fn reads_what_each_proxy_sends() {
        let nginx = Target::from_headers(&headers(&[
            ("x-original-url", "https://files.example.org/dav/a.txt?x=1"),
            ("x-original-method", "PUT"),
        ]))
        .unwrap();
        assert_eq!(
            (
                nginx.method.as_str(),
                nginx.host.as_str(),
                nginx.path.as_str(),
                nginx.nginx
            ),
            ("PUT", "files.example.org", "/dav/a.txt", true)
        );
        let traefik = Target::from_headers(&headers(&[
            ("x-forwarded-method", "GET"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "wiki.example.org"),
            ("x-forwarded-uri", "/page?a=b"),
        ]))
        .unwrap();
        assert_eq!(traefik.url, "https://wiki.example.org/page?a=b");
        assert!(!traefik.nginx);
        assert_eq!(Target::from_headers(&headers(&[])), None);
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
