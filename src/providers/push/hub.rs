//! Wake-ups for whoever waits on a user's prompts (a login waiting for its decision, an
//! approver's open page): the store's change feed, narrowed to approvals. Waiting costs
//! a broadcast receiver, no thread and no polling; a waiter that falls behind simply
//! looks again.

use tokio::sync::broadcast;

use crate::store::changes::{Change, Changes};

/// `None`: anything may have changed (the feed from other instances went down or up).
pub type Wake = Option<std::sync::Arc<str>>;

#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Wake>,
}

impl Hub {
    pub fn new(changes: &Changes) -> Self {
        let (tx, _) = broadcast::channel(1024);
        let sender = tx.clone();
        changes.subscribe(move |change| {
            // No receiver is not an error: nobody is waiting.
            let _ = match change {
                Change::Approval(uid) => sender.send(Some(uid.as_str().into())),
                Change::All => sender.send(None),
                Change::User(_) => return,
            };
        });
        Self { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.tx.subscribe()
    }
}

/// Waits until something about `uid`'s prompts may have changed, or `deadline`.
pub async fn changed_for(
    rx: &mut broadcast::Receiver<Wake>,
    uid: &str,
    deadline: tokio::time::Instant,
) {
    loop {
        let next = tokio::time::timeout_at(deadline, rx.recv()).await;
        match next {
            Err(_elapsed) => return,
            Ok(Ok(Some(changed))) if &*changed != uid => continue,
            // This user's change, an "anything", a missed message, or a closed feed.
            Ok(_) => return,
        }
    }
}
