//! The second-factor framework. Each provider (one folder or file per provider) implements
//! [`Provider`]; [`TwoFactor`] holds them and answers what the login flow needs: what a
//! user has active, what is usable right now, whether 2FA is required, and the
//! verification of a challenge with throttling and lockout. A new provider is its module
//! (declared below) plus one line in `registry.rs`, and nowhere else.

pub mod backup_codes;
mod provider;
pub mod push;
mod registry;
pub mod totp;
pub mod webauthn;

pub use provider::{
    Attempt, Credential, Enrolled, Enrollment, EnrollmentAnswer, Holder, Outcome, Provider, View,
    in_lang,
};
pub use registry::{Context, ProviderId, config_sections};

use std::sync::Arc;

use serde::Serialize;

use crate::audit::{Actor, Audit, Event};
use crate::enforcement::Enforcement;
use crate::error::AppError;
use crate::store::Store;
use crate::throttle::Throttle;

impl ProviderId {
    pub fn parse(s: &str) -> Option<ProviderId> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s)
    }

    /// The provider a request names (a path segment): unknown ones are "not found".
    pub fn named(s: &str) -> Result<ProviderId, AppError> {
        Self::parse(s).ok_or_else(|| AppError::NotFound(format!("provider {s}")))
    }
}

/// After this many consecutive failures a factor locks (NIST SP 800-63B §5.2.2).
pub const MAX_FACTOR_FAILURES: i64 = 100;

/// One provider as it stands for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProviderStatus {
    pub provider: String,
    /// Set up and switched on for the user.
    pub active: bool,
    /// Registered in this version and enabled system-wide.
    pub available: bool,
    /// Locked after too many failures.
    pub locked: bool,
    pub last_used_at: i64,
}

/// Everything the login flow and the settings pages need about one user's 2FA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserStatus {
    pub providers: Vec<ProviderStatus>,
    pub enforced: bool,
    pub backup_codes_left: i64,
}

impl UserStatus {
    /// Any real factor (not backup codes) active, whether or not it is available now:
    /// a factor that cannot load must not turn a login into a single-factor one.
    pub fn has_active_factor(&self) -> bool {
        self.providers
            .iter()
            .any(|p| p.active && p.provider != ProviderId::BackupCodes.as_str())
    }

    /// What the user may answer a challenge with right now.
    pub fn usable(&self) -> Vec<ProviderId> {
        if !self.has_active_factor() {
            return Vec::new();
        }
        let mut usable: Vec<&ProviderStatus> = self
            .providers
            .iter()
            .filter(|p| p.active && p.available && !p.locked)
            .collect();
        // Last used first (the page preselects it); on a tie, a real factor before the
        // backup codes.
        usable.sort_by_key(|p| {
            (
                std::cmp::Reverse(p.last_used_at),
                p.provider == ProviderId::BackupCodes.as_str(),
            )
        });
        usable
            .into_iter()
            .filter_map(|p| ProviderId::parse(&p.provider))
            .collect()
    }

    /// "Could not load at least one of your enabled two-factor methods."
    pub fn some_unavailable(&self) -> bool {
        self.providers.iter().any(|p| p.active && !p.available)
    }

    pub fn need(&self) -> SecondFactorNeed {
        if self.has_active_factor() {
            SecondFactorNeed::Challenge
        } else if self.enforced {
            SecondFactorNeed::Setup
        } else {
            SecondFactorNeed::None
        }
    }

    pub fn is_active(&self, id: ProviderId) -> bool {
        self.providers
            .iter()
            .any(|p| p.active && p.provider == id.as_str())
    }
}

/// What the user must still show after the password, as the 2FA layer computes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorNeed {
    /// No active factor and no enforcement.
    None,
    /// At least one active factor: challenge.
    Challenge,
    /// Enforced, nothing active: set up in the login flow.
    Setup,
}

#[derive(Clone)]
pub struct TwoFactor {
    store: Store,
    throttle: Throttle,
    audit: Audit,
    providers: Vec<Arc<dyn Provider>>,
    pub totp: Arc<totp::Totp>,
    pub backup_codes: Arc<backup_codes::BackupCodes>,
    /// Push approvals: the approvers' side (lists, decisions, the live feed) is more
    /// than the provider interface.
    pub push: Arc<push::Push>,
}

