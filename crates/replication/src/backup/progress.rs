//! Progress of a base backup as a typed snapshot stream (a `tokio::sync::watch` channel),
//! which the CLI's progress bar and the desktop app both read.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

/// How often byte counts are published at most (phase changes are published at once).
const PUBLISH_EVERY: Duration = Duration::from_millis(200);
/// Weight of the newest sample in the smoothed rate.
const RATE_SMOOTHING: f64 = 0.3;

/// What the backup is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Opening the replication connection.
    Connecting,
    /// Waiting for the source's checkpoint before data flows.
    Checkpoint,
    /// Receiving and writing archives.
    Copying,
    /// Checking the files against the backup manifest.
    Verifying,
    /// Flushing files and directories to disk.
    Syncing,
    /// Finished successfully.
    Done,
}

/// One progress snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupProgress {
    /// Current phase.
    pub phase: Phase,
    /// Bytes of archive data received (uncompressed size when the source reports it).
    pub bytes_done: u64,
    /// The source's size estimate (grows to `bytes_done` if that passes it).
    pub bytes_total: Option<u64>,
    /// The archive being received (`base.tar`, `16385.tar`, …).
    pub archive: Option<String>,
    /// Smoothed transfer rate in bytes per second.
    pub rate_bytes_per_sec: f64,
    /// Estimated seconds left, when the total is known and data flows.
    pub eta_secs: Option<f64>,
    /// Seconds since the backup started.
    pub elapsed_secs: f64,
}

impl Default for BackupProgress {
    fn default() -> Self {
        BackupProgress {
            phase: Phase::Connecting,
            bytes_done: 0,
            bytes_total: None,
            archive: None,
            rate_bytes_per_sec: 0.0,
            eta_secs: None,
            elapsed_secs: 0.0,
        }
    }
}

/// A new progress channel: give the sender to the backup, read the receiver.
pub fn channel() -> (
    watch::Sender<BackupProgress>,
    watch::Receiver<BackupProgress>,
) {
    watch::channel(BackupProgress::default())
}

/// Accumulates counts and publishes throttled snapshots.
#[derive(Debug)]
pub(crate) struct ProgressMeter {
    sender: watch::Sender<BackupProgress>,
    current: BackupProgress,
    started: Instant,
    last_publish: Instant,
    last_sample: (Instant, u64),
}

impl ProgressMeter {
    pub(crate) fn new(sender: watch::Sender<BackupProgress>) -> Self {
        let now = Instant::now();
        ProgressMeter {
            sender,
            current: BackupProgress::default(),
            started: now,
            last_publish: now,
            last_sample: (now, 0),
        }
    }

    pub(crate) fn phase(&mut self, phase: Phase) {
        self.current.phase = phase;
        if phase != Phase::Copying {
            self.current.eta_secs = None;
        }
        self.publish();
    }

    pub(crate) fn total(&mut self, total: Option<u64>) {
        self.current.bytes_total = total;
    }

    pub(crate) fn archive(&mut self, name: &str) {
        self.current.archive = Some(name.to_string());
        self.publish();
    }

    /// Adds bytes received.
    pub(crate) fn add(&mut self, bytes: u64) {
        self.set_done(self.current.bytes_done + bytes);
    }

    /// Sets the cumulative count (the 15+ `p` messages are cumulative).
    pub(crate) fn set_done(&mut self, done: u64) {
        self.current.bytes_done = done.max(self.current.bytes_done);
        if self.last_publish.elapsed() >= PUBLISH_EVERY {
            self.publish();
        }
    }

    fn publish(&mut self) {
        let now = Instant::now();
        let (then, bytes_then) = self.last_sample;
        let dt = now.duration_since(then).as_secs_f64();
        if dt >= 0.05 {
            let rate = (self.current.bytes_done - bytes_then) as f64 / dt;
            self.current.rate_bytes_per_sec = if self.current.rate_bytes_per_sec == 0.0 {
                rate
            } else {
                RATE_SMOOTHING * rate + (1.0 - RATE_SMOOTHING) * self.current.rate_bytes_per_sec
            };
            self.last_sample = (now, self.current.bytes_done);
        }
        if let Some(total) = self.current.bytes_total {
            if total < self.current.bytes_done {
                self.current.bytes_total = Some(self.current.bytes_done);
            }
        }
        self.current.eta_secs = match (self.current.phase, self.current.bytes_total) {
            (Phase::Copying, Some(total)) if self.current.rate_bytes_per_sec > 0.0 => Some(
                (total.saturating_sub(self.current.bytes_done)) as f64
                    / self.current.rate_bytes_per_sec,
            ),
            _ => None,
        };
        self.current.elapsed_secs = self.started.elapsed().as_secs_f64();
        self.last_publish = now;
        // Nobody listening is fine: progress is optional.
        self.sender.send_replace(self.current.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_never_falls_below_done_and_eta_needs_a_rate() {
        let (tx, rx) = channel();
        let mut meter = ProgressMeter::new(tx);
        meter.total(Some(100));
        meter.phase(Phase::Copying);
        std::thread::sleep(Duration::from_millis(60));
        meter.set_done(150);
        meter.phase(Phase::Copying);
        let p = rx.borrow().clone();
        assert_eq!(p.bytes_done, 150);
        assert_eq!(p.bytes_total, Some(150));
        assert!(p.rate_bytes_per_sec > 0.0);
        assert_eq!(p.eta_secs, Some(0.0));
    }
}
