//! Watching a running standby: byte lag (sent/write/flush/replay), time lag, the
//! replication state, the slot's retained WAL (and `wal_status`/`safe_wal_size` on 13+),
//! and the destination's free disk. Read from the source's `pg_stat_replication` and
//! `pg_replication_slots` and the destination's `pg_stat_wal_receiver` / `pg_last_*`.
//!
//! Each side's connection is kept between samples and reopened after an error, so a source
//! that goes away and comes back shows as `disconnect` and then `streaming` again.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::model::ReplicationState;
use super::warning::Warning;
use crate::endpoint::Endpoint;
use crate::secrets::Password;
use crate::sql;
use crate::version::ServerVersion;
use crate::wire::Lsn;

/// How long a monitoring connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The slot as the source reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SlotSample {
    /// A walsender uses it.
    pub active: bool,
    /// Oldest WAL the slot keeps.
    pub restart_lsn: Option<Lsn>,
    /// WAL kept for the slot: current position − restart_lsn.
    pub retained_bytes: Option<u64>,
    /// `reserved`, `extended`, `unreserved` or `lost` (13+).
    pub wal_status: Option<String>,
    /// Bytes that can still be written before the slot is at risk (13+, with a limit).
    pub safe_wal_size: Option<i64>,
}

/// One monitoring sample.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Sample {
    /// The replication state these figures imply.
    pub replication: Option<ReplicationState>,
    /// The source's current WAL position.
    pub source_lsn: Option<Lsn>,
    /// `pg_stat_replication.state` of our standby (`streaming`, `catchup`, …).
    pub sender_state: Option<String>,
    /// WAL sent to the standby.
    pub sent_lsn: Option<Lsn>,
    /// WAL the standby wrote.
    pub write_lsn: Option<Lsn>,
    /// WAL the standby flushed.
    pub flush_lsn: Option<Lsn>,
    /// WAL the standby replayed.
    pub replay_lsn: Option<Lsn>,
    /// Bytes not yet sent.
    pub sent_lag_bytes: Option<u64>,
    /// Bytes not yet written on the standby.
    pub write_lag_bytes: Option<u64>,
    /// Bytes not yet flushed on the standby.
    pub flush_lag_bytes: Option<u64>,
    /// Bytes not yet replayed on the standby.
    pub replay_lag_bytes: Option<u64>,
    /// `write_lag` in milliseconds (NULL once an idle standby caught up).
    pub write_lag_ms: Option<f64>,
    /// `flush_lag` in milliseconds.
    pub flush_lag_ms: Option<f64>,
    /// `replay_lag` in milliseconds.
    pub replay_lag_ms: Option<f64>,
    /// The slot.
    pub slot: Option<SlotSample>,
    /// The destination is in recovery (a standby).
    pub dest_in_recovery: Option<bool>,
    /// `pg_stat_wal_receiver.status` on the destination.
    pub receiver_status: Option<String>,
    /// `pg_last_wal_receive_lsn()` on the destination.
    pub dest_receive_lsn: Option<Lsn>,
    /// `pg_last_wal_replay_lsn()` on the destination.
    pub dest_replay_lsn: Option<Lsn>,
    /// Time since the last replayed transaction's commit (grows on an idle source).
    pub dest_replay_delay_ms: Option<f64>,
    /// Free bytes on the destination's data filesystem.
    pub dest_free_bytes: Option<u64>,
    /// Why the source could not be read.
    pub source_error: Option<String>,
    /// Why the destination could not be read.
    pub dest_error: Option<String>,
}

impl Sample {
    /// The replication state implied by what both sides report.
    pub fn state(&self) -> ReplicationState {
        match self.sender_state.as_deref() {
            Some("streaming") => ReplicationState::Streaming,
            Some(_) => ReplicationState::Catchup,
            // The source cannot be read: trust the destination's receiver.
            None if self.source_error.is_some() => match self.receiver_status.as_deref() {
                Some("streaming") => ReplicationState::Streaming,
                _ => ReplicationState::Disconnect,
            },
            None => ReplicationState::Disconnect,
        }
    }
}

