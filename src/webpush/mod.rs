//! Web Push (RFC 8030): the browsers a user lets receive operating-system notifications,
//! and sending them a message. Owns the subscriptions (checked here, kept by `store`),
//! the VAPID key ([`vapid`]), the payload encryption ([`ece`]) and the sender
//! ([`client`]). Sending never runs on a request's path: [`WebPush::notify_user`] spawns
//! the sends and returns at once. Used by the `push` provider through a port, and by the
//! API and the devices page. docs/web-push.md says why it is built this way.

pub mod client;
pub mod ece;
pub mod vapid;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{Actor, Audit, Event};
use crate::config::{Config, WebPushConfig};
use crate::error::AppError;
use crate::store::{PushSubscriptionRow, Store};

pub use vapid::VapidKey;

/// Longest endpoint URL accepted (the push services' are a few hundred characters).
pub const MAX_ENDPOINT_LEN: usize = 1024;
/// Longest `p256dh` and `auth` accepted, base64url (65 and 16 bytes need 87 and 22).
const MAX_KEY_LEN: usize = 100;
/// A user agent longer than this is cut before it is stored.
const MAX_USER_AGENT_LEN: usize = 256;

/// A browser's `PushSubscription.toJSON()`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubscriptionInput {
    pub endpoint: String,
    /// Sent by browsers (usually `null`); not used.
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    pub expiration_time: Option<serde_json::Value>,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, uncompressed, base64url.
    pub p256dh: String,
    /// The browser's 16-byte auth secret, base64url.
    pub auth: String,
}

/// A subscription as its owner sees it: never the endpoint (a capability to push to the
/// browser) nor the keys.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: String,
    /// The push service's host, e.g. `fcm.googleapis.com`.
    pub service: String,
    pub user_agent: String,
    pub created_at: i64,
    /// When a message was last accepted by the push service; 0 for never.
    pub last_used_at: i64,
}

