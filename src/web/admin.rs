//! The admin security page: enforcement, providers system-wide, users' 2FA state and reset.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::{CookieJar, Form};
use serde::Deserialize;

use super::i18n::{Lang, Texts};
use super::{csrf, render, unavailable};
use crate::audit::Actor;
use crate::clock::now;
use crate::enforcement::Enforcement;
use crate::error::AppError;
use crate::http::{Client, MaybeSession};
use crate::login::Stage;
use crate::providers::ProviderId;
use crate::sessions::ClientInfo;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/security", get(admin_page))
        .route("/admin/security/enforcement", post(enforcement_submit))
        .route("/admin/security/providers", post(provider_submit))
        .route("/admin/security/reset", post(reset_submit))
}

struct GroupRow {
    name: String,
    selected: bool,
    excluded: bool,
}

struct ProviderRow {
    id: &'static str,
    name: &'static str,
    enabled: bool,
    always_on: bool,
    /// Why the configuration leaves it unavailable.
    unavailable: Option<String>,
}

struct UserRow {
    uid: String,
    enforced: bool,
    active: Vec<ActiveMethod>,
}

/// A user's active method, and whether the page offers an admin reset for it.
struct ActiveMethod {
    id: String,
    resettable: bool,
}

/// Which page of the user list, found by what (`?q=…&page=…`).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

/// Users per page: a large install has a million.
const PER_PAGE: i64 = 50;

struct UserList {
    q: String,
    page: i64,
    pages: i64,
    total: i64,
    /// The links to the neighbouring pages, if any.
    previous: Option<String>,
    next: Option<String>,
}

