//! A client that commits continuously and records every commit it got an acknowledgment
//! for: the witness of a switchover's "no acknowledged commit lost", and the client-side
//! measure of its write-unavailability window.
//!
//! Like an application with a multi-host connection string and
//! `target_session_attrs=read-write`, it connects to the first of its targets that accepts
//! writes (not in recovery, not read-only by default) and, when the connection breaks,
//! tries them all again. Give it `[source, destination]`: it writes to the source, loses it
//! at the fence, and resumes on the destination as soon as that one takes writes. Each
//! attempt uses a new id, so an attempt whose outcome is unknown can never collide with a
//! later one.
//!
//! ```no_run
//! # async fn demo(source: pgrelocate_testkit::ConnParams, dest: pgrelocate_testkit::ConnParams) {
//! use pgrelocate_testkit::writer::Writer;
//! Writer::prepare(&source).await.unwrap();           // before the copy, so the table travels
//! let writer = Writer::start(vec![source, dest]);
//! // … switch over …
//! let log = writer.stop().await;
//! println!("window {:?}", log.window(0, 1));
//! # }
//! ```

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

use crate::conn::ConnParams;
use crate::error::{Error, Result};

/// The table the writer inserts into.
pub const TABLE: &str = "pgrelocate_writer";
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Pause after a round in which no target accepted writes.
const RETRY_PAUSE: Duration = Duration::from_millis(5);

/// One acknowledged commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The row's id.
    pub id: i64,
    /// When the acknowledgment arrived.
    pub at: Instant,
    /// Index of the target that acknowledged it.
    pub target: usize,
}

/// Everything the writer saw.
#[derive(Debug, Clone, Default)]
pub struct WriterLog {
    /// Acknowledged commits, in order.
    pub acks: Vec<Ack>,
    /// Inserts that failed (unknown outcome: they may or may not have committed).
    pub failed_inserts: u64,
    /// Connection attempts that failed or found the target read-only.
    pub refused_connections: u64,
}

struct Shared {
    targets: Mutex<Vec<ConnParams>>,
    log: Mutex<WriterLog>,
    acked: AtomicUsize,
    stop: AtomicBool,
}

/// The running writer.
pub struct Writer {
    shared: Arc<Shared>,
    handle: tokio::task::JoinHandle<()>,
}

