//! Use cases: one function per security-sensitive action a signed-in user takes, called
//! alike by the pages and the JSON API. Each checks what the action needs (a recent
//! re-authentication), performs it, revokes what it must and writes the audit event, so
//! that no adapter can do one without the others.

use crate::accounts::Revoked;
use crate::app_passwords::AppPassword;
use crate::audit::{Actor, Event};
use crate::error::AppError;
use crate::login::Stage;
use crate::providers::{Enrolled, Enrollment, EnrollmentAnswer, ProviderId};
use crate::sessions::{ClientInfo, Session};
use crate::state::AppState;

/// Refuses with `ReauthRequired` unless the user proved who they are in this session
/// within `session.reauth_minutes`.
pub fn require_recent(state: &AppState, session: &Session, now: i64) -> Result<(), AppError> {
    if session.recently_proved(now, state.config.session.reauth_minutes * 60) {
        Ok(())
    } else {
        Err(AppError::ReauthRequired)
    }
}

/// The user proves who they are again, with their password (throttled like a login).
pub async fn reauthenticate(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    password: &str,
    now: i64,
) -> Result<(), AppError> {
    crate::login::check_password(state, &session.uid, password, client).await?;
    state.sessions.reauthenticated(session, now).await?;
    state
        .audit
        .record(
            Event::Reauthenticated,
            &Actor::client(&session.uid, client),
            &session.uid,
            "password",
            now,
        )
        .await
}

/// The provider `id` as registered (an id this version knows but does not carry is
/// "not found", like an unknown one).
fn registered(
    state: &AppState,
    id: ProviderId,
) -> Result<&std::sync::Arc<dyn crate::providers::Provider>, AppError> {
    state
        .two_factor
        .provider(id.as_str())
        .ok_or_else(|| AppError::NotFound(format!("provider {}", id.as_str())))
}

/// What is being enrolled: a second factor, or (`sign_in`) a credential that signs in
/// without the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purpose {
    pub sign_in: bool,
}

/// Enrolling a second factor.
pub const SECOND_FACTOR: Purpose = Purpose { sign_in: false };

/// The provider for an enrollment of `purpose` from `session`: only one that is on
/// system-wide (the admin's switch holds for new factors too); a sign-in credential only
/// from a fully signed-in session, and only with a provider that signs in.
async fn enrolling_with<'a>(
    state: &'a AppState,
    session: &Session,
    id: ProviderId,
    purpose: Purpose,
) -> Result<&'a std::sync::Arc<dyn crate::providers::Provider>, AppError> {
    let provider = registered(state, id)?;
    if !state.two_factor.system_enabled(id).await? {
        return Err(AppError::BadRequest(format!(
            "{} is switched off by the administrator",
            id.as_str()
        )));
    }
    if purpose.sign_in {
        if session.stage != Stage::Authenticated {
            return Err(AppError::Unauthorized);
        }
        if !provider.signs_in() {
            return Err(AppError::BadRequest(format!(
                "{} cannot sign in without the password",
                id.as_str()
            )));
        }
    }
    Ok(provider)
}

/// First half of setting up a factor, of adding one more key, or of adding a sign-in
/// credential: what to show or do (a secret and its QR code; registration options). A
/// signed-in session needs a recent sign-in (whoever holds a stolen session must not bind
/// their own factor or way in); a session in "setup required" has just passed the
/// password.
pub async fn begin_enrollment(
    state: &AppState,
    session: &Session,
    id: ProviderId,
    purpose: Purpose,
    now: i64,
) -> Result<serde_json::Value, AppError> {
    if session.stage == Stage::Authenticated {
        require_recent(state, session, now)?;
    }
    let provider = enrolling_with(state, session, id, purpose).await?;
    let user = state.accounts.get(&session.uid).await?;
    provider
        .begin_enrollment(&Enrollment {
            uid: &session.uid,
            display_name: &user.display_name,
            session_id: &session.id,
            now,
            sign_in: purpose.sign_in,
        })
        .await
}