impl UserList {
    fn new(q: &str, page: i64, total: i64) -> Self {
        let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
        let link = |p: i64| {
            let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
            format!("/admin/security?q={q}&page={p}")
        };
        Self {
            q: q.to_string(),
            page,
            pages,
            total,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_security.html")]
struct AdminPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    csrf: &'a str,
    enforced: bool,
    described: String,
    groups: Vec<GroupRow>,
    providers: Vec<ProviderRow>,
    users: Vec<UserRow>,
    list: UserList,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

/// Admin check for pages: not signed in → login; not an admin → 403.
async fn require_admin(
    state: &AppState,
    current: Option<(crate::sessions::Session, String)>,
) -> Result<crate::sessions::Session, Response> {
    let Some((session, _)) = current.filter(|(s, _)| s.stage == Stage::Authenticated) else {
        return Err(Redirect::to("/login").into_response());
    };
    match state.accounts.get(&session.uid).await {
        Ok(u) if u.is_admin => Ok(session),
        Ok(_) => Err(StatusCode::FORBIDDEN.into_response()),
        Err(e) => Err(e.into_response()),
    }
}

async fn load(
    state: &AppState,
    lang: Lang,
    list: &ListQuery,
) -> Result<
    (
        Enforcement,
        Vec<GroupRow>,
        Vec<ProviderRow>,
        Vec<UserRow>,
        UserList,
    ),
    AppError,
> {
    let tf = &state.two_factor;
    let e = tf.enforcement().await?;
    let groups = state
        .store
        .group_names()
        .await?
        .into_iter()
        .map(|name| GroupRow {
            selected: e.groups.contains(&name),
            excluded: e.excluded.contains(&name),
            name,
        })
        .collect();
    let mut providers = Vec::new();
    for p in tf.registered() {
        providers.push(ProviderRow {
            id: p.id().as_str(),
            name: p.display_name(lang.code()),
            enabled: tf.system_enabled(p.id()).await?,
            always_on: !p.can_disable_system_wide(),
            unavailable: p.unavailable(),
        });
    }
    let q = list.q.trim();
    let page = list.page.unwrap_or(1).clamp(1, i64::MAX / PER_PAGE);
    let (found, total) = state.accounts.page(q, page, PER_PAGE).await?;
    let mut users = Vec::new();
    for u in found {
        let status = tf.status(&u.uid).await?;
        users.push(UserRow {
            enforced: status.enforced,
            active: status
                .providers
                .into_iter()
                .filter(|p| p.active)
                .map(|p| ActiveMethod {
                    resettable: tf
                        .provider(&p.provider)
                        .is_some_and(|x| x.admin_can_disable()),
                    id: p.provider,
                })
                .collect(),
            uid: u.uid,
        });
    }
    Ok((e, groups, providers, users, UserList::new(q, page, total)))
}

async fn show(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    notice: Option<&'static str>,
    error: Option<(StatusCode, &'static str)>,
    list: &ListQuery,
) -> Response {
    let t = lang.texts();
    let (e, groups, providers, users, list) = match load(state, lang, list).await {
        Ok(v) => v,
        Err(e) => return unavailable(lang, e),
    };
    let (jar, token) = csrf::ensure(&state.key, jar, state.config.secure_cookies());
    let page = AdminPage {
        lang: lang.code(),
        t,
        csrf: &token,
        enforced: e.enforced,
        described: e.describe(),
        groups,
        providers,
        users,
        list,
        notice,
        error: error.map(|(_, m)| m),
    };
    let status = error.map(|(c, _)| c).unwrap_or(StatusCode::OK);
    (status, jar, render(page)).into_response()
}

async fn admin_page(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    MaybeSession(current): MaybeSession,
    Query(list): Query<ListQuery>,
) -> Response {
    if let Err(r) = require_admin(&state, current).await {
        return r;
    }
    show(&state, lang, jar, None, None, &list).await
}

/// Who acts: the session's user (`admin_action` checks that it is an admin).
fn actor_of(current: &Option<(crate::sessions::Session, String)>, client: &ClientInfo) -> Actor {
    let uid = current.as_ref().map(|(s, _)| s.uid.as_str()).unwrap_or("");
    Actor::client(uid, client)
}

/// Admin and CSRF checks, then the change, then the page again with the outcome. A
/// refused change (bad request, not found, conflict) is shown with the text `explain`
/// gives for it, each action knowing what its refusals mean; "the form expired" is kept
/// for the CSRF check alone.
async fn admin_action<Fut>(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    current: Option<(crate::sessions::Session, String)>,
    csrf_token: &str,
    change: Fut,
    explain: impl FnOnce(&AppError, &'static Texts) -> Option<&'static str>,
) -> Response
where
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let t = lang.texts();
    let session = match require_admin(state, current).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !csrf::verify(&state.key, &jar, csrf_token) {
        return show(
            state,
            lang,
            jar,
            None,
            Some((StatusCode::FORBIDDEN, t.form_expired)),
            &ListQuery::default(),
        )
        .await;
    }
    // Every admin change needs a recent sign-in, like the user's own sensitive changes.
    if crate::actions::require_recent(state, &session, now()).is_err() {
        return Redirect::to("/settings/reauth?next=/admin/security").into_response();
    }
    match change.await {
        Ok(()) => show(state, lang, jar, Some(t.saved), None, &ListQuery::default()).await,
        Err(e @ (AppError::NotFound(_) | AppError::BadRequest(_) | AppError::Conflict(_))) => {
            let status = if matches!(e, AppError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            let text = explain(&e, t).unwrap_or(t.admin_refused);
            show(
                state,
                lang,
                jar,
                None,
                Some((status, text)),
                &ListQuery::default(),
            )
            .await
        }
        Err(e) => unavailable(lang, e),
    }
}

#[derive(Deserialize)]
struct EnforcementForm {
    csrf: String,
    enforced: Option<String>,
    #[serde(default)]
    group: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

async fn enforcement_submit(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Client(client): Client,
    MaybeSession(current): MaybeSession,
    Form(form): Form<EnforcementForm>,
) -> Response {
    let actor = actor_of(&current, &client);
    let st = state.clone();
    admin_action(
        &state,
        lang,
        jar,
        current,
        &form.csrf,
        async move {
            let enforced = form.enforced.is_some();
            crate::actions::set_enforcement(&st, &actor, enforced, form.group, form.exclude, now())
                .await
                .map(|_| ())
        },
        |e, t| matches!(e, AppError::NotFound(_)).then_some(t.unknown_group),
    )
    .await
}

#[derive(Deserialize)]
struct ProviderForm {
    csrf: String,
    provider: String,
    enabled: bool,
}

async fn provider_submit(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Client(client): Client,
    MaybeSession(current): MaybeSession,
    Form(form): Form<ProviderForm>,
) -> Response {
    let actor = actor_of(&current, &client);
    let tf = state.two_factor.clone();
    let (id, enabled) = (form.provider.clone(), form.enabled);
    admin_action(
        &state,
        lang,
        jar,
        current,
        &form.csrf,
        async move { tf.set_system_enabled(&id, enabled, &actor, now()).await },
        |e, t| match e {
            AppError::NotFound(_) => Some(t.admin_unknown_method),
            AppError::BadRequest(_) => Some(t.admin_always_on),
            _ => None,
        },
    )
    .await
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    uid: String,
    provider: String,
}

async fn reset_submit(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Client(client): Client,
    MaybeSession(current): MaybeSession,
    Form(form): Form<ResetForm>,
) -> Response {
    let actor = actor_of(&current, &client);
    let st = state.clone();
    let (uid, provider) = (form.uid.clone(), form.provider.clone());
    let t = lang.texts();
    // Which refusal it is, decided here where it is known, before the change runs.
    let registered = ProviderId::parse(&provider).and_then(|id| {
        state
            .two_factor
            .provider(id.as_str())
            .map(|p| (id, p.admin_can_disable()))
    });
    let refusal = match registered {
        None => Some(t.admin_unknown_method),
        Some((_, false)) => Some(t.admin_not_resettable),
        Some((_, true)) => None,
    };
    admin_action(
        &state,
        lang,
        jar,
        current,
        &form.csrf,
        async move {
            match (registered, refusal) {
                (Some((id, true)), None) => {
                    crate::actions::reset_factor(&st, &actor, &uid, id, now()).await
                }
                _ => Err(AppError::BadRequest(format!(
                    "provider {provider} cannot be reset"
                ))),
            }
        },
        move |e, t| match e {
            AppError::BadRequest(_) => refusal,
            // The provider was checked above: what is not found is the user.
            AppError::NotFound(_) => Some(t.admin_unknown_user),
            _ => None,
        },
    )
    .await
}