impl From<PushSubscriptionRow> for PushSubscription {
    fn from(r: PushSubscriptionRow) -> Self {
        Self {
            service: url::Url::parse(&r.endpoint)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default(),
            id: r.id,
            user_agent: r.user_agent,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// The port a provider is given to reach a user's browsers (the `push` provider's
/// sign-in requests), so that it needs neither this module's handle nor the app state,
/// and its tests can count calls with a fake.
pub trait PushNotifier: Send + Sync {
    /// Sends `payload` to every browser `uid` subscribed, in the background.
    fn notify_user(&self, uid: &str, payload: serde_json::Value);
}

impl PushNotifier for WebPush {
    fn notify_user(&self, uid: &str, payload: serde_json::Value) {
        let _ = WebPush::notify_user(self, uid, payload);
    }
}

/// The handle the rest of the server holds; cheap to clone.
#[derive(Clone)]
pub struct WebPush {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    audit: Audit,
    config: WebPushConfig,
    subject: String,
    key_path: PathBuf,
    key: OnceLock<VapidKey>,
    sender: client::Sender,
    /// Users who asked for a test message lately: one per user per [`TEST_INTERVAL`].
    tested: moka::sync::Cache<String, ()>,
}

/// How often one user may ask for a test message.
pub const TEST_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

impl WebPush {
    /// Builds the handle; the VAPID key is read (or made) on first use or by
    /// [`Self::load_key`], so that a router built without a server needs no key file.
    pub fn new(store: Store, audit: Audit, config: &Config) -> anyhow::Result<Self> {
        let subject = if config.web_push.subject.is_empty() {
            config.server.public_url.clone()
        } else {
            config.web_push.subject.clone()
        };
        Ok(Self {
            inner: Arc::new(Inner {
                sender: client::Sender::new(&config.web_push)?,
                store,
                audit,
                config: config.web_push.clone(),
                subject,
                key_path: config.vapid_key_file(),
                key: OnceLock::new(),
                tested: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(TEST_INTERVAL)
                    .build(),
            }),
        })
    }

    /// Uses `key` instead of the key file (tests).
    pub fn with_key(self, key: VapidKey) -> Self {
        let _ = self.inner.key.set(key);
        self
    }

    /// Reads the VAPID key file, or creates it: `serve` calls this at start, so that a
    /// corrupt or unreadable file stops the start with an error naming it.
    pub fn load_key(&self) -> anyhow::Result<&VapidKey> {
        if let Some(key) = self.inner.key.get() {
            return Ok(key);
        }
        let key = VapidKey::load_or_create(&self.inner.key_path)?;
        Ok(self.inner.key.get_or_init(|| key))
    }

    /// [`Self::load_key`] for `serve`'s start, which may create the file only while no
    /// browser is subscribed: every subscription is bound to the public key, so a missing
    /// file beside stored subscriptions (a lost file, or an instance not given the shared
    /// one) is an error naming it rather than a new key that silently breaks them all.
    pub async fn load_key_at_start(&self) -> anyhow::Result<()> {
        let path = &self.inner.key_path;
        if !path.exists() {
            let subscribed = self.inner.store.count_push_subscriptions().await?;
            anyhow::ensure!(
                subscribed == 0,
                "the VAPID key file {} is missing, and {subscribed} browser subscription(s) \
                 were made with its key: restore the file (every instance needs the same one; \
                 web_push.vapid_key_file), or, to start over, delete the subscriptions \
                 (DELETE FROM push_subscriptions) and users subscribe again",
                path.display()
            );
        }
        self.load_key().map(|_| ())
    }

    fn key(&self) -> Result<&VapidKey, AppError> {
        self.load_key().map_err(AppError::Unavailable)
    }

    /// The public key browsers pass to `pushManager.subscribe` (base64url).
    pub fn vapid_public_key(&self) -> Result<String, AppError> {
        Ok(self.key()?.public_key().to_string())
    }

    /// Checks and saves a browser's subscription for `uid` (the same endpoint again
    /// replaces its keys); past the per-user cap the oldest go. Bad input is a 400 and
    /// nothing is stored.
    pub async fn subscribe(
        &self,
        uid: &str,
        input: &SubscriptionInput,
        actor: &Actor,
        now: i64,
    ) -> Result<PushSubscription, AppError> {
        let endpoint = check_endpoint(&self.inner.config, &input.endpoint)?;
        let p256dh = decode_key(&input.keys.p256dh, "keys.p256dh")?;
        let auth = decode_key(&input.keys.auth, "keys.auth")?;
        ece::UserAgentKeys::from_bytes(&p256dh, &auth)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let row = PushSubscriptionRow {
            id: uuid::Uuid::new_v4().to_string(),
            uid: uid.to_string(),
            endpoint: endpoint.to_string(),
            p256dh: URL_SAFE_NO_PAD.encode(&p256dh),
            auth: URL_SAFE_NO_PAD.encode(&auth),
            user_agent: actor.user_agent.chars().take(MAX_USER_AGENT_LEN).collect(),
            created_at: now,
            last_used_at: 0,
        };
        let id = self
            .inner
            .store
            .upsert_push_subscription(&row, self.inner.config.max_per_user)
            .await?;
        self.inner
            .audit
            .record(Event::PushSubscribed, actor, uid, &id, now)
            .await?;
        Ok(PushSubscription::from(PushSubscriptionRow { id, ..row }))
    }

    /// The user's subscriptions, oldest first.
    pub async fn list(&self, uid: &str) -> Result<Vec<PushSubscription>, AppError> {
        Ok(self
            .inner
            .store
            .push_subscriptions_of(uid)
            .await?
            .into_iter()
            .map(PushSubscription::from)
            .collect())
    }

    /// Deletes one of the user's subscriptions; another user's or an unknown id is 404.
    pub async fn revoke(
        &self,
        uid: &str,
        id: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<(), AppError> {
        if !self.inner.store.delete_push_subscription(uid, id).await? {
            return Err(AppError::NotFound("push subscription".into()));
        }
        self.inner
            .audit
            .record(Event::PushSubscriptionRevoked, actor, uid, id, now)
            .await
    }

    /// Sends `payload` (JSON; the service worker shows `title`, `body` and opens `url`)
    /// to every browser `uid` subscribed, encrypted to each. Returns at once: the sends
    /// run in the background with a timeout; a push service answering 404 or 410 has
    /// its subscription deleted; other failures are logged and counted. The returned
    /// handle resolves when every send is done (callers may drop it).
    pub fn notify_user(
        &self,
        uid: &str,
        payload: serde_json::Value,
    ) -> Option<tokio::task::JoinHandle<client::Report>> {
        let runtime = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime,
            Err(_) => {
                tracing::warn!("web push outside a runtime: nothing sent");
                return None;
            }
        };
        let this = self.clone();
        let uid = uid.to_string();
        Some(runtime.spawn(async move { this.deliver(&uid, &payload).await }))
    }

    /// Sends a test message to every browser of `uid` (the devices page's button: "does
    /// my phone get them?"). At most one per user per [`TEST_INTERVAL`]. Returns how many
    /// browsers it goes to.
    pub async fn send_test(
        &self,
        uid: &str,
        payload: serde_json::Value,
    ) -> Result<(usize, Option<tokio::task::JoinHandle<client::Report>>), AppError> {
        let entry = self.inner.tested.entry(uid.to_string()).or_insert(());
        if !entry.is_fresh() {
            return Err(AppError::TooManyAttempts(TEST_INTERVAL.as_secs() as i64));
        }
        let count = self.inner.store.push_subscriptions_of(uid).await?.len();
        Ok((count, self.notify_user(uid, payload)))
    }

    async fn deliver(&self, uid: &str, payload: &serde_json::Value) -> client::Report {
        let mut report = client::Report::default();
        let plaintext = payload.to_string().into_bytes();
        if plaintext.len() > ece::MAX_PLAINTEXT {
            tracing::warn!(
                len = plaintext.len(),
                "web push payload too large: not sent"
            );
            return report;
        }
        let key = match self.load_key() {
            Ok(key) => key.clone(),
            Err(e) => {
                // Names the file and the cause, never the key.
                tracing::error!(error = %format!("{e:#}"), "web push: no VAPID key, nothing sent");
                return report;
            }
        };
        let rows = match self.inner.store.push_subscriptions_of(uid).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "web push: cannot read the subscriptions");
                return report;
            }
        };
        let mut sends = tokio::task::JoinSet::new();
        for row in rows {
            let this = self.clone();
            let key = key.clone();
            let plaintext = plaintext.clone();
            sends.spawn(async move {
                let outcome = this.send_one(&row, &key, &plaintext).await;
                (row, outcome)
            });
        }
        while let Some(done) = sends.join_next().await {
            let Ok((row, outcome)) = done else {
                report.failed += 1;
                continue;
            };
            self.settle(&row, outcome, &mut report).await;
        }
        report
    }

