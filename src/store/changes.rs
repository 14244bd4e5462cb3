//! The in-process side of "who may pass changed": the store announces each change it
//! makes to sessions, users, memberships and app passwords, synchronously, to whoever
//! subscribed (the forward-auth cache), so that on this instance a revocation is seen by
//! the very next request. Changes made elsewhere (another instance, the CLI) arrive
//! through the notification port (`notify`), which also says whether that feed is live: while it is not,
//! nothing may be answered from a cache.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Something about this user: a session, the account, a membership, an app password.
    User(String),
    /// Anything may have changed (a group deleted, or changes missed while the feed was
    /// down).
    All,
    /// A push approval of this user was opened or decided: nothing about who may pass,
    /// but a waiting login or an approver's page may have to look again.
    Approval(String),
}

type Listener = Arc<dyn Fn(&Change) + Send + Sync>;

#[derive(Clone, Default)]
pub struct Changes {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("live", &self.is_live())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Inner {
    listeners: RwLock<Vec<Listener>>,
    /// Whether changes made by other processes are being received.
    live: AtomicBool,
}

impl Changes {
    pub fn subscribe(&self, listener: impl Fn(&Change) + Send + Sync + 'static) {
        if let Ok(mut l) = self.inner.listeners.write() {
            l.push(Arc::new(listener));
        }
    }

    pub fn emit(&self, change: &Change) {
        if let Ok(listeners) = self.inner.listeners.read() {
            for l in listeners.iter() {
                l(change);
            }
        }
    }

    pub fn user(&self, uid: &str) {
        self.emit(&Change::User(uid.to_string()));
    }

    /// The feed of other processes' changes came up or went down. Either way what was
    /// cached before may have missed a change: everything is dropped first.
    pub fn set_live(&self, live: bool) {
        if !live {
            self.inner.live.store(false, Ordering::SeqCst);
        }
        self.emit(&Change::All);
        if live {
            self.inner.live.store(true, Ordering::SeqCst);
        }
    }

    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn listeners_hear_every_change_and_liveness_flushes() {
        let changes = Changes::default();
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        changes.subscribe(move |c| h.lock().unwrap().push(c.clone()));
        assert!(!changes.is_live(), "not live until the feed says so");
        changes.set_live(true);
        assert!(changes.is_live());
        changes.user("alice");
        changes.set_live(false);
        assert!(!changes.is_live());
        assert_eq!(
            *heard.lock().unwrap(),
            vec![Change::All, Change::User("alice".into()), Change::All]
        );
    }
}
