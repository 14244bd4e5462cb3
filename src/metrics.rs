//! Prometheus metrics: every name and label twofold exports, the functions that record
//! them, and the rendering of `GET /metrics` (docs/metrics.md). Recording goes through the
//! `metrics` facade, a no-op until [`install`] sets the Prometheus recorder, which `serve`
//! does only when metrics are configured. This module imports nothing from the rest of
//! the crate, so every layer may record without an import circle.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `twofold_logins_total` | counter | `method` (`password`, `passwordless`), `result` ([`LoginResult`]) |
//! | `twofold_second_factor_attempts_total` | counter | `provider` (the provider's id), `result` ([`FactorResult`]) |
//! | `twofold_throttle_refusals_total` | counter | `action` (`password`, `2fa`, `passwordless`, `passwordless-begin`, `flow`), `bucket` (`account`, `device`, `ip`) |
//! | `twofold_forward_auth_decisions_total` | counter | `outcome` ([`ForwardAuthOutcome`]) |
//! | `twofold_forward_auth_duration_seconds` | histogram | none; buckets [`FORWARD_AUTH_BUCKETS`] |
//! | `twofold_forward_auth_cache_hits_total` | counter | none |
//! | `twofold_forward_auth_cache_misses_total` | counter | none |
//! | `twofold_web_push_deliveries_total` | counter | `result` (`sent`, `gone`, `failed`, `dropped`) |
//! | `twofold_db_pool_connections` | gauge | none: connections open in the pool |
//! | `twofold_db_pool_idle_connections` | gauge | none: of those, idle |
//! | `twofold_db_pool_max_connections` | gauge | none: `database.max_connections` |
//!
//! The forward-auth cache and pool figures are read when `/metrics` is rendered, not
//! counted on the hot path; the cache hit ratio is left to the reader
//! (`rate(hits) / (rate(hits) + rate(misses))`). Label values are `&'static str`: a
//! forward-auth answer records with keys built at compile time (no allocation); the
//! two-label counters of logins, challenges and throttling build a small key per event,
//! on paths that hash a password or write to the database anyway.

use std::fmt::Write as _;
use std::time::Duration;

use metrics::{Key, Label, Level, Metadata, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const LOGINS: &str = "twofold_logins_total";
pub const SECOND_FACTOR_ATTEMPTS: &str = "twofold_second_factor_attempts_total";
pub const THROTTLE_REFUSALS: &str = "twofold_throttle_refusals_total";
pub const FORWARD_AUTH_DECISIONS: &str = "twofold_forward_auth_decisions_total";
pub const FORWARD_AUTH_DURATION: &str = "twofold_forward_auth_duration_seconds";
pub const CACHE_HITS: &str = "twofold_forward_auth_cache_hits_total";
pub const CACHE_MISSES: &str = "twofold_forward_auth_cache_misses_total";
pub const WEB_PUSH_DELIVERIES: &str = "twofold_web_push_deliveries_total";
pub const POOL_CONNECTIONS: &str = "twofold_db_pool_connections";
pub const POOL_IDLE: &str = "twofold_db_pool_idle_connections";
pub const POOL_MAX: &str = "twofold_db_pool_max_connections";

/// Upper bounds of the forward-auth latency buckets, in seconds: a cached answer takes
/// tens of microseconds, one that asks the database about a millisecond.
pub const FORWARD_AUTH_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
];

