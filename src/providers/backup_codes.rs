//! Backup codes: 10 single-use codes, shown once, stored as keyed hashes, consumed by one
//! conditional UPDATE (no replay window). They count only while another factor is active.

use async_trait::async_trait;
use rand::Rng;

use super::{Provider, ProviderId};
use crate::crypto::{Purpose, ServerKey};
use crate::error::AppError;
use crate::store::Store;

pub const CODE_COUNT: usize = 10;
/// At or below this many unused codes the user is warned.
pub const FEW_LEFT: i64 = 3;
/// No 0/o, 1/l/i: codes are typed from paper.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// 10 characters of 31 ≈ 49.5 bits each.
const CODE_LEN: usize = 10;

pub struct BackupCodes {
    store: Store,
    key: ServerKey,
}

/// Builds the provider (the registry's entry point).
pub fn build(ctx: &super::Context<'_>) -> anyhow::Result<std::sync::Arc<dyn Provider>> {
    let codes = BackupCodes::new(ctx.store.clone(), ctx.key.clone());
    Ok(std::sync::Arc::new(codes))
}

/// Backup codes have no settings.
pub fn config_section() -> Option<crate::config::Section> {
    None
}

impl BackupCodes {
    pub fn new(store: Store, key: ServerKey) -> Self {
        Self { store, key }
    }

    fn hash(&self, uid: &str, code: &str) -> String {
        self.key
            .hash_token(Purpose::BackupCode, &format!("{uid}:{}", normalize(code)))
    }

    /// New codes for the user, replacing (invalidating) all earlier ones. The caller
    /// shows them once; only their hashes are kept.
    pub async fn generate(&self, uid: &str, now: i64) -> Result<Vec<String>, AppError> {
        let codes: Vec<String> = (0..CODE_COUNT).map(|_| new_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| self.hash(uid, c)).collect();
        self.store.replace_backup_codes(uid, &hashes, now).await?;
        self.store
            .set_provider_state(ProviderId::BackupCodes.as_str(), uid, true)
            .await?;
        Ok(codes)
    }

    pub async fn remaining(&self, uid: &str) -> Result<i64, AppError> {
        Ok(self.store.backup_code_counts(uid).await?.1)
    }
}

fn new_code() -> String {
    let mut rng = rand::rng();
    let raw: String = (0..CODE_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &raw[..5], &raw[5..])
}

/// Accepts codes typed with other case, spaces or dashes (the way they are printed, or
/// how people group them); any other character makes the answer malformed (empty), as a
/// TOTP code with a stray character is.
fn normalize(code: &str) -> String {
    let kept = code.chars().filter(|c| !matches!(c, ' ' | '-'));
    if kept.clone().all(|c| c.is_ascii_alphanumeric()) {
        kept.map(|c| c.to_ascii_lowercase()).collect()
    } else {
        String::new()
    }
}

#[async_trait]
impl Provider for BackupCodes {
    fn id(&self) -> ProviderId {
        ProviderId::BackupCodes
    }

    fn display_name(&self, lang: &str) -> &'static str {
        match lang {
            "fr" => "Code de secours",
            _ => "Backup code",
        }
    }

    fn is_backup(&self) -> bool {
        true
    }

    fn can_disable_system_wide(&self) -> bool {
        false
    }

    fn admin_can_disable(&self) -> bool {
        false
    }

    fn can_set_up_at_login(&self) -> bool {
        false
    }

    async fn admin_enable(&self, _uid: &str) -> Result<(), AppError> {
        Err(AppError::BadRequest(
            "backup codes cannot be enabled by an admin: the user generates them".into(),
        ))
    }

    async fn remove(&self, uid: &str) -> Result<(), AppError> {
        self.store.delete_backup_codes(uid).await?;
        self.store
            .delete_provider_state(ProviderId::BackupCodes.as_str(), uid)
            .await?;
        Ok(())
    }

    async fn verify(&self, uid: &str, response: &str, now: i64) -> Result<bool, AppError> {
        let normalized = normalize(response);
        if normalized.len() != CODE_LEN {
            return Ok(false);
        }
        Ok(self
            .store
            .consume_backup_code(uid, &self.hash(uid, &normalized), now)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_documented_shape() {
        let c = new_code();
        assert_eq!(c.len(), CODE_LEN + 1);
        assert_eq!(&c[5..6], "-");
        assert!(normalize(&c).bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(new_code(), new_code());
    }

    #[test]
    fn typing_variations_normalize() {
        assert_eq!(normalize("ABCDE-fghjk"), "abcdefghjk");
        assert_eq!(normalize(" abcde fghjk "), "abcdefghjk");
        assert_eq!(normalize("abc de-fg hjk"), "abcdefghjk");
    }

    #[test]
    fn defect_17_13_other_characters_are_not_ignored() {
        for bad in [
            "abcde.fghjk",
            "abcde_fghjk",
            "abcde\u{a0}fghjk",
            "abcdé-fghjk",
        ] {
            assert_eq!(normalize(bad), "", "{bad:?}");
        }
    }
}
