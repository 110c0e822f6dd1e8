//! Following a task's events, the one way both shells do it: the stored events after a
//! point, then each new one as it happens — from this process's broadcast for a task
//! driven here (copy progress included, which is stored less often than broadcast), or
//! read from its host every [`REMOTE_POLL`] for a task driven on a host.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::{TaskError, TaskEvent, TaskId, Tasks};

/// How often a task driven on a host is read from there while watched.
pub const REMOTE_POLL: Duration = Duration::from_secs(1);

/// A running watch; dropping it stops the forwarding.
#[derive(Debug)]
pub struct TaskWatch {
    events: mpsc::UnboundedReceiver<TaskEvent>,
    forwarder: tokio::task::JoinHandle<()>,
}

impl TaskWatch {
    /// The next event (`None` once the watch cannot go on: the store failed).
    pub async fn recv(&mut self) -> Option<TaskEvent> {
        self.events.recv().await
    }

    /// An event already there, without waiting.
    pub fn try_recv(&mut self) -> Option<TaskEvent> {
        self.events.try_recv().ok()
    }
}

impl Drop for TaskWatch {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

impl Tasks {
    /// Watches task `id` from after event `after` (0: from the start).
    pub fn watch(&self, id: &TaskId, after: i64) -> Result<TaskWatch, TaskError> {
        let (tx, events) = mpsc::unbounded_channel();
        let tasks = self.clone();
        let id = id.clone();
        let forwarder = if self.host_of_task(&id)?.is_some() {
            tokio::spawn(async move {
                let mut last = after;
                loop {
                    if let Err(e) = tasks.refresh(&id).await {
                        tracing::debug!(task = %id, error = %e, "cannot read the task from its host");
                    }
                    let Ok(new) = tasks.events(&id, last) else {
                        return;
                    };
                    for e in new {
                        last = e.seq;
                        if tx.send(e).is_err() {
                            return;
                        }
                    }
                    tokio::time::sleep(REMOTE_POLL).await;
                }
            })
        } else {
            // Subscribe before reading the store, so nothing falls between the two.
            let mut live = self.subscribe();
            let stored = self.events(&id, after)?;
            tokio::spawn(async move {
                let mut last = after;
                for e in stored {
                    last = e.seq;
                    if tx.send(e).is_err() {
                        return;
                    }
                }
                loop {
                    let event = match live.recv().await {
                        Ok(e) => e,
                        // Too slow a reader: catch up from the store.
                        Err(RecvError::Lagged(_)) => {
                            let Ok(missed) = tasks.events(&id, last) else {
                                return;
                            };
                            for e in missed {
                                last = e.seq;
                                if tx.send(e).is_err() {
                                    return;
                                }
                            }
                            continue;
                        }
                        Err(RecvError::Closed) => return,
                    };
                    if event.task_id != id || event.seq <= last {
                        continue;
                    }
                    last = event.seq;
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            })
        };
        Ok(TaskWatch { events, forwarder })
    }
}
