//! WebAuthn (webauthn-rs): security keys and platform authenticators as a second factor,
//! and passkeys that sign in without a password (`passkeys`).
//!
//! A ceremony has two halves: `begin` gives the browser the options for
//! `navigator.credentials.create/get` and keeps the server-side state in the `ceremonies`
//! table, bound to the session that asked, for two minutes, taken once; `finish` checks
//! the browser's answer against that state. Keys are stored as webauthn-rs
//! `SecurityKey` JSON; the signature counter is saved after every use, and a counter that
//! goes backwards (a cloned key) is refused by webauthn-rs.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{
    AttestationCaList, PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey,
    SecurityKeyAuthentication, SecurityKeyRegistration, Url, Uuid, Webauthn, WebauthnBuilder,
    WebauthnError,
};

pub mod config;
mod passkeys;
mod store;
pub mod texts;
mod views;

use super::{
    Attempt, Credential, Enrolled, Enrollment, EnrollmentAnswer, Outcome, Provider, ProviderId,
    View,
};
use crate::error::AppError;
use crate::store::Store;
use store::WebauthnCredentialRow;

/// How long a ceremony may take between its two halves.
const CEREMONY_SECS: i64 = 120;
const REGISTER: &str = "register";
const LOGIN: &str = "login";
/// `webauthn_credentials.kind` of a second factor.
const SECURITY_KEY: &str = "security_key";
/// `webauthn_credentials.kind` of a passkey.
const PASSKEY: &str = "passkey";

pub struct WebauthnProvider {
    store: Store,
    /// The relying party; `Err(why)` when the settings name none WebAuthn accepts (an
    /// IP address as host): the provider is then unavailable, everything else works.
    webauthn: Result<Arc<Webauthn>, String>,
    /// With `attestation = "direct"`: the authenticator models a security key must be.
    attestation: Option<AttestationCaList>,
}

/// The WebAuthn user handle: stable per uid (so one authenticator keeps one account per
/// user), but not the uid itself.
pub(crate) fn user_handle(uid: &str) -> Uuid {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("twofold/webauthn-user/{uid}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn credential_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// Why a credential cannot be registered twice, in the words the page shows.
fn already_registered(e: AppError) -> AppError {
    match e {
        AppError::Conflict(_) => AppError::Conflict(
            "this authenticator is already registered for an account here (as a second-factor key or as a passkey): one credential cannot be both".into(),
        ),
        e => e,
    }
}

/// A key's or passkey's name, trimmed: 1 to 100 characters.
fn checked_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "a security key or passkey needs a name of 1 to 100 characters".into(),
        ));
    }
    Ok(name)
}

fn no_registration() -> AppError {
    AppError::BadRequest("no registration in progress (or it expired)".into())
}

fn bad(what: &str) -> AppError {
    AppError::BadRequest(format!("{what}: not a valid WebAuthn answer"))
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("webauthn: {e}"))
}

/// Builds the provider (the registry's entry point).
pub fn build(ctx: &super::Context<'_>) -> anyhow::Result<Arc<dyn Provider>> {
    Ok(Arc::new(WebauthnProvider::new(
        ctx.store.clone(),
        ctx.config,
    )?))
}

/// The relying party the settings describe, or why there is none. WebAuthn binds keys to
/// a domain name: a `public_url` with an IP address (or an `rp_id` that is no domain of
/// the origin) has none, and browsers refuse such a relying party anyway.
pub fn relying_party(
    config: &crate::config::Config,
    own: &config::WebauthnConfig,
) -> Result<Webauthn, String> {
    let (rp_id, origin) = rp_settings(config, own)?;
    let why = |e: WebauthnError| {
        let needs = if origin
            .host()
            .is_some_and(|h| !matches!(h, url::Host::Domain(_)))
        {
            "WebAuthn needs a domain name, and the origin's host is an IP address; use a name (e.g. http://localhost:PORT to try it out, or https://auth.example.org)"
        } else {
            "rp_id must be the origin's host or a parent domain of it"
        };
        format!("relying party {rp_id} / {origin} is refused ({e}): {needs}")
    };
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(why)?
        .rp_name(&own.rp_name)
        .build()
        .map_err(why)
}

