//! What makes a new password acceptable, after NIST SP 800-63B: a length between a
//! minimum and a maximum, no composition rules, not one of the most common passwords,
//! none of the words of the account or the service, and a strength estimate (zxcvbn)
//! at or above a configured score. Pure: the caller gives the password and the words
//! of its context; the online breach check (`breach`) is separate because it does I/O.
//!
//! Passwords are compared and hashed in Unicode NFKC, so that the same password typed
//! on two keyboards (a precomposed "é" or "e" + combining accent, a full-width digit)
//! is the same password.

use unicode_normalization::UnicodeNormalization;
use zxcvbn::feedback::Warning;

use crate::config::PasswordConfig;
pub use crate::password_weakness::Weakness;

/// The password in the form it is checked and hashed in.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// The words of the account a password is for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub uid: &'a str,
    pub display_name: &'a str,
}

/// Words people build passwords for self-hosted services from, that zxcvbn's English
/// dictionaries lack ("nextcloud123" would score 3): given to the estimate as if the
/// user had typed them elsewhere, so a password made of one plus digits scores low.
const SELF_HOSTED_WORDS: &[&str] = &[
    "nextcloud",
    "owncloud",
    "jellyfin",
    "plex",
    "gitea",
    "forgejo",
    "gitlab",
    "immich",
    "vaultwarden",
    "bitwarden",
    "homeassistant",
    "synology",
    "proxmox",
    "grafana",
    "paperless",
    "authelia",
    "authentik",
    "keycloak",
    "letmein",
    "changeme",
];

/// Parts of a context shorter than this are not looked for in a password: a user `al`
/// may have a password with "al" in it.
const MIN_WORD: usize = 3;

#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub min_score: u8,
    /// Names of the service, lowercase: "twofold" and the configured one.
    service_names: Vec<String>,
}

impl PasswordPolicy {
    /// `service_name`: what users know this server as (the TOTP issuer).
    pub fn new(config: &PasswordConfig, service_name: &str) -> Self {
        let mut service_names = vec!["twofold".to_string()];
        let own = service_name.trim().to_lowercase();
        if !own.is_empty() && !service_names.contains(&own) {
            service_names.push(own);
        }
        Self {
            min_length: config.min_length,
            max_length: config.max_length,
            min_score: config.min_score,
            service_names,
        }
    }

    /// Checks a password already in NFKC form (`normalize`). Lengths count characters.
    pub fn check(&self, password: &str, context: Context<'_>) -> Result<(), Weakness> {
        let len = password.chars().count();
        if len < self.min_length {
            return Err(Weakness::TooShort(self.min_length));
        }
        if len > self.max_length {
            return Err(Weakness::TooLong(self.max_length));
        }
        let lower = password.to_lowercase();
        if is_common(&lower) {
            return Err(Weakness::Common);
        }
        if contains_part(&lower, context.uid) {
            return Err(Weakness::ContainsUserName);
        }
        if contains_part(&lower, context.display_name) {
            return Err(Weakness::ContainsDisplayName);
        }
        if self
            .service_names
            .iter()
            .any(|name| contains_part(&lower, name))
        {
            return Err(Weakness::ContainsServiceName);
        }
        if self.min_score > 0 {
            let mut inputs: Vec<&str> = vec![context.uid, context.display_name];
            inputs.extend(context.display_name.split_whitespace());
            inputs.extend(self.service_names.iter().map(String::as_str));
            inputs.extend(SELF_HOSTED_WORDS);
            inputs.retain(|w| w.chars().count() >= MIN_WORD);
            let estimate = zxcvbn::zxcvbn(password, &inputs);
            if u8::from(estimate.score()) < self.min_score {
                return Err(Weakness::Guessable);
            }
        }
        Ok(())
    }
}

/// Whether the whole password (lowercase) is on zxcvbn's list of common passwords, a
/// list drawn from real breaches (MIT licence). Checked whatever the minimum score.
/// zxcvbn says so with its warning for a password that is one entry of that list, as
/// typed (not reversed, no l33t substitutions).
fn is_common(lower: &str) -> bool {
    matches!(
        zxcvbn::zxcvbn(lower, &[])
            .feedback()
            .and_then(|f| f.warning()),
        Some(
            Warning::ThisIsATop10Password
                | Warning::ThisIsATop100Password
                | Warning::ThisIsACommonPassword
        )
    )
}

/// Whether `lower` contains `words` whole or any of its parts (split on anything not
/// alphanumeric) of at least `MIN_WORD` characters, case-insensitively.
fn contains_part(lower: &str, words: &str) -> bool {
    let words = normalize(words).to_lowercase();
    std::iter::once(words.as_str())
        .chain(words.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= MIN_WORD)
        .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests;
