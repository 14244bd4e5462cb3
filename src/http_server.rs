//! The accept loop. `axum::serve` has no knob for slow or idle clients, so connections are
//! served here with hyper-util (as axum's own `serve` does), adding what a server on the
//! open internet needs (SPEC §9):
//! - a header-read timeout, which in hyper also bounds how long a connection may sit idle
//!   before its first or next request, so half-sent and idle connections are closed;
//! - HTTP/1 only: hyper-util's automatic HTTP/1-or-2 detection waits for a connection's
//!   first bytes with no timeout at all, so a client that connects and sends nothing
//!   would hold its connection forever. twofold sits behind reverse proxies, which speak
//!   HTTP/1.1 to it;
//! - a cap on open connections: past it a new connection is closed at once instead of
//!   using up file descriptors that `/healthz` and real users need; and a cap per client
//!   address (an IPv6 /64), so that one client cannot take every slot (trusted proxies,
//!   through which every request comes, are not capped);
//! - a bound on the request head hyper buffers (`max_header_bytes`): a client sending
//!   endless headers gets 431 instead of making the server hold them;
//! - a raised open-files soft limit (to the hard limit), so the cap, not the common
//!   default of 1024, is what binds.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Connection limits from `[server]`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub per_address: usize,
    /// How many leading bits of an IPv6 address make one client (`throttle.ipv6_prefix`).
    pub ipv6_prefix: u32,
    pub max_header_bytes: usize,
    /// Peers not counted per address (the trusted proxies).
    pub uncapped: Vec<IpAddr>,
}

/// The part of a peer address one client holds: an IPv4 address or an IPv6 prefix of
/// `ipv6_prefix` bits (`throttle.ipv6_prefix`, as the throttle counts it).
fn client_of(ip: IpAddr, ipv6_prefix: u32) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(crate::throttle::mask_ipv6(v6, ipv6_prefix)),
        },
    }
}

/// Open connections per client; a slot is given back when its guard drops.
#[derive(Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct AddressSlot(PerAddress, IpAddr);

impl PerAddress {
    fn take(&self, ip: IpAddr, cap: usize) -> Option<AddressSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(AddressSlot(self.clone(), ip))
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = (self.0).0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// Raises the soft open-files limit as far as the hard limit allows; returns the result.
pub fn raise_open_files_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting and lets
/// the requests in flight finish (at most 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        .keep_alive(true);
    let per_address = PerAddress::default();
    let builder = Arc::new(builder);
    let (closing, closed) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, never spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "too many open connections: closing a new one");
            drop(stream);
            continue;
        };
        let slot = if limits.uncapped.contains(&peer.ip()) {
            None
        } else {
            match per_address.take(client_of(peer.ip(), limits.ipv6_prefix), limits.per_address) {
                Some(slot) => Some(slot),
                None => {
                    tracing::warn!(%peer, "too many open connections from one address: closing a new one");
                    drop(stream);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                app.clone().oneshot(req)
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                _ = closed.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                }
            }
            drop(slot);
            drop(permit);
        });
    }
    let _ = closing.send(true);
    // Wait for the connections to drain: every permit back, or 10 s.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(10), open.acquire_many(all)).await;
    Ok(())
}