impl TwoFactor {
    pub fn new(
        store: Store,
        key: crate::crypto::ServerKey,
        audit: Audit,
        config: &crate::config::Config,
    ) -> anyhow::Result<Self> {
        let providers = registry::build_all(&Context {
            store: &store,
            key: &key,
            config,
            audit: &audit,
        })?;
        let totp = registry::typed::<totp::Totp>(&providers)?;
        let backup_codes = registry::typed::<backup_codes::BackupCodes>(&providers)?;
        let push = registry::typed::<push::Push>(&providers)?;
        Ok(Self {
            push,
            throttle: Throttle::new(store.clone(), audit.clone()),
            audit,
            store,
            providers,
            totp,
            backup_codes,
        })
    }

    pub fn provider(&self, id: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.iter().find(|p| p.id().as_str() == id)
    }

    pub fn registered(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.iter()
    }

    /// Puts `provider` in the place of the registered one with its id: tests drive the
    /// framework with providers of their own.
    #[cfg(test)]
    pub(crate) fn replace_provider(&mut self, provider: Arc<dyn Provider>) {
        self.providers.retain(|p| p.id() != provider.id());
        self.providers.push(provider);
    }

    /// The registered provider `id`; "not found" for one this version does not carry.
    pub fn get(&self, id: ProviderId) -> Result<&Arc<dyn Provider>, AppError> {
        self.provider(id.as_str())
            .ok_or_else(|| AppError::NotFound(format!("provider {}", id.as_str())))
    }

    /// The provider `id` when it signs in without the password and is on system-wide.
    pub async fn sign_in_provider(&self, id: ProviderId) -> Result<&Arc<dyn Provider>, AppError> {
        let p = self.get(id)?;
        if !p.signs_in() || !self.system_enabled(id).await? {
            return Err(AppError::NotFound(format!(
                "passwordless sign-in with {}",
                id.as_str()
            )));
        }
        Ok(p)
    }

    /// Enabled system-wide: the admin's choice, else on. Backup codes are always on; a
    /// provider the configuration leaves unavailable is always off.
    pub async fn system_enabled(&self, id: ProviderId) -> Result<bool, AppError> {
        let Some(p) = self.provider(id.as_str()) else {
            return Ok(false);
        };
        if p.unavailable().is_some() {
            return Ok(false);
        }
        if !p.can_disable_system_wide() {
            return Ok(true);
        }
        Ok(self
            .store
            .provider_setting(id.as_str())
            .await?
            .unwrap_or(true))
    }

    pub async fn set_system_enabled(
        &self,
        id: &str,
        enabled: bool,
        actor: &Actor,
        now: i64,
    ) -> Result<(), AppError> {
        let p = self
            .provider(id)
            .ok_or_else(|| AppError::NotFound(format!("provider {id}")))?;
        if !enabled && !p.can_disable_system_wide() {
            return Err(AppError::BadRequest(format!(
                "provider {id} cannot be disabled: it is always available"
            )));
        }
        self.store.set_provider_setting(id, enabled).await?;
        let detail = format!("{id}={}", if enabled { "on" } else { "off" });
        self.audit
            .record(Event::ProviderChanged, actor, "", &detail, now)
            .await
    }

    pub async fn enforcement(&self) -> Result<Enforcement, AppError> {
        let (enforced, groups, excluded) = self.store.enforcement().await?;
        Ok(Enforcement {
            enforced,
            groups,
            excluded,
        })
    }

    pub async fn set_enforcement(
        &self,
        e: &Enforcement,
        actor: &Actor,
        now: i64,
    ) -> Result<(), AppError> {
        self.store
            .set_enforcement(e.enforced, &e.groups, &e.excluded)
            .await?;
        let detail = format!(
            "enforced={} groups={} excluded={}",
            e.enforced,
            e.groups.join(","),
            e.excluded.join(",")
        );
        self.audit
            .record(Event::EnforcementChanged, actor, "", &detail, now)
            .await
    }

    pub async fn is_enforced_for(&self, uid: &str) -> Result<bool, AppError> {
        let groups = self.store.groups_of(uid).await?;
        Ok(self.enforcement().await?.applies_to(&groups))
    }

    pub async fn status(&self, uid: &str) -> Result<UserStatus, AppError> {
        let rows = self.store.provider_states(uid).await?;
        let mut providers = Vec::with_capacity(rows.len());
        for row in rows {
            let available = match ProviderId::parse(&row.provider) {
                Some(id) => self.system_enabled(id).await?,
                None => false,
            };
            providers.push(ProviderStatus {
                available,
                active: row.enabled != 0,
                locked: row.failures >= MAX_FACTOR_FAILURES,
                last_used_at: row.last_used_at,
                provider: row.provider,
            });
        }
        let (_, backup_codes_left) = self.store.backup_code_counts(uid).await?;
        Ok(UserStatus {
            providers,
            enforced: self.is_enforced_for(uid).await?,
            backup_codes_left,
        })
    }