/// The relying-party id and origin: the settings, else from `server.public_url`.
fn rp_settings(
    config: &crate::config::Config,
    own: &config::WebauthnConfig,
) -> Result<(String, Url), String> {
    let public = Url::parse(&config.server.public_url).map_err(|e| e.to_string())?;
    let origin = match own.rp_origin.as_str() {
        "" => public.clone(),
        o => Url::parse(o).map_err(|e| format!("rp_origin: {e}"))?,
    };
    let rp_id = match own.rp_id.as_str() {
        "" => public.host_str().unwrap_or("localhost").to_string(),
        id => id.to_string(),
    };
    Ok((rp_id, origin))
}

/// The relying-party id and origin the configuration gives, for `config check`; why
/// there is none otherwise.
pub fn relying_party_of(config: &crate::config::Config) -> Result<(String, String), String> {
    let own: config::WebauthnConfig = config.section(config::SECTION).map_err(|e| e.to_string())?;
    relying_party(config, &own)?;
    let (rp_id, origin) = rp_settings(config, &own)?;
    Ok((rp_id, origin.as_str().trim_end_matches('/').to_string()))
}

/// Why security keys and passkeys are unavailable with this configuration, if they are.
pub fn unavailable_because(config: &crate::config::Config) -> Option<String> {
    let own: config::WebauthnConfig = match config.section(config::SECTION) {
        Ok(own) => own,
        Err(e) => return Some(e.to_string()),
    };
    relying_party(config, &own).err()
}

/// The `[webauthn]` section.
pub fn config_section() -> Option<crate::config::Section> {
    Some(config::section())
}

impl WebauthnProvider {
    pub fn new(store: Store, config: &crate::config::Config) -> anyhow::Result<Self> {
        let own: config::WebauthnConfig = config.section(config::SECTION)?;
        let attestation = own
            .attestation_cas()
            .map_err(|e| anyhow::anyhow!("webauthn: {e}"))?;
        Ok(Self {
            store,
            webauthn: relying_party(config, &own).map(Arc::new),
            attestation,
        })
    }

    /// The relying party, or an error for a provider that is unavailable (the pages
    /// never offer it then; this guards any path that would reach it anyway).
    fn rp(&self) -> Result<&Webauthn, AppError> {
        self.webauthn.as_deref().map_err(|why| {
            AppError::NotFound(format!("security keys and passkeys are unavailable: {why}"))
        })
    }

    /// The user's second-factor keys (never their passkeys).
    async fn keys_of(
        &self,
        uid: &str,
    ) -> Result<Vec<(WebauthnCredentialRow, SecurityKey)>, AppError> {
        let rows = self.store.webauthn_credentials_of(uid).await?;
        rows.into_iter()
            .filter(|r| r.kind == SECURITY_KEY)
            .map(|r| {
                let key: SecurityKey = serde_json::from_str(&r.credential).map_err(internal)?;
                Ok((r, key))
            })
            .collect()
    }

    /// Every credential of the user, second-factor keys and passkeys.
    async fn all_credentials(&self, uid: &str) -> Result<Vec<Credential>, AppError> {
        Ok(self
            .store
            .webauthn_credentials_of(uid)
            .await?
            .into_iter()
            .map(|r| listed(&r))
            .collect())
    }

    /// How many second-factor keys the user has.
    async fn key_count(&self, uid: &str) -> Result<usize, AppError> {
        Ok(self
            .all_credentials(uid)
            .await?
            .iter()
            .filter(|k| !k.sign_in)
            .count())
    }

    /// Every credential id of the user, both kinds: excluded at any registration, so that
    /// one authenticator credential is never both a second factor and a passkey.
    async fn all_ids(
        &self,
        uid: &str,
    ) -> Result<Vec<webauthn_rs::prelude::CredentialID>, AppError> {
        self.store
            .webauthn_credentials_of(uid)
            .await?
            .iter()
            .map(|r| URL_SAFE_NO_PAD.decode(&r.id).map_err(internal))
            .collect()
    }

