//! Argon2id password hashing. Hashing is deliberately slow, so it runs on the blocking
//! thread pool, never on the async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::PasswordConfig;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// A hash of a random password, verified against when the user does not exist so
    /// that an unknown user costs the same time as a wrong password.
    dummy_hash: String,
}

/// The outcome of checking a password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    Match,
    /// Correct, but hashed with other parameters than the current ones: rehash it.
    MatchNeedsRehash,
}

impl PasswordHasher {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<Self> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, &crate::crypto::random_token())?;
        Ok(Self { params, dummy_hash })
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, &password)).await?
    }

    /// Checks `password` against `stored`, or against the dummy hash when `stored` is None.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Verification {
        let params = self.params.clone();
        let (stored, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.clone(), false),
        };
        let outcome = tokio::task::spawn_blocking(move || verify_with(&params, &password, &stored))
            .await
            .unwrap_or(Verification::Mismatch);
        if real {
            outcome
        } else {
            Verification::Mismatch
        }
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

fn verify_with(params: &Params, password: &str, stored: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Mismatch;
    };
    // Verification follows the parameters recorded in the hash itself.
    if Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verification::Mismatch;
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed)
            .map(|p| {
                p.m_cost() == params.m_cost()
                    && p.t_cost() == params.t_cost()
                    && p.p_cost() == params.p_cost()
            })
            .unwrap_or(false);
    if current {
        Verification::Match
    } else {
        Verification::MatchNeedsRehash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn light(memory: u32) -> PasswordConfig {
        PasswordConfig {
            argon2_memory_kib: memory,
            argon2_iterations: 1,
            argon2_parallelism: 1,
            min_length: 1,
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = PasswordHasher::new(&light(64)).unwrap();
        let stored = h.hash("correct horse".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert_eq!(
            h.verify("correct horse".into(), Some(stored.clone())).await,
            Verification::Match
        );
        assert_eq!(
            h.verify("wrong".into(), Some(stored)).await,
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        let h = PasswordHasher::new(&light(64)).unwrap();
        assert_eq!(
            h.verify("anything".into(), None).await,
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn changed_parameters_ask_for_rehash() {
        let old = PasswordHasher::new(&light(64)).unwrap();
        let new = PasswordHasher::new(&light(128)).unwrap();
        let stored = old.hash("pw".into()).await.unwrap();
        assert_eq!(
            new.verify("pw".into(), Some(stored)).await,
            Verification::MatchNeedsRehash
        );
    }

    #[tokio::test]
    async fn garbage_hash_is_a_mismatch() {
        let h = PasswordHasher::new(&light(64)).unwrap();
        assert_eq!(
            h.verify("pw".into(), Some("not a hash".into())).await,
            Verification::Mismatch
        );
    }
}
