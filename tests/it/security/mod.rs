//! The security regression suite: one test per defect of the hardening review (issue 7),
//! named after it. Each failed on the code before the fix.

mod credentials;
mod forward_auth;
mod logs;
mod nginx_paths;
mod requests;
mod review;
mod throttling;

use crate::common::{Server, TestDb, config_file};

/// Access rules used by the forward-auth tests.
pub const RULES: &str = r#"
[forward_auth]
default_policy = "two_factor"
allowed_domains = ["example.test"]

[[forward_auth.rules]]
host = "files.example.test"
path = "/public"
policy = "bypass"

[[forward_auth.rules]]
path = "/deny"
policy = "deny"

[[forward_auth.rules]]
path = "/team"
policy = "one_factor"
groups = ["team"]

[[forward_auth.rules]]
path = "/shared"
policy = "one_factor"

[[forward_auth.rules]]
host = "closed.example.test"
policy = "deny"
"#;

/// A server with [`RULES`] and `extra` environment.
pub async fn with_rules(db: &TestDb, extra: &[(&str, &str)]) -> Server {
    let config = config_file(db, RULES);
    let mut env = vec![("TWOFOLD_CONFIG", config.as_str())];
    env.extend_from_slice(extra);
    Server::start_with(db, &env).await
}

/// A forward-auth question as Traefik asks it.
pub fn traefik(
    http: &reqwest::Client,
    server: &Server,
    host: &str,
    uri: &str,
) -> reqwest::RequestBuilder {
    http.get(server.url("/api/v1/forward-auth/traefik"))
        .header("x-forwarded-method", "GET")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", host)
        .header("x-forwarded-uri", uri)
}
