//! Pages for app passwords, connected browsers, and the client login flow's grant.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::{CookieJar, Form};
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::security::authenticated;
use super::{csrf, format_time, render, unavailable};
use crate::clock::now;
use crate::error::AppError;
use crate::http::{Client, MaybeSession, session_removal};
use crate::sessions::Session;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/devices", get(devices_page))
        .route("/settings/devices/app-passwords", post(create_app_password))
        .route("/settings/devices/revoke", post(revoke))
        .route(
            "/settings/devices/logout-everywhere",
            post(logout_everywhere),
        )
        .route("/login/flow/{token}", get(grant_page).post(grant_submit))
}

struct AppPasswordItem {
    id: String,
    name: String,
    last_used: String,
    ip: String,
}

struct PushItem {
    id: String,
    browser: String,
    added: String,
    last_used: String,
}

struct SessionItem {
    id: String,
    user_agent: String,
    ip: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    uid: &'a str,
    new_password: Option<String>,
    app_passwords: Vec<AppPasswordItem>,
    sessions: Vec<SessionItem>,
    push_subscriptions: Vec<PushItem>,
    /// Passkeys: "log out everywhere" leaves them, and the page says so.
    passkeys: Vec<String>,
    error: Option<&'static str>,
    /// The sessions are shown a page at a time (`?page=`): this one, of how many, and
    /// the links to the neighbours.
    page: i64,
    pages: i64,
    previous: Option<String>,
    next: Option<String>,
}

/// Sessions per devices page.
const SESSIONS_PER_PAGE: i64 = 50;

/// Which page of the sessions (`/settings/devices?page=N`).
#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<String>,
}

async fn show(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    session: &Session,
    new_password: Option<String>,
    error: Option<(StatusCode, &'static str)>,
) -> Response {
    show_page(state, lang, jar, session, 1, new_password, error).await
}

async fn show_page(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    session: &Session,
    page: i64,
    new_password: Option<String>,
    error: Option<(StatusCode, &'static str)>,
) -> Response {
    let loaded = async {
        let apps = state.app_passwords.list(&session.uid).await?;
        let sessions = state
            .sessions
            .page(&session.uid, now(), page, SESSIONS_PER_PAGE)
            .await?;
        let passkeys = crate::actions::passkey_names(state, &session.uid).await?;
        let push = state.web_push.list(&session.uid).await?;
        Ok::<_, AppError>((apps, sessions, passkeys, push))
    }
    .await;
    let (apps, (sessions, total), passkeys, push) = match loaded {
        Ok(v) => v,
        Err(e) => return unavailable(lang, e),
    };
    let pages = ((total + SESSIONS_PER_PAGE - 1) / SESSIONS_PER_PAGE).max(1);
    let link = |p: i64| format!("/settings/devices?page={p}");
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = DevicesPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        uid: &session.uid,
        new_password,
        passkeys,
        app_passwords: apps
            .into_iter()
            .map(|a| AppPasswordItem {
                last_used: if a.last_used_at == 0 {
                    String::new()
                } else {
                    format_time(a.last_used_at)
                },
                id: a.id,
                name: a.name,
                ip: a.last_used_ip,
            })
            .collect(),
        sessions: sessions
            .into_iter()
            .map(|s| SessionItem {
                current: s.id == session.id,
                last_seen: format_time(s.last_seen_at),
                id: s.id,
                user_agent: if s.user_agent.is_empty() {
                    "?".into()
                } else {
                    s.user_agent
                },
                ip: s.ip,
            })
            .collect(),
        push_subscriptions: push
            .into_iter()
            .map(|p| PushItem {
                browser: browser_of(&p.user_agent),
                added: format_time(p.created_at),
                last_used: if p.last_used_at == 0 {
                    String::new()
                } else {
                    format_time(p.last_used_at)
                },
                id: p.id,
            })
            .collect(),
        error: error.map(|(_, m)| m),
        page,
        pages,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    };
    let status = error.map(|(c, _)| c).unwrap_or(StatusCode::OK);
    (status, jar, render(page)).into_response()
}

async fn devices_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Query(query): Query<PageQuery>,
) -> Response {
    // A page that is no number is the first; one past the end is an empty page with a
    // link back.
    let page = query
        .page
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    match authenticated(current) {
        Ok(s) => show_page(&state, lang, jar, &s, page, None, None).await,
        Err(r) => r.into_response(),
    }
}

