//! The personal security settings page: each provider's section (its own fragment:
//! TOTP with its QR code, security keys and passkeys), backup codes, and the actions
//! behind its forms, through generic routes by provider id.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::two_factor::{code_error, page_for};
use super::{csrf, render, unavailable};
use crate::actions::SECOND_FACTOR;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{Client, MaybeSession};
use crate::login::Stage;
use crate::providers::{EnrollmentAnswer, Holder, ProviderId, View};
use crate::sessions::Session;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/security", get(security_page))
        .route("/settings/security/{provider}/begin", post(enroll_begin))
        .route("/settings/security/{provider}/verify", post(enroll_finish))
        .route("/settings/security/{provider}/remove", post(factor_remove))
        .route(
            "/settings/security/{provider}/credentials/remove",
            post(credential_remove),
        )
        .route(
            "/settings/security/{provider}/credentials/rename",
            post(credential_rename),
        )
        .route("/settings/security/backup-codes", post(backup_codes))
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    code: String,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    enforced: bool,
    some_unavailable: bool,
    /// Providers this server's configuration leaves unavailable (security keys and
    /// passkeys on an IP address), named so that nobody looks for them.
    unavailable_here: Vec<&'static str>,
    /// A real factor is active: backup codes can be made.
    has_factor: bool,
    backup_codes_left: i64,
    backup_few: bool,
    new_codes: Option<Vec<String>>,
    /// Each provider's section (state, set up, named keys), in registry order.
    views: Vec<String>,
    error: Option<&'static str>,
}

/// The settings sections of the providers that are on system-wide, or that the user
/// still has something set up with.
async fn settings_views(
    state: &AppState,
    view: &View<'_>,
    status: &crate::providers::UserStatus,
    who: &Holder<'_>,
) -> Result<Vec<String>, AppError> {
    let mut views = Vec::new();
    for p in state.two_factor.registered() {
        // One the configuration leaves unavailable is named in a notice instead.
        if p.unavailable().is_some() {
            continue;
        }
        if !(state.two_factor.system_enabled(p.id()).await? || status.is_active(p.id())) {
            continue;
        }
        if let Some(fragment) = p.settings_view(view, who).await? {
            views.push(fragment);
        }
    }
    Ok(views)
}

async fn show_security(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    session: &Session,
    new_codes: Option<Vec<String>>,
    error: Option<(StatusCode, &'static str)>,
) -> Response {
    let uid = &session.uid;
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let view = View {
        lang: lang.code(),
        csrf: &token,
    };
    let loaded = async {
        let status = state.two_factor.status(uid).await?;
        let who = Holder {
            uid,
            session_id: &session.id,
            now: now(),
        };
        let views = settings_views(state, &view, &status, &who).await?;
        Ok::<_, AppError>((status, views))
    }
    .await;
    let (status, views) = match loaded {
        Ok(v) => v,
        Err(e) => return unavailable(lang, e),
    };
    let page = SecurityPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        enforced: status.enforced,
        some_unavailable: status.some_unavailable(),
        unavailable_here: state
            .two_factor
            .registered()
            .filter(|p| p.unavailable().is_some())
            .map(|p| p.display_name(lang.code()))
            .collect(),
        has_factor: status.has_active_factor(),
        backup_codes_left: status.backup_codes_left,
        backup_few: status.backup_codes_left <= crate::providers::backup_codes::FEW_LEFT,
        new_codes,
        views,
        error: error.map(|(_, m)| m),
    };
    let code = error.map(|(c, _)| c).unwrap_or(StatusCode::OK);
    (code, jar, render(page)).into_response()
}

/// The authenticated session, or a redirect to where the session belongs.
pub(super) fn authenticated(current: Option<(Session, String)>) -> Result<Session, Redirect> {
    match current {
        Some((s, _)) if s.stage == Stage::Authenticated => Ok(s),
        Some((s, _)) => Err(Redirect::to(page_for(s.stage))),
        None => Err(Redirect::to("/login")),
    }
}

