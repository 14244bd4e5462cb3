//! The one error type handlers return. Clients see a stable code and a safe message;
//! the real cause of an internal failure goes to the log only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or a value is out of range; the message says which.
    #[error("{0}")]
    BadRequest(String),
    /// A new password the policy refuses; the weakness says why (`reason` in the body).
    #[error("password refused: {}", .0.message(false))]
    WeakPassword(crate::password_weakness::Weakness),
    /// Unknown user or wrong password: deliberately one answer for both.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// A wrong second-factor code.
    #[error("invalid code")]
    InvalidCode,
    #[error("authentication required")]
    Unauthorized,
    /// HTTP Basic with the main password of an account that has 2FA.
    #[error(
        "two-factor authentication is on for this account: create an app password in your security settings and use it instead of your password"
    )]
    AppPasswordRequired,
    #[error("not allowed")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(String),
    /// The path exists under `/api/`, but not with this method.
    #[error("this path does not take this method")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// Too many failed attempts: wait this many seconds.
    #[error("too many failed attempts; try again in {0} seconds")]
    TooManyAttempts(i64),
    /// A second factor locked after 100 consecutive failures; an admin must reset it.
    #[error(
        "this two-factor method is locked after too many failed attempts; ask an administrator to reset it"
    )]
    FactorLocked,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type: send application/json")]
    UnsupportedMediaType,
    /// A state-changing request that a browser may have sent from another site.
    #[error(
        "cross-site request refused: send Content-Type: application/json or an X-Requested-With header, from twofold's own origin"
    )]
    CrossSite,
    /// The action needs the user to have proved who they are recently.
    #[error("confirm your password first: this change needs a recent sign-in")]
    ReauthRequired,
    /// Too many password checks already running or queued: try again shortly.
    #[error("the server is busy; try again in a moment")]
    Busy,
    /// A dependency (the database) failed: nobody gets in.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) | AppError::WeakPassword(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidCredentials
            | AppError::Unauthorized
            | AppError::InvalidCode
            | AppError::AppPasswordRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::ReauthRequired | AppError::CrossSite => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::FactorLocked => StatusCode::LOCKED,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable, searchable code for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::WeakPassword(_) => "weak_password",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCode => "invalid_code",
            AppError::AppPasswordRequired => "app_password_required",
            AppError::Forbidden => "forbidden",
            AppError::ReauthRequired => "reauth_required",
            AppError::CrossSite => "cross_site",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::FactorLocked => "factor_locked",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Busy => "busy",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// One error of each kind, for the API document and the tests that hold it to this
    /// mapping. The match makes a new variant fail to compile here until it is listed.
    pub fn catalog() -> Vec<AppError> {
        use AppError::*;
        let all = vec![
            BadRequest(String::new()),
            WeakPassword(crate::password_weakness::Weakness::Common),
            InvalidCredentials,
            InvalidCode,
            Unauthorized,
            AppPasswordRequired,
            Forbidden,
            NotFound(String::new()),
            MethodNotAllowed,
            Conflict(String::new()),
            TooManyAttempts(1),
            FactorLocked,
            PayloadTooLarge,
            UnsupportedMediaType,
            CrossSite,
            ReauthRequired,
            Busy,
            Unavailable(anyhow::anyhow!("unavailable")),
            Internal(anyhow::anyhow!("internal")),
        ];
        for e in &all {
            match e {
                BadRequest(_) | WeakPassword(_) | InvalidCredentials | InvalidCode
                | Unauthorized | AppPasswordRequired | Forbidden | NotFound(_)
                | MethodNotAllowed | Conflict(_) | TooManyAttempts(_) | FactorLocked
                | PayloadTooLarge | UnsupportedMediaType | CrossSite | ReauthRequired | Busy
                | Unavailable(_) | Internal(_) => {}
            }
        }
        all
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Conflict(what) => AppError::Conflict(what),
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::InvalidValue => {
                AppError::BadRequest("a value in the request is not valid text".into())
            }
            StoreError::Database(e) => AppError::Unavailable(e.into()),
        }
    }
}

/// The `WWW-Authenticate` challenge for HTTP Basic clients.
pub const BASIC_CHALLENGE: &str = "Basic realm=\"twofold\", charset=\"UTF-8\"";

/// The body of every error answer of the JSON API.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorBody)]
pub(crate) struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorDetail)]
pub(crate) struct Detail<'a> {
    /// Stable and searchable: `AppError::code`.
    code: &'a str,
    /// For people; may change between versions.
    message: String,
    /// With `weak_password`: why, stable (`too_short`, `too_long`, `common`, `breached`,
    /// `contains_user_name`, `contains_display_name`, `contains_service_name`,
    /// `guessable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Unavailable(e) | AppError::Internal(e) => {
                tracing::error!(code = self.code(), error = %format!("{e:#}"), "request failed");
            }
            _ => {}
        }
        let body = Body {
            error: Detail {
                code: self.code(),
                message: self.to_string(),
                reason: match &self {
                    AppError::WeakPassword(w) => Some(w.code()),
                    _ => None,
                },
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, AppError::AppPasswordRequired) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(BASIC_CHALLENGE),
            );
        }
        if matches!(self, AppError::Busy) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        if let AppError::TooManyAttempts(secs) = self
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn the_catalog_holds_each_kind_once() {
        let all = AppError::catalog();
        let mut codes: Vec<_> = all.iter().map(AppError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "one code per variant");
        let kinds: std::collections::HashSet<_> = all.iter().map(std::mem::discriminant).collect();
        assert_eq!(kinds.len(), all.len(), "one of each variant");
    }
}
