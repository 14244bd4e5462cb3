//! Passkeys: a WebAuthn credential that signs in without a password, opted into by the
//! user by registering one. User verification (PIN or biometrics) is required, at
//! registration and at every sign-in, so a passkey sign-in counts as two factors: the
//! device (something you have) unlocked by its PIN or biometrics (something you know or
//! are). Sign-in is discoverable: the page asks for no name, so it tells nobody which
//! accounts exist.
//!
//! A credential registered as a passkey is never a second-factor key and the reverse:
//! every registration excludes all of the user's credentials, the id is unique in the
//! table, and each ceremony only accepts its own kind.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

use super::{PASSKEY, WebauthnProvider, bad, checked_name, internal, no_registration, user_handle};
use crate::error::AppError;
use crate::providers::Credential;

const PASSKEY_REGISTER: &str = "passkey_register";
const PASSKEY_LOGIN: &str = "passkey_login";

impl WebauthnProvider {
    /// First half of adding a passkey: creation options that require user verification.
    pub(super) async fn begin_passkey_registration(
        &self,
        uid: &str,
        display_name: &str,
        session_id: &str,
        now: i64,
    ) -> Result<serde_json::Value, AppError> {
        let exclude = self.all_ids(uid).await?;
        let (options, state) = self
            .rp()?
            .start_passkey_registration(user_handle(uid), uid, display_name, Some(exclude))
            .map_err(internal)?;
        self.keep(session_id, PASSKEY_REGISTER, &state, now).await?;
        serde_json::to_value(options).map_err(internal)
    }

    pub(super) async fn finish_passkey_registration(
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
        let state: PasskeyRegistration = self
            .take(session_id, PASSKEY_REGISTER, now)
            .await?
            .ok_or_else(no_registration)?;
        let passkey = self
            .rp()?
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| AppError::BadRequest(format!("the passkey was not registered: {e}")))?;
        self.store_credential(
            uid,
            name,
            PASSKEY,
            passkey.cred_id().as_ref(),
            &passkey,
            now,
        )
        .await
    }

    /// First half of a passwordless sign-in, for whoever holds a passkey: the state is
    /// bound to `ceremony`, a key the browser keeps in a cookie until it answers.
    pub(super) async fn begin_passkey_login(
        &self,
        ceremony: &str,
        now: i64,
    ) -> Result<serde_json::Value, AppError> {
        let (options, state) = self
            .rp()?
            .start_discoverable_authentication()
            .map_err(internal)?;
        self.keep(ceremony, PASSKEY_LOGIN, &state, now).await?;
        serde_json::to_value(options).map_err(internal)
    }

    /// Second half: the uid whose passkey answered, with user verification, or `None`
    /// (unknown credential, a second-factor key, wrong signature, a cloned key, no
    /// ceremony in progress).
    pub(super) async fn finish_passkey_login(
        &self,
        ceremony: &str,
        answer: &str,
        now: i64,
    ) -> Result<Option<String>, AppError> {
        let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(answer) else {
            return Ok(None);
        };
        let Some(state) = self
            .take::<DiscoverableAuthentication>(ceremony, PASSKEY_LOGIN, now)
            .await?
        else {
            return Ok(None);
        };
        let Ok((handle, raw_id)) = self.rp()?.identify_discoverable_authentication(&credential)
        else {
            return Ok(None);
        };
        let Some(row) = self
            .store
            .webauthn_credential(&URL_SAFE_NO_PAD.encode(raw_id))
            .await?
        else {
            return Ok(None);
        };
        // Only a passkey signs in alone, and only for the user it was made for.
        if row.kind != PASSKEY || user_handle(&row.uid) != handle {
            return Ok(None);
        }
        let mut passkey: Passkey = serde_json::from_str(&row.credential).map_err(internal)?;
        let Ok(result) =
            self.rp()?
                .finish_discoverable_authentication_v2(&credential, state, &passkey)
        else {
            return Ok(None);
        };
        if !result.user_verified() {
            return Ok(None);
        }
        passkey.update_credential(&result);
        let json = serde_json::to_string(&passkey).map_err(internal)?;
        let counted = self
            .store
            .webauthn_credential_used(&row.id, &row.uid, &json, result.counter(), now)
            .await?;
        if !counted {
            tracing::warn!(uid = %row.uid, "passkey counter did not increase: a cloned key?");
            return Ok(None);
        }
        Ok(Some(row.uid))
    }
}
