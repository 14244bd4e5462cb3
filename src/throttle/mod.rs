//! Brute-force throttling of guessable secrets, kept in the database so that every
//! instance sees the same counters.
//!
//! Three rules keep an attacker from turning it against the victim (SPEC §9):
//! - failures count in a window: a key with no attempt for [`WINDOW_SECS`] starts clean;
//! - the account's own bucket has short, capped delays ([`ACCOUNT`]); long delays are
//!   only for the client's bucket (its IP, or its device cookie);
//! - a browser that has signed in as the user before (a signed device cookie, OWASP
//!   "device cookies") is counted in its own bucket, not in the account's, so strangers'
//!   failures never slow it.
//!
//! An attempt is *reserved* before the secret is checked: one conditional statement per
//! key counts it, or refuses when the key is in its delay. Parallel guesses therefore
//! cannot all pass a check made before any of them is recorded.

pub mod device;

use crate::audit::{Actor, Audit, Event};
use crate::error::AppError;
use crate::store::Store;

/// How long a failure counts.
pub const WINDOW_SECS: i64 = 12 * 3600;

/// The delays of one kind of bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures allowed before any delay.
    pub free: i64,
    /// The longest delay, in seconds.
    pub max_delay: i64,
}

/// The account's bucket: anyone can fill it by knowing the name, so it may only slow,
/// never lock (Nextcloud caps at 25 s too).
pub const ACCOUNT: Limits = Limits {
    free: 5,
    max_delay: 25,
};

/// The client's own bucket (IP or device): only its own failures fill it.
pub const CLIENT: Limits = Limits {
    free: 5,
    max_delay: 15 * 60,
};

/// An address's bucket. An address is shared (an office behind NAT, a proxy) and an
/// attempt counts from its reservation until it is settled, so several people signing
/// in at the same moment hold several reservations at once: with 5 free, 8 concurrent
/// correct TOTP answers from one address got 27% refusals (`bench/challenges.sh 100 8`).
/// Each account keeps its own bucket of 5, so this only bounds guessing across accounts.
pub const ADDRESS: Limits = Limits {
    free: 20,
    max_delay: 15 * 60,
};

/// Seconds to wait after the last attempt, given the attempts already counted.
pub fn delay_for(failures: i64, limits: Limits) -> i64 {
    if failures < limits.free {
        return 0;
    }
    let exp = (failures - limits.free + 1).min(20) as u32;
    2i64.pow(exp).min(limits.max_delay)
}

/// One counter: what is guessed at (`what`), by whom or against whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub key: String,
    pub limits: Limits,
    /// Whether a success clears it: yes for the account and device; no for an IP, where
    /// one account's success must not clear what that IP did against others.
    pub cleared_by_success: bool,
    /// The account the attempt is on (for the audit trail), or empty.
    pub target: String,
    /// What is attempted (`password`, `2fa`, …) and the kind of bucket (`account`,
    /// `device`, `ip`): the labels of a refusal in the metrics.
    pub action: &'static str,
    pub kind: &'static str,
}

/// The buckets of an attempt at `what` (password, 2fa, …) on `uid` from `client`.
/// Names are cut to 64 characters (the longest uid) so that garbage cannot make huge keys.
pub fn buckets(what: &'static str, uid: &str, ip: &str, device: Option<&str>) -> Vec<Bucket> {
    // Control characters (NUL above all) cannot be stored as text in PostgreSQL.
    let uid: String = uid
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let first = match device {
        Some(id) => Bucket {
            key: format!("{what}:dev:{id}"),
            limits: CLIENT,
            cleared_by_success: true,
            target: uid.clone(),
            action: what,
            kind: "device",
        },
        None => Bucket {
            key: format!("{what}:acct:{uid}"),
            limits: ACCOUNT,
            cleared_by_success: true,
            target: uid.clone(),
            action: what,
            kind: "account",
        },
    };
    vec![
        first,
        Bucket {
            key: format!("{what}:ip:{ip}"),
            limits: ADDRESS,
            cleared_by_success: false,
            target: uid,
            action: what,
            kind: "ip",
        },
    ]
}

/// Starting client login flows: each start stores a row, so a client gets a few, then
/// short delays.
pub const FLOW_STARTS: Limits = Limits {
    free: 10,
    max_delay: 60,
};

/// Starting passwordless sign-ins: each start stores a ceremony row; generous, since
/// many people behind one address may sign in without a password every day.
pub const SIGN_IN_STARTS: Limits = Limits {
    free: 60,
    max_delay: 10,
};

/// A bucket per client IP only, for actions that cost the server (not secrets).
pub fn ip_bucket(what: &'static str, ip: &str, limits: Limits) -> Vec<Bucket> {
    vec![Bucket {
        key: format!("{what}:ip:{ip}"),
        limits,
        cleared_by_success: false,
        target: String::new(),
        action: what,
        kind: "ip",
    }]
}

/// How often a reservation retries when other requests change the same counter.
const RESERVE_TRIES: usize = 8;

#[derive(Clone)]
pub struct Throttle {
    store: Store,
    audit: Audit,
}

