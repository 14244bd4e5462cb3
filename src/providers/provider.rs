//! The interface every second-factor provider implements, and what goes in and out of
//! it: a login attempt and its outcome, an enrollment and what it added, named
//! credentials, and the context page fragments are rendered with.

use async_trait::async_trait;
use serde::Serialize;

use super::ProviderId;
use crate::error::AppError;

/// One login attempt that a challenge belongs to: the user, the (half-logged-in)
/// session that asked, and the time. Ceremony providers bind their state to the session.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub uid: &'a str,
    pub session_id: &'a str,
    pub now: i64,
    /// Where the login comes from, as an approver on another device is shown it.
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The host of the app the login is for (its return URL); empty for twofold itself.
    pub app: &'a str,
}

/// Who is setting up a factor, from which session (signed in, or in "setup required").
#[derive(Debug, Clone, Copy)]
pub struct Enrollment<'a> {
    pub uid: &'a str,
    pub display_name: &'a str,
    pub session_id: &'a str,
    pub now: i64,
    /// A credential that signs in without the password rather than a second factor;
    /// only for providers that [`Provider::signs_in`].
    pub sign_in: bool,
}

/// The answer that finishes an enrollment: a first code, or what the authenticator
/// returned (as JSON text), and the name the user gave it where a user may have several.
#[derive(Debug, Clone, Copy)]
pub struct EnrollmentAnswer<'a> {
    pub name: &'a str,
    pub response: &'a str,
}

/// What a finished enrollment added.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// For the audit trail: the provider, and which credential.
    pub detail: String,
    /// The new credential as the client lists it (a named key), if the provider has such.
    pub credential: Option<serde_json::Value>,
}

/// The answer of a provider that is not set up by an enrollment (backup codes are made
/// in one step).
fn not_enrollable(id: ProviderId) -> AppError {
    AppError::BadRequest(format!("{} cannot be set up this way", id.as_str()))
}

/// A credential of a provider whose users may hold several (named keys), as the
/// settings list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: i64,
    /// The provider's word for its kind.
    pub kind: String,
    /// It signs in without the password (and is not a second factor).
    pub sign_in: bool,
}

/// A provider's texts in `lang` (`en`, `fr`, as [`View::lang`]); English for anything
/// else. One place picks the language for every provider.
pub fn in_lang<T>(lang: &str, en: &'static T, fr: &'static T) -> &'static T {
    match lang {
        "fr" => fr,
        _ => en,
    }
}

/// What a provider's page fragments are rendered with.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// `en` or `fr`.
    pub lang: &'a str,
    /// The page's CSRF token, for the forms a fragment holds.
    pub csrf: &'a str,
}

/// Whose page a fragment is for: the user, and the session looking (an enrollment in
/// progress is shown only to the session that began it).
#[derive(Debug, Clone, Copy)]
pub struct Holder<'a> {
    pub uid: &'a str,
    pub session_id: &'a str,
    pub now: i64,
}

#[async_trait]
pub trait Provider: std::any::Any + Send + Sync {
    fn id(&self) -> ProviderId;

    /// Backup codes are a fallback: they never count as a factor on their own.
    fn is_backup(&self) -> bool {
        false
    }

    /// Why the provider cannot work with this configuration (then it is off for
    /// everyone whatever the admin chose, and pages say why); `None` when it can.
    fn unavailable(&self) -> Option<String> {
        None
    }

    /// Whether the admin may switch it off for everyone.
    fn can_disable_system_wide(&self) -> bool {
        true
    }

    /// Whether `twofactorauth disable UID` may turn it off for a user.
    fn admin_can_disable(&self) -> bool;

    /// Whether a user forced to set up 2FA can do it with this provider in the login flow.
    fn can_set_up_at_login(&self) -> bool;

    /// Re-activates the provider for a user (`twofactorauth enable`); an error says why
    /// not, e.g. when the user never set it up.
    async fn admin_enable(&self, uid: &str) -> Result<(), AppError>;

    /// Removes the user's second factor of this provider (the user turning it off).
    async fn remove(&self, uid: &str) -> Result<(), AppError>;

    /// Removes everything the user holds with this provider, ways in without the
    /// password included: an administrator's reset for a lost device, and `cleanup`.
    async fn purge(&self, uid: &str) -> Result<(), AppError> {
        self.remove(uid).await
    }

    /// The users who hold something of this provider that is not a second factor (and
    /// so has no per-user state row): passkeys. `cleanup` reaches them too.
    async fn holders(&self) -> Result<Vec<String>, AppError> {
        Ok(Vec::new())
    }

    /// Whether finishing an enrollment proves the user holds the factor (a first code, a
    /// key's answer), so that the session counts a second factor. Not for a factor whose
    /// setup only switches it on (push approvals).
    fn enrollment_proves_possession(&self) -> bool {
        true
    }

    /// The login attempt went on (a challenge passed, with any provider): a provider
    /// that keeps something open for it (a prompt on other devices) closes it.
    async fn attempt_finished(&self, _attempt: &Attempt<'_>) -> Result<(), AppError> {
        Ok(())
    }

