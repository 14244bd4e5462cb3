//! Pages of the signed-in user's own account: confirm it's you (re-authentication),
//! change the password, the security activity; and the admins' activity view. Each page
//! parses the form, calls the use case in `actions`, and renders.

use std::borrow::Cow;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::{CookieJar, Form};
use serde::Deserialize;

use super::i18n::{Lang, Texts, event_name};
use super::security::authenticated;
use super::{csrf, format_time, render, unavailable};
use crate::actions::PasswordChange;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{Client, MaybeSession};
use crate::sessions::Session;
use crate::state::AppState;
use crate::store::AuditQuery;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/reauth", get(reauth_page).post(reauth_submit))
        .route(
            "/settings/password",
            get(password_page).post(password_submit),
        )
        .route("/settings/activity", get(activity_page))
        .route("/admin/activity", get(admin_activity_page))
}

/// Only a path of this site may follow a re-authentication (no open redirect).
fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/settings/security" }
}

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    next: &'a str,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn show_reauth(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    next: &str,
    error: Option<(StatusCode, &'static str)>,
) -> Response {
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = ReauthPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        next: local_path(next),
        error: error.map(|(_, e)| e),
    };
    let status = error.map_or(StatusCode::OK, |(s, _)| s);
    (status, jar, render(page)).into_response()
}

async fn reauth_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Query(q): Query<NextQuery>,
) -> Response {
    if let Err(r) = authenticated(current) {
        return r.into_response();
    }
    show_reauth(&state, lang, jar, q.next.as_deref().unwrap_or(""), None)
}

#[derive(Deserialize)]
struct ReauthForm {
    csrf: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn reauth_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<ReauthForm>,
) -> Response {
    let t = lang.texts();
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        let err = Some((StatusCode::FORBIDDEN, t.form_expired));
        return show_reauth(&state, lang, jar, &form.next, err);
    }
    let result =
        crate::actions::reauthenticate(&state, &session, &client, &form.password, now()).await;
    let error = match result {
        Ok(()) => return Redirect::to(local_path(&form.next)).into_response(),
        Err(AppError::InvalidCredentials) => (StatusCode::UNAUTHORIZED, t.password_wrong),
        Err(AppError::TooManyAttempts(_) | AppError::Busy) => {
            (StatusCode::TOO_MANY_REQUESTS, t.too_many_attempts)
        }
        Err(e) => return unavailable(lang, e),
    };
    show_reauth(&state, lang, jar, &form.next, Some(error))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    changed: Option<PasswordChange>,
    /// The user's passkeys, which the form offers to remove with the change.
    passkeys: Vec<String>,
    error: Option<Cow<'static, str>>,
}

async fn show_password(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    session: &Session,
    changed: Option<PasswordChange>,
    error: Option<(StatusCode, Cow<'static, str>)>,
) -> Response {
    let passkeys = match crate::actions::passkey_names(state, &session.uid).await {
        Ok(p) => p,
        Err(e) => return unavailable(lang, e),
    };
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let status = error.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let page = PasswordPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        changed,
        passkeys,
        error: error.map(|(_, e)| e),
    };
    (status, jar, render(page)).into_response()
}

async fn password_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Response {
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    show_password(&state, lang, jar, &session, None, None).await
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    /// The checkbox "also remove my passkeys".
    remove_passkeys: Option<String>,
}

async fn password_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<PasswordForm>,
) -> Response {
    let t = lang.texts();
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return show_password(
            &state,
            lang,
            jar,
            &session,
            None,
            Some((StatusCode::FORBIDDEN, t.form_expired.into())),
        )
        .await;
    }
    let result = crate::actions::change_password(
        &state,
        &session,
        &client,
        &form.current_password,
        form.new_password,
        form.remove_passkeys.is_some(),
        now(),
    )
    .await;
    let error = match result {
        Ok(done) => return show_password(&state, lang, jar, &session, Some(done), None).await,
        Err(AppError::InvalidCredentials) => (StatusCode::UNAUTHORIZED, t.password_wrong.into()),
        Err(AppError::WeakPassword(w)) => (
            StatusCode::BAD_REQUEST,
            format!("{} {}", t.password_rejected, w.message(lang == Lang::Fr)).into(),
        ),
        Err(AppError::BadRequest(_)) => (StatusCode::BAD_REQUEST, t.password_rejected.into()),
        Err(AppError::TooManyAttempts(_) | AppError::Busy) => {
            (StatusCode::TOO_MANY_REQUESTS, t.too_many_attempts.into())
        }
        Err(e) => return unavailable(lang, e),
    };
    show_password(&state, lang, jar, &session, None, Some(error)).await
}

/// One audit event as the activity table shows it.
struct EventView {
    event: String,
    what: &'static str,
    when: String,
    actor: String,
    target: String,
    ip: String,
    user_agent: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    lang: &'static str,
    t: &'static Texts,
    title: &'static str,
    admin: bool,
    user: String,
    events: Vec<EventView>,
}

async fn events(
    state: &AppState,
    lang: Lang,
    user: Option<String>,
) -> Result<Vec<EventView>, AppError> {
    let rows = state
        .audit
        .list(&AuditQuery {
            user,
            since: 0,
            limit: 200,
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| EventView {
            what: event_name(lang, &r.event),
            when: format_time(r.at),
            event: r.event,
            actor: r.actor,
            target: r.target,
            ip: r.ip,
            user_agent: r.user_agent,
            // An aggregate row (failed logins of unknown names) says how many it counts.
            detail: if r.repeats > 1 {
                format!("{} ×{}", r.detail, r.repeats)
            } else {
                r.detail
            },
        })
        .collect())
}

/// The signed-in user's own security events, newest first.
async fn activity_page(
    State(state): State<AppState>,
    lang: Lang,
    MaybeSession(current): MaybeSession,
) -> Response {
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match events(&state, lang, Some(session.uid)).await {
        Ok(events) => render(ActivityPage {
            lang: lang.code(),
            t: lang.texts(),
            title: lang.texts().activity_title,
            admin: false,
            user: String::new(),
            events,
        }),
        Err(e) => unavailable(lang, e),
    }
}

#[derive(Deserialize)]
struct UserQuery {
    user: Option<String>,
}

/// Every account's events, or one account's (admins only).
async fn admin_activity_page(
    State(state): State<AppState>,
    lang: Lang,
    MaybeSession(current): MaybeSession,
    Query(q): Query<UserQuery>,
) -> Response {
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match state.accounts.get(&session.uid).await {
        Ok(u) if u.is_admin => {}
        Ok(_) => return AppError::Forbidden.into_response(),
        Err(e) => return unavailable(lang, e),
    }
    let user = q.user.filter(|u| !u.trim().is_empty());
    match events(&state, lang, user.clone()).await {
        Ok(events) => render(ActivityPage {
            lang: lang.code(),
            t: lang.texts(),
            title: lang.texts().admin_activity_title,
            admin: true,
            user: user.unwrap_or_default(),
            events,
        }),
        Err(e) => unavailable(lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_follow_a_reauthentication() {
        assert_eq!(local_path("/settings/devices"), "/settings/devices");
        assert_eq!(local_path("/login/flow/abc"), "/login/flow/abc");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example/",
            "evil",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), "/settings/security", "{bad:?}");
        }
    }
}