/// An attempt counted in advance in every bucket; settle it with
/// [`Throttle::succeeded`] or leave it counted as a failure.
#[must_use]
pub struct Reservation {
    buckets: Vec<Bucket>,
}

impl Throttle {
    pub fn new(store: Store, audit: Audit) -> Self {
        Self { store, audit }
    }

    /// Counts an attempt in every bucket, or refuses with `TooManyAttempts` (and counts
    /// nothing) while any bucket is in its delay. A bucket that reaches its first delay is
    /// recorded in the audit trail (once per run of failures, not per refusal).
    pub async fn reserve(
        &self,
        buckets: Vec<Bucket>,
        actor: &Actor,
        now: i64,
    ) -> Result<Reservation, AppError> {
        for (i, b) in buckets.iter().enumerate() {
            let reserved = self.reserve_one(b, now).await;
            if let Ok(count) = reserved
                && count == b.limits.free
            {
                let kind = b.key.split(':').take(2).collect::<Vec<_>>().join(":");
                self.audit
                    .record(Event::ThrottleTriggered, actor, &b.target, &kind, now)
                    .await?;
            }
            if let Err(e) = reserved {
                if matches!(e, AppError::TooManyAttempts(_)) {
                    crate::metrics::throttle_refused(b.action, b.kind);
                }
                for done in &buckets[..i] {
                    // Best effort: a refusal must not also count as a failure.
                    let _ = self.store.throttle_release(&done.key).await;
                }
                return Err(e);
            }
        }
        Ok(Reservation { buckets })
    }

    /// Reserves in one bucket; returns the count of attempts now in its window.
    async fn reserve_one(&self, b: &Bucket, now: i64) -> Result<i64, AppError> {
        let Limits { free, max_delay } = b.limits;
        for _ in 0..RESERVE_TRIES {
            if let Some(count) = self
                .store
                .throttle_take(&b.key, now, WINDOW_SECS, free, max_delay)
                .await?
            {
                return Ok(count);
            }
            // No row yet, or in the delay: which one, and how long to wait.
            let Some((failures, last)) = self.store.throttle(&b.key).await? else {
                if self.store.throttle_insert(&b.key, now).await? {
                    return Ok(1);
                }
                continue;
            };
            let counted = if now - last >= WINDOW_SECS {
                0
            } else {
                failures
            };
            let wait = last + delay_for(counted, b.limits) - now;
            if counted > 0 && wait > 0 {
                return Err(AppError::TooManyAttempts(wait));
            }
            // Changed between the two statements (reset by a success): again.
        }
        // Many requests on one counter at once: refusing is the safe answer.
        Err(AppError::TooManyAttempts(1))
    }

    /// Counts one use of something that costs the server (not a guess: a flow started, a
    /// passwordless sign-in begun) against the client's address, or refuses while it is in
    /// its delay.
    pub async fn count_use(
        &self,
        what: &'static str,
        client: &crate::sessions::ClientInfo,
        limits: Limits,
        now: i64,
    ) -> Result<(), AppError> {
        let actor = Actor::client("", client);
        self.reserve(ip_bucket(what, &client.ip, limits), &actor, now)
            .await?
            .keep();
        Ok(())
    }

    /// The secret was right: the account's (or device's) bucket starts clean and the
    /// IP's gets its reservation back.
    pub async fn succeeded(&self, r: Reservation) -> Result<(), AppError> {
        for b in &r.buckets {
            if b.cleared_by_success {
                self.store.throttle_reset(&b.key).await?;
            } else {
                self.store.throttle_release(&b.key).await?;
            }
        }
        Ok(())
    }

    /// The attempt did not check a secret after all (e.g. bad input): give it back.
    pub async fn cancelled(&self, r: Reservation) -> Result<(), AppError> {
        for b in &r.buckets {
            self.store.throttle_release(&b.key).await?;
        }
        Ok(())
    }
}

impl Reservation {
    /// The secret was wrong: the attempt stays counted.
    pub fn failed(self) {}

    /// Not a guess, but a use that counts (a flow started): it stays counted.
    pub fn keep(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(delay_for(0, CLIENT), 0);
        assert_eq!(delay_for(4, CLIENT), 0);
        assert_eq!(delay_for(5, CLIENT), 2);
        assert_eq!(delay_for(6, CLIENT), 4);
        assert_eq!(delay_for(10, CLIENT), 64);
        assert_eq!(delay_for(15, CLIENT), 900);
        assert_eq!(delay_for(1000, CLIENT), 900);
        assert_eq!(
            delay_for(1000, ACCOUNT),
            25,
            "strangers can only slow an account"
        );
    }

    #[test]
    fn a_known_device_replaces_the_account_bucket() {
        let b = buckets("password", "alice", "192.0.2.1", Some("d1"));
        assert_eq!(b[0].key, "password:dev:d1");
        assert_eq!(b[1].key, "password:ip:192.0.2.1");
        assert_eq!(
            (b[0].action, b[0].kind, b[1].kind),
            ("password", "device", "ip")
        );
        let b = buckets("password", &"x".repeat(500), "192.0.2.1", None);
        assert_eq!(b[0].key.len(), "password:acct:".len() + 64);
        assert_eq!((b[0].limits, b[0].kind), (ACCOUNT, "account"));
    }
}
