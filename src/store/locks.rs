//! Short per-user locks for a change whose check and action span several tables: "is
//! another factor left?" then "remove this one". Taken without waiting: a second change
//! for the same user while one is in progress is refused at once (the caller answers
//! "try again"), so nobody can tie up connections by piling requests onto a lock.
//!
//! PostgreSQL: a transaction-scoped advisory lock, held by a transaction kept open on its
//! own connection until the change is done (it covers every instance). SQLite: a set of
//! uids held in this process (a SQLite deployment is one server process; the CLI's
//! changes are not covered).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use sha2::Digest;

use super::{Backend, Store, StoreResult};

/// Held while a user's factors change; released by [`FactorLock::release`] (or on drop).
pub struct FactorLock {
    inner: Held,
}

enum Held {
    Postgres(sqlx::Transaction<'static, sqlx::Any>),
    Local(LocalGuard),
}

struct LocalGuard {
    held: Arc<Mutex<HashSet<String>>>,
    uid: String,
}

impl Drop for LocalGuard {
    fn drop(&mut self) {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        held.remove(&self.uid);
    }
}

/// The uids whose factors are changing in this process (SQLite).
pub(super) type LocalLocks = Arc<Mutex<HashSet<String>>>;

/// The advisory lock key of a user: stable, and apart from any other use of advisory
/// locks by its prefix.
fn lock_key(uid: &str) -> i64 {
    let digest = sha2::Sha256::digest(format!("twofold/factors/{uid}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

impl Store {
    /// Takes the lock on `uid`'s factors, or `None` at once when a change is in progress.
    pub async fn try_lock_factors(&self, uid: &str) -> StoreResult<Option<FactorLock>> {
        match self.backend {
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_xact_lock($1)")
                    .bind(lock_key(uid))
                    .fetch_one(&mut *tx)
                    .await?;
                Ok(got.then_some(FactorLock {
                    inner: Held::Postgres(tx),
                }))
            }
            Backend::Sqlite => {
                // A panic elsewhere cannot leave the set inconsistent: use it as it is.
                let mut held = self
                    .factor_locks
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if !held.insert(uid.to_string()) {
                    return Ok(None);
                }
                Ok(Some(FactorLock {
                    inner: Held::Local(LocalGuard {
                        held: self.factor_locks.clone(),
                        uid: uid.to_string(),
                    }),
                }))
            }
        }
    }
}

impl FactorLock {
    /// Releases the lock now (PostgreSQL: ends its transaction).
    pub async fn release(self) -> StoreResult<()> {
        match self.inner {
            Held::Postgres(tx) => tx.commit().await?,
            Held::Local(guard) => drop(guard),
        }
        Ok(())
    }
}
