//! The `[webauthn]` config section. The relying party is twofold itself: by default the
//! host and origin of `server.public_url` (so `http://localhost:8080` works out of the box).

use serde::{Deserialize, Serialize};

use crate::config::Section;

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
    /// Attestation asked for at registration: `none` (any authenticator is accepted).
    pub attestation: String,
}

impl Default for WebauthnConfig {
    fn default() -> Self {
        Self {
            rp_id: String::new(),
            rp_origin: String::new(),
            rp_name: "twofold".into(),
            attestation: "none".into(),
        }
    }
}

impl WebauthnConfig {
    fn check(&self) -> Result<(), String> {
        if self.attestation != "none" {
            return Err(
                "attestation: only \"none\" is supported (attestation CA lists are not built yet)"
                    .into(),
            );
        }
        if !self.rp_origin.is_empty() && url::Url::parse(&self.rp_origin).is_err() {
            return Err("rp_origin: must be a URL such as https://auth.example.org".into());
        }
        Ok(())
    }
}

/// The section as `Config::load` knows it.
pub fn section() -> Section {
    Section {
        name: SECTION,
        defaults: toml::Table::try_from(WebauthnConfig::default()).unwrap_or_default(),
        check: |value| {
            WebauthnConfig::deserialize(value.clone())
                .map_err(|e| e.to_string())?
                .check()
        },
    }
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
        let e = load("[webauthn]\nattestation = \"direct\"\n", &[]).unwrap_err();
        assert!(e.contains("attestation"), "{e}");
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
