//! How the forward-auth endpoints appear in the API document: what a proxy sends and
//! what it gets back. Their answers are mostly empty or plain text (a proxy reads the
//! status and headers), so they are described here rather than derived from `AppError`
//! alone.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::routing::MethodRouter;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, ContentBuilder, RefOr, Required};
use utoipa::{IntoParams, IntoResponses};
use utoipa_axum::router::UtoipaMethodRouter;

use super::Proxy;
use crate::error::AppError;
use crate::openapi::error_response;
use crate::state::AppState;

/// A documented route (path and operation from the handler's annotation) served by
/// `router` for every method.
pub fn any_method(
    documented: UtoipaMethodRouter<AppState>,
    router: MethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    let (schemas, paths, _) = documented;
    (schemas, paths, router)
}

fn text() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(text())
        .description(Some(description))
        .build()
}

/// A plain-text body, as the handler writes it.
fn plain(example: &str) -> Content {
    ContentBuilder::new()
        .schema(Some(text()))
        .example(Some(example.into()))
        .build()
}

/// The answers of one proxy family.
fn answers(proxy: Proxy) -> BTreeMap<String, RefOr<Response>> {
    let mut out = BTreeMap::new();
    let mut ok = ResponseBuilder::new().description(
        "Let the request through: a bypass rule, or an authenticated session or app \
         password that the rules allow (then with the `Remote-*` headers)",
    );
    for (name, what) in [
        ("Remote-User", "The user's uid"),
        ("Remote-Groups", "The user's groups, comma-separated"),
        ("Remote-Email", "The user's email address"),
        ("Remote-Name", "The user's display name"),
    ] {
        ok = ok.header(name, header(what));
    }
    out.insert("200".to_string(), RefOr::T(ok.build()));

    let bad = AppError::BadRequest("the proxy's headers do not describe a request".into());
    out.insert(
        "400".to_string(),
        RefOr::T(error_response(StatusCode::BAD_REQUEST, &[&bad])),
    );

    // nginx turns any auth answer but 200/401/403 into a 500: a throttled client gets 401.
    let mut refused = vec![AppError::InvalidCredentials, AppError::AppPasswordRequired];
    if proxy == Proxy::Nginx {
        refused.push(AppError::TooManyAttempts(30));
    }
    let refused: Vec<&AppError> = refused.iter().collect();
    let mut unauthorized = error_response(StatusCode::UNAUTHORIZED, &refused);
    unauthorized.description = format!(
        "No credentials (plain text `authentication required`{}), or HTTP Basic credentials \
         refused (JSON):\n{}",
        if proxy == Proxy::Nginx {
            "; for a browser, `Location` names the login portal with the way back"
        } else {
            ""
        },
        unauthorized
            .description
            .split_once('\n')
            .map(|(_, codes)| codes)
            .unwrap_or_default()
    );
    unauthorized
        .content
        .insert("text/plain".to_string(), plain("authentication required"));
    unauthorized.headers.insert(
        "WWW-Authenticate".to_string(),
        header("The HTTP Basic challenge"),
    );
    if proxy == Proxy::Nginx {
        unauthorized.headers.insert(
            "Location".to_string(),
            header("For a browser: the login portal, with the way back in `rd`"),
        );
    }
    out.insert("401".to_string(), RefOr::T(unauthorized));

    if proxy == Proxy::Forwarded {
        let found = ResponseBuilder::new()
            .description("A browser without a session: to the login portal and back")
            .header(
                "Location",
                header("The login portal, with the way back in `rd`"),
            )
            .build();
        out.insert("302".to_string(), RefOr::T(found));
        let throttled = AppError::TooManyAttempts(30);
        out.insert(
            "429".to_string(),
            RefOr::T(error_response(StatusCode::TOO_MANY_REQUESTS, &[&throttled])),
        );
    }

    let mut forbidden = ResponseBuilder::new()
        .description(
            "Denied: a deny rule, a group the user is not in (no body), or a two-factor \
             rule for a login or app password without a second factor (plain text)",
        )
        .build();
    forbidden.content.insert(
        "text/plain".to_string(),
        plain("this resource requires two-factor authentication"),
    );
    out.insert("403".to_string(), RefOr::T(forbidden));

    let mut unavailable = error_response(StatusCode::SERVICE_UNAVAILABLE, &[&AppError::Busy]);
    unavailable.description = format!(
        "Fail closed: the database failed (no body), or too many password checks are \
         running (JSON):\n{}",
        unavailable
            .description
            .split_once('\n')
            .map(|(_, codes)| codes)
            .unwrap_or_default()
    );
    out.insert("503".to_string(), RefOr::T(unavailable));
    out
}

/// The answers of `/api/v1/forward-auth/nginx`.
pub struct NginxAnswers;

impl IntoResponses for NginxAnswers {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(Proxy::Nginx)
    }
}

/// The answers of `/api/v1/forward-auth/traefik` and `/caddy`.
pub struct ForwardedAnswers;

impl IntoResponses for ForwardedAnswers {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(Proxy::Forwarded)
    }
}

/// The headers Traefik and Caddy set; the only ones these endpoints read.
pub struct ForwardedHeaders;

impl IntoParams for ForwardedHeaders {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        [
            (
                "X-Forwarded-Method",
                "The checked request's method (default GET)",
                false,
            ),
            (
                "X-Forwarded-Proto",
                "`http` or `https` (default https)",
                false,
            ),
            ("X-Forwarded-Host", "The checked request's host", true),
            (
                "X-Forwarded-Uri",
                "The checked request's path and query (default /)",
                false,
            ),
            (
                "Accept",
                "`text/html` (without `Authorization`) marks a browser",
                false,
            ),
        ]
        .into_iter()
        .map(|(name, description, required)| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(if required {
                    Required::True
                } else {
                    Required::False
                })
                .description(Some(description))
                .schema(Some(text()))
                .build()
        })
        .collect()
    }
}