    /// Keeps a ceremony's server-side state for the second half.
    async fn keep(
        &self,
        session_id: &str,
        purpose: &str,
        state: &impl serde::Serialize,
        now: i64,
    ) -> Result<(), AppError> {
        let state = serde_json::to_string(state).map_err(internal)?;
        self.store
            .put_ceremony(
                session_id,
                ProviderId::Webauthn.as_str(),
                purpose,
                &state,
                now + CEREMONY_SECS,
            )
            .await?;
        Ok(())
    }

    /// Takes a ceremony's state, once; `None` when none is in progress (or it expired).
    async fn take<T: serde::de::DeserializeOwned>(
        &self,
        session_id: &str,
        purpose: &str,
        now: i64,
    ) -> Result<Option<T>, AppError> {
        match self
            .store
            .take_ceremony(session_id, ProviderId::Webauthn.as_str(), purpose, now)
            .await?
        {
            Some(state) => Ok(Some(serde_json::from_str(&state).map_err(internal)?)),
            None => Ok(None),
        }
    }

    /// Stores a newly registered credential of either kind.
    async fn store_credential(
        &self,
        uid: &str,
        name: &str,
        kind: &str,
        id: &[u8],
        credential: &impl serde::Serialize,
        now: i64,
    ) -> Result<Credential, AppError> {
        let row = WebauthnCredentialRow {
            id: credential_id(id),
            uid: uid.to_string(),
            name: name.to_string(),
            kind: kind.into(),
            credential: serde_json::to_string(credential).map_err(internal)?,
            created_at: now,
            last_used_at: 0,
        };
        self.store
            .insert_webauthn_credential(&row)
            .await
            .map_err(|e| already_registered(e.into()))?;
        Ok(listed(&row))
    }

    /// First half of adding a key: the options for `navigator.credentials.create`.
    async fn begin_registration(
        &self,
        uid: &str,
        display_name: &str,
        session_id: &str,
        now: i64,
    ) -> Result<serde_json::Value, AppError> {
        let exclude = self.all_ids(uid).await?;
        let (options, state) = self
            .rp()?
            .start_securitykey_registration(
                user_handle(uid),
                uid,
                display_name,
                Some(exclude),
                self.attestation.clone(),
                None,
            )
            .map_err(internal)?;
        self.keep(session_id, REGISTER, &state, now).await?;
        serde_json::to_value(options).map_err(internal)
    }

    /// Second half: checks the browser's answer (the credential as JSON text, as a
    /// challenge's answer is) and stores the key under `name`.
    async fn finish_registration(
        &self,
        uid: &str,
        session_id: &str,
        name: &str,
        answer: &str,
        now: i64,
    ) -> Result<Credential, AppError> {
        let name = checked_name(name)?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_str(answer).map_err(|_| bad("credential"))?;
        let state: SecurityKeyRegistration = self
            .take(session_id, REGISTER, now)
            .await?
            .ok_or_else(no_registration)?;
        let key = self.rp()?.finish_securitykey_registration(&credential, &state)
            .map_err(|e| {
                let refused_model = self.attestation.is_some()
                    && matches!(
                        e,
                        WebauthnError::AttestationTrustFailure
                            | WebauthnError::AttestationNotVerifiable
                            | WebauthnError::AttestationCertificateAAGUIDMismatch
                            | WebauthnError::AttestationCertificateRequirementsNotMet
                            | WebauthnError::AttestationLeafCertMissing
                            | WebauthnError::AttestationNotSupported
                            | WebauthnError::AttestationUntrustedAaguid
                            | WebauthnError::AttestationFormatMissingAaguid
                            | WebauthnError::AttestationChainNotTrusted(_)
                    );
                if refused_model {
                    AppError::BadRequest(format!(
                        "the key was not registered: this authenticator is not a model the administrator allows ({e})"
                    ))
                } else {
                    AppError::BadRequest(format!("the key was not registered: {e}"))
                }
            })?;
        let info = self
            .store_credential(uid, name, SECURITY_KEY, key.cred_id().as_ref(), &key, now)
            .await?;
        self.store
            .set_provider_state(ProviderId::Webauthn.as_str(), uid, true)
            .await?;
        Ok(info)
    }
}

