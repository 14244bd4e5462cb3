//! Configuration: built-in defaults, then one TOML file, then `TWOFOLD_*` environment
//! variables (with `_FILE` variants for secrets). Unknown keys are an error so that a typo
//! never silently leaves a setting at its default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Environment variables under the `TWOFOLD_` prefix that are not settings.
const NON_SETTING_VARS: &[&str] = &["CONFIG", "LOG"];

// No `deny_unknown_fields` here (serde cannot combine it with `flatten`): an unknown
// top-level key lands in `sections` and `load` refuses it there.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub password: PasswordConfig,
    pub session: SessionConfig,
    pub forward_auth: ForwardAuthConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub web_push: WebPushConfig,
    pub throttle: ThrottleConfig,
    /// Sections other modules own (a second-factor provider's: `[totp]`…), kept as TOML
    /// so that this module names none of them; each owner reads its own with
    /// [`Config::section`] and declares it to [`Config::load`] as a [`Section`].
    #[serde(flatten)]
    pub sections: BTreeMap<String, toml::Value>,
}

/// A config section owned outside this module: its name, its defaults (which also make
/// its keys settable from the environment, `TWOFOLD_<NAME>_<KEY>`), and its check.
pub struct Section {
    pub name: &'static str,
    pub defaults: toml::Table,
    /// Parses and checks the section; the error names the key and what is wrong.
    pub check: fn(&toml::Value) -> Result<(), String>,
}

/// The settings type of an owned section: serde reads it, `check` says what makes no
/// sense ("key: what is wrong").
pub trait SectionSettings: Serialize + serde::de::DeserializeOwned + Default {
    fn check(&self) -> Result<(), String>;
}

impl Section {
    /// The section `name` read as `T`: its defaults are `T::default()`.
    pub fn of<T: SectionSettings>(name: &'static str) -> Section {
        Section {
            name,
            defaults: toml::Table::try_from(T::default()).unwrap_or_default(),
            check: parse_and_check::<T>,
        }
    }
}