/// Second half: the first code, or the authenticator's answer, activates the factor.
/// It needs the same recent sign-in as the first half (an enrollment is the beginning
/// session's own state, and a session that aged past the window since must not bind a
/// factor). An answer from the new factor counts as passing one: a signed-in session now
/// has two factors (an attacker holding only the password could get the same by logging
/// in again with the factor just added) — but it proves possession of the new factor,
/// not the password, so the sign-in time stays as it was. A sign-in credential is a way
/// in, not a factor: the session's factors do not change.
pub async fn finish_enrollment(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    id: ProviderId,
    purpose: Purpose,
    answer: &EnrollmentAnswer<'_>,
    now: i64,
) -> Result<Enrolled, AppError> {
    if session.stage == Stage::Authenticated {
        require_recent(state, session, now)?;
    }
    let provider = enrolling_with(state, session, id, purpose).await?;
    let enrolled = provider
        .finish_enrollment(
            &Enrollment {
                uid: &session.uid,
                display_name: "",
                session_id: &session.id,
                now,
                sign_in: purpose.sign_in,
            },
            answer,
        )
        .await?;
    if session.stage == Stage::Authenticated
        && !purpose.sign_in
        && provider.enrollment_proves_possession()
    {
        state.sessions.second_factor_proved(session).await?;
    }
    state
        .audit
        .record(
            Event::FactorAdded,
            &Actor::client(&session.uid, client),
            &session.uid,
            &enrolled.detail,
            now,
        )
        .await?;
    Ok(enrolled)
}

/// [`finish_enrollment`] from wherever the session stands: in "setup required" the
/// factor just set up finishes the login, and the new token and session come back (the
/// adapter sets the cookie); a signed-in session stays as it is.
#[allow(clippy::too_many_arguments)]
pub async fn enroll_and_continue(
    state: &AppState,
    session: &Session,
    token: &str,
    client: &ClientInfo,
    id: ProviderId,
    purpose: Purpose,
    answer: &EnrollmentAnswer<'_>,
    now: i64,
) -> Result<(Enrolled, Option<(String, Session)>), AppError> {
    let enrolled = finish_enrollment(state, session, client, id, purpose, answer, now).await?;
    let next = if session.stage == Stage::SetupRequired {
        Some(crate::login::setup_step(state, session, token).await?)
    } else {
        None
    };
    Ok((enrolled, next))
}

/// The user turns off one of their factors: needs a recent re-authentication, and ends
/// every other session of the user. Returns how many sessions ended.
pub async fn remove_factor(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    provider: ProviderId,
    now: i64,
) -> Result<u64, AppError> {
    require_recent(state, session, now)?;
    state
        .two_factor
        .remove_by_user(&session.uid, provider)
        .await?;
    let detail = provider.as_str();
    let ended = after_removal(state, session, client, detail, "factor_removed", now).await?;
    Ok(ended)
}

/// What follows removing a factor or a way in: the user's other sessions end (whoever
/// used it elsewhere is signed out), and the audit trail says so. Returns how many ended.
async fn after_removal(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    detail: &str,
    reason: &str,
    now: i64,
) -> Result<u64, AppError> {
    let ended = state.sessions.end_others(&session.uid, session).await?;
    let actor = Actor::client(&session.uid, client);
    let uid = &session.uid;
    let audit = &state.audit;
    audit
        .record(Event::FactorRemoved, &actor, uid, detail, now)
        .await?;
    if ended > 0 {
        audit
            .record(Event::SessionsEnded, &actor, uid, reason, now)
            .await?;
    }
    Ok(ended)
}

/// New backup codes (the old ones stop working): needs a recent re-authentication and
/// another active factor.
pub async fn regenerate_backup_codes(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    now: i64,
) -> Result<Vec<String>, AppError> {
    require_recent(state, session, now)?;
    let status = state.two_factor.status(&session.uid).await?;
    if !status.has_active_factor() {
        return Err(AppError::Conflict(
            "backup codes need another two-factor method: set one up first".into(),
        ));
    }
    let codes = state
        .two_factor
        .backup_codes
        .generate(&session.uid, now)
        .await?;
    state
        .audit
        .record(
            Event::BackupCodesGenerated,
            &Actor::client(&session.uid, client),
            &session.uid,
            "",
            now,
        )
        .await?;
    Ok(codes)
}

/// A new app password, carrying no more factors than this session proved.
pub async fn create_app_password(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    name: &str,
    now: i64,
) -> Result<(String, AppPassword), AppError> {
    require_recent(state, session, now)?;
    let (password, app) = state
        .app_passwords
        .create(&session.uid, name, session.second_factor, now)
        .await?;
    state
        .audit
        .record(
            Event::AppPasswordCreated,
            &Actor::client(&session.uid, client),
            &session.uid,
            &app.name,
            now,
        )
        .await?;
    Ok((password, app))
}

pub async fn revoke_app_password(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    id: &str,
    now: i64,
) -> Result<(), AppError> {
    state.app_passwords.revoke(&session.uid, id).await?;
    state
        .audit
        .record(
            Event::AppPasswordRevoked,
            &Actor::client(&session.uid, client),
            &session.uid,
            id,
            now,
        )
        .await
}

/// What a password change did, and what still lets the user in without the password.
#[derive(Debug, Clone, Default)]
pub struct PasswordChange {
    pub revoked: Revoked,
    /// Ways in without the password removed with the change (on request).
    pub passkeys_removed: u64,
    /// The names of those that remain: a password change does not end them.
    pub passkeys_left: Vec<String>,
}

