//! Device cookies (OWASP "device cookies" against account lockout): after a full login a
//! browser gets a signed cookie naming the user and a random device id. A later password
//! attempt for that user carrying it is throttled in the device's own bucket instead of
//! the account's, so other clients' failures never slow a browser the user signed in
//! with before. The cookie proves nothing by itself: the password is still checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::crypto::{Purpose, ServerKey, constant_time_eq};

pub const COOKIE: &str = "twofold_device";
/// How long a browser stays known without signing in again.
pub const MAX_AGE_SECS: i64 = 180 * 86_400;

fn mac(key: &ServerKey, uid: &str, id: &str) -> String {
    key.hash_token(Purpose::DeviceCookie, &format!("{uid}\n{id}"))
}

/// A new cookie value for `uid`: `base64(uid).id.mac`.
pub fn issue(key: &ServerKey, uid: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "{}.{id}.{}",
        URL_SAFE_NO_PAD.encode(uid),
        mac(key, uid, &id)
    )
}

/// The device id in `value` if it is a genuine cookie for `uid`.
pub fn device_for(key: &ServerKey, value: &str, uid: &str) -> Option<String> {
    let mut parts = value.splitn(3, '.');
    let (who, id, tag) = (parts.next()?, parts.next()?, parts.next()?);
    let who = String::from_utf8(URL_SAFE_NO_PAD.decode(who).ok()?).ok()?;
    // The uid is compared as lookups compare it (any case: `DAVE` signs in as `Dave`);
    // the MAC covers it as issued.
    if !who.eq_ignore_ascii_case(uid)
        || id.len() != 32
        || !id.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    constant_time_eq(&mac(key, &who, id), tag).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn no_forged_cookie_value_passes(value in ".{0,120}", uid in "[a-z]{1,8}") {
            let key = ServerKey::from_bytes([3; 32]);
            proptest::prop_assert_eq!(device_for(&key, &value, &uid), None);
        }
    }

    #[test]
    fn only_a_genuine_cookie_for_that_user_counts() {
        let key = ServerKey::generate();
        let value = issue(&key, "alice");
        let id = device_for(&key, &value, "alice").unwrap();
        assert_eq!(id.len(), 32);
        assert_eq!(device_for(&key, &value, "bob"), None, "another user");
        assert_eq!(
            device_for(&ServerKey::generate(), &value, "alice"),
            None,
            "another server key"
        );
        let forged = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode("alice"),
            "0".repeat(32),
            "00"
        );
        assert_eq!(device_for(&key, &forged, "alice"), None);
        assert_eq!(device_for(&key, "garbage", "alice"), None);
    }
}