fn parse_and_check<T: SectionSettings>(value: &toml::Value) -> Result<(), String> {
    T::deserialize(value.clone())
        .map_err(|e| e.to_string())?
        .check()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address the HTTP server binds to.
    pub listen: String,
    /// The URL users reach twofold at; decides whether cookies are `Secure`.
    pub public_url: String,
    /// Folder for the SQLite database and the server key file.
    pub data_dir: PathBuf,
    /// Server key file (32 random bytes, hex); created with mode 0600 when missing.
    /// Empty means `<data_dir>/server.key`.
    pub key_file: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Proxies whose `X-Forwarded-For` is believed (throttling by IP, sessions' IP).
    pub trusted_proxies: Vec<String>,
    /// Open connections at most; past it a new connection is closed at once.
    pub max_connections: usize,
    /// Open connections from one address (an IPv6 /64) at most, so that one client
    /// cannot take every slot; trusted proxies are not counted (every request comes
    /// through them).
    pub max_connections_per_address: usize,
    /// The largest request head (request line and headers) read, in bytes; larger gets
    /// 431 and the connection closes. Bounds what a slow client makes the server hold.
    pub max_header_bytes: usize,
    /// A client must send a request's headers within this many seconds; a keep-alive
    /// connection idle that long is closed.
    pub header_read_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://…`. Empty means `<data_dir>/twofold.db`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Fewest characters (after NFKC normalization) a new password may have.
    pub min_length: usize,
    /// Most characters a new password may have; longer ones are refused, never cut.
    pub max_length: usize,
    /// Lowest zxcvbn strength estimate (0 to 4) a new password must reach; 0 skips the
    /// estimate (the list of common passwords and the name checks still apply).
    pub min_score: u8,
    /// Also ask the Have I Been Pwned range API whether a new password was breached
    /// (only the first 5 hex digits of its SHA-1 are sent).
    pub check_breached: bool,
    /// The range API, to which the 5-digit prefix is appended.
    pub hibp_url: String,
    /// After this many milliseconds without an answer, the local checks decide.
    pub hibp_timeout_ms: u64,
    /// Password hashes computed at once (each holds `argon2_memory_kib`); 0: half the
    /// cores (at least one), leaving the rest to forward-auth during a login storm.
    pub hash_workers: usize,
    /// Password checks allowed to wait for a worker; beyond that a login answers 503
    /// at once, so a storm of logins cannot starve forward-auth or exhaust memory.
    pub hash_queue: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Lifetime of an ordinary browser session.
    pub lifetime_minutes: i64,
    /// Lifetime of a "remember me" session.
    pub remember_days: i64,
    /// How long a half-finished login (password passed, second factor pending) lives.
    pub pending_minutes: i64,
    /// Domain attribute of the session cookie, e.g. `example.org` to cover the apps on
    /// its subdomains behind forward-auth. Empty: the cookie stays on twofold's own host.
    pub cookie_domain: String,
    /// Removing a factor, new backup codes, a new app password or a password change need
    /// the user to have proved who they are within this many minutes.
    pub reauth_minutes: i64,
    /// The most sessions one user keeps: a new sign-in past it ends the user's longest
    /// idle ones (a script signing in over and over cannot make the table grow).
    pub max_per_user: i64,
}

/// Forward-auth for reverse proxies. Rules are checked in order; the first whose host and
/// path match decides, else `default_policy`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardAuthConfig {
    /// `bypass`, `one_factor`, `two_factor` or `deny`.
    pub default_policy: String,
    /// Hosts (and their subdomains) a browser may be sent back to after login. Empty means
    /// the host of `server.public_url` only.
    pub allowed_domains: Vec<String>,
    pub rules: Vec<AccessRule>,
    /// How long an answer about a session or app password may be reused, in seconds
    /// (any change to the user drops it at once; 0: ask the database every time).
    pub cache_ttl_secs: u64,
    /// How many credentials the cache holds at most.
    pub cache_entries: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessRule {
    /// Exact host, or `*.example.org` for its subdomains; empty or absent matches any.
    #[serde(default)]
    pub host: String,
    /// Path prefix; empty or absent matches any.
    #[serde(default)]
    pub path: String,
    pub policy: String,
    /// Users must be in one of these groups (empty: anyone who passes the policy).
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Default for ForwardAuthConfig {
    fn default() -> Self {
        Self {
            default_policy: "two_factor".into(),
            allowed_domains: Vec::new(),
            rules: Vec::new(),
            cache_ttl_secs: 60,
            cache_entries: 100_000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `twofold=debug`.
    pub level: String,
    /// Also print every audit event on stdout as one JSON line.
    pub audit_stdout: bool,
    /// Audit events older than this many days are deleted (strangers' failed logins write
    /// to the trail; it must not grow for ever). 0 keeps everything.
    pub audit_retention_days: i64,
}

/// Prometheus `GET /metrics` (docs/metrics.md). Off unless asked for: the counters tell
/// how many people sign in and fail, which is nobody's business on the public port.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Serve `/metrics` on the main listener (`server.listen`).
    pub enabled: bool,
    /// A separate listener for `/metrics` alone, e.g. `127.0.0.1:9090`; when set,
    /// `/metrics` is served there and never on the main listener. Empty: none.
    pub listen: String,
}

/// Web Push (docs/web-push.md): the VAPID key, where messages may go, how they are sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebPushConfig {
    /// The VAPID key file (a P-256 private key, hex), created with mode 0600 when
    /// missing. Empty: `vapid.key` in the folder of the server key.
    pub vapid_key_file: String,
    /// The VAPID `sub` claim, a `mailto:` or `https:` contact for the push services.
    /// Empty: `server.public_url`.
    pub subject: String,
    /// Hosts subscription endpoints may be on (a name matches itself and its
    /// subdomains). Empty: any https host.
    pub endpoint_hosts: Vec<String>,
    /// Also accept `http://` endpoints on loopback (`localhost`, `127.0.0.1`, `[::1]`):
    /// for tests with a local push service, never in production.
    pub allow_http_loopback: bool,
    /// How long a push service keeps an undelivered message, in seconds (`TTL`).
    pub ttl_secs: i64,
    /// A push service must answer within this many milliseconds.
    pub timeout_ms: u64,
    /// The most subscriptions one user keeps; a new one past it removes the oldest.
    pub max_per_user: i64,
}

impl Default for WebPushConfig {
    fn default() -> Self {
        Self {
            vapid_key_file: String::new(),
            subject: String::new(),
            endpoint_hosts: [
                "fcm.googleapis.com",
                "push.services.mozilla.com",
                "notify.windows.com",
                "push.apple.com",
            ]
            .map(String::from)
            .to_vec(),
            allow_http_loopback: false,
            ttl_secs: 120,
            timeout_ms: 10_000,
            max_per_user: 10,
        }
    }
}

impl MetricsConfig {
    /// Whether metrics are collected at all.
    pub fn collected(&self) -> bool {
        self.enabled || !self.listen.is_empty()
    }

    /// Whether the main listener serves `/metrics`.
    pub fn on_main_listener(&self) -> bool {
        self.enabled && self.listen.is_empty()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://localhost:8080".into(),
            data_dir: PathBuf::from("twofold-data"),
            key_file: String::new(),
            max_body_bytes: 64 * 1024,
            // Nobody by default: an operator who puts twofold behind a proxy names it.
            // Believing loopback would let every client behind a careless proxy config
            // choose its own address for throttling and session records.
            trusted_proxies: Vec::new(),
            max_connections: 4096,
            max_connections_per_address: 256,
            max_header_bytes: 64 * 1024,
            header_read_timeout_secs: 10,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
        }
    }
}

impl Default for PasswordConfig {
    /// OWASP's recommended Argon2id setting (19 MiB, 2 passes, 1 lane).
    fn default() -> Self {
        Self {
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            min_length: 10,
            max_length: 256,
            min_score: 3,
            check_breached: false,
            hibp_url: "https://api.pwnedpasswords.com/range/".into(),
            hibp_timeout_ms: 2000,
            hash_workers: 0,
            hash_queue: 32,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            lifetime_minutes: 12 * 60,
            remember_days: 30,
            pending_minutes: 10,
            cookie_domain: String::new(),
            reauth_minutes: 10,
            max_per_user: 50,
        }
    }
}

/// How clients are told apart for throttling and the per-address connection cap.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleConfig {
    /// How many leading bits of an IPv6 address are one client (RFC 6177: a site gets a
    /// /64 at least, often a /56 or /48). 32 to 128.
    pub ipv6_prefix: u8,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self { ipv6_prefix: 64 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
            audit_stdout: false,
            audit_retention_days: 180,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("invalid setting {key}: {message}")]
    Invalid { key: &'static str, message: String },
}

/// What loading found besides the config itself: things worth a warning.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub unknown_env_vars: Vec<String>,
}