#[derive(Deserialize)]
struct NameForm {
    csrf: String,
    name: String,
}

async fn create_app_password(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<NameForm>,
) -> Response {
    let t = lang.texts();
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return show(
            &state,
            lang,
            jar,
            &session,
            None,
            Some((StatusCode::FORBIDDEN, t.form_expired)),
        )
        .await;
    }
    match crate::actions::create_app_password(&state, &session, &client, &form.name, now()).await {
        Ok((password, _)) => show(&state, lang, jar, &session, Some(password), None).await,
        Err(AppError::ReauthRequired) => {
            Redirect::to("/settings/reauth?next=/settings/devices").into_response()
        }
        Err(AppError::BadRequest(_)) => {
            show(
                &state,
                lang,
                jar,
                &session,
                None,
                Some((StatusCode::BAD_REQUEST, t.name_required)),
            )
            .await
        }
        Err(e) => unavailable(lang, e),
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    csrf: String,
    kind: String,
    id: String,
}

async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<RevokeForm>,
) -> Response {
    let t = lang.texts();
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return show(
            &state,
            lang,
            jar,
            &session,
            None,
            Some((StatusCode::FORBIDDEN, t.form_expired)),
        )
        .await;
    }
    let done = match form.kind.as_str() {
        "app_password" => {
            crate::actions::revoke_app_password(&state, &session, &client, &form.id, now()).await
        }
        "session" => state.sessions.revoke(&session.uid, &form.id).await,
        "push" => {
            let actor = crate::audit::Actor::client(&session.uid, &client);
            state
                .web_push
                .revoke(&session.uid, &form.id, &actor, now())
                .await
        }
        _ => Err(AppError::BadRequest("unknown kind".into())),
    };
    match done {
        // Already gone is what the user wanted anyway.
        Ok(()) | Err(AppError::NotFound(_)) | Err(AppError::BadRequest(_)) => {
            Redirect::to("/settings/devices").into_response()
        }
        Err(e) => unavailable(lang, e),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn logout_everywhere(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return show(
            &state,
            lang,
            jar,
            &session,
            None,
            Some((StatusCode::FORBIDDEN, lang.texts().form_expired)),
        )
        .await;
    }
    let done = crate::actions::log_out_everywhere(&state, &session.uid, &client, now()).await;
    match done {
        Ok(_) => (jar.remove(session_removal(&state)), Redirect::to("/login")).into_response(),
        Err(e) => unavailable(lang, e),
    }
}

#[derive(Template)]
#[template(path = "grant.html")]
struct GrantPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    /// The client as it named itself (its User-Agent), which it may choose freely: the
    /// page also shows from where and when the login was asked for.
    client_name: String,
    client_ip: String,
    requested_at: String,
    action: String,
    message: Option<&'static str>,
    /// The flow still waits: the form is shown (with `message`, if any, above it).
    show_form: bool,
}

fn grant_view(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    token: &str,
    flow: Option<&crate::store::LoginFlowRow>,
    message: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let (jar, csrf_token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = GrantPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &csrf_token,
        client_name: flow.map(|f| f.client_name.clone()).unwrap_or_default(),
        client_ip: flow.map(|f| f.client_ip.clone()).unwrap_or_default(),
        requested_at: flow
            .map(|f| super::format_time(f.created_at))
            .unwrap_or_default(),
        action: format!("/login/flow/{token}"),
        message,
        show_form: flow.is_some(),
    };
    (status, jar, render(page)).into_response()
}

