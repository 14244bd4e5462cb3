//! Accounts: users, groups, the admin role, and checking a password. Everything that
//! creates or changes an account goes through here, for the CLI and the web alike.

mod names;
mod password;
pub mod policy;

pub use names::{GroupName, Uid};
pub use password::{PasswordHasher, Verification};
pub use policy::{PasswordPolicy, Weakness};

use serde::Serialize;

use crate::error::AppError;
use crate::store::{Store, UserRow};

/// A user as the rest of the product sees it: never with the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub uid: String,
    pub display_name: String,
    pub email: String,
    pub enabled: bool,
    pub is_admin: bool,
    pub created_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            uid: r.uid,
            display_name: r.display_name,
            email: r.email,
            enabled: r.enabled != 0,
            is_admin: r.is_admin != 0,
            created_at: r.created_at,
        }
    }
}

/// What a password change ended, so that the user can be told.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub sessions: u64,
    pub app_passwords: u64,
    pub client_logins: u64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub uid: Uid,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub is_admin: bool,
}

/// The longest password tried at sign-in, in bytes: Argon2 accepts more, but hashing
/// megabytes is a DoS. New passwords are bounded by the policy's `max_length`
/// (characters, at most 1024, so at most 4096 bytes of UTF-8).
const MAX_PASSWORD_BYTES: usize = 4096;

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    hasher: PasswordHasher,
    policy: std::sync::Arc<PasswordPolicy>,
    /// The optional online list of breached passwords (`password.check_breached`).
    breach: Option<std::sync::Arc<dyn crate::breach::BreachList>>,
}

impl Accounts {
    pub fn new(store: Store, hasher: PasswordHasher, policy: PasswordPolicy) -> Self {
        Self {
            store,
            hasher,
            policy: std::sync::Arc::new(policy),
            breach: None,
        }
    }

    /// Also refuses new passwords that `list` says were breached.
    pub fn with_breach_check(
        mut self,
        list: Option<std::sync::Arc<dyn crate::breach::BreachList>>,
    ) -> Self {
        self.breach = list;
        self
    }

    /// The local checks, then the online list if there is one (a list that cannot say
    /// in time leaves the verdict to the local checks). Only for setting a password:
    /// sign-in never asks the online list.
    pub async fn check_new_password_online(
        &self,
        password: &str,
        uid: &str,
        display_name: &str,
    ) -> Result<(), AppError> {
        self.check_new_password(password, uid, display_name)?;
        if let Some(list) = &self.breach
            && list.contains(&policy::normalize(password)).await == Some(true)
        {
            return Err(AppError::WeakPassword(Weakness::Breached));
        }
        Ok(())
    }

