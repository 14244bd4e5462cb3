//! Brute-force throttling of guessable secrets, kept in the database so that every
//! instance sees the same counters.
//!
//! Every counter is a leaky bucket (GCRA, the generic cell rate algorithm): it holds up
//! to `burst` attempts and drains one every `interval_secs`, whatever else happens. It is
//! stored as one integer, the time at which it would be empty (`tat`). So a shared
//! address with a steady trickle of typos never fills, a success never pushes anything
//! forward, and a refusal tells exactly how long to wait.
//!
//! Three rules keep an attacker from turning it against the victim (SPEC §9):
//! - buckets drain on their own: no key stays refused for longer than its interval once
//!   the attempts stop, and a success only gives its own attempt back;
//! - the account's own bucket has a short interval ([`ACCOUNT`]), so it may slow, never
//!   lock; slower rates are only for the client's bucket (its address, or its device);
//! - a browser that has signed in as the user before (a signed device cookie, OWASP
//!   "device cookies") is counted in its own bucket only, neither in the account's nor in
//!   its address's, so strangers' failures never slow it.
//!
//! An attempt is *reserved* before the secret is checked: one conditional statement per
//! key counts it, or refuses when the key is full. Parallel guesses therefore cannot all
//! pass a check made before any of them is recorded.

pub mod device;

use crate::audit::{Actor, Audit, Event};
use crate::error::AppError;
use crate::store::Store;

/// The rate of one kind of bucket: `burst` attempts at once, then one per
/// `interval_secs` in the long run. A refused attempt waits at most `interval_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Attempts a full bucket holds: how many may come at once.
    pub burst: i64,
    /// Seconds for one attempt to drain: the long-run rate is one per interval.
    pub interval_secs: i64,
}

impl Limits {
    /// The GCRA step, the same as the SQL of `Store::throttle_take` (a test checks they
    /// agree): an attempt at `now` on a bucket empty at `tat` (or empty, `None`) is taken,
    /// giving the new `tat`, or refused, giving the seconds to wait.
    pub fn take(self, tat: Option<i64>, now: i64) -> Result<i64, i64> {
        let from = tat.map_or(now, |tat| tat.max(now));
        let next = from + self.interval_secs;
        if next - now <= self.burst * self.interval_secs {
            Ok(next)
        } else {
            Err(self.wait(from, now))
        }
    }

    /// Seconds until a bucket empty at `tat` takes an attempt again (0: it takes one now).
    pub fn wait(self, tat: i64, now: i64) -> i64 {
        (tat - now - (self.burst - 1) * self.interval_secs).max(0)
    }

    /// Attempts in a bucket empty at `tat`, at `now` (rounded up).
    pub fn level(self, tat: i64, now: i64) -> i64 {
        let ahead = (tat - now).max(0);
        (ahead + self.interval_secs - 1) / self.interval_secs
    }
}

/// The account's bucket: anyone can fill it by knowing the name, so it may only slow,
/// never lock: five at once, then one per 25 s (Nextcloud caps its delay at 25 s too).
pub const ACCOUNT: Limits = Limits {
    burst: 5,
    interval_secs: 25,
};

/// The client's own bucket (a known device; the address for passwordless answers): only
/// its own failures fill it. Five at once, then one per 3 minutes (480 a day): a person
/// who mistypes five times in a row waits 3 minutes at most.
pub const CLIENT: Limits = Limits {
    burst: 5,
    interval_secs: 180,
};

/// An address's bucket for guesses across accounts. An address is shared (an office
/// behind NAT, a school, a carrier) and an attempt counts from its reservation until it is
/// settled, so several people signing in at the same moment hold several reservations at
/// once: with 5 free, 8 concurrent correct TOTP answers from one address got 27% refusals
/// (`bench/challenges.sh 100 8`), hence a burst of 20. One per 40 s drains a typo a
/// minute with room to spare, and holds 1 000 guesses across accounts to about 11 hours
/// ((1000 - 20) × 40 s). Each account keeps its own bucket besides.
pub const ADDRESS: Limits = Limits {
    burst: 20,
    interval_secs: 40,
};

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

/// The buckets of an attempt at `what` (password, 2fa, …) on `uid` from `client`, in the
/// order they are checked. A browser that signed in as `uid` before (`device`) counts in
/// its own bucket only. Otherwise the address comes first, so that a refusal there
/// leaves nothing behind in the account's bucket.
/// Names are cut to 64 characters (the longest uid) so that garbage cannot make huge keys.
pub fn buckets(what: &'static str, uid: &str, ip: &str, device: Option<&str>) -> Vec<Bucket> {
    // Control characters (NUL above all) cannot be stored as text in PostgreSQL.
    let uid: String = uid
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if let Some(id) = device {
        return vec![Bucket {
            key: format!("{what}:dev:{id}"),
            limits: CLIENT,
            cleared_by_success: true,
            target: uid,
            action: what,
            kind: "device",
        }];
    }
    vec![
        Bucket {
            key: format!("{what}:ip:{}", address_key(ip)),
            limits: ADDRESS,
            cleared_by_success: false,
            target: uid.clone(),
            action: what,
            kind: "ip",
        },
        Bucket {
            // One bucket per account whatever the case typed (`DAVE` is `Dave`).
            key: format!("{what}:acct:{}", uid.to_ascii_lowercase()),
            limits: ACCOUNT,
            cleared_by_success: true,
            target: uid,
            action: what,
            kind: "account",
        },
    ]
}

