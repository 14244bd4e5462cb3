//! Server key, random tokens and keyed hashes. Tokens (sessions, later app passwords and
//! backup codes) are stored only as HMAC-SHA256 under a key derived from the server key,
//! so a copy of the database alone cannot be replayed against the server.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The secret every keyed hash and encryption key of this server derives from.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

/// What a derived key is for; each purpose gets its own key.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    SessionToken,
    Csrf,
    BackupCode,
    AppPassword,
    LoginFlowToken,
    /// The AEAD key that encrypts TOTP secrets at rest.
    TotpSecret,
    /// Signs the device cookie of a browser that has signed in (throttling exemption).
    DeviceCookie,
    /// Names a passwordless sign-in in progress (its cookie → its ceremony row).
    SignInCeremony,
    /// Stands for a user name nobody has in the audit trail (people type their password
    /// into the name box by mistake: it must not be stored in the clear).
    UnknownName,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SessionToken => b"twofold/session-token/v1",
            Purpose::Csrf => b"twofold/csrf/v1",
            Purpose::BackupCode => b"twofold/backup-code/v1",
            Purpose::AppPassword => b"twofold/app-password/v1",
            Purpose::LoginFlowToken => b"twofold/login-flow/v1",
            Purpose::TotpSecret => b"twofold/totp-secret/v1",
            Purpose::DeviceCookie => b"twofold/device-cookie/v1",
            Purpose::SignInCeremony => b"twofold/sign-in-ceremony/v1",
            Purpose::UnknownName => b"twofold/unknown-name/v1",
        }
    }
}

impl ServerKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads the key file; a missing one is an error that names it. Everything keyed
    /// (TOTP secrets, token hashes) in a database is unreadable without its own key, so
    /// only a command that starts a new database may create one ([`Self::load_or_create`]).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            anyhow::bail!(
                "the server key {} is missing: the database was made with it, and its TOTP \
                 secrets and keyed hashes cannot be read without it. Restore the file, or point \
                 TWOFOLD_SERVER_KEY_FILE (server.key_file) at it",
                path.display()
            );
        }
        Self::load_or_create(path)
    }

    /// Reads the key file, or creates it (mode 0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_key_file_mode(path)?;
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .with_context(|| {
                        format!("server key file {} must hold 64 hex digits", path.display())
                    })?;
                Ok(Self(bytes))
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
                    .with_context(|| format!("cannot create key file {}", path.display()))?;
                writeln!(file, "{}", hex::encode(key.0))?;
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("cannot read key file {}", path.display())),
        }
    }

    fn derive(&self, purpose: Purpose) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(purpose.label());
        mac.finalize().into_bytes().into()
    }

    /// Keyed hash of a token, hex encoded, for storage and lookup.
    pub fn hash_token(&self, purpose: Purpose, token: &str) -> String {
        let key = self.derive(purpose);
        let mut mac = HmacSha256::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// Refuses a key file that others may change or read: whoever can read it can forge
/// every session and decrypt every TOTP secret. Group read is allowed (a group-owned
/// secret mount) with a warning.
#[cfg(unix)]
fn check_key_file_mode(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?
        .permissions()
        .mode();
    anyhow::ensure!(
        mode & 0o027 == 0,
        "server key file {} has mode {:o}: others may read or change it; run chmod 600 on it",
        path.display(),
        mode & 0o777
    );
    if mode & 0o040 != 0 {
        tracing::warn!(path = %path.display(), "the server key file is readable by its group");
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_file_mode(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

impl ServerKey {
    /// Encrypts `plain` with XChaCha20-Poly1305 under the key for `purpose`;
    /// `aad` binds the ciphertext to its owner (a secret copied to another row fails).
    /// Output: base64url(nonce ‖ ciphertext).
    pub fn seal(&self, purpose: Purpose, aad: &[u8], plain: &[u8]) -> anyhow::Result<String> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let cipher = XChaCha20Poly1305::new(&self.derive(purpose).into());
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Reverses [`ServerKey::seal`]; fails on any tampering or a wrong key.
    pub fn open(&self, purpose: Purpose, aad: &[u8], sealed: &str) -> anyhow::Result<Vec<u8>> {
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .context("sealed value is not base64")?;
        anyhow::ensure!(bytes.len() > 24, "sealed value too short");
        let (nonce, ct) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new(&self.derive(purpose).into());
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| anyhow::anyhow!("cannot decrypt: wrong server key or tampered data"))
    }
}

/// A fresh high-entropy token (256 bits), URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares secrets without leaking where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/server.key");
        let a = ServerKey::load_or_create(&path).unwrap();
        let b = ServerKey::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn load_names_a_missing_key_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        let e = ServerKey::load(&path).err().unwrap().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(!path.exists());
    }

    #[test]
    fn corrupt_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        std::fs::write(&path, "not hex").unwrap();
        assert!(ServerKey::load_or_create(&path).is_err());
    }

    #[test]
    fn token_hash_depends_on_key_and_purpose() {
        let k1 = ServerKey::from_bytes([1; 32]);
        let k2 = ServerKey::from_bytes([2; 32]);
        let t = random_token();
        assert_eq!(
            k1.hash_token(Purpose::SessionToken, &t),
            k1.hash_token(Purpose::SessionToken, &t)
        );
        assert_ne!(
            k1.hash_token(Purpose::SessionToken, &t),
            k2.hash_token(Purpose::SessionToken, &t)
        );
        assert_ne!(
            k1.hash_token(Purpose::SessionToken, &t),
            k1.hash_token(Purpose::Csrf, &t)
        );
    }

    #[test]
    fn seal_and_open_round_trip_and_detect_tampering() {
        let k = ServerKey::from_bytes([3; 32]);
        let sealed = k
            .seal(Purpose::TotpSecret, b"alice", b"secret bytes")
            .unwrap();
        assert_eq!(
            k.open(Purpose::TotpSecret, b"alice", &sealed).unwrap(),
            b"secret bytes"
        );
        assert!(
            k.open(Purpose::TotpSecret, b"bob", &sealed).is_err(),
            "bound to its owner"
        );
        let other = ServerKey::from_bytes([4; 32]);
        assert!(other.open(Purpose::TotpSecret, b"alice", &sealed).is_err());
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(
            k.open(
                Purpose::TotpSecret,
                b"alice",
                &URL_SAFE_NO_PAD.encode(bytes)
            )
            .is_err()
        );
        assert_ne!(
            sealed,
            k.seal(Purpose::TotpSecret, b"alice", b"secret bytes")
                .unwrap()
        );
    }

    #[test]
    fn tokens_are_unique_and_long() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
