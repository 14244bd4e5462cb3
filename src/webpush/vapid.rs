//! RFC 8292 VAPID: the server's P-256 key pair, kept in a file beside the server key,
//! and the `Authorization: vapid t=<ES256 JWT>, k=<public key>` header that tells a push
//! service which application server sends (so that a stolen subscription is useless to
//! anyone without this key).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::SecretKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

/// How long a token is valid; RFC 8292 §2 allows at most 24 hours.
pub const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;
const _: () = assert!(TOKEN_LIFETIME_SECS <= 24 * 3600);

/// The application server's key pair.
#[derive(Clone)]
pub struct VapidKey {
    secret: SecretKey,
    /// The uncompressed public key, base64url: what `pushManager.subscribe` is given as
    /// `applicationServerKey` and what `k=` carries.
    public_b64: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public_b64)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    pub fn from_secret(secret: SecretKey) -> Self {
        let public_b64 = URL_SAFE_NO_PAD.encode(super::ece::uncompressed(&secret.public_key()));
        Self { secret, public_b64 }
    }

    pub fn generate() -> Self {
        Self::from_secret(super::random_secret_key())
    }

    /// Reads the key file (64 hex digits: the private scalar), or creates it with mode
    /// 0600 when it does not exist. A file that does not hold a key is an error naming it,
    /// never replaced: subscriptions made with the old public key would stop working.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_mode(path)?;
                let secret = hex::decode(text.trim())
                    .ok()
                    .filter(|b| b.len() == 32)
                    .and_then(|b| SecretKey::from_slice(&b).ok())
                    .with_context(|| {
                        format!(
                            "the VAPID key file {} must hold 64 hex digits (a P-256 private \
                             key); restore it, or delete it to make a new one (every browser \
                             then has to subscribe again)",
                            path.display()
                        )
                    })?;
                Ok(Self::from_secret(secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(path)
                    .with_context(|| format!("cannot create VAPID key file {}", path.display()))?;
                writeln!(file, "{}", hex::encode(key.secret.to_bytes()))?;
                tracing::info!(path = %path.display(), "VAPID key created");
                Ok(key)
            }
            Err(e) => {
                Err(e).with_context(|| format!("cannot read VAPID key file {}", path.display()))
            }
        }
    }

    /// The public key, uncompressed and base64url without padding.
    pub fn public_key(&self) -> &str {
        &self.public_b64
    }

    /// The `Authorization` header for a request to `endpoint` (its origin is the JWT's
    /// audience), valid until `now + TOKEN_LIFETIME_SECS`.
    pub fn authorization(&self, endpoint: &url::Url, subject: &str, now: i64) -> String {
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now + TOKEN_LIFETIME_SECS,
            "sub": subject,
        });
        format!(
            "vapid t={}, k={}",
            self.jwt(&claims.to_string()),
            self.public_b64
        )
    }

    fn jwt(&self, claims: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
        let signature: Signature = SigningKey::from(&self.secret).sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

/// Refuses a key file others may read or change: with it anyone could push to every
/// subscribed browser in the server's name.
#[cfg(unix)]
fn check_mode(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .with_context(|| format!("cannot read VAPID key file {}", path.display()))?
        .permissions()
        .mode();
    anyhow::ensure!(
        mode & 0o027 == 0,
        "VAPID key file {} has mode {:o}: others may read or change it; run chmod 600 on it",
        path.display(),
        mode & 0o777
    );
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn the_header_is_a_jwt_signed_by_the_key_it_names() {
        let key = VapidKey::generate();
        let endpoint = url::Url::parse("https://push.example.net:8443/wpush/v2/abc?x=1").unwrap();
        let header = key.authorization(&endpoint, "mailto:admin@example.org", 1_000);
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (token, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, key.public_key());
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_000 + TOKEN_LIFETIME_SECS);
        assert_eq!(claims["sub"], "mailto:admin@example.org");
        let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        verifying
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }

    #[test]
    fn key_file_is_created_0600_read_back_and_a_corrupt_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("vapid.key");
        let a = VapidKey::load_or_create(&path).unwrap();
        let b = VapidKey::load_or_create(&path).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key\n").unwrap();
        let err = VapidKey::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("VAPID key file"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
    }
}
