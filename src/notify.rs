//! The notification port: changes made by other processes reach this one.
//!
//! - PostgreSQL: triggers `NOTIFY twofold_auth, '<uid>'` on commit (migration 0006); this
//!   instance `LISTEN`s on a connection of its own (`PgListener`: the `Any` pool cannot
//!   LISTEN). When that connection drops, or goes quiet and then fails to answer a probe
//!   query, the feed is marked down (and every cache entry dropped) until it is back:
//!   answers then come from the database, never from a cache that may have missed a
//!   change.
//! - SQLite: one process serves, but the CLI may change the file beside it. Triggers log the
//!   user in `auth_changes`, read here every [`SQLITE_POLL`]; changes the server makes
//!   itself reach the cache synchronously through [`crate::store::changes`].
//!
//! Push approvals use the same port: `NOTIFY twofold_push, '<uid>'` when a prompt is opened
//! or decided, so that a login waiting on one instance hears an approval given on another.

use std::time::Duration;

use crate::store::changes::Change;
use crate::store::{Backend, Store};

pub const CHANNEL: &str = "twofold_auth";
/// How often the SQLite log is read: the longest a CLI change waits to reach the cache.
pub const SQLITE_POLL: Duration = Duration::from_millis(100);
/// How long the LISTEN connection may be quiet before it must prove it is still there
/// (and how long it has to answer).
const LISTEN_PROBE: Duration = Duration::from_secs(1);
/// How long log rows are kept (several polls' worth; a restarted server starts at the end).
const SQLITE_KEEP_SECS: i64 = 60;

/// Starts the feed in the background for as long as the process runs.
pub fn start(store: Store, database_url: String) {
    match store.backend() {
        Backend::Postgres => {
            tokio::spawn(listen_postgres(store, database_url));
        }
        Backend::Sqlite => {
            tokio::spawn(poll_sqlite(store));
        }
    }
}

async fn listen_postgres(store: Store, url: String) {
    let changes = store.changes().clone();
    let mut backoff = Duration::from_millis(50);
    loop {
        match connect_listener(&url).await {
            Ok(mut listener) => {
                backoff = Duration::from_millis(50);
                changes.set_live(true);
                tracing::info!("listening for changes from other instances");
                // `Ok(None)`: the connection was lost; what was sent meanwhile is gone:
                // down until a new LISTEN.
                while let Some(n) = next_notification(&mut listener).await {
                    let uid = n.payload().to_string();
                    changes.emit(&if n.channel() == crate::store::push_approvals::CHANNEL {
                        Change::Approval(uid)
                    } else {
                        Change::User(uid)
                    });
                }
                changes.set_live(false);
                tracing::warn!("lost the change feed; answering from the database only");
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for changes; answering from the database only");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// The next notification; `None` once the connection is lost or cannot be heard from.
///
/// A connection can also go silent without an error or an end of stream (a network path
/// that drops packets, a failover behind a virtual address): after [`LISTEN_PROBE`] of
/// quiet it must answer a query within as long again, so that such a feed is down within
/// two probes instead of the cache trusting it until its entries' refresh.
async fn next_notification(
    listener: &mut sqlx::postgres::PgListener,
) -> Option<sqlx::postgres::PgNotification> {
    loop {
        // `try_recv` is cancel-safe: a message is taken only once it has fully arrived.
        match tokio::time::timeout(LISTEN_PROBE, listener.try_recv()).await {
            Ok(Ok(n)) => return n,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "the change feed failed");
                return None;
            }
            // Notifications that arrive during the probe are buffered by sqlx and come
            // out of the next `try_recv`.
            Err(_quiet) => {
                // Named, so that `pg_stat_activity` tells what this connection is.
                let probe = sqlx::query("SELECT 1 AS twofold_change_feed").execute(&mut *listener);
                if !matches!(tokio::time::timeout(LISTEN_PROBE, probe).await, Ok(Ok(_))) {
                    return None;
                }
            }
        }
    }
}

async fn connect_listener(url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(&crate::store::connect_url(url)).await?;
    // By default sqlx reconnects *before* `try_recv` reports the loss, and the feed would
    // look live (the cache answering) for as long as that takes, while every change is
    // missed. Reported at once instead, the feed is down before anything is missed.
    listener.eager_reconnect(false);
    listener
        .listen_all([CHANNEL, crate::store::push_approvals::CHANNEL])
        .await?;
    Ok(listener)
}

async fn poll_sqlite(store: Store) {
    let changes = store.changes().clone();
    let mut last: Option<i64> = None;
    let mut ticker = tokio::time::interval(SQLITE_POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut polls: u64 = 0;
    loop {
        ticker.tick().await;
        polls += 1;
        let read = match last {
            None => store.last_auth_change().await.map(|seq| (seq, Vec::new())),
            Some(after) => store.auth_changes_after(after).await,
        };
        match read {
            Ok((seq, uids)) => {
                for uid in uids {
                    changes.emit(&Change::User(uid));
                }
                last = Some(seq);
                if !changes.is_live() {
                    changes.set_live(true);
                }
            }
            // Closed at shutdown: nothing is wrong, and nothing more to read.
            Err(_) if store.is_closed() => return,
            Err(e) => {
                if changes.is_live() {
                    tracing::warn!(error = %e, "cannot read the change log; answering from the database only");
                    changes.set_live(false);
                }
                last = None;
            }
        }
        // Pruning is a write: once every few seconds is enough.
        if polls.is_multiple_of(50) {
            let cutoff = crate::clock::now() - SQLITE_KEEP_SECS;
            if let Err(e) = store.prune_auth_changes(cutoff).await {
                tracing::debug!(error = %e, "cannot prune the change log");
            }
        }
    }
}
