//! Catch-up: after the fence, wait until the destination has received and replayed past
//! the source's final position, reporting the bytes left, within a timeout. While it waits
//! the fence keeps watch: a session that got into the control database is terminated and
//! the target is taken again, so whatever it committed is waited for too.

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use super::fence::{CatchupTarget, Fence, FenceError, TargetKind};
use super::Progress;
use crate::endpoint::Endpoint;
use crate::sql::SqlError;
use crate::wire::Lsn;

/// How often the destination's positions are read.
const POLL: Duration = Duration::from_millis(10);
/// How often the fence looks for newcomers.
const GUARD_EVERY: Duration = Duration::from_millis(100);
/// How often progress is reported while bytes remain.
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// A stopped source sends nothing more: when the destination has not received its shutdown
/// checkpoint by then, it never will.
pub const SHUTDOWN_RECEIVE_GRACE: Duration = Duration::from_secs(10);

/// What the destination reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Positions {
    /// `pg_last_wal_receive_lsn()`.
    pub received: Option<Lsn>,
    /// `pg_last_wal_replay_lsn()`.
    pub replayed: Option<Lsn>,
    /// `pg_is_in_recovery()`.
    pub in_recovery: bool,
}

/// Why the catch-up ended without the destination having everything.
#[derive(Debug, thiserror::Error)]
pub enum CatchupError {
    #[error(
        "the destination did not catch up within {secs} s: it replayed up to {replayed}, {remaining} \
         byte(s) short of the source's final position {target}"
    )]
    Timeout {
        secs: u64,
        target: Lsn,
        replayed: Lsn,
        remaining: u64,
    },
    #[error(
        "the destination did not receive the source's shutdown checkpoint at {checkpoint} (it \
         received up to {received}); the stopped source cannot send it any more"
    )]
    ShutdownCheckpointMissing { checkpoint: Lsn, received: Lsn },
    #[error("the destination left recovery on its own during the catch-up")]
    NotStandby,
    #[error("reading the destination's position: {0}")]
    Destination(SqlError),
    #[error(transparent)]
    Fence(#[from] FenceError),
}

fn parse(text: Option<String>) -> Option<Lsn> {
    text.and_then(|t| t.parse().ok())
}

/// Reads the destination's received and replayed positions.
pub async fn positions(dest: &Client) -> Result<Positions, tokio_postgres::Error> {
    let row = dest
        .query_one(
            "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, \
                    pg_is_in_recovery()",
            &[],
        )
        .await?;
    Ok(Positions {
        received: parse(row.get(0)),
        replayed: parse(row.get(1)),
        in_recovery: row.get(2),
    })
}

/// Waits until the destination replayed past the fence's target (re-taken when the guard
/// found newcomers). Returns the final target and the replayed position.
pub async fn wait(
    dest: &Client,
    dest_endpoint: &Endpoint,
    fence: &mut Fence<'_>,
    mut target: CatchupTarget,
    timeout: Duration,
    progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<(CatchupTarget, Lsn), CatchupError> {
    let started = Instant::now();
    let mut last_guard = Instant::now();
    let mut last_report: Option<Instant> = None;
    loop {
        let p = positions(dest)
            .await
            .map_err(|e| CatchupError::Destination(SqlError::from_driver(&e, dest_endpoint)))?;
        if !p.in_recovery {
            return Err(CatchupError::NotStandby);
        }
        let replayed = p.replayed.unwrap_or_default();
        let received = p.received.unwrap_or_default();
        if target.reached_by(replayed) {
            // Last look before promotion: anything that slipped in moves the target.
            if fence.guard().await? == 0 {
                progress(&Progress::CaughtUp {
                    target_lsn: target.lsn,
                    replayed_lsn: replayed,
                    elapsed_ms: super::window::ms(started.elapsed()),
                });
                return Ok((target, replayed));
            }
            target = fence.target().await?;
            continue;
        }
        if last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY) {
            last_report = Some(Instant::now());
            progress(&Progress::CatchUp {
                target_lsn: target.lsn,
                received_lsn: p.received,
                replayed_lsn: p.replayed,
                remaining_bytes: target.remaining(replayed),
            });
        }
        let elapsed = started.elapsed();
        if target.kind == TargetKind::ShutdownCheckpoint
            && received <= target.lsn
            && elapsed > SHUTDOWN_RECEIVE_GRACE.min(timeout)
        {
            return Err(CatchupError::ShutdownCheckpointMissing {
                checkpoint: target.lsn,
                received,
            });
        }
        if elapsed > timeout {
            return Err(CatchupError::Timeout {
                secs: timeout.as_secs(),
                target: target.lsn,
                replayed,
                remaining: target.remaining(replayed),
            });
        }
        if last_guard.elapsed() >= GUARD_EVERY {
            last_guard = Instant::now();
            if fence.guard().await? > 0 {
                target = fence.target().await?;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

impl crate::Coded for CatchupError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            CatchupError::Timeout { .. } => ErrorCode::CatchupTimeout,
            CatchupError::ShutdownCheckpointMissing { .. } | CatchupError::NotStandby => {
                ErrorCode::CatchupFailed
            }
            CatchupError::Destination(e) => e.code(),
            CatchupError::Fence(e) => e.code(),
        }
    }
}
