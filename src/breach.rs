//! The optional online check of a new password against the Have I Been Pwned range API,
//! with k-anonymity: only the first 5 hex digits of the password's SHA-1 leave the
//! machine, the answer lists every suffix with that prefix (padded with fake ones,
//! `Add-Padding: true`, so its size tells nothing) and the match is made here. Off by
//! default. When the service does not answer within the timeout, or fails, the check
//! says "unknown" and the local checks decide: failing open for this check only, logged
//! without the password or its hash.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha1::{Digest, Sha1};

use crate::config::PasswordConfig;

/// A list of breached passwords to ask about a new password.
#[async_trait::async_trait]
pub trait BreachList: Send + Sync {
    /// `Some(true)` if listed, `Some(false)` if not, `None` if the list could not say.
    async fn contains(&self, password: &str) -> Option<bool>;
}

/// The range API at `password.hibp_url`.
pub struct Hibp {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    url: String,
    timeout: Duration,
}

/// The online check `config` asks for, if any.
pub fn from_config(config: &PasswordConfig) -> anyhow::Result<Option<Arc<dyn BreachList>>> {
    if !config.check_breached {
        return Ok(None);
    }
    Ok(Some(Arc::new(Hibp::new(config)?)))
}

impl Hibp {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<Self> {
        // ring's provider is deprecated only for lacking post-quantum key exchange,
        // which does not matter for a 5-digit hash prefix; aws-lc would need a C build.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            url: config.hibp_url.clone(),
            timeout: Duration::from_millis(config.hibp_timeout_ms),
        })
    }

    async fn range(&self, prefix: &str) -> anyhow::Result<String> {
        let request = hyper::Request::get(format!("{}{prefix}", self.url))
            .header("Add-Padding", "true")
            .header(
                hyper::header::USER_AGENT,
                concat!("twofold/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())?;
        let response = self.client.request(request).await?;
        if !response.status().is_success() {
            anyhow::bail!("status {}", response.status());
        }
        let body = response.into_body().collect().await?.to_bytes();
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[async_trait::async_trait]
impl BreachList for Hibp {
    async fn contains(&self, password: &str) -> Option<bool> {
        let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
        let (prefix, suffix) = digest.split_at(5);
        match tokio::time::timeout(self.timeout, self.range(prefix)).await {
            Ok(Ok(body)) => Some(listed(&body, suffix)),
            Ok(Err(e)) => {
                // The error names no password; the URL holds only the public prefix.
                tracing::warn!(error = %e, "breach check failed; the local checks decide");
                None
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = self.timeout.as_millis() as u64,
                    "breach check timed out; the local checks decide"
                );
                None
            }
        }
    }
}

/// Whether the range answer lists `suffix` with a count above 0 (padding lines have 0).
fn listed(body: &str, suffix: &str) -> bool {
    body.lines().any(|line| {
        line.split_once(':').is_some_and(|(s, count)| {
            s.trim().eq_ignore_ascii_case(suffix)
                && count.trim().parse::<u64>().is_ok_and(|c| c > 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::listed;

    #[test]
    fn padding_lines_do_not_count() {
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n\
                    00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n";
        assert!(listed(body, "0018a45c4d1def81644b54ab7f969b88d65"));
        assert!(!listed(body, "00D4F6E8FA6EECAD2A3AA415EEC418D38EC"));
        assert!(!listed(body, "FFFF"));
    }
}
