//! TOTP (RFC 6238) as a second factor: a 160-bit secret per user, encrypted at rest,
//! activated only after the user proves their app with one valid code, and a replay
//! guard that accepts each time step at most once.

pub mod config;
pub mod otp;
pub mod qr;
mod texts;
mod views;

use async_trait::async_trait;
use serde::Serialize;

use super::{Holder, Provider, ProviderId, View};
use crate::crypto::{Purpose, ServerKey};
use crate::error::AppError;
use crate::store::{Store, TotpRow};
use config::TotpConfig;
use otp::{Algorithm, TotpParams};

pub struct Totp {
    store: Store,
    key: ServerKey,
    issuer: String,
    params: TotpParams,
    skew: u64,
}

/// What a user needs to add the secret to an app.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrollment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
    pub algorithm: &'static str,
    pub digits: u32,
    pub period: u64,
}

/// The ceremony purpose of a TOTP setup in progress.
const ENROLL: &str = "enroll";
/// How long a secret being set up waits for its first code.
pub const ENROLL_SECS: i64 = 10 * 60;

/// A secret being set up, as the session's ceremony keeps it (the secret sealed).
#[derive(Serialize, serde::Deserialize)]
struct Pending {
    secret: String,
    algorithm: String,
    digits: u32,
    period: u64,
}

impl Pending {
    fn params(&self) -> Result<TotpParams, AppError> {
        Ok(TotpParams {
            algorithm: Algorithm::parse(&self.algorithm)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad TOTP algorithm")))?,
            digits: self.digits,
            period: self.period,
        })
    }
}

/// Builds the provider (the registry's entry point).
pub fn build(ctx: &super::Context<'_>) -> anyhow::Result<std::sync::Arc<dyn Provider>> {
    let own: TotpConfig = ctx.config.section(config::SECTION)?;
    let totp = Totp::new(ctx.store.clone(), ctx.key.clone(), &own)?;
    Ok(std::sync::Arc::new(totp))
}

/// The `[totp]` section.
pub fn config_section() -> Option<crate::config::Section> {
    Some(config::section())
}

impl Totp {
    pub fn new(store: Store, key: ServerKey, config: &TotpConfig) -> anyhow::Result<Self> {
        let algorithm = Algorithm::parse(&config.algorithm)
            .ok_or_else(|| anyhow::anyhow!("unknown TOTP algorithm {}", config.algorithm))?;
        Ok(Self {
            store,
            key,
            issuer: config.issuer.clone(),
            params: TotpParams {
                algorithm,
                digits: config.digits,
                period: config.period,
            },
            skew: config.skew,
        })
    }

    fn seal(&self, uid: &str, secret: &[u8]) -> Result<String, AppError> {
        self.key
            .seal(Purpose::TotpSecret, uid.as_bytes(), secret)
            .map_err(AppError::Internal)
    }

    /// The stored secret and its parameters, decrypted.
    async fn load(&self, uid: &str) -> Result<Option<(TotpRow, Vec<u8>, TotpParams)>, AppError> {
        let Some(row) = self.store.totp(uid).await? else {
            return Ok(None);
        };
        let secret = self
            .key
            .open(Purpose::TotpSecret, uid.as_bytes(), &row.secret)
            .map_err(AppError::Internal)?;
        let params = TotpParams {
            algorithm: Algorithm::parse(&row.algorithm)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad stored TOTP algorithm")))?,
            digits: u32::try_from(row.digits).unwrap_or(6),
            period: u64::try_from(row.period).unwrap_or(30),
        };
        Ok(Some((row, secret, params)))
    }

    fn enrollment(
        &self,
        uid: &str,
        secret: &[u8],
        params: &TotpParams,
    ) -> Result<Enrollment, AppError> {
        let uri = otp::otpauth_uri(secret, params, &self.issuer, uid);
        Ok(Enrollment {
            secret: otp::to_base32(secret),
            qr_svg: qr::svg(&uri).map_err(AppError::Internal)?,
            uri,
            algorithm: params.algorithm.as_str(),
            digits: params.digits,
            period: params.period,
        })
    }

    /// Starts (or restarts) enrollment with a fresh secret, kept as state of the session
    /// that began it (a ceremony) until it is confirmed or [`ENROLL_SECS`] pass. Refused
    /// while TOTP is active: replacing a working secret must be a deliberate remove first.
    pub async fn begin(
        &self,
        uid: &str,
        session_id: &str,
        now: i64,
    ) -> Result<Enrollment, AppError> {
        if self.is_active(uid).await? {
            return Err(AppError::Conflict(
                "TOTP is already active; remove it before setting up a new secret".into(),
            ));
        }
        let secret = otp::generate_secret();
        let pending = Pending {
            secret: self.seal(uid, &secret)?,
            algorithm: self.params.algorithm.as_str().to_string(),
            digits: self.params.digits,
            period: self.params.period,
        };
        let state = serde_json::to_string(&pending).map_err(|e| AppError::Internal(e.into()))?;
        self.store
            .put_ceremony(
                session_id,
                ProviderId::Totp.as_str(),
                ENROLL,
                &state,
                now + ENROLL_SECS,
            )
            .await?;
        self.enrollment(uid, &secret, &self.params)
    }

    /// The session's enrollment in progress as stored: its state text and the secret.
    async fn pending_state(
        &self,
        uid: &str,
        session_id: &str,
        now: i64,
    ) -> Result<Option<(String, Pending, Vec<u8>)>, AppError> {
        let Some(state) = self
            .store
            .peek_ceremony(session_id, ProviderId::Totp.as_str(), ENROLL, now)
            .await?
        else {
            return Ok(None);
        };
        let pending: Pending =
            serde_json::from_str(&state).map_err(|e| AppError::Internal(e.into()))?;
        let secret = self
            .key
            .open(Purpose::TotpSecret, uid.as_bytes(), &pending.secret)
            .map_err(AppError::Internal)?;
        Ok(Some((state, pending, secret)))
    }

