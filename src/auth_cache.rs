//! The forward-auth fast path: a bounded, short-lived, in-process cache of who a session
//! token or app password stands for (user, groups, factors), so that a check costs a
//! hash and a map lookup instead of three queries.
//!
//! Never stale: every change to a user's sessions, account, memberships or app passwords
//! drops the user's entries — made here, synchronously (`store::changes`); made elsewhere,
//! through `notify` (PostgreSQL NOTIFY, the SQLite change log). While that feed is down
//! nothing is answered from the cache. Races are settled by numbers: a reader takes a
//! [`Ticket`] *before* it reads the database, and its entry only counts if no change to
//! that user was announced after the ticket. Only positive answers are kept: a refusal is
//! always asked of the database again, so a fresh login never waits for an entry to expire.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue};

use crate::store::changes::{Change, Changes};

/// Who a credential stands for, as forward-auth needs it.
#[derive(Debug)]
pub struct Principal {
    pub uid: String,
    pub second_factor: bool,
    pub groups: Vec<String>,
    /// The `Remote-*` answer headers, built once.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The credential's own expiry (a session's `expires_at`).
    pub valid_until: i64,
    /// When the database must be asked again even without a change (to record the
    /// credential's use, which the slow path does every minute).
    pub refresh_at: i64,
    /// App passwords: the address their last use was recorded from (another address is
    /// recorded at once, so it takes the slow path).
    pub ip: String,
}

/// A principal as kept: with the ticket it was read under.
#[derive(Debug)]
pub struct Entry {
    pub who: Principal,
    ticket: u64,
}

/// Taken before reading the database; see the module comment.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

#[derive(Clone)]
pub struct AuthCache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    entries: moka::sync::Cache<String, Arc<Entry>>,
    counter: AtomicU64,
    /// Entries with a ticket at or below this are dead (a change to anyone, or to all).
    flushed: AtomicU64,
    /// The counter at the latest change of each user, with when it happened (kept one
    /// time-to-live: older entries are gone anyway).
    changed: RwLock<HashMap<String, (u64, Instant)>>,
    changes: Changes,
    ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Hit and miss counts since the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

