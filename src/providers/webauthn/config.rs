//! The `[webauthn]` config section. The relying party is twofold itself: by default the
//! host and origin of `server.public_url` (so `http://localhost:8080` works out of the box).

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{AttestationCaList, AttestationCaListBuilder, Uuid};

use crate::config::{Section, SectionSettings};

pub const SECTION: &str = "webauthn";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebauthnConfig {
    /// Relying-party id, a registrable domain such as `example.org`; empty: the host of
    /// `server.public_url`. Keys are bound to it: changing it orphans every key.
    pub rp_id: String,
    /// The origin browsers use; empty: the origin of `server.public_url`.
    pub rp_origin: String,
    /// The name authenticators show.
    pub rp_name: String,
    /// Attestation asked for when a security key is registered: `none` (any
    /// authenticator is accepted) or `direct` (only the models of
    /// `trusted_authenticators`, proven by their vendor's attestation certificate).
    pub attestation: String,
    /// With `attestation = "direct"`: the authenticator models allowed.
    pub trusted_authenticators: Vec<TrustedAuthenticators>,
}

/// Authenticator models (by AAGUID) whose attestation chains to one vendor CA.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrustedAuthenticators {
    /// The vendor's attestation root, PEM.
    pub ca_file: String,
    /// The models' AAGUIDs, e.g. `ee882879-721c-4913-9775-3dfcce97072a`.
    pub aaguids: Vec<String>,
}

impl Default for WebauthnConfig {
    fn default() -> Self {
        Self {
            rp_id: String::new(),
            rp_origin: String::new(),
            rp_name: "twofold".into(),
            attestation: "none".into(),
            trusted_authenticators: Vec::new(),
        }
    }
}

impl SectionSettings for WebauthnConfig {
    fn check(&self) -> Result<(), String> {
        if !self.rp_origin.is_empty() && url::Url::parse(&self.rp_origin).is_err() {
            return Err("rp_origin: must be a URL such as https://auth.example.org".into());
        }
        self.attestation_cas().map(|_| ())
    }
}

impl WebauthnConfig {
    /// The CAs a security key's attestation must chain to; `None` for `attestation =
    /// "none"`. Reads the CA files, so a bad one is found when the config is loaded.
    pub fn attestation_cas(&self) -> Result<Option<AttestationCaList>, String> {
        match self.attestation.as_str() {
            "none" if self.trusted_authenticators.is_empty() => return Ok(None),
            "none" => {
                return Err(
                    "trusted_authenticators: only used with attestation = \"direct\"".into(),
                );
            }
            "direct" => {}
            other => {
                return Err(format!(
                    "attestation: {other:?} is not \"none\" or \"direct\""
                ));
            }
        }
        if self.trusted_authenticators.is_empty() {
            return Err(
                "trusted_authenticators: attestation = \"direct\" needs at least one entry".into(),
            );
        }
        let mut list = AttestationCaListBuilder::new();
        for t in &self.trusted_authenticators {
            let pem = std::fs::read(&t.ca_file)
                .map_err(|e| format!("trusted_authenticators: cannot read {}: {e}", t.ca_file))?;
            if t.aaguids.is_empty() {
                return Err(format!(
                    "trusted_authenticators: {} lists no aaguids",
                    t.ca_file
                ));
            }
            for aaguid in &t.aaguids {
                let id = Uuid::parse_str(aaguid)
                    .map_err(|_| format!("trusted_authenticators: {aaguid:?} is not an AAGUID"))?;
                list.insert_device_pem(&pem, id, aaguid.clone(), Default::default())
                    .map_err(|_| {
                        format!(
                            "trusted_authenticators: {} is not a PEM certificate",
                            t.ca_file
                        )
                    })?;
            }
        }
        Ok(Some(list.build()))
    }
}

/// The section as `Config::load` knows it.
pub fn section() -> Section {
    Section::of::<WebauthnConfig>(SECTION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twofold.toml");
        std::fs::write(&path, toml).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load(Some(&path), env, &[section()])
            .map(|(c, _)| c)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_section_is_read_from_the_file_and_the_environment() {
        let c = load(
            "[webauthn]\nrp_name = \"Example\"\n",
            &[("TWOFOLD_WEBAUTHN_RP_ID", "example.org")],
        )
        .unwrap();
        let w: WebauthnConfig = c.section(SECTION).unwrap();
        assert_eq!(
            (w.rp_name.as_str(), w.rp_id.as_str()),
            ("Example", "example.org")
        );
        assert_eq!(w.attestation, "none", "the defaults fill the rest");
        // `twofold config` shows the whole section.
        let shown = toml::to_string(&c).unwrap();
        assert!(
            shown.contains("[webauthn]") && shown.contains("attestation = \"none\""),
            "{shown}"
        );
    }

    #[test]
    fn bad_values_and_unknown_keys_are_refused_naming_them() {
        let e = load("[webauthn]\nattestation = \"indirect\"\n", &[]).unwrap_err();
        assert!(e.contains("attestation"), "{e}");
        let e = load("[webauthn]\nattestation = \"direct\"\n", &[]).unwrap_err();
        assert!(e.contains("trusted_authenticators"), "{e}");
        let missing = "[webauthn]\nattestation = \"direct\"\n[[webauthn.trusted_authenticators]]\nca_file = \"/nonexistent.pem\"\naaguids = [\"0fb9bcbc-a0d4-4042-bbb0-559bc1631e28\"]\n";
        let e = load(missing, &[]).unwrap_err();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        let e = load("[webauthn]\nrp_origin = \"not a url\"\n", &[]).unwrap_err();
        assert!(e.contains("rp_origin"), "{e}");
        let e = load("[webauthn]\nrp_nam = \"x\"\n", &[]).unwrap_err();
        assert!(e.contains("rp_nam"), "{e}");
        let e = load("", &[("TWOFOLD_WEBAUTHN_ATTESTATION", "indirect")]).unwrap_err();
        assert!(e.contains("attestation"), "{e}");
        let e = load("[webauthnn]\nrp_id = \"x\"\n", &[]).unwrap_err();
        assert!(e.contains("webauthnn"), "{e}");
    }
}
