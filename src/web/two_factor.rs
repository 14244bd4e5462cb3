//! Pages of the second factor in the login flow: the challenge (with provider choice)
//! and "setup required". Providers answered or set up in the browser bring their own
//! fragments ([`Provider`]'s views).
//!
//! [`Provider`]: crate::providers::Provider

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::{csrf, render, unavailable};
use crate::actions::SECOND_FACTOR;
use crate::clock::now;
use crate::error::AppError;
use crate::http::{Client, MaybeSession, with_login_cookies};
use crate::login::Stage;
use crate::providers::{Attempt, EnrollmentAnswer, ProviderId, View};
use crate::sessions::Session;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/login/challenge",
            get(challenge_page).post(challenge_submit),
        )
        .route("/login/setup", get(setup_page).post(setup_submit))
}

/// Where a session at `stage` belongs.
pub fn page_for(stage: Stage) -> &'static str {
    match stage {
        // The challenge page shows a waiting login too (the approval in progress).
        Stage::SecondFactorPending | Stage::AwaitingApproval => "/login/challenge",
        Stage::SetupRequired => "/login/setup",
        Stage::Authenticated => "/",
    }
}

/// The message a person sees for an error of a code check.
pub(super) fn code_error(t: &'static Texts, e: &AppError) -> Option<(StatusCode, &'static str)> {
    match e {
        AppError::InvalidCode => Some((StatusCode::UNAUTHORIZED, t.invalid_code)),
        AppError::TooManyAttempts(_) => Some((StatusCode::TOO_MANY_REQUESTS, t.too_many_attempts)),
        AppError::FactorLocked => Some((StatusCode::LOCKED, t.factor_locked)),
        _ => None,
    }
}

struct Choice {
    id: &'static str,
    name: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "challenge.html")]
struct ChallengePage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    /// Providers answered with a code typed into the form.
    choices: Vec<Choice>,
    /// The fragments of providers answered in the browser (a button and its script).
    views: Vec<String>,
    some_unavailable: bool,
    error: Option<&'static str>,
}