    /// Answers a challenge. Throttled per account and per IP; each failure counts
    /// against the factor, which locks at [`MAX_FACTOR_FAILURES`]. Every answer is
    /// counted once in the metrics, by provider and result.
    pub async fn verify_challenge(
        &self,
        attempt: &Attempt<'_>,
        id: ProviderId,
        response: &str,
        client: &crate::sessions::ClientInfo,
    ) -> Result<Outcome, AppError> {
        use crate::metrics::FactorResult;
        let result = self.check_answer(attempt, id, response, client).await;
        let counted = match &result {
            Ok(Outcome::Passed) => FactorResult::Passed,
            Ok(Outcome::Pending) => FactorResult::Pending,
            Ok(Outcome::AnotherRound) => FactorResult::AnotherRound,
            Ok(Outcome::Failed) | Err(AppError::InvalidCode) => FactorResult::Failed,
            Err(AppError::FactorLocked) => FactorResult::Locked,
            Err(AppError::TooManyAttempts(_)) => FactorResult::Throttled,
            Err(AppError::Unavailable(_) | AppError::Internal(_)) => FactorResult::Error,
            Err(_) => FactorResult::Rejected,
        };
        crate::metrics::second_factor(id.as_str(), counted);
        result
    }

    async fn check_answer(
        &self,
        attempt: &Attempt<'_>,
        id: ProviderId,
        response: &str,
        client: &crate::sessions::ClientInfo,
    ) -> Result<Outcome, AppError> {
        let (uid, now) = (attempt.uid, attempt.now);
        let actor = Actor::client(uid, client);
        let status = self.status(uid).await?;
        if !status.usable().contains(&id) {
            let locked = status
                .providers
                .iter()
                .any(|p| p.provider == id.as_str() && p.locked);
            return Err(if locked {
                AppError::FactorLocked
            } else {
                AppError::BadRequest(format!("{} is not available for this account", id.as_str()))
            });
        }
        let provider = self
            .provider(id.as_str())
            .ok_or_else(|| AppError::NotFound(format!("provider {}", id.as_str())))?;
        let buckets = crate::throttle::buckets("2fa", uid, &client.ip, None);
        let reservation = self.throttle.reserve(buckets, &actor, now).await?;
        // The factor's own count of consecutive failures is reserved the same way: however
        // many answers arrive at once, at most MAX_FACTOR_FAILURES are ever checked.
        if !self
            .store
            .provider_attempt(id.as_str(), uid, MAX_FACTOR_FAILURES)
            .await?
        {
            self.throttle.cancelled(reservation).await?;
            self.audit
                .record(Event::SecondFactorFailed, &actor, uid, "locked", now)
                .await?;
            return Err(AppError::FactorLocked);
        }
        let outcome = provider.verify_in(attempt, response.trim()).await?;
        if matches!(outcome, Outcome::Pending | Outcome::AnotherRound) {
            // Not settled, nothing guessed wrong: give the reservations back. A right
            // round is no pass either, so the counters are not reset.
            self.throttle.cancelled(reservation).await?;
            self.store
                .provider_attempt_released(id.as_str(), uid)
                .await?;
            return Ok(outcome);
        }
        if outcome == Outcome::Passed {
            self.store.provider_used(id.as_str(), uid, now).await?;
            self.throttle.succeeded(reservation).await?;
            self.audit
                .record(Event::SecondFactorPassed, &actor, uid, id.as_str(), now)
                .await?;
            if id == ProviderId::BackupCodes {
                self.audit
                    .record(Event::BackupCodeUsed, &actor, uid, "", now)
                    .await?;
            }
            tracing::info!(uid, provider = id.as_str(), "second factor passed");
            for p in &self.providers {
                p.attempt_finished(attempt).await?;
            }
            Ok(Outcome::Passed)
        } else {
            reservation.failed();
            self.audit
                .record(Event::SecondFactorFailed, &actor, uid, id.as_str(), now)
                .await?;
            tracing::warn!(uid, provider = id.as_str(), "second factor failed");
            Err(AppError::InvalidCode)
        }
    }