/// Starting client login flows: each start stores a row until it expires, and a person
/// starts one when setting up a sync client: ten at once, then one per 30 s (120 an
/// hour from one address).
pub const FLOW_STARTS: Limits = Limits {
    burst: 10,
    interval_secs: 30,
};

/// Starting passwordless sign-ins: each start stores a ceremony row; generous, since
/// many people behind one address may sign in without a password every day: 60 at once,
/// then one per 10 s (360 an hour from one address).
pub const SIGN_IN_STARTS: Limits = Limits {
    burst: 60,
    interval_secs: 10,
};

/// A bucket per client IP only, for actions that cost the server (not secrets).
/// The part of a client address that one client controls: an IPv4 address, or the
/// prefix (`throttle.ipv6_prefix`, /64 by default) of an IPv6 address (a home or a server
/// gets a whole /64: counting each of its 2^64 addresses apart would give one client that
/// many fresh buckets). IPv4-mapped IPv6 addresses count as the IPv4 address; anything
/// unparsable is kept as it is.
pub fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let bits = ipv6_prefix();
                format!("{}/{bits}", mask_ipv6(v6, bits))
            }
        },
        Err(_) => ip.to_string(),
    }
}

/// The first `bits` bits of `v6` (the rest zero).
pub fn mask_ipv6(v6: std::net::Ipv6Addr, bits: u32) -> std::net::Ipv6Addr {
    let mask = u128::MAX.checked_shl(128 - bits.min(128)).unwrap_or(0);
    std::net::Ipv6Addr::from(u128::from(v6) & mask)
}

/// The IPv6 prefix length one client is assumed to hold (RFC 6177: a /64 at least) when
/// nothing else is configured.
pub const DEFAULT_IPV6_PREFIX: u32 = 64;

/// `throttle.ipv6_prefix`, set once at start (`AppState::new`). Process-wide rather than
/// passed along: every bucket of every adapter is keyed by it, and one process serves
/// one configuration.
static IPV6_PREFIX: std::sync::atomic::AtomicU32 =
    std::sync::atomic::AtomicU32::new(DEFAULT_IPV6_PREFIX);

/// Sets the IPv6 prefix one client holds (checked at config load: 32 to 128).
pub fn set_ipv6_prefix(bits: u32) {
    IPV6_PREFIX.store(bits.clamp(32, 128), std::sync::atomic::Ordering::Relaxed);
}