    /// Checks a challenge response. Must be single use: the same response is refused
    /// the second time, also under concurrency.
    async fn verify(&self, uid: &str, response: &str, now: i64) -> Result<bool, AppError>;

    /// Starts setting the provider up (or adding one more credential): what the page or
    /// client must show or do — a secret and its QR code, or registration options. Both
    /// halves of an enrollment are the same ceremony as a challenge's, kept per session.
    async fn begin_enrollment(&self, _e: &Enrollment<'_>) -> Result<serde_json::Value, AppError> {
        Err(not_enrollable(self.id()))
    }

    /// Checks the answer to [`Provider::begin_enrollment`]; on success the factor (or the
    /// new credential) is stored and active. The answer proves the user holds it, as a
    /// passed challenge would.
    async fn finish_enrollment(
        &self,
        _e: &Enrollment<'_>,
        _answer: &EnrollmentAnswer<'_>,
    ) -> Result<Enrolled, AppError> {
        Err(not_enrollable(self.id()))
    }

    /// Starts a challenge for a login attempt and returns what the page or client must
    /// do (e.g. request options for the browser); `None` for providers whose challenge needs no
    /// first half (a code the user already has).
    async fn begin(&self, _attempt: &Attempt<'_>) -> Result<Option<serde_json::Value>, AppError> {
        Ok(None)
    }

    /// Checks an answer within its login attempt; ceremony providers override this to
    /// take the state `begin` kept for the session, and a provider whose challenge is
    /// settled elsewhere (an approval on another device) answers `Pending` until it is.
    async fn verify_in(&self, attempt: &Attempt<'_>, response: &str) -> Result<Outcome, AppError> {
        Ok(Outcome::from(
            self.verify(attempt.uid, response, attempt.now).await?,
        ))
    }

    /// The provider's name as people see it, in `lang` (`en`, `fr`).
    fn display_name(&self, lang: &str) -> &'static str;

    /// Named credentials, for a provider whose users may hold several; none otherwise.
    async fn credentials(&self, _uid: &str) -> Result<Vec<Credential>, AppError> {
        Ok(Vec::new())
    }

    /// Renames one of [`Provider::credentials`].
    async fn rename_credential(&self, _uid: &str, id: &str, _name: &str) -> Result<(), AppError> {
        Err(AppError::NotFound(format!("credential {id}")))
    }

    /// Removes one of [`Provider::credentials`]. It must refuse, with
    /// `AppError::Conflict` and atomically with the removal, to remove the user's last
    /// second-factor credential: the framework then removes the factor instead
    /// ([`Provider::remove`]), which enforcement may refuse.
    async fn remove_credential(&self, _uid: &str, id: &str) -> Result<(), AppError> {
        Err(AppError::NotFound(format!("credential {id}")))
    }

    /// Whether a credential of this provider can sign in without the password (opted
    /// into by enrolling with [`Enrollment::sign_in`]).
    fn signs_in(&self) -> bool {
        false
    }

    /// First half of a passwordless sign-in, for whoever holds a credential: what the
    /// browser must do. The state is kept under `ceremony` (from the client's cookie).
    async fn begin_sign_in(
        &self,
        _ceremony: &str,
        _now: i64,
    ) -> Result<serde_json::Value, AppError> {
        Err(AppError::NotFound(format!(
            "{} does not sign in",
            self.id().as_str()
        )))
    }

    /// Second half: the uid whose credential answered, or `None` for any failure (the
    /// answer must not tell whether a credential exists).
    async fn finish_sign_in(
        &self,
        _ceremony: &str,
        _answer: &str,
        _now: i64,
    ) -> Result<Option<String>, AppError> {
        Ok(None)
    }

    /// The script the provider's fragments need, served at `/static/<id>.js` (the only
    /// scripts the pages' Content-Security-Policy allows).
    fn script(&self) -> Option<&'static str> {
        None
    }

    /// The challenge page's fragment for a provider answered in the browser (a button
    /// that runs a ceremony, a prompt waiting on another device); `None` for one answered
    /// with a typed code.
    async fn challenge_view(
        &self,
        _view: &View<'_>,
        _attempt: &Attempt<'_>,
    ) -> Result<Option<String>, AppError> {
        Ok(None)
    }

    /// The "setup required" page's fragment: a browser ceremony's form, or the
    /// enrollment in progress of this session (its form posts to `/login/setup`). `None`
    /// when there is nothing to show yet: the page then begins an enrollment and asks again.
    async fn setup_view(
        &self,
        _view: &View<'_>,
        _who: &Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        Ok(None)
    }

    /// The sign-in page's fragment, for a provider that [`Provider::signs_in`].
    fn sign_in_view(&self, _view: &View<'_>) -> Option<String> {
        None
    }

    /// The security settings page's section for the user's credentials.
    async fn settings_view(
        &self,
        _view: &View<'_>,
        _who: &Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        Ok(None)
    }
}

/// What a provider makes of an answer to its challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not settled yet (waiting for an approval): neither a pass nor a failure.
    Pending,
    /// This round was answered right but the provider asks for one more (its `begin`
    /// knows which): the login stays at its stage, and nothing counts as a failure.
    AnotherRound,
}

impl From<bool> for Outcome {
    fn from(passed: bool) -> Self {
        if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }
}
