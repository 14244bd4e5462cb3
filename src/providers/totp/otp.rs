//! HOTP (RFC 4226) and TOTP (RFC 6238), pure functions of a secret, a counter or a
//! clock reading passed in. Written by hand over the RustCrypto HMAC crates rather than
//! taken from a TOTP crate because the replay guard needs the time step a code matched,
//! not just a yes/no, and because each stored secret carries its own algorithm, digit
//! count and period. Also owns the base32 and `otpauth://` encodings apps expect.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// The HMAC hash of a TOTP secret, as named in `otpauth://` URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Case-insensitive inverse of [`Algorithm::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512]
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }
}

/// What, besides the secret, determines a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpParams {
    pub algorithm: Algorithm,
    /// 6 or 8.
    pub digits: u32,
    /// Seconds per time step; greater than zero.
    pub period: u64,
}

impl Default for TotpParams {
    /// What every authenticator app supports.
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

/// The number of digits beyond which a code cannot be formed: the truncated value has
/// 31 bits, so at most 10 decimal digits carry information.
const MAX_DIGITS: u32 = 10;

/// The widest clock drift `verify` honours, in steps on each side; the configuration
/// refuses more. Bounding it keeps a bad value from turning one check into a long loop.
pub const MAX_SKEW: u64 = 10;

/// A fresh 160-bit secret, the length RFC 4226 recommends.
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32, uppercase, without `=` padding (apps accept it and it reads better).
pub fn to_base32(secret: &[u8]) -> String {
    let mut out = String::with_capacity(secret.len().div_ceil(5) * 8);
    let mut buffer: u16 = 0;
    let mut bits: u32 = 0;
    for &byte in secret {
        buffer = (buffer << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(
                BASE32_ALPHABET[usize::from((buffer >> bits) & 0x1f)],
            ));
        }
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_ALPHABET[usize::from((buffer << (5 - bits)) & 0x1f)],
        ));
    }
    out
}

/// Decodes base32 as people type or paste it: any case, with spaces and `=` padding
/// ignored. `None` for any other character or for a length no encoding produces.
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buffer: u16 = 0;
    let mut bits: u32 = 0;
    let mut symbols: usize = 0;
    for c in s.bytes() {
        let value = match c.to_ascii_uppercase() {
            b' ' | b'=' => continue,
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        symbols += 1;
        buffer = ((buffer << 5) | u16::from(value)) & 0x1fff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    // 1, 3 or 6 symbols in the last group would leave a whole unused byte's worth of bits.
    if matches!(symbols % 8, 1 | 3 | 6) {
        return None;
    }
    Some(out)
}

fn hmac_digest(key: &[u8], message: &[u8], algorithm: Algorithm) -> Option<Vec<u8>> {
    // HMAC accepts keys of any length, so the `Err` arms are never taken.
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Option<Vec<u8>> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
        mac.update(message);
        Some(mac.finalize().into_bytes().to_vec())
    }
    match algorithm {
        Algorithm::Sha1 => run::<Hmac<Sha1>>(key, message),
        Algorithm::Sha256 => run::<Hmac<Sha256>>(key, message),
        Algorithm::Sha512 => run::<Hmac<Sha512>>(key, message),
    }
}

/// The zero-padded code, or `None` when no code can be formed.
fn hotp_code(secret: &[u8], counter: u64, algorithm: Algorithm, digits: u32) -> Option<String> {
    if !(1..=MAX_DIGITS).contains(&digits) {
        return None;
    }
    let digest = hmac_digest(secret, &counter.to_be_bytes(), algorithm)?;
    // Dynamic truncation, RFC 4226 section 5.3.
    let offset = usize::from(digest.last()? & 0x0f);
    let window: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    let value = u64::from(u32::from_be_bytes(window) & 0x7fff_ffff);
    let code = value % 10u64.pow(digits);
    Some(format!("{code:0width$}", width = digits as usize))
}

/// The RFC 4226 code for `counter`, zero-padded to `digits`. Empty (matching no code) when
/// `digits` is outside 1..=10.
pub fn hotp(secret: &[u8], counter: u64, algorithm: Algorithm, digits: u32) -> String {
    hotp_code(secret, counter, algorithm, digits).unwrap_or_default()
}

/// The RFC 6238 time step containing `now_unix` (T0 = 0). 0 for a zero period.
pub fn step_at(now_unix: u64, period: u64) -> u64 {
    now_unix.checked_div(period).unwrap_or(0)
}

/// The code an app shows at `now_unix`.
pub fn code_at(secret: &[u8], params: &TotpParams, now_unix: u64) -> String {
    hotp(
        secret,
        step_at(now_unix, params.period),
        params.algorithm,
        params.digits,
    )
}

/// Checks `code` against the steps `step_at(now) - skew ..= step_at(now) + skew` and
/// returns the step it matched, but only if that step is strictly newer than
/// `last_used_step` (the replay guard; `None` when no code was ever accepted). The caller
/// must store the returned step before accepting the login.
///
/// Every step in the window is computed and compared in constant time, so the time taken
/// does not tell which step matched or how much of a code was right. If the code matches
/// several fresh steps, the newest wins, so the same code cannot be replayed against a
/// later one. Spaces and dashes are ignored, because apps show a code as `123 456` and
/// people type what they see; a code of the wrong length or with any other non-digit
/// matches nothing; `skew` is capped at [`MAX_SKEW`]; this never panics.
pub fn verify(
    secret: &[u8],
    params: &TotpParams,
    code: &str,
    now_unix: u64,
    skew: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    if params.period == 0 || !(1..=MAX_DIGITS).contains(&params.digits) {
        return None;
    }
    let code: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if code.len() != params.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now_step = step_at(now_unix, params.period);
    let skew = skew.min(MAX_SKEW);
    let mut found = Choice::from(0);
    let mut matched: u64 = 0;
    for step in now_step.saturating_sub(skew)..=now_step.saturating_add(skew) {
        let Some(expected) = hotp_code(secret, step, params.algorithm, params.digits) else {
            continue;
        };
        // Step numbers are public (they follow from the clock), so this branch leaks nothing.
        let fresh = Choice::from(u8::from(last_used_step.is_none_or(|last| step > last)));
        let hit = expected.as_bytes().ct_eq(code.as_bytes()) & fresh;
        matched.conditional_assign(&step, hit);
        found |= hit;
    }
    bool::from(found).then_some(matched)
}

/// Percent-encodes all but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key URI authenticator apps scan, in the Google Authenticator format:
/// `otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30`.
/// The issuer is both in the label (older apps) and the parameter (newer ones). An empty
/// issuer is left out.
pub fn otpauth_uri(secret: &[u8], params: &TotpParams, issuer: &str, account: &str) -> String {
    let account = percent_encode(account);
    let secret = to_base32(secret);
    let rest = format!(
        "algorithm={}&digits={}&period={}",
        params.algorithm.as_str(),
        params.digits,
        params.period
    );
    if issuer.is_empty() {
        format!("otpauth://totp/{account}?secret={secret}&{rest}")
    } else {
        let issuer = percent_encode(issuer);
        format!("otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&{rest}")
    }
}

#[cfg(test)]
mod tests;