async fn show_challenge(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    session: &Session,
    chosen: Option<&str>,
    error: Option<(StatusCode, &'static str)>,
) -> Response {
    let status = match state.two_factor.status(&session.uid).await {
        Ok(s) => s,
        Err(e) => return unavailable(lang, e),
    };
    let t = lang.texts();
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let view = View {
        lang: lang.code(),
        csrf: &token,
    };
    let mut views = Vec::new();
    let mut usable = Vec::new();
    for id in status.usable() {
        let Ok(p) = state.two_factor.get(id) else {
            continue;
        };
        let attempt = Attempt {
            uid: &session.uid,
            session_id: &session.id,
            now: now(),
            ip: &session.ip,
            user_agent: &session.user_agent,
            app: "",
        };
        match p.challenge_view(&view, &attempt).await {
            Ok(Some(fragment)) => views.push(fragment),
            Ok(None) => usable.push(id),
            Err(e) => return unavailable(lang, e),
        }
    }
    // Last used comes first in `usable`; a choice the user just made wins.
    let selected = chosen
        .and_then(ProviderId::parse)
        .filter(|p| usable.contains(p))
        .or_else(|| usable.first().copied());
    let choices = usable
        .iter()
        .filter_map(|&p| {
            Some(Choice {
                id: p.as_str(),
                name: state.two_factor.get(p).ok()?.display_name(lang.code()),
                selected: Some(p) == selected,
            })
        })
        .collect();
    let page = ChallengePage {
        lang: lang.code(),
        t,
        csrf: &token,
        choices,
        views,
        some_unavailable: status.some_unavailable(),
        error: error.map(|(_, m)| m),
    };
    let code = error.map(|(c, _)| c).unwrap_or(StatusCode::OK);
    (code, jar, render(page)).into_response()
}

async fn challenge_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Response {
    match current {
        Some((s, _))
            if matches!(
                s.stage,
                Stage::SecondFactorPending | Stage::AwaitingApproval
            ) =>
        {
            show_challenge(&state, lang, jar, &s, None, None).await
        }
        Some((s, _)) => Redirect::to(page_for(s.stage)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
struct ChallengeForm {
    csrf: String,
    provider: String,
    code: String,
}

async fn challenge_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<ChallengeForm>,
) -> Response {
    let t = lang.texts();
    let Some((session, token)) = current.filter(|(s, _)| {
        matches!(
            s.stage,
            Stage::SecondFactorPending | Stage::AwaitingApproval
        )
    }) else {
        return Redirect::to("/login").into_response();
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        let err = Some((StatusCode::FORBIDDEN, t.form_expired));
        return show_challenge(&state, lang, jar, &session, Some(&form.provider), err).await;
    }
    let Some(provider) = ProviderId::parse(&form.provider) else {
        let err = Some((StatusCode::BAD_REQUEST, t.invalid_code));
        return show_challenge(&state, lang, jar, &session, None, err).await;
    };
    let app = crate::http::return_app(&state, &jar);
    match crate::login::challenge_step(
        &state, &session, &token, provider, &form.code, &client, &app,
    )
    .await
    {
        // Not finished: waiting for an approval on another device (the page shows it).
        Ok((token, session)) if session.stage != Stage::Authenticated => {
            let jar = with_login_cookies(&state, jar, token, &session);
            (jar, Redirect::to("/login/challenge")).into_response()
        }
        Ok((token, session)) => {
            let jar = with_login_cookies(&state, jar, token, &session);
            let to = if provider == ProviderId::BackupCodes {
                "/?notice=backup_code_used"
            } else {
                "/"
            };
            super::after_login(&state, jar, to).into_response()
        }
        Err(AppError::InvalidCode) if provider == ProviderId::Push => {
            let err = Some((StatusCode::UNAUTHORIZED, t.push_refused));
            show_challenge(&state, lang, jar, &session, Some(&form.provider), err).await
        }
        Err(e) => match code_error(t, &e) {
            Some(err) => {
                show_challenge(&state, lang, jar, &session, Some(&form.provider), Some(err)).await
            }
            None if matches!(e, AppError::BadRequest(_)) => {
                show_challenge(
                    &state,
                    lang,
                    jar,
                    &session,
                    None,
                    Some((StatusCode::BAD_REQUEST, t.invalid_code)),
                )
                .await
            }
            None => unavailable(lang, e),
        },
    }
}

#[derive(Template)]
#[template(path = "setup_required.html")]
struct SetupPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    /// The fragment of every provider that can be set up here: a code form (its
    /// enrollment begun on first view), or a browser ceremony's form.
    views: Vec<String>,
    error: Option<&'static str>,
}

/// The setup fragments of the choices: each provider's enrollment in progress, or, where
/// it has nothing to show yet, a new one begun by the use case every adapter uses.
async fn setup_views(
    state: &AppState,
    session: &Session,
    view: &View<'_>,
    choices: &[ProviderId],
) -> Result<Vec<String>, AppError> {
    let mut views = Vec::new();
    let now = now();
    let who = crate::providers::Holder {
        uid: &session.uid,
        session_id: &session.id,
        now,
    };
    for &id in choices {
        let p = state.two_factor.get(id)?;
        let mut fragment = p.setup_view(view, &who).await?;
        if fragment.is_none() {
            crate::actions::begin_enrollment(state, session, id, SECOND_FACTOR, now).await?;
            fragment = p.setup_view(view, &who).await?;
        }
        views.extend(fragment);
    }
    Ok(views)
}

async fn show_setup(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    session: &Session,
    error: Option<(StatusCode, &'static str)>,
) -> Response {
    // Every provider that can be set up at login and is on system-wide is offered.
    let choices = match state.two_factor.setup_choices().await {
        Ok(c) => c,
        Err(e) => return unavailable(lang, e),
    };
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let view = View {
        lang: lang.code(),
        csrf: &token,
    };
    let views = match setup_views(state, session, &view, &choices).await {
        Ok(v) => v,
        Err(e) => return unavailable(lang, e),
    };
    let page = SetupPage {
        lang: lang.code(),
        t: lang.texts(),
        csrf: &token,
        views,
        error: error.map(|(_, m)| m),
    };
    let code = error.map(|(c, _)| c).unwrap_or(StatusCode::OK);
    (code, jar, render(page)).into_response()
}

async fn setup_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
) -> Response {
    match current {
        Some((s, _)) if s.stage == Stage::SetupRequired => {
            show_setup(&state, lang, jar, &s, None).await
        }
        Some((s, _)) => Redirect::to(page_for(s.stage)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

/// A first code in "setup required", for the provider whose form sent it.
#[derive(Deserialize)]
struct SetupForm {
    csrf: String,
    provider: String,
    code: String,
}

async fn setup_submit(
    State(state): State<AppState>,
    lang: Lang,
    Client(client): Client,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Form(form): Form<SetupForm>,
) -> Response {
    let t = lang.texts();
    let Some((session, token)) = current.filter(|(s, _)| s.stage == Stage::SetupRequired) else {
        return Redirect::to("/login").into_response();
    };
    if !csrf::verify(&state.key, &jar, &form.csrf) {
        return show_setup(
            &state,
            lang,
            jar,
            &session,
            Some((StatusCode::FORBIDDEN, t.form_expired)),
        )
        .await;
    }
    let answer = EnrollmentAnswer {
        name: "",
        response: &form.code,
    };
    let result = async {
        let provider = ProviderId::named(&form.provider)?;
        let (_, next) = crate::actions::enroll_and_continue(
            &state,
            &session,
            &token,
            &client,
            provider,
            SECOND_FACTOR,
            &answer,
            now(),
        )
        .await?;
        next.ok_or(AppError::Unauthorized)
    }
    .await;
    match result {
        Ok((token, session)) => {
            let jar = with_login_cookies(&state, jar, token, &session);
            super::after_login(&state, jar, "/settings/security").into_response()
        }
        Err(e) => match code_error(t, &e) {
            Some(err) => show_setup(&state, lang, jar, &session, Some(err)).await,
            None => unavailable(lang, e),
        },
    }
}
