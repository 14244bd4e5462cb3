//! Server-rendered pages (askama templates, English and French). Every form carries a
//! CSRF token checked against a cookie (double submit); handlers named after their page.

mod account;
mod admin;
mod csrf;
mod devices;
mod i18n;
mod security;
mod two_factor;

pub use i18n::Lang;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use crate::clock::format_time;
use crate::error::AppError;
use crate::http::{Client, MaybeSession, removal_cookie, session_removal, with_login_cookies};
use crate::login::Stage;
use crate::state::AppState;
use i18n::Texts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home_page))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", axum::routing::post(logout_submit))
        .route("/static/style.css", get(stylesheet))
        .route("/static/sw.js", get(service_worker))
        .route("/static/manifest.webmanifest", get(manifest))
        .route("/static/{script}", get(provider_script))
        .route("/login/done", get(login_done))
        .merge(account::router())
        .merge(two_factor::router())
        .merge(security::router())
        .merge(admin::router())
        .merge(devices::router())
        .fallback(not_found)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    uid: &'a str,
    error: Option<&'static str>,
    /// Ways to sign in without the password, from the providers that can.
    views: &'a [String],
}

/// The sign-in page's fragments of the providers that sign in without the password and
/// are on system-wide (none when that cannot be read: the password form still works).
async fn sign_in_views(state: &AppState, lang: Lang) -> Vec<String> {
    let view = crate::providers::View {
        lang: lang.code(),
        csrf: "",
    };
    let mut views = Vec::new();
    for p in state.two_factor.registered().filter(|p| p.signs_in()) {
        if let Ok(true) = state.two_factor.system_enabled(p.id()).await
            && let Some(fragment) = p.sign_in_view(&view)
        {
            views.push(fragment);
        }
    }
    views
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    uid: &'a str,
    display_name: &'a str,
    expires: String,
    /// After a login with a backup code: how many are left.
    backup_code_used: Option<i64>,
    backup_few: bool,
    is_admin: bool,
    /// The password failed the policy at sign-in: a banner asks for a new one.
    weak_password: bool,
}

#[derive(Deserialize)]
struct HomeQuery {
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    lang: &'static str,
    t: &'static Texts,
}

/// A path no route serves: a small page in the reader's language rather than an empty
/// body. Under `/api/` the API's error body, as for every API answer.
async fn not_found(lang: i18n::Lang, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::NotFound("route".into()).into_response();
    }
    let page = render(NotFoundPage {
        lang: lang.code(),
        t: lang.texts(),
    });
    (StatusCode::NOT_FOUND, page).into_response()
}

fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => AppError::Internal(e.into()).into_response(),
    }
}

/// A page-friendly error: failures of the store show a plain page, never a login.
fn unavailable(lang: Lang, e: AppError) -> Response {
    if !matches!(e, AppError::Unavailable(_) | AppError::Internal(_)) {
        return e.into_response();
    }
    tracing::error!(error = %format!("{:#}", anyhow::Error::from(e)), "page failed");
    (StatusCode::SERVICE_UNAVAILABLE, lang.texts().unavailable).into_response()
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
}

/// The name of the password pages' own script, `/static/password.js`.
pub const PASSWORD_SCRIPT: &str = "password";

/// The devices page's Web Push button, `/static/webpush.js`.
pub const WEB_PUSH_SCRIPT: &str = "webpush";
/// The service worker that shows Web Push notifications, `/static/sw.js`.
pub const SERVICE_WORKER: &str = "sw";

/// `/static/sw.js`, allowed to control the whole origin (`Service-Worker-Allowed: /`):
/// a notification tapped anywhere opens twofold's pages.
async fn service_worker() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            // Browsers check for a new worker at most daily anyway; a short cache lets a
            // fix reach them soon.
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::HeaderName::from_static("service-worker-allowed"),
                "/",
            ),
        ],
        include_str!("../../static/sw.js"),
    )
}

/// The web app manifest: the security page added to a phone's home screen.
async fn manifest() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/manifest.webmanifest"),
    )
}