    /// The providers a user forced to set up 2FA may set up right in the login flow:
    /// those that can and are enabled system-wide.
    pub async fn setup_choices(&self) -> Result<Vec<ProviderId>, AppError> {
        let mut out = Vec::new();
        for p in self.providers.iter().filter(|p| p.can_set_up_at_login()) {
            if self.system_enabled(p.id()).await? {
                out.push(p.id());
            }
        }
        Ok(out)
    }

    /// The first half of a challenge for providers that have one: what the
    /// page must do. Only for a provider the user may answer with right now.
    pub async fn begin_challenge(
        &self,
        attempt: &Attempt<'_>,
        id: ProviderId,
    ) -> Result<Option<serde_json::Value>, AppError> {
        if !self.status(attempt.uid).await?.usable().contains(&id) {
            return Err(AppError::BadRequest(format!(
                "{} is not available for this account",
                id.as_str()
            )));
        }
        let provider = self
            .provider(id.as_str())
            .ok_or_else(|| AppError::NotFound(format!("provider {}", id.as_str())))?;
        provider.begin(attempt).await
    }

    /// A user turning off one of their own factors: refused for the last real factor
    /// while 2FA is enforced for them. The check and the removal hold the user's factor
    /// lock, so two removals at once cannot both pass the check; the second is refused
    /// ("try again") while the first is in progress.
    pub async fn remove_by_user(&self, uid: &str, id: ProviderId) -> Result<(), AppError> {
        let Some(lock) = self.store.try_lock_factors(uid).await? else {
            return Err(AppError::Conflict(
                "another change to your two-factor methods is in progress: try again".into(),
            ));
        };
        self.remove_locked(uid, id).await?;
        lock.release().await?;
        Ok(())
    }

    async fn remove_locked(&self, uid: &str, id: ProviderId) -> Result<(), AppError> {
        let status = self.status(uid).await?;
        let real_left = status
            .providers
            .iter()
            .filter(|p| {
                p.active
                    && p.provider != id.as_str()
                    && p.provider != ProviderId::BackupCodes.as_str()
            })
            .count();
        if id != ProviderId::BackupCodes && status.enforced && real_left == 0 {
            return Err(AppError::Conflict(
                "two-factor authentication is enforced for your account: set up another method before removing this one".into(),
            ));
        }
        let provider = self
            .provider(id.as_str())
            .ok_or_else(|| AppError::NotFound(format!("provider {}", id.as_str())))?;
        provider.remove(uid).await
    }

    /// Admin `twofactorauth disable`, the "lost phone" reset: the factor goes, and so
    /// does every session of the user (whoever holds the lost device is signed out).
    pub async fn admin_disable(
        &self,
        uid: &str,
        id: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<(), AppError> {
        let provider = self
            .provider(id)
            .ok_or_else(|| AppError::NotFound(format!("provider {id}")))?;
        if !provider.admin_can_disable() {
            return Err(AppError::BadRequest(format!(
                "provider {id} does not support being disabled by an admin"
            )));
        }
        provider.purge(uid).await?;
        let ended = self.store.delete_sessions_of(uid).await?;
        self.audit
            .record(Event::AdminReset, actor, uid, id, now)
            .await?;
        if ended > 0 {
            self.audit
                .record(Event::SessionsEnded, actor, uid, "admin_reset", now)
                .await?;
        }
        Ok(())
    }

    /// Admin `twofactorauth enable`.
    pub async fn admin_enable(&self, uid: &str, id: &str) -> Result<(), AppError> {
        let provider = self
            .provider(id)
            .ok_or_else(|| AppError::NotFound(format!("provider {id}")))?;
        provider.admin_enable(uid).await
    }

    /// The users `cleanup` would reach: those with a per-user state row for `provider`,
    /// and those holding something of it that has none (passkeys).
    pub async fn cleanup_targets(&self, provider: &str) -> Result<Vec<String>, AppError> {
        let mut uids = self.store.uids_with_provider(provider).await?;
        if let Some(p) = self.provider(provider) {
            uids.extend(p.holders().await?);
            uids.sort();
            uids.dedup();
        }
        Ok(uids)
    }

    /// Removes every user's association with `provider`, known or not (a provider that
    /// was removed from the product leaves rows behind). Calls `progress(done, total)`.
    pub async fn cleanup(
        &self,
        provider: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<usize, AppError> {
        let uids = self.cleanup_targets(provider).await?;
        let total = uids.len();
        for (i, uid) in uids.iter().enumerate() {
            match self.provider(provider) {
                Some(p) => p.purge(uid).await?,
                None => self.store.delete_provider_state(provider, uid).await?,
            }
            progress(i + 1, total);
        }
        Ok(total)
    }
}