impl AuthCache {
    /// `ttl` zero: no cache (every check asks the database).
    pub fn new(changes: &Changes, ttl: Duration, capacity: u64) -> Self {
        if ttl.is_zero() || capacity == 0 {
            return Self { inner: None };
        }
        let inner = Arc::new(Inner {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            counter: AtomicU64::new(1),
            flushed: AtomicU64::new(0),
            changed: RwLock::new(HashMap::new()),
            changes: changes.clone(),
            ttl,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&inner);
        changes.subscribe(move |change| {
            if let Some(inner) = weak.upgrade() {
                inner.forget(change);
            }
        });
        Self { inner: Some(inner) }
    }

    /// A ticket for an entry about to be read from the database; `None` when nothing
    /// may be cached now (no cache, or the change feed is down).
    pub fn ticket(&self) -> Option<Ticket> {
        let inner = self.inner.as_ref()?;
        if !inner.changes.is_live() {
            return None;
        }
        Some(Ticket(inner.counter.fetch_add(1, Ordering::SeqCst) + 1))
    }

    /// The entry for `key` if it is still good at `now`.
    pub fn get(&self, key: &str, now: i64) -> Option<Arc<Entry>> {
        let inner = self.inner.as_ref()?;
        let found = inner
            .changes
            .is_live()
            .then(|| inner.entries.get(key))
            .flatten()
            .filter(|e| now < e.who.valid_until && now < e.who.refresh_at && inner.current(e));
        let counter = if found.is_some() {
            &inner.hits
        } else {
            &inner.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Makes the entry for what was read with `ticket`, and keeps it under `key` unless a
    /// change came after the ticket (or nothing may be kept now).
    pub fn keep(&self, key: Option<String>, ticket: Option<Ticket>, who: Principal) -> Arc<Entry> {
        let entry = Arc::new(Entry {
            who,
            ticket: ticket.map_or(0, |t| t.0),
        });
        if let (Some(inner), Some(key), Some(_)) = (self.inner.as_ref(), key, ticket)
            && inner.changes.is_live()
            && inner.current(&entry)
        {
            inner.entries.insert(key, entry.clone());
        }
        entry
    }

    pub fn stats(&self) -> CacheStats {
        match &self.inner {
            Some(i) => CacheStats {
                hits: i.hits.load(Ordering::Relaxed),
                misses: i.misses.load(Ordering::Relaxed),
            },
            None => CacheStats { hits: 0, misses: 0 },
        }
    }
}

impl Inner {
    /// No change to everyone, or to this user, since the entry's ticket.
    fn current(&self, e: &Entry) -> bool {
        if e.ticket <= self.flushed.load(Ordering::SeqCst) {
            return false;
        }
        match self.changed.read() {
            Ok(changed) => changed.get(&e.who.uid).is_none_or(|(at, _)| e.ticket > *at),
            // A poisoned lock: trust nothing.
            Err(_) => false,
        }
    }

    fn forget(&self, change: &Change) {
        // A push prompt changes nothing about who may pass.
        if matches!(change, Change::Approval(_)) {
            return;
        }
        let n = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        match change {
            Change::Approval(_) => {}
            Change::All => {
                self.flushed.fetch_max(n, Ordering::SeqCst);
                self.entries.invalidate_all();
            }
            Change::User(uid) => {
                let Ok(mut changed) = self.changed.write() else {
                    self.flushed.fetch_max(n, Ordering::SeqCst);
                    return;
                };
                changed.insert(uid.clone(), (n, Instant::now()));
                // An entry lives one time-to-live: older marks can no longer matter,
                // except to a read that began before one and is still running (a
                // stalled query): tickets up to the newest forgotten mark are refused.
                if changed.len() > 1024 {
                    let ttl = self.ttl;
                    let mut forgotten = 0;
                    changed.retain(|_, (mark, at)| {
                        let keep = at.elapsed() <= ttl;
                        if !keep {
                            forgotten = forgotten.max(*mark);
                        }
                        keep
                    });
                    self.flushed.fetch_max(forgotten, Ordering::SeqCst);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(uid: &str) -> Principal {
        Principal {
            uid: uid.into(),
            second_factor: true,
            groups: vec![],
            headers: vec![],
            valid_until: 1_000,
            refresh_at: 500,
            ip: String::new(),
        }
    }

    fn live_cache() -> (Changes, AuthCache) {
        let changes = Changes::default();
        let cache = AuthCache::new(&changes, Duration::from_secs(60), 100);
        changes.set_live(true);
        (changes, cache)
    }

    #[test]
    fn an_entry_is_served_until_its_user_changes() {
        let (changes, cache) = live_cache();
        let t = cache.ticket().unwrap();
        cache.keep(Some("k".into()), Some(t), entry("alice"));
        assert_eq!(cache.get("k", 100).unwrap().who.uid, "alice");
        changes.user("bob");
        assert!(cache.get("k", 100).is_some(), "another user's change");
        changes.user("alice");
        assert!(cache.get("k", 100).is_none());
        assert_eq!(cache.stats(), CacheStats { hits: 2, misses: 1 });
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let (changes, cache) = live_cache();
        // The ticket is taken, the database read, then the change lands: the read may
        // hold the old state, so it must not be kept.
        let t = cache.ticket().unwrap();
        changes.user("alice");
        cache.keep(Some("k".into()), Some(t), entry("alice"));
        assert!(cache.get("k", 100).is_none());
        // A ticket taken after the change is fine.
        let t = cache.ticket().unwrap();
        cache.keep(Some("k".into()), Some(t), entry("alice"));
        assert!(cache.get("k", 100).is_some());
    }

    #[test]
    fn expiry_refresh_and_a_dead_feed_all_mean_the_database() {
        let (changes, cache) = live_cache();
        let t = cache.ticket().unwrap();
        cache.keep(Some("k".into()), Some(t), entry("alice"));
        assert!(cache.get("k", 499).is_some());
        assert!(cache.get("k", 500).is_none(), "refresh due");
        changes.set_live(false);
        assert!(cache.ticket().is_none());
        changes.set_live(true);
        assert!(
            cache.get("k", 100).is_none(),
            "dropped when the feed went down"
        );
        let t = cache.ticket().unwrap();
        changes.emit(&Change::All);
        cache.keep(Some("k".into()), Some(t), entry("alice"));
        assert!(cache.get("k", 100).is_none());
    }

    #[test]
    fn a_zero_ttl_means_no_cache() {
        let changes = Changes::default();
        changes.set_live(true);
        let cache = AuthCache::new(&changes, Duration::ZERO, 100);
        assert!(cache.ticket().is_none());
    }
}