/// An enum of label values, each with its label built at compile time.
macro_rules! label_values {
    ($(#[$meta:meta])* $name:ident, $label:literal {
        $($(#[$vmeta:meta])* $variant:ident => $value:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// The label, ready for a key built at compile time.
            pub fn label(self) -> &'static [Label] {
                match self {
                    $($name::$variant => {
                        static LABEL: [Label; 1] = [Label::from_static_parts($label, $value)];
                        &LABEL
                    })+
                }
            }
        }
    };
}

label_values!(
    /// How a sign-in was attempted.
    LoginMethod, "method" {
        Password => "password",
        /// With a credential that signs in alone, without the password.
        Passwordless => "passwordless",
    }
);

label_values!(
    /// How a sign-in attempt ended, decided once per attempt by the login use case.
    LoginResult, "result" {
        /// Signed in, nothing more to do.
        Succeeded => "succeeded",
        /// Right password; a second factor must follow.
        SecondFactorRequired => "second_factor_required",
        /// Right password; a second factor must be set up first (2FA enforced).
        SetupRequired => "setup_required",
        /// Wrong or unknown user, wrong password, unknown sign-in credential.
        WrongCredentials => "wrong_credentials",
        /// Refused by the throttle before the secret was checked.
        Throttled => "throttled",
        /// Too many password checks waiting: refused with 503 at once.
        Busy => "busy",
        /// Refused for another reason (a malformed answer, say).
        Rejected => "rejected",
        /// The database or another dependency failed.
        Error => "error",
    }
);

label_values!(
    /// How an answer to a second-factor challenge ended.
    FactorResult, "result" {
        Passed => "passed",
        Failed => "failed",
        /// The factor is locked after too many failures.
        Locked => "locked",
        /// Not settled yet (waiting for an approval).
        Pending => "pending",
        /// Right, and the provider asks for one more round.
        AnotherRound => "another_round",
        Throttled => "throttled",
        /// Not answerable (the provider is not available for the user, bad input).
        Rejected => "rejected",
        Error => "error",
    }
);

label_values!(
    /// What forward-auth answered a proxy.
    ForwardAuthOutcome, "outcome" {
        /// 200 for a user the rules let in.
        Allowed => "allowed",
        /// 200 without looking at credentials (a `bypass` rule).
        Bypassed => "bypassed",
        /// No valid session or credentials: the portal or 401.
        Unauthenticated => "unauthenticated",
        /// A wrong HTTP Basic password (or the main password of a 2FA account).
        WrongCredentials => "wrong_credentials",
        /// A `deny` rule, or the user is in none of the rule's groups.
        Forbidden => "forbidden",
        /// Signed in with one factor where the rule asks for two.
        TwoFactorRequired => "two_factor_required",
        /// An HTTP Basic client refused by the throttle.
        Throttled => "throttled",
        /// The proxy's headers do not describe a request.
        BadRequest => "bad_request",
        /// The database failed (or password checks are saturated): 503, fail closed.
        Unavailable => "unavailable",
    }
);

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

fn increment(key: &Key) {
    metrics::with_recorder(|r| r.register_counter(key, &METADATA).increment(1));
}

/// A key with two labels; the label strings are static, only the small list is built.
fn key2(name: &'static str, a: [&'static str; 2], b: [&'static str; 2]) -> Key {
    Key::from_parts(
        name,
        vec![
            Label::from_static_parts(a[0], a[1]),
            Label::from_static_parts(b[0], b[1]),
        ],
    )
}

/// One sign-in attempt and how it ended.
pub fn login(method: LoginMethod, result: LoginResult) {
    increment(&key2(
        LOGINS,
        ["method", method.as_str()],
        ["result", result.as_str()],
    ));
}

/// One answer to a second-factor challenge of `provider` (its stable id).
pub fn second_factor(provider: &'static str, result: FactorResult) {
    increment(&key2(
        SECOND_FACTOR_ATTEMPTS,
        ["provider", provider],
        ["result", result.as_str()],
    ));
}

/// An attempt at `action` refused by the throttle because of a bucket of kind `bucket`.
pub fn throttle_refused(action: &'static str, bucket: &'static str) {
    increment(&key2(
        THROTTLE_REFUSALS,
        ["action", action],
        ["bucket", bucket],
    ));
}

/// One forward-auth answer and how long deciding it took.
pub fn forward_auth(outcome: ForwardAuthOutcome, took: Duration) {
    static DURATION: Key = Key::from_static_name(FORWARD_AUTH_DURATION);
    increment(&Key::from_static_parts(
        FORWARD_AUTH_DECISIONS,
        outcome.label(),
    ));
    metrics::with_recorder(|r| r.register_histogram(&DURATION, &METADATA).record(took));
}

/// One Web Push message and what became of it: `sent` (the push service took it),
/// `gone` (404/410: the subscription was deleted), `failed` (any other answer, a timeout,
/// a network error), `dropped` (the send queue was full).
pub fn web_push_delivery(result: &'static str) {
    increment(&Key::from_parts(
        WEB_PUSH_DELIVERIES,
        vec![Label::from_static_parts("result", result)],
    ));
}

/// Builds the Prometheus recorder, makes it the process's recorder and describes every
/// metric. Returns the handle `/metrics` renders. Fails if a recorder is already set.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(FORWARD_AUTH_DURATION.into()),
            FORWARD_AUTH_BUCKETS,
        )?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|_| anyhow::anyhow!("a metrics recorder is already installed"))?;
    describe();
    Ok(handle)
}