/// A stored credential as lists show it.
fn listed(r: &WebauthnCredentialRow) -> Credential {
    Credential {
        id: r.id.clone(),
        name: r.name.clone(),
        created_at: r.created_at,
        last_used_at: r.last_used_at,
        kind: r.kind.clone(),
        sign_in: r.kind == PASSKEY,
    }
}

#[async_trait]
impl Provider for WebauthnProvider {
    fn unavailable(&self) -> Option<String> {
        self.webauthn.as_ref().err().cloned()
    }

    /// A security key, or with `sign_in` a passkey.
    async fn begin_enrollment(&self, e: &Enrollment<'_>) -> Result<serde_json::Value, AppError> {
        if e.sign_in {
            self.begin_passkey_registration(e.uid, e.display_name, e.session_id, e.now)
                .await
        } else {
            self.begin_registration(e.uid, e.display_name, e.session_id, e.now)
                .await
        }
    }

    async fn finish_enrollment(
        &self,
        e: &Enrollment<'_>,
        answer: &EnrollmentAnswer<'_>,
    ) -> Result<Enrolled, AppError> {
        let (key, what) = if e.sign_in {
            let key = self
                .finish_passkey_registration(
                    e.uid,
                    e.session_id,
                    answer.name,
                    answer.response,
                    e.now,
                )
                .await?;
            (key, "passkey")
        } else {
            let key = self
                .finish_registration(e.uid, e.session_id, answer.name, answer.response, e.now)
                .await?;
            (key, "webauthn")
        };
        Ok(Enrolled {
            detail: format!("{what}:{}", key.name),
            credential: Some(serde_json::to_value(&key).map_err(internal)?),
        })
    }

    fn id(&self) -> ProviderId {
        ProviderId::Webauthn
    }