    pub fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// Checks a new password for the account `uid` (named `display_name`) against the
    /// policy; the same verdict for the CLI, the pages and the API.
    pub fn check_new_password(
        &self,
        password: &str,
        uid: &str,
        display_name: &str,
    ) -> Result<(), AppError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AppError::WeakPassword(Weakness::TooLong(
                self.policy.max_length,
            )));
        }
        self.policy
            .check(
                &policy::normalize(password),
                policy::Context { uid, display_name },
            )
            .map_err(AppError::WeakPassword)
    }

    pub async fn create(&self, new: NewUser, password: String, now: i64) -> Result<User, AppError> {
        let display_for_check = new.display_name.clone().unwrap_or_default();
        self.check_new_password_online(&password, new.uid.as_ref(), &display_for_check)
            .await?;
        let password = policy::normalize(&password);
        let email = new.email.unwrap_or_default();
        if !email.is_empty() && !looks_like_email(&email) {
            return Err(AppError::BadRequest(format!(
                "not an email address: {email}"
            )));
        }
        let display_name = new
            .display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| new.uid.to_string());
        if display_name.chars().count() > 200 {
            return Err(AppError::BadRequest(
                "display name is too long (200 characters at most)".into(),
            ));
        }
        let password_hash = self.hasher.hash(password).await?;
        let row = UserRow {
            uid: new.uid.to_string(),
            display_name,
            email,
            password_hash,
            enabled: 1,
            is_admin: i64::from(new.is_admin),
            created_at: now,
        };
        self.store.insert_user(&row).await?;
        Ok(row.into())
    }

    /// Whether a password check could start now (see `PasswordHasher::has_room`).
    pub fn can_check_password(&self) -> bool {
        self.hasher.has_room()
    }

    pub async fn get(&self, uid: &str) -> Result<User, AppError> {
        self.store
            .user(uid)
            .await?
            .map(User::from)
            .ok_or_else(|| AppError::NotFound(format!("user {uid}")))
    }

    /// One page (`per_page` users by uid, `page` from 1) of the users matching `search`,
    /// and how many match.
    pub async fn page(
        &self,
        search: &str,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<User>, i64), AppError> {
        let offset = (page.max(1) - 1).saturating_mul(per_page);
        let (rows, total) = self.store.users_page(search, offset, per_page).await?;
        Ok((rows.into_iter().map(User::from).collect(), total))
    }

    /// The password step. Unknown user, disabled user and wrong password all give
    /// `InvalidCredentials`, after the same Argon2 work.
    pub async fn authenticate(&self, uid: &str, password: &str) -> Result<User, AppError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AppError::InvalidCredentials);
        }
        // A name no account can have (too long, control characters such as NUL, which
        // PostgreSQL refuses in text) is an unknown user: no lookup, the same hashing.
        let row = if uid.len() > 256 || uid.chars().any(char::is_control) {
            None
        } else {
            self.store.user(uid).await?
        };
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        // Hashes are of the NFKC form. Passwords set before that were hashed as typed:
        // for ASCII both are the same; for others, a miss in NFKC is tried as typed (also for an unknown user, so
        // that both cost the same) and,
        // if that matches, rehashed in NFKC (the next sign-in needs one check again).
        let normal = policy::normalize(password);
        let mut outcome = self.hasher.verify(normal.clone(), stored.clone()).await?;
        if outcome == Verification::Mismatch && normal != password {
            outcome = match self.hasher.verify(password.to_string(), stored).await? {
                Verification::Mismatch => Verification::Mismatch,
                _ => Verification::MatchNeedsRehash,
            };
        }
        let row = match (outcome, row) {
            (Verification::Mismatch, _) | (_, None) => return Err(AppError::InvalidCredentials),
            (Verification::MatchNeedsRehash, Some(row)) => {
                self.rehash(&row, &normal).await;
                row
            }
            (Verification::Match, Some(row)) => row,
        };
        if row.enabled == 0 {
            return Err(AppError::InvalidCredentials);
        }
        Ok(row.into())
    }

    /// At a password sign-in: records whether the password the user just proved fails
    /// the policy (it still signs in; the pages ask for a change). A password only too
    /// long for today's maximum is not weak. Returns whether it is.
    pub async fn note_password_strength(&self, user: &User, password: &str) -> bool {
        let weak = match self.check_new_password(password, &user.uid, &user.display_name) {
            Ok(()) | Err(AppError::WeakPassword(Weakness::TooLong(_))) => false,
            Err(_) => true,
        };
        if let Err(e) = self.store.set_weak_password(&user.uid, weak).await {
            tracing::warn!(error = %e, "weak-password mark not saved");
        }
        weak
    }

    /// Whether the user's password was found weak at their last password sign-in.
    pub async fn has_weak_password(&self, uid: &str) -> Result<bool, AppError> {
        Ok(self.store.weak_password(uid).await?)
    }

    pub async fn count_weak_passwords(&self) -> Result<i64, AppError> {
        Ok(self.store.count_weak_passwords().await?)
    }

    /// Best effort: a failed rehash must not fail the login it rides on.
    async fn rehash(&self, row: &UserRow, password: &str) {
        match self.hasher.hash(password.to_string()).await {
            Ok(new) => {
                if let Err(e) = self
                    .store
                    .replace_password_hash(&row.uid, &row.password_hash, &new)
                    .await
                {
                    tracing::warn!(error = %e, "password rehash not saved");
                }
            }
            Err(e) => tracing::warn!(error = %e, "password rehash failed"),
        }
    }

    /// Sets a new password. Whoever knew the old one loses what it gave them: every
    /// session but `keep` (the one the user changes it from, if any), every app password
    /// and every client login flow granted but not yet picked up.
    pub async fn set_password(
        &self,
        uid: &str,
        password: String,
        keep: Option<&str>,
    ) -> Result<Revoked, AppError> {
        let user = self.get(uid).await?;
        // From here on the uid as stored (the caller may have typed another case).
        let uid = user.uid.as_str();
        self.check_new_password_online(&password, &user.uid, &user.display_name)
            .await?;
        let hash = self.hasher.hash(policy::normalize(&password)).await?;
        self.store.set_password_hash(uid, &hash).await?;
        let sessions = match keep {
            Some(id) => self.store.delete_other_sessions(uid, id).await?,
            None => self.store.delete_sessions_of(uid).await?,
        };
        Ok(Revoked {
            sessions,
            app_passwords: self.store.delete_app_passwords_of(uid).await?,
            client_logins: self.store.delete_login_flows_of(uid).await?,
        })
    }

    /// Enables or disables a user; disabling ends every session.
    pub async fn set_enabled(&self, uid: &str, enabled: bool) -> Result<(), AppError> {
        let user = self.get(uid).await?;
        let uid = user.uid.as_str();
        self.store.set_user_enabled(uid, enabled).await?;
        if !enabled {
            self.store.delete_sessions_of(uid).await?;
        }
        Ok(())
    }
}

fn looks_like_email(s: &str) -> bool {
    let mut parts = s.splitn(2, '@');
    let local = parts.next().unwrap_or_default();
    let domain = parts.next().unwrap_or_default();
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && s.len() <= 254
}

#[cfg(test)]
mod tests {
    use super::looks_like_email;

    #[test]
    fn email_shape() {
        assert!(looks_like_email("a@example.org"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("@example.org"));
        assert!(!looks_like_email("a b@example.org"));
        assert!(!looks_like_email("a@.org"));
    }
}