/// HELP lines, and a zero for every series whose labels are all known here, so that a
/// rate over them exists from the first scrape.
fn describe() {
    use metrics::{describe_counter, describe_histogram};
    describe_counter!(LOGINS, Unit::Count, "Sign-in attempts by method and result");
    describe_counter!(
        SECOND_FACTOR_ATTEMPTS,
        Unit::Count,
        "Answers to second-factor challenges by provider and result"
    );
    describe_counter!(
        THROTTLE_REFUSALS,
        Unit::Count,
        "Attempts refused by the brute-force throttle, by action and kind of bucket"
    );
    describe_counter!(
        FORWARD_AUTH_DECISIONS,
        Unit::Count,
        "Forward-auth answers by outcome"
    );
    describe_counter!(
        WEB_PUSH_DELIVERIES,
        Unit::Count,
        "Web Push messages by what became of them"
    );
    describe_histogram!(
        FORWARD_AUTH_DURATION,
        Unit::Seconds,
        "Time to decide a forward-auth answer"
    );
    metrics::with_recorder(|r| {
        for method in LoginMethod::ALL {
            for result in LoginResult::ALL {
                let key = key2(
                    LOGINS,
                    ["method", method.as_str()],
                    ["result", result.as_str()],
                );
                r.register_counter(&key, &METADATA).increment(0);
            }
        }
        for outcome in ForwardAuthOutcome::ALL {
            let key = Key::from_static_parts(FORWARD_AUTH_DECISIONS, outcome.label());
            r.register_counter(&key, &METADATA).increment(0);
        }
    });
}

/// Figures read when `/metrics` is rendered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readings {
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub pool_connections: u32,
    pub pool_idle: usize,
    pub pool_max: u32,
}

/// The text exposition format: what the recorder holds (nothing without one), then the
/// figures read now.
pub fn render(handle: Option<&PrometheusHandle>, now: &Readings) -> String {
    let mut out = handle.map(PrometheusHandle::render).unwrap_or_default();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let series: [(&str, &str, &str, u64); 5] = [
        (
            CACHE_HITS,
            "counter",
            "Forward-auth answers served from the credential cache",
            now.cache_hits,
        ),
        (
            CACHE_MISSES,
            "counter",
            "Forward-auth credential lookups that went to the database",
            now.cache_misses,
        ),
        (
            POOL_CONNECTIONS,
            "gauge",
            "Database connections open in the pool",
            u64::from(now.pool_connections),
        ),
        (
            POOL_IDLE,
            "gauge",
            "Database connections open and idle",
            now.pool_idle as u64,
        ),
        (
            POOL_MAX,
            "gauge",
            "Largest size of the database pool",
            u64::from(now.pool_max),
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(f: impl FnOnce()) -> String {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(FORWARD_AUTH_DURATION.into()),
                FORWARD_AUTH_BUCKETS,
            )
            .unwrap()
            .build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, f);
        render(Some(&handle), &Readings::default())
    }

    #[test]
    fn each_event_lands_in_its_series() {
        let text = recorded(|| {
            login(LoginMethod::Password, LoginResult::WrongCredentials);
            login(LoginMethod::Password, LoginResult::WrongCredentials);
            second_factor("totp", FactorResult::Failed);
            throttle_refused("password", "ip");
            forward_auth(ForwardAuthOutcome::Allowed, Duration::from_micros(70));
        });
        for line in [
            "twofold_logins_total{method=\"password\",result=\"wrong_credentials\"} 2",
            "twofold_second_factor_attempts_total{provider=\"totp\",result=\"failed\"} 1",
            "twofold_throttle_refusals_total{action=\"password\",bucket=\"ip\"} 1",
            "twofold_forward_auth_decisions_total{outcome=\"allowed\"} 1",
            "twofold_forward_auth_duration_seconds_bucket{le=\"0.00005\"} 0",
            "twofold_forward_auth_duration_seconds_bucket{le=\"0.0001\"} 1",
            "twofold_forward_auth_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }

    #[test]
    fn readings_are_rendered_without_a_recorder() {
        let text = render(
            None,
            &Readings {
                cache_hits: 7,
                cache_misses: 3,
                pool_connections: 2,
                pool_idle: 1,
                pool_max: 10,
            },
        );
        for line in [
            "# TYPE twofold_forward_auth_cache_hits_total counter",
            "twofold_forward_auth_cache_hits_total 7",
            "twofold_forward_auth_cache_misses_total 3",
            "# TYPE twofold_db_pool_connections gauge",
            "twofold_db_pool_connections 2",
            "twofold_db_pool_idle_connections 1",
            "twofold_db_pool_max_connections 10",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }

    #[test]
    fn every_name_has_the_prefix_and_a_unit_or_total() {
        for name in [
            LOGINS,
            SECOND_FACTOR_ATTEMPTS,
            THROTTLE_REFUSALS,
            FORWARD_AUTH_DECISIONS,
            FORWARD_AUTH_DURATION,
            CACHE_HITS,
            CACHE_MISSES,
            POOL_CONNECTIONS,
            POOL_IDLE,
            POOL_MAX,
        ] {
            assert!(name.starts_with("twofold_"), "{name}");
            assert!(
                name.ends_with("_total")
                    || name.ends_with("_seconds")
                    || name.ends_with("_connections"),
                "{name}"
            );
        }
    }
}