/// The user's credentials that sign in without the password (passkeys), of every
/// provider that has them.
pub async fn ways_in(
    state: &AppState,
    uid: &str,
) -> Result<
    Vec<(
        std::sync::Arc<dyn crate::providers::Provider>,
        crate::providers::Credential,
    )>,
    AppError,
> {
    let mut found = Vec::new();
    for p in state.two_factor.registered().filter(|p| p.signs_in()) {
        for c in p.credentials(uid).await? {
            if c.sign_in {
                found.push((p.clone(), c));
            }
        }
    }
    Ok(found)
}

/// The names of the user's ways in without the password.
pub async fn passkey_names(state: &AppState, uid: &str) -> Result<Vec<String>, AppError> {
    Ok(ways_in(state, uid)
        .await?
        .into_iter()
        .map(|(_, c)| c.name)
        .collect())
}

/// What the policy would say of `password` as the signed-in user's new password, for the
/// live hint beside the field: the local checks only (no online lookup per keystroke).
pub async fn judge_new_password(
    state: &AppState,
    session: &Session,
    password: &str,
) -> Result<Option<crate::password_weakness::Weakness>, AppError> {
    let user = state.accounts.get(&session.uid).await?;
    match state
        .accounts
        .check_new_password(password, &user.uid, &user.display_name)
    {
        Ok(()) => Ok(None),
        Err(AppError::WeakPassword(w)) => Ok(Some(w)),
        Err(e) => Err(e),
    }
}

/// The user changes their password: the current one must be right (that is the
/// re-authentication); every other session, every app password and every pending
/// client login flow end. Passkeys sign in without the password, so a change does not
/// touch them unless `remove_passkeys` asks for it in the same step; the answer names
/// those that remain (someone who changes a password after a theft must see them).
pub async fn change_password(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    current: &str,
    new: String,
    remove_passkeys: bool,
    now: i64,
) -> Result<PasswordChange, AppError> {
    let user = state.accounts.get(&session.uid).await?;
    state
        .accounts
        .check_new_password(&new, &user.uid, &user.display_name)?;
    crate::login::check_password(state, &session.uid, current, client).await?;
    let revoked = state
        .accounts
        .set_password(&session.uid, new, Some(&session.id))
        .await?;
    state.sessions.reauthenticated(session, now).await?;
    let mut passkeys_removed = 0;
    if remove_passkeys {
        for (provider, credential) in ways_in(state, &session.uid).await? {
            provider
                .remove_credential(&session.uid, &credential.id)
                .await?;
            passkeys_removed += 1;
        }
    }
    state
        .audit
        .record(
            Event::PasswordChanged,
            &Actor::client(&session.uid, client),
            &session.uid,
            &format!(
                "sessions={} app_passwords={} client_logins={} passkeys={passkeys_removed}",
                revoked.sessions, revoked.app_passwords, revoked.client_logins
            ),
            now,
        )
        .await?;
    Ok(PasswordChange {
        revoked,
        passkeys_removed,
        passkeys_left: passkey_names(state, &session.uid).await?,
    })
}

/// The user grants a client login flow from this session.
pub async fn grant_client_login(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    flow: &crate::store::LoginFlowRow,
    now: i64,
) -> Result<(), AppError> {
    // It makes an app password: the same re-authentication as making one by hand.
    require_recent(state, session, now)?;
    crate::login_flow::grant(state, flow, &session.uid, session.second_factor, now).await?;
    state
        .audit
        .record(
            Event::ClientLoginGranted,
            &Actor::client(&session.uid, client),
            &session.uid,
            &flow.client_name,
            now,
        )
        .await
}

/// "Log out everywhere": ends every session of the user, revokes every app password and
/// every browser's Web Push subscription (a lost phone should not keep being told of
/// sign-ins). Returns (sessions ended, app passwords revoked).
pub async fn log_out_everywhere(
    state: &AppState,
    uid: &str,
    client: &ClientInfo,
    now: i64,
) -> Result<(u64, u64), AppError> {
    let sessions = state.sessions.end_all(uid).await?;
    let apps = state.app_passwords.revoke_all(uid).await?;
    let browsers = state.store.delete_push_subscriptions_of(uid).await?;
    state
        .audit
        .record(
            Event::SessionsEnded,
            &Actor::client(uid, client),
            uid,
            &format!("log_out_everywhere app_passwords={apps} push_subscriptions={browsers}"),
            now,
        )
        .await?;
    tracing::info!(uid, sessions, app_passwords = apps, "logged out everywhere");
    Ok((sessions, apps))
}