/// Not signed in: log in first (with 2FA), then come back here.
fn login_first(state: &AppState, token: &str) -> Response {
    let back = format!(
        "{}/login/flow/{token}",
        state.config.server.public_url.trim_end_matches('/')
    );
    let rd: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    Redirect::to(&format!("/login?rd={rd}")).into_response()
}

async fn grant_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Path(token): Path<String>,
    MaybeSession(current): MaybeSession,
) -> Response {
    let t = lang.texts();
    let flow = match crate::login_flow::open(&state, &token, now()).await {
        Ok(f) => f,
        Err(e) => return unavailable(lang, e),
    };
    let Some(flow) = flow else {
        return grant_view(
            &state,
            lang,
            jar,
            &token,
            None,
            Some(t.flow_expired),
            StatusCode::NOT_FOUND,
        );
    };
    if authenticated(current).is_err() {
        return login_first(&state, &token);
    }
    grant_view(&state, lang, jar, &token, Some(&flow), None, StatusCode::OK)
}

/// The grant form: the CSRF token and the deliberate second step, a ticked box saying
/// the user started this login (a link a stranger sent, followed by one click, grants
/// nothing).
#[derive(Deserialize)]
struct GrantForm {
    csrf: String,
    #[serde(default)]
    confirm: String,
}

async fn grant_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    Path(token): Path<String>,
    MaybeSession(current): MaybeSession,
    Form(form): Form<GrantForm>,
) -> Response {
    let t = lang.texts();
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(_) => return login_first(&state, &token),
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return grant_view(
            &state,
            lang,
            jar,
            &token,
            None,
            Some(t.form_expired),
            StatusCode::FORBIDDEN,
        );
    }
    if form.confirm != "yes" {
        let flow = match crate::login_flow::open(&state, &token, now()).await {
            Ok(f) => f,
            Err(e) => return unavailable(lang, e),
        };
        let status = match flow {
            Some(_) => StatusCode::BAD_REQUEST,
            None => StatusCode::NOT_FOUND,
        };
        let message = match flow {
            Some(_) => t.grant_unconfirmed,
            None => t.flow_expired,
        };
        // The form again (when the flow still waits), with the reason nothing happened.
        return grant_view(
            &state,
            lang,
            jar,
            &token,
            flow.as_ref(),
            Some(message),
            status,
        );
    }
    let result = async {
        let flow = crate::login_flow::open(&state, &token, now())
            .await?
            .ok_or_else(|| AppError::NotFound("login flow".into()))?;
        crate::actions::grant_client_login(&state, &session, &client, &flow, now()).await
    }
    .await;
    match result {
        Ok(()) => grant_view(
            &state,
            lang,
            jar,
            &token,
            None,
            Some(t.granted),
            StatusCode::OK,
        ),
        Err(AppError::ReauthRequired) => {
            Redirect::to(&format!("/settings/reauth?next=/login/flow/{token}")).into_response()
        }
        Err(AppError::NotFound(_)) => grant_view(
            &state,
            lang,
            jar,
            &token,
            None,
            Some(t.flow_expired),
            StatusCode::NOT_FOUND,
        ),
        Err(e) => unavailable(lang, e),
    }
}

/// "Firefox on Android" from a user agent: enough to tell one's browsers apart. The order
/// matters: Edge and Opera also say Chrome, Chrome also says Safari.
fn browser_of(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(token, _)| user_agent.contains(token))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(token, _)| user_agent.contains(token))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} ({s})"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => s.to_string(),
        (None, None) if user_agent.is_empty() => "?".to_string(),
        (None, None) => user_agent.chars().take(60).collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn browser_of_names_browser_and_system() {
        let firefox = "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0";
        assert_eq!(super::browser_of(firefox), "Firefox (Android)");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        assert_eq!(super::browser_of(edge), "Edge (Windows)");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
        assert_eq!(super::browser_of(safari), "Safari (iOS)");
        assert_eq!(super::browser_of(""), "?");
    }
}
