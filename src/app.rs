//! Wiring: the shared state, and `router(state)` that merges each domain's routes with the
//! cross-cutting layers (`guards`: cross-site guard, API error bodies, timeout, security
//! headers; the body limit; request tracing when it is on). Tests can call
//! `router(...)` directly without a socket.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use tower::Layer as _;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
pub use crate::state::AppState;

pub use crate::clock::now;

/// The Content-Security-Policy: everything from this origin, and as scripts exactly the
/// files of the providers that have one, `/static/<id>.js` (no inline script anywhere).
/// Forms may be sent to this origin only, but the redirect after the last login form may
/// lead to a return URL, and browsers check `form-action` on that redirect too: the
/// origins a return URL may have (`return_sources`) are listed beside `'self'`.
fn content_security_policy(
    public_url: &str,
    script_owners: &[&str],
    return_sources: &[String],
) -> HeaderValue {
    let origin = url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let scripts = match script_owners {
        [] => "'none'".to_string(),
        owners => owners
            .iter()
            .map(|id| format!("{origin}/static/{id}.js"))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let form_action: String = std::iter::once("'self'")
        .chain(return_sources.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let policy = format!(
        "default-src 'self'; script-src {scripts}; img-src 'self' data:; \
         frame-ancestors 'none'; form-action {form_action}; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
    })
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.server.max_body_bytes;
    let script_owners: Vec<&str> = state
        .two_factor
        .registered()
        .filter(|p| p.script().is_some())
        .map(|p| p.id().as_str())
        // The live hint of the password pages (`/static/password.js`), the devices page's
        // Web Push button and the service worker it registers (`worker-src` falls back to
        // `script-src`).
        .chain([
            crate::web::PASSWORD_SCRIPT,
            crate::web::WEB_PUSH_SCRIPT,
            crate::web::SERVICE_WORKER,
        ])
        .collect();
    let csp = content_security_policy(
        &state.config.server.public_url,
        &script_owners,
        &state.return_csp_sources(),
    );
    // Not in the API document: an operator's endpoint, off on this port by default.
    let metrics_route = if state.config.metrics.on_main_listener() {
        Router::new().route("/metrics", axum::routing::get(serve_metrics))
    } else {
        Router::new()
    };
    let routes = Router::new()
        .merge(metrics_route)
        .merge(crate::openapi::serve(
            utoipa_axum::router::OpenApiRouter::with_openapi(crate::openapi::base())
                .routes(utoipa_axum::routes!(healthz))
                .routes(utoipa_axum::routes!(readyz))
                .merge(crate::api::router())
                .merge(crate::forward_auth::router())
                .merge(crate::openapi::router()),
        ))
        .merge(crate::web::router())
        .with_state(state.clone());
    let headers = vec![
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        // Everything here is personal or secret (backup codes, a new app password, a TOTP
        // secret): no cache keeps it. The stylesheet sets its own caching.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on
        // our own form posts, and the cross-site guard could not check where they come from.
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ];
    // Around the whole router, not `Router::layer`, which wraps (and per request clones)
    // every route in every layer: the cross-site guard, the API's error bodies, the
    // answer deadline and the security headers in one service (`guards`), the body limit.
    let guarded = tower::ServiceBuilder::new()
        .layer(crate::guards::Guards::new(
            &state.config.server.public_url,
            ANSWER_TIMEOUT,
            headers,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .service(routes);
    // The request span, only when a subscriber wants it (`log.level` debug, or
    // `tower_http=debug`): otherwise no span, no clock reading, no wrapped body.
    if request_tracing_on() {
        Router::new().fallback_service(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<_>| {
                // Only the path, and never the token of a client login flow URL.
                tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
            },
        ).layer(guarded))
    } else {
        Router::new().fallback_service(guarded)
    }
}

/// How long an answer may take before it is `408`.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the installed subscriber records the request span or `tower_http`'s events.
fn request_tracing_on() -> bool {
    tracing::enabled!(tracing::Level::DEBUG)
        || tracing::enabled!(target: "tower_http::trace", tracing::Level::DEBUG)
}

/// The router of the separate metrics listener (`metrics.listen`): `/metrics` alone.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(serve_metrics))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            ANSWER_TIMEOUT,
        ))
}

/// Prometheus text format: the recorded series, then the cache and pool figures read now.
async fn serve_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let cache = state.auth_cache.stats();
    let (pool_connections, pool_idle) = state.store.pool_stats();
    let readings = crate::metrics::Readings {
        cache_hits: cache.hits,
        cache_misses: cache.misses,
        pool_connections,
        pool_idle,
        pool_max: state.config.database.max_connections,
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(state.metrics.as_ref(), &readings),
    )
}

/// The request path fit for logs: a login-flow token is replaced by `…`.
fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/login/flow/") {
        Some(_) => "/login/flow/…".to_string(),
        None => path.to_string(),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "The process is up", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

crate::openapi::errors!(ReadyErrors: Unavailable);

/// Ready only while the database answers.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, description = "The database answers", body = String, content_type = "text/plain"), ReadyErrors))]
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    state.store.ping().await?;
    Ok("ready")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_csp_allows_exactly_the_providers_scripts() {
        let csp = super::content_security_policy("https://auth.example.org/", &["a", "b"], &[]);
        let csp = csp.to_str().unwrap();
        assert!(
            csp.contains(
                "script-src https://auth.example.org/static/a.js https://auth.example.org/static/b.js;"
            ),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        let none = super::content_security_policy("https://auth.example.org/", &[], &[]);
        assert!(none.to_str().unwrap().contains("script-src 'none';"));
    }

    #[test]
    fn forms_may_lead_to_this_origin_and_the_return_origins_only() {
        let allowed = ["auth.example.org".to_string(), "example.org".to_string()];
        let sources = crate::return_url::csp_sources(&allowed, true);
        let csp = super::content_security_policy("https://auth.example.org/", &[], &sources);
        let csp = csp.to_str().unwrap();
        let form_action = csp
            .split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix("form-action "))
            .unwrap();
        assert_eq!(
            form_action,
            "'self' https://auth.example.org:* https://*.auth.example.org:* \
             https://example.org:* https://*.example.org:*"
        );
        let tokens: Vec<&str> = form_action.split(' ').collect();
        for broad in ["*", "https:", "http:", "http://*", "https://*"] {
            assert!(!tokens.contains(&broad), "{broad} in {form_action}");
        }
        assert!(!form_action.contains("evil"));
        // The directives around it are untouched.
        assert!(csp.contains("default-src 'self';"));
        assert!(csp.ends_with("; base-uri 'none'"), "{csp}");
    }

    #[test]
    fn login_flow_tokens_stay_out_of_logs() {
        assert_eq!(
            super::loggable_path("/login/flow/SECRETTOKEN"),
            "/login/flow/…"
        );
        assert_eq!(super::loggable_path("/login"), "/login");
    }
}