/// Where the monitor looks.
#[derive(Debug, Clone)]
pub struct Target {
    /// The source.
    pub source: Endpoint,
    /// Its password.
    pub source_password: Option<Password>,
    /// The destination (a managed instance on this host).
    pub dest: Endpoint,
    /// Its password.
    pub dest_password: Option<Password>,
    /// The destination's data directory (for free space).
    pub dest_data_dir: PathBuf,
    /// Source version (the slot's columns differ).
    pub version: ServerVersion,
    /// Our slot.
    pub slot_name: String,
    /// Our standby's `application_name`.
    pub application_name: String,
}

/// A sampler with its two connections.
pub struct Monitor {
    target: Target,
    source: Option<Client>,
    dest: Option<Client>,
}

fn lsn(text: Option<String>) -> Option<Lsn> {
    text.and_then(|t| t.parse().ok())
}

fn diff(a: Option<Lsn>, b: Option<Lsn>) -> Option<u64> {
    Some(a?.0.saturating_sub(b?.0))
}

impl Monitor {
    /// A monitor for `target` (connections open on the first sample).
    pub fn new(target: Target) -> Monitor {
        Monitor {
            target,
            source: None,
            dest: None,
        }
    }

    /// Takes one sample. Never fails: what could not be read is `None` with the reason.
    pub async fn sample(&mut self) -> Sample {
        let mut s = Sample {
            dest_free_bytes: crate::assess::host::free_bytes(&self.target.dest_data_dir),
            ..Sample::default()
        };
        if let Err(e) = self.read_source(&mut s).await {
            self.source = None;
            s.source_error = Some(e);
        }
        if let Err(e) = self.read_dest(&mut s).await {
            self.dest = None;
            s.dest_error = Some(e);
        }
        s.sent_lag_bytes = diff(s.source_lsn, s.sent_lsn);
        s.write_lag_bytes = diff(s.source_lsn, s.write_lsn);
        s.flush_lag_bytes = diff(s.source_lsn, s.flush_lsn);
        s.replay_lag_bytes = diff(s.source_lsn, s.replay_lsn);
        s.replication = Some(s.state());
        s
    }

