//! The task's append-only event log: phase and replication changes, copy progress, lag
//! samples for the chart, warnings. Stored (so a reloaded page or another process sees the
//! same history) and broadcast in-process (so a live page sees it at once).

use serde::{Deserialize, Serialize};

use super::model::{Operation, Phase, ReplicationState, TaskId};
use super::monitor::Sample;
use super::warning::Warning;
use crate::switchover::Progress;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TaskEvent {
    /// Position in the store's log (increasing; resume a subscription after it).
    pub seq: i64,
    /// The task.
    pub task_id: TaskId,
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The task entered a phase.
    Phase {
        /// Previous phase.
        from: Phase,
        /// New phase.
        to: Phase,
        /// Into or out of `switch`: which operation (so a failover is never logged as a
        /// switchover). Absent in events stored before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operation: Option<Operation>,
    },
    /// The replication state changed.
    Replication {
        /// Previous state.
        from: ReplicationState,
        /// New state.
        to: ReplicationState,
    },
    /// Full-copy progress (stored every few seconds; broadcast more often).
    Copy(CopyProgress),
    /// A monitoring sample (byte and time lag, slot, disk).
    Sample(Box<Sample>),
    /// A switchover or failover step (`Display` words it).
    Step(Box<Progress>),
    /// A step the DBA may want to know about.
    Note {
        /// What was done.
        message: String,
    },
    /// A risk (retained WAL growing, slot at risk, low disk) or a problem: its code with
    /// what it needs (`Display` words it).
    Warning(Warning),
    /// The task failed.
    Error {
        /// Why.
        message: String,
    },
}

impl EventKind {
    /// The `event` tag as stored in the `kind` column.
    pub fn tag(&self) -> &'static str {
        match self {
            EventKind::Phase { .. } => "phase",
            EventKind::Replication { .. } => "replication",
            EventKind::Copy(_) => "copy",
            EventKind::Sample(_) => "sample",
            EventKind::Step(_) => "step",
            EventKind::Note { .. } => "note",
            EventKind::Warning(_) => "warning",
            EventKind::Error { .. } => "error",
        }
    }
}

/// Full-copy progress as events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct CopyProgress {
    /// `connecting`, `checkpoint`, `copying`, `verifying`, `syncing`, `done`.
    pub stage: String,
    /// Bytes received.
    pub bytes_done: u64,
    /// The source's estimate.
    pub bytes_total: Option<u64>,
    /// Smoothed rate.
    pub rate_bytes_per_sec: f64,
    /// Estimated seconds left.
    pub eta_secs: Option<f64>,
}

impl From<&crate::backup::BackupProgress> for CopyProgress {
    fn from(p: &crate::backup::BackupProgress) -> Self {
        CopyProgress {
            stage: serde_json::to_value(p.phase)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            bytes_done: p.bytes_done,
            bytes_total: p.bytes_total,
            rate_bytes_per_sec: p.rate_bytes_per_sec,
            eta_secs: p.eta_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_stored_as_its_value_and_worded_by_display() {
        let step = Progress::Promoted {
            method: crate::switchover::PromoteMethod::PgPromote,
            timeline: Some(2),
            elapsed_ms: 120,
        };
        let kind = EventKind::Step(Box::new(step));
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(json["event"], "step");
        assert_eq!(json["step"], "promoted");
        assert_eq!(json["timeline"], 2);
        assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), kind);
        let EventKind::Step(step) = kind else {
            unreachable!()
        };
        assert_eq!(
            step.to_string(),
            "promoted with pg_promote() in 120 ms; new timeline 2"
        );
    }
}
