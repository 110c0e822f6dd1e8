//! Live subscriptions of the page (a task's event stream). A reloaded page cannot say
//! goodbye, so every subscription is ended when the webview starts loading a page; the new
//! page subscribes again, replaying from the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use tokio::task::JoinHandle;

/// The running forwarders, by id.
#[derive(Default)]
pub struct Watches {
    next: AtomicU64,
    running: Mutex<HashMap<u64, JoinHandle<()>>>,
}

impl Watches {
    /// Keeps a forwarder; returns its id (the page ends it with `unwatch`).
    pub fn add(&self, handle: JoinHandle<()>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|_, h| !h.is_finished());
        running.insert(id, handle);
        id
    }

    /// Ends one forwarder.
    pub fn remove(&self, id: u64) {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(h) = handle {
            h.abort();
        }
    }

    /// Ends every forwarder (the page is being reloaded or replaced).
    pub fn clear(&self) {
        let all: Vec<JoinHandle<()>> = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, h)| h)
            .collect();
        for h in all {
            h.abort();
        }
    }

    /// How many forwarders run.
    pub fn len(&self) -> usize {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|_, h| !h.is_finished());
        running.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reload_ends_every_forwarder_and_unwatch_ends_one() {
        let watches = Watches::default();
        let forever = || tokio::spawn(std::future::pending::<()>());
        let a = watches.add(forever());
        let _b = watches.add(forever());
        assert_eq!(watches.len(), 2);
        watches.remove(a);
        tokio::task::yield_now().await;
        assert_eq!(watches.len(), 1);
        watches.clear();
        assert!(watches.is_empty());
    }
}