    async fn read_source(&mut self, s: &mut Sample) -> Result<(), String> {
        if self.source.is_none() {
            let t = &self.target;
            self.source = Some(
                sql::connect(&t.source, t.source_password.as_ref(), CONNECT_TIMEOUT)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        let client = self.source.as_ref().expect("connected");
        let source = &self.target.source;
        let err = |e: tokio_postgres::Error| sql::SqlError::from_driver(&e, source).to_string();
        let row = client
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .await
            .map_err(err)?;
        s.source_lsn = lsn(row.get(0));
        let sender = client
            .query_opt(
                "SELECT state, sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text, \
                        (extract(epoch FROM write_lag) * 1000)::float8, \
                        (extract(epoch FROM flush_lag) * 1000)::float8, \
                        (extract(epoch FROM replay_lag) * 1000)::float8 \
                 FROM pg_stat_replication WHERE application_name = $1 \
                 ORDER BY backend_start DESC LIMIT 1",
                &[&self.target.application_name],
            )
            .await
            .map_err(err)?;
        if let Some(r) = sender {
            s.sender_state = r.get(0);
            s.sent_lsn = lsn(r.get(1));
            s.write_lsn = lsn(r.get(2));
            s.flush_lsn = lsn(r.get(3));
            s.replay_lsn = lsn(r.get(4));
            s.write_lag_ms = r.get(5);
            s.flush_lag_ms = r.get(6);
            s.replay_lag_ms = r.get(7);
        }
        let status_columns = if self.target.version.has_slot_wal_status() {
            "wal_status, safe_wal_size"
        } else {
            "NULL::text, NULL::int8"
        };
        let slot = client
            .query_opt(
                &format!(
                    "SELECT active, restart_lsn::text, \
                            pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8, {status_columns} \
                     FROM pg_replication_slots WHERE slot_name = $1"
                ),
                &[&self.target.slot_name],
            )
            .await
            .map_err(err)?;
        s.slot = slot.map(|r| SlotSample {
            active: r.get(0),
            restart_lsn: lsn(r.get(1)),
            retained_bytes: r.get::<_, Option<i64>>(2).map(|b| b.max(0) as u64),
            wal_status: r.get(3),
            safe_wal_size: r.get(4),
        });
        Ok(())
    }

    async fn read_dest(&mut self, s: &mut Sample) -> Result<(), String> {
        if self.dest.is_none() {
            let t = &self.target;
            self.dest = Some(
                sql::connect(&t.dest, t.dest_password.as_ref(), CONNECT_TIMEOUT)
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        let client = self.dest.as_ref().expect("connected");
        let row = client
            .query_one(
                "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text, \
                        pg_last_wal_replay_lsn()::text, \
                        (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8, \
                        (SELECT status FROM pg_stat_wal_receiver LIMIT 1)",
                &[],
            )
            .await
            .map_err(|e| sql::SqlError::from_driver(&e, &self.target.dest).to_string())?;
        s.dest_in_recovery = row.get(0);
        s.dest_receive_lsn = lsn(row.get(1));
        s.dest_replay_lsn = lsn(row.get(2));
        s.dest_replay_delay_ms = row.get(3);
        s.receiver_status = row.get(4);
        Ok(())
    }
}

/// Thresholds for the monitor's warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Retained WAL on the source above which a warning is raised.
    pub retained_wal_bytes: u64,
    /// Free space on the destination below which a warning is raised.
    pub dest_free_bytes: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            retained_wal_bytes: 1 << 30,
            dest_free_bytes: 1 << 30,
        }
    }
}

/// The risks a sample shows, as warnings (each with its code).
pub fn risks(sample: &Sample, slot_name: &str, limits: &Thresholds) -> Vec<Warning> {
    let mut out = Vec::new();
    let slot = || slot_name.to_string();
    if let Some(s) = &sample.slot {
        if let Some(kept) = s.retained_bytes.filter(|b| *b > limits.retained_wal_bytes) {
            out.push(Warning::SlotRetainedWal {
                slot: slot(),
                retained_bytes: kept,
                limit_bytes: limits.retained_wal_bytes,
            });
        }
        match s.wal_status.as_deref() {
            Some("unreserved") => out.push(Warning::SlotAtRisk { slot: slot() }),
            Some("lost") => out.push(Warning::SlotLost { slot: slot() }),
            _ => {}
        }
    } else if sample.source_error.is_none() {
        out.push(Warning::SlotMissing { slot: slot() });
    }
    if let Some(free) = sample
        .dest_free_bytes
        .filter(|f| *f < limits.dest_free_bytes)
    {
        out.push(Warning::DestDiskLow {
            free_bytes: free,
            limit_bytes: limits.dest_free_bytes,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_follows_the_sender_and_falls_back_on_the_receiver() {
        let mut s = Sample {
            sender_state: Some("streaming".into()),
            ..Sample::default()
        };
        assert_eq!(s.state(), ReplicationState::Streaming);
        s.sender_state = Some("catchup".into());
        assert_eq!(s.state(), ReplicationState::Catchup);
        s.sender_state = None;
        assert_eq!(s.state(), ReplicationState::Disconnect);
        s.source_error = Some("down".into());
        s.receiver_status = Some("streaming".into());
        assert_eq!(s.state(), ReplicationState::Streaming);
        s.receiver_status = Some("waiting".into());
        assert_eq!(s.state(), ReplicationState::Disconnect);
    }

    #[test]
    fn risks_name_retained_wal_lost_slots_and_low_disk() {
        let limits = Thresholds {
            retained_wal_bytes: 100,
            dest_free_bytes: 1000,
        };
        let s = Sample {
            slot: Some(SlotSample {
                active: false,
                restart_lsn: None,
                retained_bytes: Some(200),
                wal_status: Some("lost".into()),
                safe_wal_size: None,
            }),
            dest_free_bytes: Some(10),
            ..Sample::default()
        };
        let found = risks(&s, "pgrelocate_x", &limits);
        let codes: Vec<_> = found.iter().map(|r| r.code()).collect();
        assert_eq!(codes, ["slot_retained_wal", "slot_lost", "dest_disk_low"]);
        let fine = Sample {
            slot: Some(SlotSample {
                active: true,
                restart_lsn: None,
                retained_bytes: Some(50),
                wal_status: Some("reserved".into()),
                safe_wal_size: None,
            }),
            dest_free_bytes: Some(5000),
            ..Sample::default()
        };
        assert!(risks(&fine, "pgrelocate_x", &limits).is_empty());
    }
}