    /// The enrollment this session has in progress (to show the QR code again), if any.
    /// Another session of the same user never sees it.
    pub async fn pending(
        &self,
        uid: &str,
        session_id: &str,
        now: i64,
    ) -> Result<Option<Enrollment>, AppError> {
        match self.pending_state(uid, session_id, now).await? {
            Some((_, pending, secret)) => {
                Ok(Some(self.enrollment(uid, &secret, &pending.params()?)?))
            }
            None => Ok(None),
        }
    }

    /// Finishes this session's enrollment with a code from the app; TOTP becomes active,
    /// with the code's step already used. A wrong code leaves the enrollment in place.
    pub async fn confirm(
        &self,
        uid: &str,
        session_id: &str,
        code: &str,
        now: i64,
    ) -> Result<(), AppError> {
        let Some((state, pending, secret)) = self.pending_state(uid, session_id, now).await? else {
            return Err(AppError::BadRequest("no TOTP setup in progress".into()));
        };
        let params = pending.params()?;
        let at = u64::try_from(now).unwrap_or(0);
        let Some(step) = otp::verify(&secret, &params, code, at, self.skew, None) else {
            return Err(AppError::InvalidCode);
        };
        // Taken once: of two confirmations at once, one goes on. A setup begun again in
        // between is another secret: this code was not for it.
        let taken = self
            .store
            .take_ceremony(session_id, ProviderId::Totp.as_str(), ENROLL, now)
            .await?;
        if taken.as_deref() != Some(state.as_str()) {
            return Err(AppError::BadRequest("no TOTP setup in progress".into()));
        }
        self.store
            .insert_totp(&TotpRow {
                uid: uid.to_string(),
                secret: pending.secret,
                algorithm: pending.algorithm,
                digits: i64::from(pending.digits),
                period: pending.period as i64,
                confirmed: 1,
                last_step: step as i64,
                created_at: now,
            })
            .await?;
        self.store
            .set_provider_state(ProviderId::Totp.as_str(), uid, true)
            .await?;
        Ok(())
    }

    /// Verifies `code` against the confirmed secret and claims its step.
    async fn check(&self, uid: &str, code: &str, now: i64) -> Result<bool, AppError> {
        let Some((row, secret, params)) = self.load(uid).await? else {
            return Ok(false);
        };
        if row.confirmed == 0 {
            return Ok(false);
        }
        let last = u64::try_from(row.last_step).ok();
        let now = u64::try_from(now).unwrap_or(0);
        let Some(step) = otp::verify(&secret, &params, code, now, self.skew, last) else {
            return Ok(false);
        };
        // The conditional update decides between concurrent requests with one code.
        Ok(self.store.claim_totp_step(uid, step as i64).await?)
    }

    pub async fn is_active(&self, uid: &str) -> Result<bool, AppError> {
        Ok(matches!(self.store.totp(uid).await?, Some(r) if r.confirmed != 0))
    }
}

#[async_trait]
impl Provider for Totp {
    async fn begin_enrollment(
        &self,
        e: &super::Enrollment<'_>,
    ) -> Result<serde_json::Value, AppError> {
        let enrollment = self.begin(e.uid, e.session_id, e.now).await?;
        serde_json::to_value(enrollment).map_err(|e| AppError::Internal(e.into()))
    }

    async fn finish_enrollment(
        &self,
        e: &super::Enrollment<'_>,
        answer: &super::EnrollmentAnswer<'_>,
    ) -> Result<super::Enrolled, AppError> {
        self.confirm(e.uid, e.session_id, answer.response.trim(), e.now)
            .await?;
        Ok(super::Enrolled {
            detail: ProviderId::Totp.as_str().to_string(),
            credential: None,
        })
    }

    fn id(&self) -> ProviderId {
        ProviderId::Totp
    }

    fn display_name(&self, lang: &str) -> &'static str {
        texts::for_lang(lang).name
    }

    async fn setup_view(
        &self,
        view: &View<'_>,
        who: &Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        match self.pending(who.uid, who.session_id, who.now).await? {
            Some(enrollment) => views::setup(view, enrollment).map(Some),
            None => Ok(None),
        }
    }

    async fn settings_view(
        &self,
        view: &View<'_>,
        who: &Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        let active = self
            .store
            .provider_states(who.uid)
            .await?
            .iter()
            .any(|s| s.provider == ProviderId::Totp.as_str() && s.enabled != 0);
        let pending = if active {
            None
        } else {
            self.pending(who.uid, who.session_id, who.now).await?
        };
        views::settings(view, active, pending).map(Some)
    }

    fn admin_can_disable(&self) -> bool {
        true
    }

    fn can_set_up_at_login(&self) -> bool {
        true
    }

    async fn admin_enable(&self, uid: &str) -> Result<(), AppError> {
        if !self.is_active(uid).await? {
            return Err(AppError::BadRequest(format!(
                "{uid} has no confirmed TOTP secret: the user must set TOTP up themselves"
            )));
        }
        self.store
            .set_provider_state(ProviderId::Totp.as_str(), uid, true)
            .await?;
        Ok(())
    }

    async fn remove(&self, uid: &str) -> Result<(), AppError> {
        self.store.delete_totp(uid).await?;
        self.store
            .delete_provider_state(ProviderId::Totp.as_str(), uid)
            .await?;
        Ok(())
    }

    async fn verify(&self, uid: &str, response: &str, now: i64) -> Result<bool, AppError> {
        self.check(uid, response, now).await
    }
}
