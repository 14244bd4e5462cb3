//! RFC 8291 message encryption for Web Push: an ephemeral P-256 key agreed with the
//! browser's key, the browser's auth secret mixed in through HKDF-SHA-256, and the
//! result sealed as one RFC 8188 `aes128gcm` record (its header carries the salt, the
//! record size and the ephemeral public key).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use sha2_11::Sha256;

/// The record size written in the header: one record holds the whole message, and push
/// services accept at most 4096 bytes of body.
const RECORD_SIZE: u32 = 4096;
/// Header (16 salt + 4 size + 1 id length + 65 key) and the AEAD tag and the delimiter.
const OVERHEAD: usize = 16 + 4 + 1 + 65 + 16 + 1;
/// The largest plaintext that fits in one 4096-byte body.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - OVERHEAD;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EceError {
    #[error("the subscription's p256dh is not an uncompressed P-256 point")]
    BadPublicKey,
    #[error("the subscription's auth secret is not 16 bytes")]
    BadAuthSecret,
    #[error("the message is larger than one push record")]
    TooLarge,
    #[error("encryption failed")]
    Cipher,
}

/// The browser's side of a subscription, decoded.
#[derive(Clone)]
pub struct UserAgentKeys {
    pub public: PublicKey,
    pub auth: [u8; 16],
}

impl std::fmt::Debug for UserAgentKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserAgentKeys(..)")
    }
}

impl UserAgentKeys {
    /// Decodes the raw `p256dh` (65-byte uncompressed point) and `auth` (16 bytes).
    pub fn from_bytes(p256dh: &[u8], auth: &[u8]) -> Result<Self, EceError> {
        if p256dh.len() != 65 || p256dh[0] != 0x04 {
            return Err(EceError::BadPublicKey);
        }
        let public = PublicKey::from_sec1_bytes(p256dh).map_err(|_| EceError::BadPublicKey)?;
        let auth = <[u8; 16]>::try_from(auth).map_err(|_| EceError::BadAuthSecret)?;
        Ok(Self { public, auth })
    }
}

/// The uncompressed SEC1 encoding (65 bytes) of `key`.
pub fn uncompressed(key: &PublicKey) -> Vec<u8> {
    key.to_sec1_point(false).as_bytes().to_vec()
}

/// Encrypts `plaintext` for `ua` with a fresh ephemeral key and salt.
pub fn encrypt(plaintext: &[u8], ua: &UserAgentKeys) -> Result<Vec<u8>, EceError> {
    let ephemeral = super::random_secret_key();
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    encrypt_with(plaintext, ua, &ephemeral, &salt)
}

/// [`encrypt`] with the ephemeral key and the salt given (the RFC's test vector).
pub fn encrypt_with(
    plaintext: &[u8],
    ua: &UserAgentKeys,
    ephemeral: &SecretKey,
    salt: &[u8; 16],
) -> Result<Vec<u8>, EceError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EceError::TooLarge);
    }
    let as_public = uncompressed(&ephemeral.public_key());
    let ua_public = uncompressed(&ua.public);
    let shared = p256::ecdh::diffie_hellman(ephemeral.to_nonzero_scalar(), ua.public.as_affine());

    // RFC 8291 §3.4: IKM = HKDF(auth, ecdh, "WebPush: info" 0 ua_public as_public, 32).
    let mut key_info = Vec::with_capacity(14 + 130);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(&ua_public);
    key_info.extend_from_slice(&as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&ua.auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| EceError::Cipher)?;

    // RFC 8188 §2.2/2.3: the content key and nonce from the salt and IKM.
    let hk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    hk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .map_err(|_| EceError::Cipher)?;
    hk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|_| EceError::Cipher)?;

    // One record, so the last-record delimiter 0x02 and no padding.
    let mut padded = Vec::with_capacity(plaintext.len() + 1);
    padded.extend_from_slice(plaintext);
    padded.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| EceError::Cipher)?;
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), padded.as_slice())
        .map_err(|_| EceError::Cipher)?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + as_public.len() + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 8291 §5, byte for byte.
    #[test]
    fn rfc8291_section5_test_vector() {
        let plaintext = b64("V2hlbiBJIGdyb3cgdXAsIEkgd2FudCB0byBiZSBhIHdhdGVybWVsb24");
        assert_eq!(plaintext, b"When I grow up, I want to be a watermelon");
        let as_private =
            SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        assert_eq!(
            uncompressed(&as_private.public_key()),
            b64(
                "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
            )
        );
        let ua = UserAgentKeys::from_bytes(
            &b64(
                "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            ),
            &b64("BTBZMqHH6r4Tts7J_aSIgg"),
        )
        .unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(&plaintext, &ua, &as_private, &salt).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn keys_that_do_not_decode_are_refused() {
        let good = uncompressed(&crate::webpush::random_secret_key().public_key());
        assert!(UserAgentKeys::from_bytes(&good, &[0; 16]).is_ok());
        assert_eq!(
            UserAgentKeys::from_bytes(&good[..33], &[0; 16]).unwrap_err(),
            EceError::BadPublicKey
        );
        let mut off_curve = good.clone();
        off_curve[64] ^= 1;
        assert_eq!(
            UserAgentKeys::from_bytes(&off_curve, &[0; 16]).unwrap_err(),
            EceError::BadPublicKey
        );
        assert_eq!(
            UserAgentKeys::from_bytes(&good, &[0; 15]).unwrap_err(),
            EceError::BadAuthSecret
        );
    }

    #[test]
    fn a_message_larger_than_one_record_is_refused() {
        let ua = UserAgentKeys::from_bytes(
            &uncompressed(&crate::webpush::random_secret_key().public_key()),
            &[7; 16],
        )
        .unwrap();
        let body = encrypt(&[b'a'; MAX_PLAINTEXT], &ua).unwrap();
        assert_eq!(body.len(), RECORD_SIZE as usize);
        assert_eq!(
            encrypt(&[b'a'; MAX_PLAINTEXT + 1], &ua).unwrap_err(),
            EceError::TooLarge
        );
    }
}