async fn security_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Response {
    match authenticated(current) {
        Ok(s) => show_security(&state, lang, jar, &s, None, None).await,
        Err(r) => r.into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

/// Runs a settings action after the session and CSRF checks, then shows the page.
async fn settings_action<F, Fut>(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    current: Option<(Session, String)>,
    csrf_token: &str,
    action: F,
) -> Response
where
    F: FnOnce(Session) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Vec<String>>, AppError>>,
{
    let t = lang.texts();
    let session = match authenticated(current) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    if !csrf::verify(&state.key, &jar, csrf_token) {
        return show_security(
            state,
            lang,
            jar,
            &session,
            None,
            Some((StatusCode::FORBIDDEN, t.form_expired)),
        )
        .await;
    }
    match action(session.clone()).await {
        Ok(None) => Redirect::to("/settings/security").into_response(),
        Err(AppError::ReauthRequired) => {
            Redirect::to("/settings/reauth?next=/settings/security").into_response()
        }
        Ok(Some(codes)) => show_security(state, lang, jar, &session, Some(codes), None).await,
        Err(e) => {
            // A conflict is "enforced: not your last factor" only for a user under
            // enforcement; anything else (a stale form) is a refused request.
            let enforced = match &e {
                AppError::Conflict(_) => state
                    .two_factor
                    .is_enforced_for(&session.uid)
                    .await
                    .unwrap_or(false),
                _ => false,
            };
            let shown = code_error(t, &e).or(match &e {
                AppError::Conflict(_) if enforced => Some((StatusCode::CONFLICT, t.twofa_enforced)),
                AppError::Conflict(_) => Some((StatusCode::CONFLICT, t.not_accepted)),
                AppError::BadRequest(_) => Some((StatusCode::BAD_REQUEST, t.not_accepted)),
                AppError::NotFound(_) => Some((StatusCode::NOT_FOUND, t.not_accepted)),
                _ => None,
            });
            match shown {
                Some(err) => show_security(state, lang, jar, &session, None, Some(err)).await,
                None => unavailable(lang, e),
            }
        }
    }
}

async fn enroll_begin(
    State(state): State<AppState>,
    lang: Lang,
    Path(provider): Path<String>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let st = state.clone();
    settings_action(&state, lang, jar, current, &form.csrf, |s| async move {
        let provider = ProviderId::named(&provider)?;
        crate::actions::begin_enrollment(&st, &s, provider, SECOND_FACTOR, now())
            .await
            .map(|_| None)
    })
    .await
}

async fn enroll_finish(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    Path(provider): Path<String>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CodeForm>,
) -> Response {
    let st = state.clone();
    let code = form.code.clone();
    settings_action(&state, lang, jar, current, &form.csrf, |s| async move {
        let provider = ProviderId::named(&provider)?;
        let answer = EnrollmentAnswer {
            name: "",
            response: &code,
        };
        crate::actions::finish_enrollment(
            &st,
            &s,
            &client,
            provider,
            SECOND_FACTOR,
            &answer,
            now(),
        )
        .await?;
        Ok(None)
    })
    .await
}

async fn factor_remove(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    Path(provider): Path<String>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let st = state.clone();
    settings_action(&state, lang, jar, current, &form.csrf, |s| async move {
        let provider = ProviderId::named(&provider)?;
        crate::actions::remove_factor(&st, &s, &client, provider, now())
            .await
            .map(|_| None)
    })
    .await
}

#[derive(Deserialize)]
struct CredentialForm {
    csrf: String,
    id: String,
}

async fn credential_remove(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    Path(provider): Path<String>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CredentialForm>,
) -> Response {
    let st = state.clone();
    let id = form.id.clone();
    settings_action(&state, lang, jar, current, &form.csrf, |s| async move {
        let provider = ProviderId::named(&provider)?;
        crate::actions::remove_credential(&st, &s, &client, provider, &id, now())
            .await
            .map(|_| None)
    })
    .await
}

#[derive(Deserialize)]
struct RenameForm {
    csrf: String,
    id: String,
    name: String,
}

async fn credential_rename(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    Path(provider): Path<String>,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<RenameForm>,
) -> Response {
    let st = state.clone();
    let (id, name) = (form.id.clone(), form.name.clone());
    settings_action(&state, lang, jar, current, &form.csrf, |s| async move {
        let provider = ProviderId::named(&provider)?;
        crate::actions::rename_credential(&st, &s, &client, provider, &id, &name, now())
            .await
            .map(|_| None)
    })
    .await
}

async fn backup_codes(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let st = state.clone();
    settings_action(&state, lang, jar, current, &form.csrf, |s| async move {
        crate::actions::regenerate_backup_codes(&st, &s, &client, now())
            .await
            .map(Some)
    })
    .await
}
