//! Brute-force throttling of guessable secrets, per account and per client IP, kept in the
//! database so that every instance sees the same counters. The first few failures are
//! free; after that each attempt must wait a delay that doubles per failure, capped at
//! 15 minutes so that an attacker cannot lock a victim out for long.

use crate::error::AppError;
use crate::store::Store;

/// Failures allowed before any delay.
const FREE_FAILURES: i64 = 5;
/// The longest delay, in seconds.
const MAX_DELAY_SECS: i64 = 15 * 60;

/// Seconds to wait after the last failure, given the count of failures.
pub fn delay_for(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = (failures - FREE_FAILURES + 1).min(20) as u32;
    2i64.pow(exp).min(MAX_DELAY_SECS)
}

/// What is being guessed at, and by whom.
/// The account's key comes first. Names are cut to 64 characters (the longest uid) so
/// that garbage cannot make huge keys.
pub fn keys(what: &str, uid: &str, ip: &str) -> [String; 2] {
    let uid: String = uid.chars().take(64).collect();
    [format!("{what}:acct:{uid}"), format!("{what}:ip:{ip}")]
}

#[derive(Clone)]
pub struct Throttle {
    store: Store,
}

impl Throttle {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Refuses with `TooManyAttempts` while any key is still in its delay.
    pub async fn check(&self, keys: &[String], now: i64) -> Result<(), AppError> {
        let mut wait = 0;
        for key in keys {
            let (failures, last) = self.store.throttle(key).await?;
            wait = wait.max(last + delay_for(failures) - now);
        }
        if wait > 0 {
            Err(AppError::TooManyAttempts(wait))
        } else {
            Ok(())
        }
    }

    pub async fn failure(&self, keys: &[String], now: i64) -> Result<(), AppError> {
        for key in keys {
            self.store.throttle_failure(key, now).await?;
        }
        Ok(())
    }

    pub async fn success(&self, keys: &[String]) -> Result<(), AppError> {
        for key in keys {
            self.store.throttle_reset(key).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::delay_for;

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(delay_for(0), 0);
        assert_eq!(delay_for(4), 0);
        assert_eq!(delay_for(5), 2);
        assert_eq!(delay_for(6), 4);
        assert_eq!(delay_for(10), 64);
        assert_eq!(delay_for(15), 900);
        assert_eq!(delay_for(1000), 900);
    }
}