    async fn send_one(
        &self,
        row: &PushSubscriptionRow,
        key: &VapidKey,
        plaintext: &[u8],
    ) -> client::Outcome {
        // Checked again: the allowed hosts may have changed since it was stored.
        let Ok(endpoint) = check_endpoint(&self.inner.config, &row.endpoint) else {
            return client::Outcome::Refused;
        };
        let keys = URL_SAFE_NO_PAD
            .decode(&row.p256dh)
            .ok()
            .zip(URL_SAFE_NO_PAD.decode(&row.auth).ok())
            .and_then(|(p, a)| ece::UserAgentKeys::from_bytes(&p, &a).ok());
        let Some(keys) = keys else {
            return client::Outcome::Refused;
        };
        let Ok(body) = ece::encrypt(plaintext, &keys) else {
            return client::Outcome::Refused;
        };
        let authorization = key.authorization(&endpoint, &self.inner.subject, crate::clock::now());
        self.inner.sender.post(&endpoint, authorization, body).await
    }

    async fn settle(
        &self,
        row: &PushSubscriptionRow,
        outcome: client::Outcome,
        report: &mut client::Report,
    ) {
        let service = PushSubscription::from(row.clone()).service;
        match outcome {
            client::Outcome::Sent => {
                report.sent += 1;
                crate::metrics::web_push_delivery("sent");
                if let Err(e) = self
                    .inner
                    .store
                    .push_subscription_used(&row.id, crate::clock::now())
                    .await
                {
                    tracing::warn!(error = %e, "web push: cannot record a use");
                }
            }
            client::Outcome::Gone(status) => {
                report.gone += 1;
                crate::metrics::web_push_delivery("gone");
                tracing::info!(%service, status, subscription = %row.id,
                    "push service says the subscription is gone: deleted");
                let deleted = self
                    .inner
                    .store
                    .delete_push_subscription(&row.uid, &row.id)
                    .await;
                if let Ok(true) = deleted {
                    let actor = Actor {
                        uid: "push-service".into(),
                        ..Actor::default()
                    };
                    let _ = self
                        .inner
                        .audit
                        .record(
                            Event::PushSubscriptionExpired,
                            &actor,
                            &row.uid,
                            &row.id,
                            crate::clock::now(),
                        )
                        .await;
                }
            }
            client::Outcome::Failed(why) => {
                report.failed += 1;
                crate::metrics::web_push_delivery("failed");
                tracing::warn!(%service, subscription = %row.id, reason = %why,
                    "web push not delivered");
            }
            client::Outcome::Refused => {
                report.failed += 1;
                crate::metrics::web_push_delivery("failed");
                tracing::warn!(%service, subscription = %row.id,
                    "web push: the stored subscription is not usable (endpoint no longer allowed?)");
            }
            client::Outcome::Dropped => {
                report.dropped += 1;
                crate::metrics::web_push_delivery("dropped");
                tracing::warn!(%service, "web push: too many sends at once, one dropped");
            }
        }
    }
}