/// `/static/<provider>.js`: the script a provider's fragments need, or the password
/// pages' live hint.
async fn provider_script(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let script = match file.strip_suffix(".js") {
        Some(PASSWORD_SCRIPT) => Some(include_str!("../../static/password.js")),
        Some(WEB_PUSH_SCRIPT) => Some(include_str!("../../static/webpush.js")),
        id => id
            .and_then(|id| state.two_factor.provider(id))
            .and_then(|p| p.script()),
    };
    match script {
        Some(body) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Where the page's script sends the browser after a challenge it answered through the
/// API (a browser ceremony): on to the app it came from, or home.
async fn login_done(
    State(state): State<AppState>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Response {
    match current {
        Some((s, _)) if s.stage == Stage::Authenticated => {
            after_login(&state, jar, "/").into_response()
        }
        Some((s, _)) => Redirect::to(two_factor::page_for(s.stage)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

use crate::http::RETURN_COOKIE;

#[derive(Deserialize)]
struct LoginQuery {
    rd: Option<String>,
}

/// Where a fully logged-in browser goes next: back to the app it came from (if that URL is
/// on an allowed domain), else `default`. The return cookie is used up.
pub(crate) fn after_login(
    state: &AppState,
    jar: CookieJar,
    default: &str,
) -> (CookieJar, Redirect) {
    let back = jar
        .get(RETURN_COOKIE)
        .and_then(|c| state.safe_return_url(c.value()));
    let jar = jar.remove(removal_cookie(RETURN_COOKIE));
    match back {
        Some(url) => (jar, Redirect::to(&url)),
        None => (jar, Redirect::to(default)),
    }
}

async fn login_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
    MaybeSession(current): MaybeSession,
) -> Response {
    let rd = query.rd.as_deref().and_then(|u| state.safe_return_url(u));
    let jar = match rd {
        Some(url) => jar.add(
            axum_extra::extract::cookie::Cookie::build((RETURN_COOKIE, url))
                .path("/")
                .http_only(true)
                .same_site(axum_extra::extract::cookie::SameSite::Lax)
                .secure(state.config.secure_cookies())
                .max_age(cookie::time::Duration::minutes(
                    state.config.session.pending_minutes,
                ))
                .build(),
        ),
        None => jar,
    };
    if let Some((s, _)) = current {
        if s.stage == Stage::Authenticated {
            return after_login(&state, jar, "/").into_response();
        }
        return (jar, Redirect::to(two_factor::page_for(s.stage))).into_response();
    }
    let views = sign_in_views(&state, lang).await;
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = LoginPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        uid: "",
        error: None,
        views: &views,
    };
    (jar, render(page)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    uid: String,
    password: String,
    remember: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(previous): MaybeSession,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = lang.texts();
    let (status, error) = if !csrf::verify(&state.key, &jar, &form.csrf) {
        // No cookie at all over plain http on a public name: the browser dropped the
        // Secure cookies, and "the form expired" would send the user round in circles.
        if csrf::cookie_missing(&jar) && state.config.insecure_http() {
            (StatusCode::FORBIDDEN, t.insecure_http)
        } else {
            (StatusCode::FORBIDDEN, t.form_expired)
        }
    } else {
        let remember = form.remember.is_some();
        match crate::login::password_step(&state, &form.uid, &form.password, remember, &client)
            .await
        {
            Ok((token, session)) => {
                if let Some((old, _)) = previous
                    && let Err(e) = state.sessions.end(&old).await
                {
                    return unavailable(lang, e.into());
                }
                let jar = with_login_cookies(&state, jar, token, &session);
                if session.stage == Stage::Authenticated {
                    return after_login(&state, jar, "/").into_response();
                }
                return (jar, Redirect::to(two_factor::page_for(session.stage))).into_response();
            }
            Err(AppError::InvalidCredentials) => (StatusCode::UNAUTHORIZED, t.invalid_credentials),
            Err(AppError::TooManyAttempts(_)) => {
                (StatusCode::TOO_MANY_REQUESTS, t.too_many_attempts)
            }
            // Too many logins being checked right now: the same page, try again shortly.
            Err(AppError::Busy) => (StatusCode::SERVICE_UNAVAILABLE, t.too_many_attempts),
            Err(e) => return unavailable(lang, e),
        }
    };
    // Only a page shown again reads the sign-in fragments (a successful login redirects).
    let views = sign_in_views(&state, lang).await;
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = LoginPage {
        lang: lang.code(),
        t,
        csrf: &token,
        uid: &form.uid,
        error: Some(error),
        views: &views,
    };
    (status, jar, render(page)).into_response()
}

async fn home_page(
    State(state): State<AppState>,
    lang: Lang,
    axum::extract::Query(query): axum::extract::Query<HomeQuery>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Response {
    let session = match current {
        Some((s, _)) if s.stage == Stage::Authenticated => s,
        Some((s, _)) => return Redirect::to(two_factor::page_for(s.stage)).into_response(),
        None => return Redirect::to("/login").into_response(),
    };
    let user = match state.accounts.get(&session.uid).await {
        Ok(u) => u,
        Err(e) => return unavailable(lang, e),
    };
    let backup_code_used = if query.notice.as_deref() == Some("backup_code_used") {
        match state.two_factor.backup_codes.remaining(&user.uid).await {
            Ok(n) => Some(n),
            Err(e) => return unavailable(lang, e),
        }
    } else {
        None
    };
    let weak_password = match state.accounts.has_weak_password(&user.uid).await {
        Ok(w) => w,
        Err(e) => return unavailable(lang, e),
    };
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = HomePage {
        weak_password,
        backup_few: backup_code_used.is_some_and(|n| n <= crate::providers::backup_codes::FEW_LEFT),
        backup_code_used,
        is_admin: user.is_admin,
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        uid: &user.uid,
        display_name: &user.display_name,
        expires: format_time(session.expires_at),
    };
    (jar, render(page)).into_response()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout_submit(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return (StatusCode::FORBIDDEN, lang.texts().form_expired).into_response();
    }
    if let Some((session, _)) = current
        && let Err(e) = state.sessions.end(&session).await
    {
        return unavailable(lang, e.into());
    }
    (jar.remove(session_removal(&state)), Redirect::to("/login")).into_response()
}
