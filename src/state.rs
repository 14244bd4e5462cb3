//! The shared handles every part of the server uses: configuration, store, key, and the
//! domain services built on them. Kept apart from the router (`app`) so that the domain
//! and the adapters can name it without importing the top of the program.

use std::sync::Arc;

use crate::accounts::{Accounts, PasswordHasher, PasswordPolicy};
use crate::app_passwords::AppPasswords;
use crate::audit::Audit;
use crate::auth_cache::AuthCache;
use crate::config::Config;
use crate::crypto::ServerKey;
use crate::providers::TwoFactor;
use crate::sessions::Sessions;
use crate::store::Store;
use crate::throttle::Throttle;
use crate::webpush::WebPush;

/// The handles, behind one `Arc`: every request clones the state several times (the
/// router's per-route services, `from_fn_with_state`, the `State` extractor), and one
/// reference count is what a clone should cost, not the dozens of reference counts, and
/// the `Vec` of providers, that the handles hold between them (issue 22).
#[derive(Clone)]
pub struct AppState(Arc<Handles>);

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// Changing a handle (`serve` installs the metrics recorder, tests replace a provider)
/// happens before the state is shared; a state already shared is copied first.
impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Handles {
        Arc::make_mut(&mut self.0)
    }
}

#[derive(Clone)]
pub struct Handles {
    pub config: Arc<Config>,
    pub store: Store,
    pub key: ServerKey,
    pub accounts: Accounts,
    pub sessions: Sessions,
    pub two_factor: TwoFactor,
    pub app_passwords: AppPasswords,
    pub audit: Audit,
    pub throttle: Throttle,
    pub auth_cache: AuthCache,
    /// Web Push subscriptions and sending; its VAPID key file is read on first use (or
    /// at start by `serve`), so a state built without a server touches no file.
    pub web_push: WebPush,
    /// What `/metrics` renders; `None` until `serve` installs the recorder (metrics off,
    /// or a router built without a server).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl AppState {
    pub fn new(config: Config, store: Store, key: ServerKey) -> anyhow::Result<Self> {
        crate::throttle::set_ipv6_prefix(u32::from(config.throttle.ipv6_prefix));
        let hasher = PasswordHasher::new(&config.password)?;
        let accounts = Accounts::new(store.clone(), hasher, password_policy(&config))
            .with_breach_check(crate::breach::from_config(&config.password)?);
        let sessions = Sessions::new(store.clone(), key.clone(), config.session.clone());
        let audit = Audit::new(store.clone(), config.log.audit_stdout);
        let two_factor = TwoFactor::new(store.clone(), key.clone(), audit.clone(), &config)?;
        let app_passwords = AppPasswords::new(store.clone(), key.clone(), audit.clone());
        let throttle = Throttle::new(store.clone(), audit.clone());
        let auth_cache = AuthCache::new(
            store.changes(),
            std::time::Duration::from_secs(config.forward_auth.cache_ttl_secs),
            config.forward_auth.cache_entries,
        );
        let web_push = WebPush::new(store.clone(), audit.clone(), &config)?;
        two_factor
            .push
            .set_notifier(Arc::new(web_push.clone()) as Arc<dyn crate::webpush::PushNotifier>);
        Ok(Self(Arc::new(Handles {
            auth_cache,
            web_push,
            config: Arc::new(config),
            store,
            key,
            accounts,
            sessions,
            two_factor,
            app_passwords,
            throttle,
            audit,
            metrics: None,
        })))
    }
}

/// The password policy of `config`; the service name users know is the TOTP issuer.
pub fn password_policy(config: &Config) -> PasswordPolicy {
    let issuer = config
        .section::<crate::providers::totp::config::TotpConfig>(
            crate::providers::totp::config::SECTION,
        )
        .map(|t| t.issuer)
        .unwrap_or_default();
    PasswordPolicy::new(&config.password, &issuer)
}

impl AppState {
    /// Where browsers may be sent back to: twofold's own host and the configured domains.
    pub fn allowed_domains(&self) -> Vec<String> {
        // twofold's own host is always allowed (its own pages, e.g. the client login flow).
        let own = url::Url::parse(&self.config.server.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string));
        own.into_iter()
            .chain(self.config.forward_auth.allowed_domains.iter().cloned())
            .collect()
    }
}

impl AppState {
    /// `url` if a browser may be sent back there after login (no open redirect, and no
    /// https → http downgrade when twofold itself is on https).
    pub fn safe_return_url(&self, url: &str) -> Option<String> {
        crate::return_url::safe_return_url(url, &self.allowed_domains(), self.https_only())
    }

    /// The CSP sources of the origins `safe_return_url` accepts (for `form-action`).
    pub fn return_csp_sources(&self) -> Vec<String> {
        crate::return_url::csp_sources(&self.allowed_domains(), self.https_only())
    }

    fn https_only(&self) -> bool {
        self.config.server.public_url.starts_with("https://")
    }
}