/// HTTP Basic authentication: an app password always (cheap: no KDF); the main password
/// only for accounts without 2FA, throttled like the login form. With 2FA active or
/// enforced the main password is refused with `AppPasswordRequired`.
pub async fn authenticate_basic(
    state: &AppState,
    uid: &str,
    password: &str,
    client: &ClientInfo,
    now: i64,
) -> Result<crate::app_passwords::BasicPrincipal, AppError> {
    // The account the typed name stands for (any case), whose app passwords count. A
    // name no account can have (too long, a NUL) is nobody, without a lookup.
    let named = if uid.len() > 256 || uid.chars().any(char::is_control) {
        None
    } else {
        match state.accounts.get(uid).await {
            Ok(u) => Some(u),
            Err(AppError::NotFound(_)) => None,
            // The database failed: that is a 503, never a verdict on the credentials.
            Err(e) => return Err(e),
        }
    };
    let app = match &named {
        Some(user) => {
            state
                .app_passwords
                .verify(&user.uid, password, client, now)
                .await?
        }
        None => None,
    };
    if let (Some(app), Some(user)) = (app, named) {
        if !user.enabled {
            return Err(AppError::InvalidCredentials);
        }
        return Ok(crate::app_passwords::BasicPrincipal {
            user,
            app_password: Some(app.id),
            second_factor: app.second_factor,
        });
    }
    let user = crate::login::check_password(state, uid, password, client).await?;
    let status = state.two_factor.status(&user.uid).await?;
    if status.has_active_factor() || status.enforced {
        return Err(AppError::AppPasswordRequired);
    }
    Ok(crate::app_passwords::BasicPrincipal {
        user,
        app_password: None,
        second_factor: false,
    })
}

/// Renames one of the user's named credentials.
pub async fn rename_credential(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    id: ProviderId,
    credential: &str,
    name: &str,
    now: i64,
) -> Result<(), AppError> {
    registered(state, id)?
        .rename_credential(&session.uid, credential, name)
        .await?;
    state
        .audit
        .record(
            Event::FactorRenamed,
            &Actor::client(&session.uid, client),
            &session.uid,
            &format!("{}:{credential}", id.as_str()),
            now,
        )
        .await
}

/// Removes one of the user's named credentials (needs a recent sign-in). The last
/// second-factor one is removing the factor: refused while enforcement applies and
/// nothing else is active, and like any factor removal it ends the user's other
/// sessions. A sign-in credential is a way in: removing one also ends the other sessions.
pub async fn remove_credential(
    state: &AppState,
    session: &Session,
    client: &ClientInfo,
    id: ProviderId,
    credential: &str,
    now: i64,
) -> Result<(), AppError> {
    require_recent(state, session, now)?;
    let provider = registered(state, id)?;
    let all = provider.credentials(&session.uid).await?;
    let Some(target) = all.iter().find(|c| c.id == credential) else {
        return Err(AppError::NotFound(format!("credential {credential}")));
    };
    // The provider decides "the last second-factor one" atomically with the removal
    // (two requests removing the last two keys at once must not both succeed).
    match provider.remove_credential(&session.uid, credential).await {
        Ok(()) => {}
        Err(AppError::Conflict(_)) if !target.sign_in => {
            remove_factor(state, session, client, id, now).await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    let detail = format!("{}:{}", id.as_str(), target.kind);
    after_removal(state, session, client, &detail, "credential_removed", now).await?;
    Ok(())
}

/// An administrator sets who must use two-factor authentication. The group names must
/// be valid (and the groups exist: the store refuses unknown ones).
pub async fn set_enforcement(
    state: &AppState,
    admin: &Actor,
    enforced: bool,
    groups: Vec<String>,
    excluded: Vec<String>,
    now: i64,
) -> Result<crate::enforcement::Enforcement, AppError> {
    let e = crate::enforcement::Enforcement {
        enforced,
        groups: crate::enforcement::group_names(groups)?,
        excluded: crate::enforcement::group_names(excluded)?,
    };
    state.two_factor.set_enforcement(&e, admin, now).await?;
    tracing::info!(admin = %admin.uid, setting = %e.describe(), "enforcement changed");
    Ok(e)
}

/// The administrator's reset for a lost device (`twofactorauth disable`): the user must
/// exist; the factor goes and every session of the user ends.
pub async fn reset_factor(
    state: &AppState,
    admin: &Actor,
    uid: &str,
    provider: ProviderId,
    now: i64,
) -> Result<(), AppError> {
    let user = state.accounts.get(uid).await?;
    let uid = user.uid.as_str();
    state
        .two_factor
        .admin_disable(uid, provider.as_str(), admin, now)
        .await?;
    let provider = provider.as_str();
    tracing::info!(admin = %admin.uid, uid, provider, "second factor reset by admin");
    Ok(())
}
