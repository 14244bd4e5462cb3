//! The OpenAPI 3.1 document of the JSON API, served at `GET /api/v1/openapi.json`.
//!
//! Each handler carries its own `#[utoipa::path]`, and each adapter's router is a
//! utoipa-axum `OpenApiRouter` built with `routes!`: the path and methods a handler is
//! routed under are the ones its annotation documents, so the router and the document come
//! from one list. This module holds what every operation shares: the document's info and
//! security schemes, the error answers (built from `AppError`'s own status and code, see
//! [`errors!`]), and the route that serves the finished document.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::Extension;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::{Json, Router};
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Ref, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::state::AppState;

/// Name of the security scheme for the session cookie.
pub const SESSION: &str = "session";
/// Name of the security scheme for HTTP Basic with an app password.
pub const BASIC: &str = "basic";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "twofold",
        description = "The JSON API of twofold, a login server with two-factor authentication.\n\n\
            Errors have one shape, `ErrorBody`: `{\"error\": {\"code\", \"message\"}}`. The `code` \
            is stable; each operation lists the codes it can answer with, by status. State-changing \
            requests (except forward-auth and the client login flow) must send \
            `Content-Type: application/json` or an `X-Requested-With` header, from twofold's own \
            origin. A request that takes longer than 30 seconds is answered 408 with no body.\n\n\
            Requests refused before an operation runs get the same error body: a path under \
            `/api/` that no route serves is 404 `not_found`, a method the path does not take is \
            405 `method_not_allowed` (with `Allow`), and a path parameter or query that cannot be \
            read (such as an escape that is not UTF-8) is 400 `bad_request`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::Body, crate::error::Detail)),
    tags(
        (name = "session", description = "Password and passwordless login, the session, the signed-in user"),
        (name = "two-factor", description = "The login challenge and the user's own second factors"),
        (name = "account", description = "Re-authentication, password, security activity"),
        (name = "devices", description = "App passwords, sessions, log out everywhere"),
        (name = "push", description = "Web Push: browsers that receive sign-in requests"),
        (name = "login-flow", description = "Client login flow for desktop and mobile clients"),
        (name = "admin", description = "Enforcement, providers, a user's 2FA (administrators)"),
        (name = "forward-auth", description = "Access checks for reverse proxies"),
        (name = "meta", description = "Health and this document"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::http::SESSION_COOKIE,
                "The session cookie set by the login steps. An operation that needs a fully \
                 authenticated session answers 401 to a session still in the login flow.",
            ))),
        );
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some(
            "The user's uid and an app password (or, for an account without two-factor \
             authentication, the main password)."
                .into(),
        );
        components.add_security_scheme(BASIC, SecurityScheme::Http(basic));
    }
}

/// The document's fixed parts: info, tags, security schemes, the error body schema.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Declares the error answers of one operation as a type to name in its
/// `#[utoipa::path(responses(...))]`: `errors!(LoginErrors: InvalidCredentials, Busy)`.
/// Each name is an `AppError` variant (a wrong name does not compile); statuses, codes and
/// headers come from `AppError` itself.
macro_rules! errors {
    ($(#[$meta:meta])* $name:ident: $($variant:ident),+ $(,)?) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::openapi::error_responses(&[$($crate::openapi::errors!(@one $variant)),+])
            }
        }
    };
    (@one BadRequest) => {
        $crate::error::AppError::BadRequest("the message says what is wrong".into())
    };
    (@one NotFound) => {
        $crate::error::AppError::NotFound("what the request names was".into())
    };
    (@one Conflict) => {
        $crate::error::AppError::Conflict(
            "the request conflicts with the current state; the message says how".into(),
        )
    };
    (@one WeakPassword) => {
        $crate::error::AppError::WeakPassword($crate::password_weakness::Weakness::Common)
    };
    (@one TooManyAttempts) => { $crate::error::AppError::TooManyAttempts(30) };
    (@one Unavailable) => {
        $crate::error::AppError::Unavailable(anyhow::anyhow!("the database failed"))
    };
    (@one Internal) => { $crate::error::AppError::Internal(anyhow::anyhow!("internal")) };
    (@one $variant:ident) => { $crate::error::AppError::$variant };
}
pub(crate) use errors;

/// The responses for a set of errors, one per status: the `ErrorBody` schema with `code`
/// narrowed to the codes of that status, an example per code, and the headers
/// `AppError::into_response` adds (`WWW-Authenticate`, `Retry-After`).
pub fn error_responses(errors: &[AppError]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<&AppError>> = BTreeMap::new();
    for e in errors {
        by_status.entry(e.status().as_u16()).or_default().push(e);
    }
    by_status
        .into_iter()
        .map(|(status, errors)| {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status.as_str().to_string(),
                RefOr::T(error_response(status, &errors)),
            )
        })
        .collect()
}

/// One error response: `errors` as answered with `status` (their own, but for an endpoint
/// that deliberately answers with another, as forward-auth does for nginx).
pub fn error_response(status: StatusCode, errors: &[&AppError]) -> Response {
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    let reason = status.canonical_reason().unwrap_or("Error");
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("- `{}`: {}", e.code(), e))
        .collect();
    let narrowed = ObjectBuilder::new().property(
        "error",
        ObjectBuilder::new().property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(codes.clone())),
        ),
    );
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name("ErrorBody"))
        .item(narrowed);
    let examples = errors.iter().map(|e| {
        let body = serde_json::json!({"error": {"code": e.code(), "message": e.to_string()}});
        (e.code(), ExampleBuilder::new().value(Some(body)).build())
    });
    let content = ContentBuilder::new()
        .schema(Some(schema))
        .examples_from_iter(examples)
        .build();
    let mut response = ResponseBuilder::new()
        .description(format!("{reason}:\n{}", lines.join("\n")))
        .content("application/json", content);
    if errors
        .iter()
        .any(|e| matches!(e, AppError::AppPasswordRequired))
    {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(
                    "With `app_password_required`: the HTTP Basic challenge",
                ))
                .build(),
        );
    }
    if errors
        .iter()
        .any(|e| matches!(e, AppError::TooManyAttempts(_) | AppError::Busy))
    {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("Seconds to wait before trying again"))
                .build(),
        );
    }
    response.build()
}

/// The finished document, shared by the route that serves it.
#[derive(Clone)]
struct Document(Arc<utoipa::openapi::OpenApi>);

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API",
            content_type = "application/json", body = Object),
    )
)]
async fn document(Extension(Document(doc)): Extension<Document>) -> HttpResponse {
    Json(doc.as_ref()).into_response()
}

/// The route that serves the document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(document))
}

/// Splits a documented router into the axum router and the document, which the router then
/// serves at `/api/v1/openapi.json`.
pub fn serve(documented: OpenApiRouter<AppState>) -> Router<AppState> {
    let (router, doc) = documented.split_for_parts();
    router.layer(Extension(Document(Arc::new(doc))))
}