pub fn ipv6_prefix() -> u32 {
    IPV6_PREFIX.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn ip_bucket(what: &'static str, ip: &str, limits: Limits) -> Vec<Bucket> {
    vec![Bucket {
        key: format!("{what}:ip:{}", address_key(ip)),
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
    /// nothing) while any bucket is full. An attempt that fills a bucket is recorded in
    /// the audit trail (so at most once per interval while attempts keep coming).
    pub async fn reserve(
        &self,
        buckets: Vec<Bucket>,
        actor: &Actor,
        now: i64,
    ) -> Result<Reservation, AppError> {
        for (i, b) in buckets.iter().enumerate() {
            let reserved = self.reserve_one(b, now).await;
            if let Ok(tat) = reserved
                && b.limits.level(tat, now) == b.limits.burst
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
                    let _ = self
                        .store
                        .throttle_release(&done.key, done.limits.interval_secs)
                        .await;
                }
                return Err(e);
            }
        }
        Ok(Reservation { buckets })
    }

    /// Reserves in one bucket; returns when it will be empty again.
    async fn reserve_one(&self, b: &Bucket, now: i64) -> Result<i64, AppError> {
        let Limits {
            burst,
            interval_secs,
        } = b.limits;
        for _ in 0..RESERVE_TRIES {
            if let Some(tat) = self
                .store
                .throttle_take(&b.key, now, burst, interval_secs)
                .await?
            {
                return Ok(tat);
            }
            // Full: how long to wait. Zero when the bucket was emptied in between (a
            // success, a purge): again.
            let tat = self.store.throttle_tat(&b.key).await?;
            let wait = tat.map_or(0, |tat| b.limits.wait(tat, now));
            if wait > 0 {
                return Err(AppError::TooManyAttempts(wait));
            }
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
    /// address's gets its reservation back. Nothing is pushed forward.
    pub async fn succeeded(&self, r: Reservation) -> Result<(), AppError> {
        for b in &r.buckets {
            if b.cleared_by_success {
                self.store.throttle_reset(&b.key).await?;
            } else {
                self.store
                    .throttle_release(&b.key, b.limits.interval_secs)
                    .await?;
            }
        }
        Ok(())
    }

    /// The attempt did not check a secret after all (e.g. bad input): give it back.
    pub async fn cancelled(&self, r: Reservation) -> Result<(), AppError> {
        for b in &r.buckets {
            self.store
                .throttle_release(&b.key, b.limits.interval_secs)
                .await?;
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
    fn defect_24_2_ipv6_addresses_count_by_their_64_prefix() {
        let a = buckets("password", "alice", "2001:db8:9:9::1", None);
        let b = buckets("password", "alice", "2001:db8:9:9:ffff:1:2:30", None);
        let other = buckets("password", "alice", "2001:db8:9:a::1", None);
        let ip = |b: &[Bucket]| {
            b.iter()
                .find(|b| b.kind == "ip")
                .map(|b| b.key.clone())
                .unwrap()
        };
        assert_eq!(ip(&a), "password:ip:2001:db8:9:9::/64");
        assert_eq!(ip(&a), ip(&b), "one /64, one bucket");
        assert_ne!(ip(&a), ip(&other), "another /64");
        assert_eq!(address_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(
            ip_bucket("flow", "2001:db8::5", FLOW_STARTS)[0].key,
            "flow:ip:2001:db8::/64"
        );
    }

    #[test]
    fn defect_24_4_the_ipv6_prefix_is_a_setting() {
        let v6 = |s: &str| s.parse::<std::net::Ipv6Addr>().unwrap();
        let a = v6("2001:db8:1:2:3:4:5:6");
        assert_eq!(mask_ipv6(a, 64), v6("2001:db8:1:2::"));
        assert_eq!(mask_ipv6(a, 56), v6("2001:db8:1::"));
        assert_eq!(mask_ipv6(a, 48), v6("2001:db8:1::"));
        assert_eq!(mask_ipv6(a, 32), v6("2001:db8::"));
        assert_eq!(mask_ipv6(a, 128), a);
        // Out of range is never a panic (the config refuses it before).
        assert_eq!(mask_ipv6(a, 0), v6("::"));
        assert_eq!(mask_ipv6(a, 200), a);
    }

    /// Attempts at the given offsets from t = 1000 on an empty bucket: taken or the wait.
    fn run(limits: Limits, offsets: &[i64]) -> Vec<Result<i64, i64>> {
        let mut tat = None;
        offsets
            .iter()
            .map(|&dt| {
                let now = 1000 + dt;
                let r = limits.take(tat, now);
                if let Ok(t) = r {
                    tat = Some(t);
                }
                r.map(|t| limits.level(t, now))
            })
            .collect()
    }

    #[test]
    fn a_bucket_holds_its_burst_then_one_per_interval() {
        // Five at once, the sixth waits a whole interval; after it, one more.
        assert_eq!(
            run(ACCOUNT, &[0, 0, 0, 0, 0, 0, 24, 25, 25]),
            vec![
                Ok(1),
                Ok(2),
                Ok(3),
                Ok(4),
                Ok(5),
                Err(25),
                Err(1),
                Ok(5),
                Err(25)
            ]
        );
        // A refused attempt costs nothing, and the wait never exceeds the interval.
        assert_eq!(run(ADDRESS, &[0; 22])[20..], [Err(40), Err(40)]);
        // Empty again after burst × interval, whatever came before.
        assert_eq!(run(CLIENT, &[0, 0, 0, 0, 0, 900])[5], Ok(1));
        // A level is rounded up: one attempt 1 s ago still counts as one.
        assert_eq!(ACCOUNT.level(1024, 1000), 1);
        assert_eq!(ACCOUNT.level(900, 1000), 0);
    }

    #[test]
    fn strangers_can_only_slow_an_account() {
        for n in [6, 50, 1000] {
            let waits = run(ACCOUNT, &vec![0; n]);
            assert!(waits.iter().all(|w| matches!(w, Ok(_) | Err(1..=25))));
        }
    }

    #[test]
    fn a_known_device_replaces_both_other_buckets() {
        let b = buckets("password", "alice", "192.0.2.1", Some("d1"));
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(b[0].key, "password:dev:d1");
        assert_eq!((b[0].action, b[0].kind), ("password", "device"));
        let b = buckets("password", &"x".repeat(500), "192.0.2.1", None);
        assert_eq!(
            (b[0].key.as_str(), b[0].kind),
            ("password:ip:192.0.2.1", "ip")
        );
        assert_eq!(b[1].key.len(), "password:acct:".len() + 64);
        assert_eq!((b[1].limits, b[1].kind), (ACCOUNT, "account"));
    }
}
