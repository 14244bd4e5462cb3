//! App passwords: device-specific passwords for clients that cannot do 2FA (WebDAV,
//! CalDAV, CardDAV, scripts). Shown once, stored as keyed hashes, so checking one costs a
//! HMAC and one indexed lookup, never a password hash. They pass forward-auth and the API
//! as HTTP Basic credentials and bypass the second factor by design.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use serde::Serialize;

use crate::accounts::User;
use crate::audit::{Actor, Audit, Event};
use crate::crypto::{Purpose, ServerKey};
use crate::error::AppError;
use crate::sessions::ClientInfo;
use crate::store::{AppPasswordRow, Store};

/// Refreshing "last used" on every request would be a write per request.
const TOUCH_INTERVAL_SECS: i64 = 60;
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AppPassword {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub last_used_ip: String,
    pub user_agent: String,
    /// Made from a login that passed a second factor: it satisfies `two_factor` rules.
    pub second_factor: bool,
}

impl From<AppPasswordRow> for AppPassword {
    fn from(r: AppPasswordRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            last_used_ip: r.last_used_ip,
            user_agent: r.user_agent,
            second_factor: r.factors >= 2,
        }
    }
}

/// Five groups of five characters from 57 (about 146 bits), easy to copy by hand.
fn generate() -> String {
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..5)
        .map(|_| {
            (0..5)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect()
        })
        .collect();
    groups.join("-")
}

#[derive(Clone)]
pub struct AppPasswords {
    store: Store,
    key: ServerKey,
    audit: Audit,
}

impl AppPasswords {
    pub fn new(store: Store, key: ServerKey, audit: Audit) -> Self {
        Self { store, key, audit }
    }

    /// The stored (keyed) hash of a app password: also the forward-auth cache's key.
    pub fn hash(&self, password: &str) -> String {
        self.key.hash_token(Purpose::AppPassword, password)
    }

    /// Creates a named app password; returns it in the clear, the only time it exists so.
    /// `second_factor`: whether the login that asks for it passed a second factor; the
    /// app password carries no more than that login.
    pub async fn create(
        &self,
        uid: &str,
        name: &str,
        second_factor: bool,
        now: i64,
    ) -> Result<(String, AppPassword), AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::BadRequest(
                "an app password needs a name of 1 to 100 characters".into(),
            ));
        }
        let password = generate();
        let row = AppPasswordRow {
            id: uuid::Uuid::new_v4().to_string(),
            uid: uid.to_string(),
            name: name.to_string(),
            token_hash: self.hash(&password),
            created_at: now,
            last_used_at: 0,
            last_used_ip: String::new(),
            user_agent: String::new(),
            factors: if second_factor { 2 } else { 1 },
        };
        self.store.insert_app_password(&row).await?;
        Ok((password, row.into()))
    }

    pub async fn list(&self, uid: &str) -> Result<Vec<AppPassword>, AppError> {
        Ok(self
            .store
            .app_passwords_of(uid)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn revoke(&self, uid: &str, id: &str) -> Result<(), AppError> {
        if self.store.delete_app_password(uid, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("app password {id}")))
        }
    }

    /// Revokes every app password of the user; returns how many there were.
    pub async fn revoke_all(&self, uid: &str) -> Result<u64, AppError> {
        Ok(self.store.delete_app_passwords_of(uid).await?)
    }

    /// The app password `password` of `uid`, if it is one; records the use.
    pub async fn verify(
        &self,
        uid: &str,
        password: &str,
        client: &ClientInfo,
        now: i64,
    ) -> Result<Option<AppPassword>, AppError> {
        if password.len() > 64 {
            return Ok(None);
        }
        let Some(row) = self
            .store
            .app_password_by_hash(&self.hash(password))
            .await?
        else {
            return Ok(None);
        };
        if !crate::crypto::constant_time_eq(&row.uid, uid) {
            return Ok(None);
        }
        if now - row.last_used_at >= TOUCH_INTERVAL_SECS || row.last_used_ip != client.ip {
            let ua: String = client.user_agent.chars().take(512).collect();
            let recorded = self
                .store
                .app_password_used(&row.id, row.last_used_at, now, &client.ip, &ua)
                .await?;
            // Of a burst of first requests, the one that recorded the use logs it.
            if recorded && row.last_used_at == 0 {
                let actor = Actor::client(uid, client);
                self.audit
                    .record(Event::AppPasswordFirstUsed, &actor, uid, &row.name, now)
                    .await?;
            }
        }
        Ok(Some(row.into()))
    }
}

/// Who an HTTP Basic request is, and how it proved it.
#[derive(Debug, Clone)]
pub struct BasicPrincipal {
    pub user: User,
    /// The app password's id; `None` when the main password was given.
    pub app_password: Option<String>,
    /// Whether this credential stands for a login that passed a second factor: an app
    /// password made after one did; the main password never does.
    pub second_factor: bool,
}

/// Splits an `Authorization: Basic …` header value into (uid, password).
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (uid, pw) = text.split_once(':')?;
    Some((uid.to_string(), pw.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_shape() {
        let p = generate();
        assert_eq!(p.len(), 29);
        assert_eq!(p.split('-').count(), 5);
        assert_ne!(p, generate());
    }

    proptest::proptest! {
        #[test]
        fn basic_headers_round_trip_and_never_panic(
            uid in "[^:]{0,20}",
            pw in ".{0,40}",
            junk in ".{0,60}",
        ) {
            let h = format!("Basic {}", STANDARD.encode(format!("{uid}:{pw}")));
            proptest::prop_assert_eq!(parse_basic(&h), Some((uid, pw)));
            let _ = parse_basic(&junk);
            let _ = parse_basic(&format!("Basic {junk}"));
        }
    }

    #[test]
    fn basic_header_parsing() {
        let h = format!("Basic {}", STANDARD.encode("alice:pa:ss"));
        assert_eq!(parse_basic(&h), Some(("alice".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(
            parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))),
            None
        );
    }
}