impl Writer {
    /// Creates the writer's table on `params` (run it on the source before the copy).
    pub async fn prepare(params: &ConnParams) -> Result<()> {
        let client = params.connect().await?;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {TABLE} \
                 (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())"
            ))
            .await
            .map_err(Error::Sql)
    }

    /// Starts committing to the first target that accepts writes.
    pub fn start(targets: Vec<ConnParams>) -> Writer {
        let shared = Arc::new(Shared {
            targets: Mutex::new(targets),
            log: Mutex::new(WriterLog::default()),
            acked: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let handle = tokio::spawn(run(shared.clone()));
        Writer { shared, handle }
    }

    /// Replaces the targets (the current connection is kept until it breaks).
    pub fn set_targets(&self, targets: Vec<ConnParams>) {
        *self
            .shared
            .targets
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = targets;
    }

    /// Commits acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.shared.acked.load(Ordering::SeqCst)
    }

    /// Waits until `more` further commits are acknowledged (by any target); `false` on
    /// timeout.
    pub async fn wait_for(&self, more: usize, timeout: Duration) -> bool {
        let goal = self.acknowledged() + more;
        let started = Instant::now();
        while self.acknowledged() < goal {
            if started.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Waits until `target` has acknowledged `more` further commits; `false` on timeout.
    pub async fn wait_for_target(&self, target: usize, more: usize, timeout: Duration) -> bool {
        let count = |s: &Shared| {
            s.log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .acks
                .iter()
                .filter(|a| a.target == target)
                .count()
        };
        let goal = count(&self.shared) + more;
        let started = Instant::now();
        while count(&self.shared) < goal {
            if started.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Stops and returns the log.
    pub async fn stop(self) -> WriterLog {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.handle.await;
        std::mem::take(&mut *self.shared.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Connects to `params` when it accepts writes.
async fn writable(params: &ConnParams) -> Option<Client> {
    let mut config = params.config();
    config
        .application_name("pgrelocate-writer")
        .connect_timeout(CONNECT_TIMEOUT);
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, config.connect(NoTls))
        .await
        .ok()?
        .ok()?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')",
            &[],
        )
        .await
        .ok()?;
    (!row.get::<_, bool>(0) && row.get::<_, String>(1) == "off").then_some(client)
}

async fn run(shared: Arc<Shared>) {
    let mut next_id: i64 = 1;
    let mut current: Option<(Client, tokio_postgres::Statement, usize)> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        let Some((client, insert, target)) = current.as_ref() else {
            let targets = shared
                .targets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            for (i, t) in targets.iter().enumerate() {
                if let Some(client) = writable(t).await {
                    let sql = format!("INSERT INTO {TABLE} (id) VALUES ($1)");
                    if let Ok(statement) = client.prepare(&sql).await {
                        current = Some((client, statement, i));
                        break;
                    }
                }
                shared
                    .log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .refused_connections += 1;
            }
            if current.is_none() {
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            continue;
        };
        let id = next_id;
        next_id += 1;
        match client.execute(insert, &[&id]).await {
            Ok(_) => {
                let ack = Ack {
                    id,
                    at: Instant::now(),
                    target: *target,
                };
                shared
                    .log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .acks
                    .push(ack);
                shared.acked.fetch_add(1, Ordering::SeqCst);
            }
            Err(_) => {
                shared
                    .log
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .failed_inserts += 1;
                current = None;
            }
        }
    }
}

impl WriterLog {
    /// Ids of the acknowledged commits.
    pub fn ids(&self) -> Vec<i64> {
        self.acks.iter().map(|a| a.id).collect()
    }

    /// Acknowledged commits by target `target`.
    pub fn acked_by(&self, target: usize) -> usize {
        self.acks.iter().filter(|a| a.target == target).count()
    }

    /// The client-side write-unavailability window of a switch from target `from` to
    /// target `to`: the last commit `from` acknowledged before `to` acknowledged its first,
    /// to that first one.
    pub fn window(&self, from: usize, to: usize) -> Option<Duration> {
        let first_to = self.acks.iter().position(|a| a.target == to)?;
        let last_from = self.acks[..first_to]
            .iter()
            .rev()
            .find(|a| a.target == from)?;
        Some(self.acks[first_to].at - last_from.at)
    }

    /// The longest gap between two consecutive acknowledgments (for a switchover that
    /// rolled back, the time writes stopped on the source).
    pub fn longest_gap(&self) -> Option<Duration> {
        self.acks.windows(2).map(|w| w[1].at - w[0].at).max()
    }

    /// Acknowledged ids that are not in the writer's table on `client`.
    pub async fn missing_on(&self, client: &Client) -> Result<Vec<i64>> {
        let present: std::collections::HashSet<i64> = client
            .query(&format!("SELECT id FROM {TABLE}"), &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(self
            .acks
            .iter()
            .map(|a| a.id)
            .filter(|id| !present.contains(id))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(id: i64, ms: u64, target: usize, t0: Instant) -> Ack {
        Ack {
            id,
            at: t0 + Duration::from_millis(ms),
            target,
        }
    }

    #[test]
    fn the_window_runs_from_the_last_source_ack_to_the_first_destination_ack() {
        let t0 = Instant::now();
        let log = WriterLog {
            acks: vec![
                ack(1, 0, 0, t0),
                ack(2, 10, 0, t0),
                ack(5, 310, 1, t0),
                ack(6, 320, 1, t0),
            ],
            ..WriterLog::default()
        };
        assert_eq!(log.window(0, 1), Some(Duration::from_millis(300)));
        assert_eq!(log.window(1, 0), None);
        assert_eq!(log.longest_gap(), Some(Duration::from_millis(300)));
        assert_eq!((log.acked_by(0), log.acked_by(1)), (2, 2));
    }
}
