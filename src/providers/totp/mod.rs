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

use super::{Provider, ProviderId, View};
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

    /// Starts (or restarts) enrollment with a fresh secret. Refused while TOTP is active:
    /// replacing a working secret must be a deliberate remove first.
    pub async fn begin(&self, uid: &str, now: i64) -> Result<Enrollment, AppError> {
        if let Some(row) = self.store.totp(uid).await?
            && row.confirmed != 0
        {
            return Err(AppError::Conflict(
                "TOTP is already active; remove it before setting up a new secret".into(),
            ));
        }
        let secret = otp::generate_secret();
        self.store
            .put_totp(&TotpRow {
                uid: uid.to_string(),
                secret: self.seal(uid, &secret)?,
                algorithm: self.params.algorithm.as_str().to_string(),
                digits: i64::from(self.params.digits),
                period: self.params.period as i64,
                confirmed: 0,
                last_step: -1,
                created_at: now,
            })
            .await?;
        self.enrollment(uid, &secret, &self.params)
    }

    /// The enrollment in progress (to show the QR code again), if any.
    pub async fn pending(&self, uid: &str) -> Result<Option<Enrollment>, AppError> {
        match self.load(uid).await? {
            Some((row, secret, params)) if row.confirmed == 0 => {
                Ok(Some(self.enrollment(uid, &secret, &params)?))
            }
            _ => Ok(None),
        }
    }

    /// Finishes enrollment with a code from the app; TOTP becomes active.
    pub async fn confirm(&self, uid: &str, code: &str, now: i64) -> Result<(), AppError> {
        let Some((row, _, _)) = self.load(uid).await? else {
            return Err(AppError::BadRequest("no TOTP setup in progress".into()));
        };
        if row.confirmed != 0 {
            return Err(AppError::Conflict("TOTP is already active".into()));
        }
        if !self.check(uid, code, now, false).await? {
            return Err(AppError::InvalidCode);
        }
        self.store
            .set_provider_state(ProviderId::Totp.as_str(), uid, true)
            .await?;
        Ok(())
    }

    /// Verifies `code` and claims its step. `confirmed_only`: refuse a pending secret.
    async fn check(
        &self,
        uid: &str,
        code: &str,
        now: i64,
        confirmed_only: bool,
    ) -> Result<bool, AppError> {
        let Some((row, secret, params)) = self.load(uid).await? else {
            return Ok(false);
        };
        if confirmed_only && row.confirmed == 0 {
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
        let enrollment = self.begin(e.uid, e.now).await?;
        serde_json::to_value(enrollment).map_err(|e| AppError::Internal(e.into()))
    }

    async fn finish_enrollment(
        &self,
        e: &super::Enrollment<'_>,
        answer: &super::EnrollmentAnswer<'_>,
    ) -> Result<super::Enrolled, AppError> {
        self.confirm(e.uid, answer.response.trim(), e.now).await?;
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

    async fn setup_view(&self, view: &View<'_>, uid: &str) -> Result<Option<String>, AppError> {
        match self.pending(uid).await? {
            Some(enrollment) => views::setup(view, enrollment).map(Some),
            None => Ok(None),
        }
    }

    async fn settings_view(&self, view: &View<'_>, uid: &str) -> Result<Option<String>, AppError> {
        let active = self
            .store
            .provider_states(uid)
            .await?
            .iter()
            .any(|s| s.provider == ProviderId::Totp.as_str() && s.enabled != 0);
        let pending = if active {
            None
        } else {
            self.pending(uid).await?
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
        self.check(uid, response, now, true).await
    }
}
