//! The RFC 8030 request to a push service: hyper's client over rustls (ring, webpki
//! roots, like the breach check), plain http allowed only where `check_endpoint` let an
//! endpoint through. Bounded: so many sends at once, so many waiting, each with a timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;

use crate::config::WebPushConfig;

/// Sends in flight at once.
const CONCURRENT: usize = 32;
/// Sends waiting for a slot; past this a send is dropped (and counted).
const WAITING: usize = 1024;

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The push service took it (2xx).
    Sent,
    /// 404 or 410: the subscription expired or was unsubscribed.
    Gone(u16),
    /// Anything else: another status, a timeout, a network error (no secret in it).
    Failed(String),
    /// The stored subscription cannot be used (endpoint no longer allowed, bad keys).
    Refused,
    /// Too many sends waiting.
    Dropped,
}

/// What a [`super::WebPush::notify_user`] did, per subscription.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub gone: usize,
    pub failed: usize,
    pub dropped: usize,
}

pub(crate) struct Sender {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    ttl: i64,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl Sender {
    pub(crate) fn new(config: &WebPushConfig) -> anyhow::Result<Self> {
        // ring's provider is deprecated only for lacking post-quantum key exchange; the
        // alternative, aws-lc, needs a C build.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout: Duration::from_millis(config.timeout_ms),
            ttl: config.ttl_secs,
            slots: Arc::new(Semaphore::new(CONCURRENT)),
            waiting: AtomicUsize::new(0),
        })
    }

    /// POSTs one encrypted message (`body`, aes128gcm) to `endpoint`.
    pub(crate) async fn post(
        &self,
        endpoint: &url::Url,
        authorization: String,
        body: Vec<u8>,
    ) -> Outcome {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Outcome::Dropped;
        }
        let permit = self.slots.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Ok(_permit) = permit else {
            return Outcome::Failed("sender closed".into());
        };
        let request = hyper::Request::post(endpoint.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
            .header(hyper::header::CONTENT_ENCODING, "aes128gcm")
            .header("TTL", self.ttl.to_string())
            .header("Urgency", "high")
            .header(hyper::header::AUTHORIZATION, authorization)
            .header(
                hyper::header::USER_AGENT,
                concat!("twofold/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(r) => r,
            Err(_) => return Outcome::Refused,
        };
        match tokio::time::timeout(self.timeout, self.client.request(request)).await {
            Err(_) => Outcome::Failed(format!("no answer within {:?}", self.timeout)),
            // The error's text names the host at most, never the path (a capability).
            Ok(Err(e)) => Outcome::Failed(format!("request failed: {}", error_kind(&e))),
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                match status {
                    200..=299 => Outcome::Sent,
                    404 | 410 => Outcome::Gone(status),
                    _ => Outcome::Failed(format!("status {status}")),
                }
            }
        }
    }
}

fn error_kind(e: &hyper_util::client::legacy::Error) -> &'static str {
    if e.is_connect() {
        "cannot connect"
    } else {
        "connection failed"
    }
}