/// A random P-256 private key (rand's generator: p256's own `random` wants another
/// version of `rand_core`).
pub(crate) fn random_secret_key() -> p256::SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        // Fails only for zero or a value past the group order: about 2^-32 of draws.
        if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
            return key;
        }
    }
}

fn decode_key(text: &str, what: &str) -> Result<Vec<u8>, AppError> {
    if text.len() > MAX_KEY_LEN {
        return Err(AppError::BadRequest(format!("{what} is too long")));
    }
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| AppError::BadRequest(format!("{what} is not base64url")))
}

/// An endpoint a message may be sent to: https on an allowed host (or, when the tests'
/// flag is set, http on loopback), no user name or password in it, not too long.
pub fn check_endpoint(config: &WebPushConfig, endpoint: &str) -> Result<url::Url, AppError> {
    let bad = |why: &str| Err(AppError::BadRequest(format!("endpoint {why}")));
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return bad("is too long");
    }
    let Ok(url) = url::Url::parse(endpoint) else {
        return bad("is not a URL");
    };
    if !url.username().is_empty() || url.password().is_some() {
        return bad("must not hold a user name or password");
    }
    let Some(host) = url.host_str() else {
        return bad("has no host");
    };
    let host = host.to_ascii_lowercase();
    match url.scheme() {
        "https" => {}
        "http"
            if config.allow_http_loopback
                && matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") =>
        {
            return Ok(url);
        }
        _ => return bad("must be an https URL"),
    }
    let allowed = config.endpoint_hosts.is_empty()
        || config.endpoint_hosts.iter().any(|h| {
            let h = h.trim_start_matches('.').to_ascii_lowercase();
            host == h || host.ends_with(&format!(".{h}"))
        });
    if !allowed {
        return bad("is not on a known push service (web_push.endpoint_hosts)");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_on_a_push_service_unless_loopback_is_allowed() {
        let mut config = WebPushConfig::default();
        let ok = |c: &WebPushConfig, e: &str| check_endpoint(c, e).is_ok();
        assert!(ok(&config, "https://fcm.googleapis.com/fcm/send/abc"));
        assert!(ok(
            &config,
            "https://updates.push.services.mozilla.com/wpush/v2/x"
        ));
        assert!(ok(
            &config,
            "https://wns2-par02p.notify.windows.com/w/?token=x"
        ));
        assert!(ok(&config, "https://web.push.apple.com/QGx"));
        assert!(!ok(&config, "https://evil-push.apple.com.example.org/x"));
        assert!(!ok(&config, "https://example.org/x"));
        assert!(!ok(&config, "http://fcm.googleapis.com/fcm/send/abc"));
        assert!(!ok(&config, "https://u:p@fcm.googleapis.com/fcm/send/abc"));
        assert!(!ok(&config, "http://127.0.0.1:9/x"));
        assert!(!ok(&config, "not a url"));
        let long = format!(
            "https://fcm.googleapis.com/{}",
            "a".repeat(MAX_ENDPOINT_LEN)
        );
        assert!(!ok(&config, &long));
        config.allow_http_loopback = true;
        assert!(ok(&config, "http://127.0.0.1:9/x"));
        assert!(ok(&config, "http://localhost:9/x"));
        assert!(!ok(&config, "http://10.0.0.1/x"));
        assert!(!ok(&config, "ftp://127.0.0.1/x"));
        config.endpoint_hosts.clear();
        assert!(ok(&config, "https://push.example.org/x"));
    }
}