    fn display_name(&self, lang: &str) -> &'static str {
        texts::for_lang(lang).name
    }

    async fn credentials(&self, uid: &str) -> Result<Vec<Credential>, AppError> {
        self.all_credentials(uid).await
    }

    async fn rename_credential(&self, uid: &str, id: &str, name: &str) -> Result<(), AppError> {
        let name = checked_name(name)?;
        if self.store.rename_webauthn_credential(uid, id, name).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("security key {id}")))
        }
    }

    async fn remove_credential(&self, uid: &str, id: &str) -> Result<(), AppError> {
        match self
            .store
            .delete_webauthn_credential_keeping_last(uid, id, SECURITY_KEY)
            .await?
        {
            store::Deletion::Deleted => Ok(()),
            store::Deletion::NotFound => Err(AppError::NotFound(format!("security key {id}"))),
            store::Deletion::Last => Err(AppError::Conflict(
                "this is the last security key: removing it removes the factor".into(),
            )),
        }
    }

    /// Passkeys carry no attestation (synced ones cannot): with `attestation = "direct"`
    /// only attested security keys are allowed, so passkeys are off.
    fn signs_in(&self) -> bool {
        self.attestation.is_none()
    }

    async fn begin_sign_in(&self, ceremony: &str, now: i64) -> Result<serde_json::Value, AppError> {
        self.begin_passkey_login(ceremony, now).await
    }

    async fn finish_sign_in(
        &self,
        ceremony: &str,
        answer: &str,
        now: i64,
    ) -> Result<Option<String>, AppError> {
        self.finish_passkey_login(ceremony, answer, now).await
    }

    fn script(&self) -> Option<&'static str> {
        Some(include_str!("ceremony.js"))
    }

    async fn challenge_view(
        &self,
        view: &View<'_>,
        _attempt: &super::Attempt<'_>,
    ) -> Result<Option<String>, AppError> {
        Ok(views::challenge(view))
    }

    async fn setup_view(
        &self,
        view: &View<'_>,
        _who: &super::Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        views::setup(view).map(Some)
    }

    fn sign_in_view(&self, view: &View<'_>) -> Option<String> {
        views::sign_in(view)
    }

    async fn settings_view(
        &self,
        view: &View<'_>,
        who: &super::Holder<'_>,
    ) -> Result<Option<String>, AppError> {
        let credentials = self.all_credentials(who.uid).await?;
        views::settings(view, &credentials, self.signs_in()).map(Some)
    }

    fn admin_can_disable(&self) -> bool {
        true
    }

    fn can_set_up_at_login(&self) -> bool {
        true
    }

    async fn admin_enable(&self, uid: &str) -> Result<(), AppError> {
        if self.key_count(uid).await? == 0 {
            return Err(AppError::BadRequest(format!(
                "{uid} has no security key: the user registers one"
            )));
        }
        self.store
            .set_provider_state(ProviderId::Webauthn.as_str(), uid, true)
            .await?;
        Ok(())
    }

    async fn remove(&self, uid: &str) -> Result<(), AppError> {
        self.store
            .delete_webauthn_credentials_of(uid, Some(SECURITY_KEY))
            .await?;
        self.store
            .delete_provider_state(ProviderId::Webauthn.as_str(), uid)
            .await?;
        Ok(())
    }

    /// Security keys and passkeys alike: after a lost device the administrator cannot
    /// tell which passkey lived on it.
    async fn purge(&self, uid: &str) -> Result<(), AppError> {
        self.store.delete_webauthn_credentials_of(uid, None).await?;
        self.store
            .delete_provider_state(ProviderId::Webauthn.as_str(), uid)
            .await?;
        Ok(())
    }

    async fn holders(&self) -> Result<Vec<String>, AppError> {
        Ok(self.store.webauthn_holders().await?)
    }

    /// Without the login attempt there is no ceremony to check an answer against.
    async fn verify(&self, _uid: &str, _response: &str, _now: i64) -> Result<bool, AppError> {
        Ok(false)
    }

    async fn begin(&self, attempt: &Attempt<'_>) -> Result<Option<serde_json::Value>, AppError> {
        let keys: Vec<SecurityKey> = self
            .keys_of(attempt.uid)
            .await?
            .into_iter()
            .map(|(_, k)| k)
            .collect();
        if keys.is_empty() {
            return Err(AppError::BadRequest("no security key is registered".into()));
        }
        let (options, state) = self
            .rp()?
            .start_securitykey_authentication(&keys)
            .map_err(internal)?;
        self.keep(attempt.session_id, LOGIN, &state, attempt.now)
            .await?;
        Ok(Some(serde_json::to_value(options).map_err(internal)?))
    }

    /// The answer is the JSON `PublicKeyCredential` from `navigator.credentials.get`.
    async fn verify_in(&self, attempt: &Attempt<'_>, response: &str) -> Result<Outcome, AppError> {
        let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(response) else {
            return Ok(Outcome::Failed);
        };
        let Some(state) = self
            .take::<SecurityKeyAuthentication>(attempt.session_id, LOGIN, attempt.now)
            .await?
        else {
            return Ok(Outcome::Failed);
        };
        // Wrong signature, unknown key (another user's included), counter regression: no.
        let Ok(result) = self
            .rp()?
            .finish_securitykey_authentication(&credential, &state)
        else {
            return Ok(Outcome::Failed);
        };
        for (row, mut key) in self.keys_of(attempt.uid).await? {
            if key.cred_id() == result.cred_id() {
                key.update_credential(&result);
                let json = serde_json::to_string(&key).map_err(internal)?;
                let counted = self
                    .store
                    .webauthn_credential_used(
                        &row.id,
                        attempt.uid,
                        &json,
                        result.counter(),
                        attempt.now,
                    )
                    .await?;
                if !counted {
                    tracing::warn!(
                        uid = attempt.uid,
                        "security key counter did not increase: a cloned key?"
                    );
                    return Ok(Outcome::Failed);
                }
                return Ok(Outcome::Passed);
            }
        }
        Ok(Outcome::Failed)
    }
}
