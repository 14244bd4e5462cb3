//! The `[totp]` config section: settings for new TOTP secrets; each secret keeps the
//! settings it was made with.

use serde::{Deserialize, Serialize};

use crate::config::{Section, SectionSettings};

pub const SECTION: &str = "totp";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TotpConfig {
    /// Shown in authenticator apps next to the account.
    pub issuer: String,
    /// SHA1, SHA256 or SHA512. Many apps only support SHA1.
    pub algorithm: String,
    /// 6 or 8.
    pub digits: u32,
    /// Seconds per code.
    pub period: u64,
    /// Steps of clock drift accepted on each side.
    pub skew: u64,
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self {
            issuer: "twofold".into(),
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
            skew: 1,
        }
    }
}

impl SectionSettings for TotpConfig {
    fn check(&self) -> Result<(), String> {
        if !matches!(
            self.algorithm.to_ascii_uppercase().as_str(),
            "SHA1" | "SHA256" | "SHA512"
        ) {
            return Err("algorithm: must be SHA1, SHA256 or SHA512".into());
        }
        if !matches!(self.digits, 6 | 8) {
            return Err("digits: must be 6 or 8".into());
        }
        if !(15..=300).contains(&self.period) {
            return Err("period: must be between 15 and 300 seconds".into());
        }
        if self.skew > 10 {
            return Err("skew: must be at most 10 steps".into());
        }
        if self.issuer.trim().is_empty() || self.issuer.contains(':') {
            return Err("issuer: must be non-empty and contain no ':'".into());
        }
        Ok(())
    }
}

/// The section as `Config::load` knows it.
pub fn section() -> Section {
    Section::of::<TotpConfig>(SECTION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn load(env: &[(&str, &str)]) -> Result<TotpConfig, String> {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let (config, _) = Config::load(None, env, &[section()]).map_err(|e| e.to_string())?;
        config.section(SECTION).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_the_environment() {
        assert_eq!(load(&[]).unwrap(), TotpConfig::default());
        let c = load(&[
            ("TWOFOLD_TOTP_ALGORITHM", "SHA256"),
            ("TWOFOLD_TOTP_DIGITS", "8"),
        ]);
        let c = c.unwrap();
        assert_eq!((c.algorithm.as_str(), c.digits), ("SHA256", 8));
    }

    #[test]
    fn values_that_make_no_sense_are_refused_naming_the_key() {
        for (var, value, key) in [
            ("TWOFOLD_TOTP_ALGORITHM", "MD5", "algorithm"),
            ("TWOFOLD_TOTP_DIGITS", "7", "digits"),
            ("TWOFOLD_TOTP_PERIOD", "5", "period"),
            ("TWOFOLD_TOTP_SKEW", "11", "skew"),
            ("TWOFOLD_TOTP_ISSUER", "a:b", "issuer"),
        ] {
            let e = load(&[(var, value)]).unwrap_err();
            assert!(e.contains(key) && e.contains("[totp]"), "{var}: {e}");
        }
    }
}