impl Config {
    /// Audit events before this time are deleted; `None` keeps everything.
    pub fn audit_cutoff(&self, now: i64) -> Option<i64> {
        (self.log.audit_retention_days > 0).then(|| now - self.log.audit_retention_days * 86_400)
    }

    /// Loads defaults, then `file` (if any), then the given environment variables. The
    /// `sections` owned elsewhere are the only other top-level tables allowed.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        sections: &[Section],
    ) -> Result<(Config, LoadReport), ConfigError> {
        let mut defaults =
            toml::Table::try_from(Config::default()).map_err(|e| ConfigError::Invalid {
                key: "defaults",
                message: e.to_string(),
            })?;
        for section in sections {
            defaults.insert(
                section.name.into(),
                toml::Value::Table(section.defaults.clone()),
            );
        }
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let table: toml::Table =
                    text.parse()
                        .map_err(|e: toml::de::Error| ConfigError::Parse {
                            path: path.to_path_buf(),
                            message: e.to_string(),
                        })?;
                // Check the file on its own first so that its errors name the file.
                let parsed = Config::deserialize(toml::Value::Table(table.clone()))
                    .map_err(|e| e.to_string())
                    .and_then(|c| c.check_sections(sections));
                parsed.map_err(|message| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message,
                })?;
                table
            }
            None => toml::Table::new(),
        };
        let report = apply_env(&defaults, &mut table, env)?;
        let mut config = Config::deserialize(toml::Value::Table(table))
            .map_err(|e| e.to_string())
            .and_then(|c| c.check_sections(sections).map(|()| c))
            .map_err(|message| ConfigError::Env {
                var: "TWOFOLD_*".into(),
                message,
            })?;
        // Every owned section in full, so that `twofold config` shows its defaults too.
        for section in sections {
            let mut full = section.defaults.clone();
            if let Some(toml::Value::Table(given)) = config.sections.get(section.name) {
                full.extend(given.clone());
            }
            config
                .sections
                .insert(section.name.into(), toml::Value::Table(full));
        }
        config.validate()?;
        Ok((config, report))
    }

    /// Refuses a top-level key that is no known section, and runs each section's check.
    fn check_sections(&self, sections: &[Section]) -> Result<(), String> {
        for (name, value) in &self.sections {
            let Some(section) = sections.iter().find(|s| s.name == name) else {
                return Err(format!("unknown section or key `{name}`"));
            };
            if !value.is_table() {
                return Err(format!("`{name}` must be a section ([{name}])"));
            }
            (section.check)(value).map_err(|e| format!("[{name}] {e}"))?;
        }
        Ok(())
    }

    /// The section `name` owned outside this module, as its owner's type; its defaults
    /// when the config has none (a config built in code).
    pub fn section<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, toml::de::Error> {
        match self.sections.get(name) {
            Some(value) => T::deserialize(value.clone()),
            None => Ok(T::default()),
        }
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.into(),
            })
        };
        if self.server.listen.parse::<SocketAddr>().is_err() {
            return invalid(
                "server.listen",
                "expected an address such as 127.0.0.1:8080",
            );
        }
        if !(self.server.public_url.starts_with("http://")
            || self.server.public_url.starts_with("https://"))
        {
            return invalid("server.public_url", "must start with http:// or https://");
        }
        if self.server.max_connections == 0 {
            return invalid("server.max_connections", "must be at least 1");
        }
        if self.server.max_connections_per_address == 0 {
            return invalid("server.max_connections_per_address", "must be at least 1");
        }
        if !(32..=128).contains(&self.throttle.ipv6_prefix) {
            return invalid(
                "throttle.ipv6_prefix",
                "must be 32 to 128 (the leading bits of an IPv6 address that make one client; 64 per RFC 6177)",
            );
        }
        if !(8192..=1024 * 1024).contains(&self.server.max_header_bytes) {
            return invalid(
                "server.max_header_bytes",
                "must be between 8192 and 1048576",
            );
        }
        if !(1..=3600).contains(&self.server.header_read_timeout_secs) {
            return invalid(
                "server.header_read_timeout_secs",
                "must be between 1 and 3600",
            );
        }
        if !(0..=2_419_200).contains(&self.web_push.ttl_secs) {
            return invalid(
                "web_push.ttl_secs",
                "must be between 0 and 2419200 (28 days)",
            );
        }
        if !(100..=60_000).contains(&self.web_push.timeout_ms) {
            return invalid("web_push.timeout_ms", "must be between 100 and 60000");
        }
        if !(1..=100).contains(&self.web_push.max_per_user) {
            return invalid("web_push.max_per_user", "must be between 1 and 100");
        }
        if !(self.web_push.subject.is_empty()
            || self.web_push.subject.starts_with("mailto:")
            || self.web_push.subject.starts_with("https://"))
        {
            return invalid("web_push.subject", "must start with mailto: or https://");
        }
        if self.server.max_body_bytes < 1024 {
            return invalid("server.max_body_bytes", "must be at least 1024");
        }
        if let Some(bad) = self
            .server
            .trusted_proxies
            .iter()
            .find(|p| p.parse::<std::net::IpAddr>().is_err())
        {
            return invalid(
                "server.trusted_proxies",
                &format!("{bad:?} is not an IP address"),
            );
        }
        let url = &self.database.url;
        if !(url.is_empty() || url.starts_with("sqlite:") || url.starts_with("postgres")) {
            return invalid(
                "database.url",
                "must start with sqlite: or postgres:// (or be empty for the default SQLite file)",
            );
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        let p = &self.password;
        if p.argon2_parallelism == 0 || p.argon2_iterations == 0 {
            return invalid(
                "password.argon2_*",
                "iterations and parallelism must be at least 1",
            );
        }
        if p.argon2_memory_kib < 8 * p.argon2_parallelism {
            return invalid(
                "password.argon2_memory_kib",
                "must be at least 8 KiB per lane",
            );
        }
        if p.min_length == 0 {
            return invalid("password.min_length", "must be at least 1");
        }
        if p.max_length < 64 || p.max_length > 1024 || p.max_length < p.min_length {
            return invalid(
                "password.max_length",
                "must be between 64 and 1024, and at least min_length",
            );
        }
        if p.min_score > 4 {
            return invalid("password.min_score", "must be between 0 and 4");
        }
        if p.check_breached
            && !(p.hibp_url.starts_with("https://") || p.hibp_url.starts_with("http://"))
        {
            return invalid("password.hibp_url", "must start with https:// or http://");
        }
        if !(100..=30_000).contains(&p.hibp_timeout_ms) {
            return invalid("password.hibp_timeout_ms", "must be between 100 and 30000");
        }
        if p.hash_workers > 256 {
            return invalid("password.hash_workers", "must be at most 256");
        }
        if p.hash_queue == 0 || p.hash_queue > 100_000 {
            return invalid("password.hash_queue", "must be between 1 and 100000");
        }
        let s = &self.session;
        if s.lifetime_minutes <= 0
            || s.remember_days <= 0
            || s.pending_minutes <= 0
            || s.reauth_minutes <= 0
        {
            return invalid("session.*", "lifetimes must be positive");
        }
        if !(0..=36_500).contains(&self.log.audit_retention_days) {
            return invalid("log.audit_retention_days", "must be between 0 and 36500");
        }
        if !(1..=100_000).contains(&s.max_per_user) {
            return invalid("session.max_per_user", "must be between 1 and 100000");
        }
        let policies = ["bypass", "one_factor", "two_factor", "deny"];
        if !policies.contains(&self.forward_auth.default_policy.as_str()) {
            return invalid(
                "forward_auth.default_policy",
                "must be bypass, one_factor, two_factor or deny",
            );
        }
        for rule in &self.forward_auth.rules {
            if !policies.contains(&rule.policy.as_str()) {
                return invalid(
                    "forward_auth.rules.policy",
                    "must be bypass, one_factor, two_factor or deny",
                );
            }
            if !rule.path.is_empty() && !rule.path.starts_with('/') {
                return invalid("forward_auth.rules.path", "must start with /");
            }
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return invalid("log.format", "must be text or json");
        }
        let metrics_listen = &self.metrics.listen;
        if !metrics_listen.is_empty() {
            match metrics_listen.parse::<SocketAddr>() {
                Err(_) => {
                    return invalid(
                        "metrics.listen",
                        "expected an address such as 127.0.0.1:9090, or empty",
                    );
                }
                Ok(a) if a.port() != 0 && Ok(a) == self.server.listen.parse::<SocketAddr>() => {
                    return invalid("metrics.listen", "must differ from server.listen");
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// The VAPID key file: `web_push.vapid_key_file`, or `vapid.key` beside the server key.
    pub fn vapid_key_file(&self) -> PathBuf {
        if self.web_push.vapid_key_file.is_empty() {
            self.key_file().with_file_name("vapid.key")
        } else {
            PathBuf::from(&self.web_push.vapid_key_file)
        }
    }

    pub fn key_file(&self) -> PathBuf {
        if self.server.key_file.is_empty() {
            self.server.data_dir.join("server.key")
        } else {
            PathBuf::from(&self.server.key_file)
        }
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.server.data_dir.join("twofold.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    /// Plain http on a name other than loopback: the cookies are `Secure` (a session
    /// cookie must not travel in clear over a network), so browsers drop them and no form
    /// works. Worth a warning at start and in `config check`.
    pub fn insecure_http(&self) -> bool {
        self.server.public_url.starts_with("http://") && self.secure_cookies()
    }

    /// What in this configuration works against the people using it, one sentence each
    /// (problems of a provider's own section are its own to report).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.insecure_http() {
            out.push(format!(
                "server.public_url {} is plain http on a name other than localhost: cookies are marked Secure, browsers drop them over http, and every sign-in fails; use https:// (behind a TLS proxy), or http://localhost:PORT to try twofold out",
                self.server.public_url
            ));
        }
        out
    }

    /// Cookies carry `Secure` unless users reach twofold over plain HTTP on loopback.
    pub fn secure_cookies(&self) -> bool {
        let url = self.server.public_url.as_str();
        !(url.starts_with("http://localhost")
            || url.starts_with("http://127.0.0.1")
            || url.starts_with("http://[::1]"))
    }
}

/// Overlays `TWOFOLD_SECTION_KEY` (and `TWOFOLD_SECTION_KEY_FILE`) onto `table`, converting
/// each value to the type the default has. The known keys come from the defaults, so a new
/// setting is reachable from the environment without touching this function.
fn apply_env(
    defaults: &toml::Table,
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<LoadReport, ConfigError> {
    let mut known: BTreeMap<String, (String, String, toml::Value)> = BTreeMap::new();
    for (section, value) in defaults {
        if let toml::Value::Table(keys) = value {
            for (key, default) in keys {
                let var = format!("{}_{}", section, key).to_uppercase();
                known.insert(var, (section.clone(), key.clone(), default.clone()));
            }
        }
    }
    let mut report = LoadReport::default();
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("TWOFOLD_"))
        .collect();
    // Plain variables win over their _FILE twins when both are set: apply _FILE first.
    vars.sort_by_key(|(k, _)| !k.ends_with("_FILE"));
    for (var, raw) in vars {
        let name = &var["TWOFOLD_".len()..];
        let (name, from_file) = match name.strip_suffix("_FILE") {
            Some(base) if known.contains_key(base) => (base, true),
            _ => (name, false),
        };
        let Some((section, key, default)) = known.get(name) else {
            if !NON_SETTING_VARS.contains(&name) && !name.starts_with("TEST_") {
                report.unknown_env_vars.push(var.clone());
            }
            continue;
        };
        let raw_path = raw.clone();
        let text = if from_file {
            std::fs::read_to_string(&raw)
                .map_err(|e| ConfigError::Env {
                    var: var.clone(),
                    message: format!("cannot read {raw}: {e}"),
                })?
                .trim_end_matches(['\n', '\r'])
                .to_string()
        } else {
            raw
        };
        let value = convert(&text, default).map_err(|message| ConfigError::Env {
            var: var.clone(),
            // A file named by a _FILE variable holds a secret: say which file, never
            // what is in it (the wrong file may be another secret).
            message: if from_file {
                format!("the file {raw_path} does not hold a valid value for this setting")
            } else {
                message
            },
        })?;
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            t.insert(key.clone(), value);
        }
    }
    Ok(report)
}

fn convert(text: &str, like: &toml::Value) -> Result<toml::Value, String> {
    match like {
        toml::Value::Integer(_) => text
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("expected an integer, got {text:?}")),
        toml::Value::Boolean(_) => match text.trim() {
            "true" | "1" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {text:?}")),
        },
        // Lists from the environment are comma separated.
        toml::Value::Array(_) => Ok(toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        )),
        _ => Ok(toml::Value::String(text.to_string())),
    }
}

#[cfg(test)]
mod tests;
