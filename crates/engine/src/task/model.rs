//! The task state machine: a migration or DR task, its phase and replication state, one
//! function per transition. Illegal transitions are errors, never silent.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::standby::StandbyPlan;
use crate::assess::model::Mode;
use crate::backup::{Compression, MaxRate, TablespaceMapping};
use crate::store::InstanceId;
use crate::switchover::{FailoverReport, FenceRecord, SwitchoverReport};
use crate::wire::Lsn;

/// A task id: 12 lowercase hex digits (so `pgrelocate_<id>` is a valid slot name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(transparent)]
pub struct TaskId(String);

impl TaskId {
    /// A new random id.
    pub fn generate() -> Self {
        TaskId(uuid::Uuid::new_v4().simple().to_string()[..12].to_string())
    }

    /// An id read back from the store or typed by a user (not validated here: lookups are).
    pub fn from_stored(id: impl Into<String>) -> Self {
        TaskId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The replication slot and `application_name` the task uses on the source.
    pub fn slot_name(&self) -> String {
        format!("pgrelocate_{}", self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a task is, as the console's "Cloud Migration Phase" column shows it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Checking the report and the destination again, reading the source's settings.
    Precheck,
    /// Full copy: slot created, base backup into a fresh directory.
    Basebackup,
    /// Link setup: standby configuration written, destination started.
    Startup,
    /// Incremental synchronisation: the destination streams WAL (DR tasks stay here).
    Increment,
    /// Switchover or failover in progress.
    Switch,
    /// The destination is the new primary.
    Success,
    /// Stopped by an error; see `error`.
    Failed,
    /// Cancelled; the destination is empty and running again.
    Cancelled,
}

impl Phase {
    /// Lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Precheck => "precheck",
            Phase::Basebackup => "basebackup",
            Phase::Startup => "startup",
            Phase::Increment => "increment",
            Phase::Switch => "switch",
            Phase::Success => "success",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }

    /// Nothing more happens to the task.
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Success | Phase::Cancelled)
    }

    /// The task may still be cancelled (everything before `switch`, and `failed`).
    pub fn can_cancel(self) -> bool {
        matches!(
            self,
            Phase::Precheck | Phase::Basebackup | Phase::Startup | Phase::Increment | Phase::Failed
        )
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The link between source and destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ReplicationState {
    /// No standby yet.
    Unstarted,
    /// The standby is connected and behind (replaying what accumulated).
    Catchup,
    /// The standby receives WAL as it is written.
    Streaming,
    /// The standby is not connected (source down, network, destination stopped).
    Disconnect,
    /// Replication ended (switchover, failover or cancel).
    Finish,
}

impl ReplicationState {
    /// Lower-case word.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicationState::Unstarted => "unstarted",
            ReplicationState::Catchup => "catchup",
            ReplicationState::Streaming => "streaming",
            ReplicationState::Disconnect => "disconnect",
            ReplicationState::Finish => "finish",
        }
    }
}

impl fmt::Display for ReplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One end of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TaskInstance {
    /// Stable instance id.
    pub id: InstanceId,
    /// Name at the time the task started.
    pub name: String,
}

/// What the DBA chose for the full copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CopyOptions {
    /// Tablespace relocations.
    #[serde(default)]
    pub tablespace_mappings: Vec<TablespaceMapping>,
    /// Throttle on the source.
    #[serde(default)]
    pub max_rate: Option<MaxRate>,
    /// Server-side compression (15+).
    #[serde(default)]
    pub compression: Compression,
    /// fsync the copy (off only in tests).
    #[serde(default = "yes")]
    pub sync: bool,
}

fn yes() -> bool {
    true
}

/// A directory the copy writes outside the data directory (a tablespace), and whether it
/// existed before, so an interrupted copy can be undone exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TablespaceTarget {
    /// The tablespace's OID on the source.
    pub oid: u32,
    /// Its location on the source.
    pub source_location: String,
    /// Where it goes on this host.
    pub target: PathBuf,
    /// The target existed (empty) before the task: keep the folder, remove its content.
    pub existed: bool,
}

/// Everything the task puts on disk and on the source, recorded before it is made, so
/// cancel, resume and the switchover know exactly what to undo or change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TaskLayout {
    /// Permanent physical slot on the source (`pgrelocate_<task>`).
    pub slot_name: String,
    /// `application_name` of the standby's connection (same as the slot name).
    pub application_name: String,
    /// The destination's data directory.
    pub data_dir: PathBuf,
    /// The destination's original (empty) data directory, moved aside for rollback.
    pub aside_dir: PathBuf,
    /// The fresh directory the base backup writes; renamed to `data_dir` when complete.
    pub copy_dir: PathBuf,
    /// libpq password file of `primary_conninfo` (0600, server user), outside the data dir.
    pub passfile: PathBuf,
    /// Files holding the standby settings once written: `recovery.conf` (10, 11) or
    /// `postgresql.auto.conf` + `standby.signal` (12+).
    pub standby_files: Vec<PathBuf>,
    /// User tablespaces and where they go.
    pub tablespaces: Vec<TablespaceTarget>,
    /// The role made on the source for the standby alone (`REPLICATION LOGIN`, its own
    /// password), recorded before it is created so every cleanup drops it; `None` when the
    /// standby uses the task account's password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub standby_role: Option<String>,
}

/// What the base backup reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct CopyResult {
    /// WAL position where the copy starts.
    pub start_lsn: Lsn,
    /// WAL position the standby must replay to be consistent.
    pub end_lsn: Lsn,
    /// Timeline at the start.
    pub timeline: u32,
    /// The source's system identifier (text: it does not fit a JSON number).
    pub system_id: String,
    /// Bytes copied.
    pub bytes: u64,
    /// Files copied.
    pub files: usize,
}

/// A migration or DR task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Task {
    /// Task id.
    pub id: TaskId,
    /// Migration (ends with a switchover) or DR (stays in `increment`).
    pub mode: Mode,
    /// Source instance.
    pub source: TaskInstance,
    /// Managed destination instance.
    pub destination: TaskInstance,
    /// The assessment report the task started from (it had no errors).
    pub report_id: String,
    /// Current phase.
    pub phase: Phase,
    /// Current replication state.
    pub replication: ReplicationState,
    /// The phase a failed task failed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_in: Option<Phase>,
    /// Why it failed (no secret ever reaches this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the task was created (RFC 3339, UTC).
    pub created_at: String,
    /// When each phase was last entered.
    pub phase_times: BTreeMap<Phase, String>,
    /// Copy options.
    pub options: CopyOptions,
    /// What the task puts where.
    pub layout: TaskLayout,
    /// The standby configuration decided at precheck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<StandbyPlan>,
    /// The base backup's result, once it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<CopyResult>,
    /// How many times the task was retried after a failure.
    #[serde(default)]
    pub attempts: u32,
    /// The switchover or failover: fence in force, outcome, report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switch: Option<SwitchRecord>,
    /// The steps after promotion and their outcomes (`None`: not promoted, or stored before
    /// housekeeping was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub housekeeping: Option<super::housekeeping::Housekeeping>,
    /// A reverse task: how its destination (the forward task's old source) was made a
    /// standby of the new primary, and what that copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub rejoin: Option<Rejoin>,
    /// The reverse task made from this one (its old source follows its new primary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reversed_by: Option<TaskId>,
}

/// How the old source of a switched- or failed-over task became a standby of the new
/// primary (see [`super::reverse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum RejoinMethod {
    /// After the `shutdown` fence: its last checkpoint is on the new primary, so it follows
    /// the new timeline as it is (nothing copied).
    Follow,
    /// Its WAL may have diverged (`sql` fence, failover): `pg_rewind` copied what differs.
    Rewind,
}

impl RejoinMethod {
    /// The word, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RejoinMethod::Follow => "follow",
            RejoinMethod::Rewind => "rewind",
        }
    }
}

impl fmt::Display for RejoinMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What rejoining the old source did, stored in the reverse task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Rejoin {
    /// The task that was reversed.
    pub forward_task: TaskId,
    /// Follow directly or rewind.
    pub method: RejoinMethod,
    /// Bytes copied to rejoin (pg_rewind's count; 0 when it follows directly).
    pub bytes_copied: u64,
    /// The old source's data size, for comparison (bytes under its data directory).
    pub data_bytes: u64,
    /// How long the rejoin took until the standby was configured (ms).
    pub duration_ms: u64,
    /// When it was done (RFC 3339, UTC).
    pub at: String,
}

/// Which operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Fence, catch up, promote.
    Switchover,
    /// Promote without a fence (the source is lost).
    Failover,
}

impl Operation {
    /// The word, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Switchover => "switchover",
            Operation::Failover => "failover",
        }
    }
}

/// What the task's switchover or failover did, stored with the task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SwitchRecord {
    /// The latest operation.
    pub operation: Operation,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// What the fence has in force on the source now (`None`: nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<FenceRecord>,
    /// Why the latest attempt was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<String>,
    /// What went wrong after promotion (the destination is the primary all the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The successful switchover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub switchover: Option<SwitchoverReport>,
    /// The successful failover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverReport>,
    /// The endpoint hook the latest switchover was asked to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hook: Option<crate::switchover::Hook>,
}

impl SwitchRecord {
    pub(crate) fn new(operation: Operation) -> SwitchRecord {
        SwitchRecord {
            operation,
            started_at: now(),
            fence: None,
            rolled_back: None,
            error: None,
            switchover: None,
            failover: None,
            hook: None,
        }
    }
}

/// A transition that the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task {task} cannot {action} while in phase {phase}")]
pub struct TransitionError {
    /// The task.
    pub task: TaskId,
    /// What was attempted.
    pub action: &'static str,
    /// The phase it was in.
    pub phase: Phase,
}

/// The current time as stored (RFC 3339, UTC, milliseconds).
pub fn now() -> String {
    let t = jiff::Timestamp::now();
    t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string()
}

impl Task {
    /// A new task in `precheck`.
    pub fn new(
        id: TaskId,
        mode: Mode,
        source: TaskInstance,
        destination: TaskInstance,
        report_id: String,
        options: CopyOptions,
        layout: TaskLayout,
    ) -> Task {
        let created_at = now();
        Task {
            id,
            mode,
            source,
            destination,
            report_id,
            phase: Phase::Precheck,
            replication: ReplicationState::Unstarted,
            failed_in: None,
            error: None,
            phase_times: BTreeMap::from([(Phase::Precheck, created_at.clone())]),
            created_at,
            options,
            layout,
            plan: None,
            copy: None,
            attempts: 0,
            switch: None,
            housekeeping: None,
            rejoin: None,
            reversed_by: None,
        }
    }

    fn enter(
        &mut self,
        from: &[Phase],
        action: &'static str,
        to: Phase,
    ) -> Result<(), TransitionError> {
        if !from.contains(&self.phase) {
            return Err(TransitionError {
                task: self.id.clone(),
                action,
                phase: self.phase,
            });
        }
        self.phase = to;
        self.phase_times.insert(to, now());
        Ok(())
    }

    /// precheck → basebackup: the report and the destination passed.
    pub fn begin_basebackup(&mut self) -> Result<(), TransitionError> {
        self.enter(
            &[Phase::Precheck],
            "begin the base backup",
            Phase::Basebackup,
        )
    }

    /// basebackup → startup: the copy is complete.
    pub fn begin_startup(&mut self, copy: CopyResult) -> Result<(), TransitionError> {
        self.enter(&[Phase::Basebackup], "start the standby", Phase::Startup)?;
        self.copy = Some(copy);
        Ok(())
    }

    /// precheck → startup for a reverse task: its destination was made a standby of the
    /// source in place (no copy), so it only needs starting and following.
    pub fn begin_rejoined(&mut self, rejoin: Rejoin) -> Result<(), TransitionError> {
        self.enter(
            &[Phase::Precheck],
            "start the rejoined standby",
            Phase::Startup,
        )?;
        self.rejoin = Some(rejoin);
        Ok(())
    }

    /// startup → increment: the standby is connected to the source.
    pub fn begin_increment(&mut self) -> Result<(), TransitionError> {
        self.enter(
            &[Phase::Startup],
            "begin incremental sync",
            Phase::Increment,
        )
    }

    /// increment → switch: the switchover (or failover) begins.
    pub fn begin_switch(&mut self) -> Result<(), TransitionError> {
        self.enter(&[Phase::Increment], "begin the switchover", Phase::Switch)
    }

    /// switch → increment: the switchover was rolled back before promotion.
    pub fn abort_switch(&mut self) -> Result<(), TransitionError> {
        self.enter(
            &[Phase::Switch],
            "roll back the switchover",
            Phase::Increment,
        )
    }

    /// switch → success: the destination was promoted; replication is over.
    pub fn finish_switch(&mut self) -> Result<(), TransitionError> {
        self.enter(&[Phase::Switch], "finish the switchover", Phase::Success)?;
        self.replication = ReplicationState::Finish;
        Ok(())
    }

    /// any live phase → failed, keeping the reason and where it happened.
    pub fn fail(&mut self, reason: impl Into<String>) -> Result<(), TransitionError> {
        let at = self.phase;
        self.enter(
            &[
                Phase::Precheck,
                Phase::Basebackup,
                Phase::Startup,
                Phase::Increment,
                Phase::Switch,
            ],
            "fail",
            Phase::Failed,
        )?;
        self.failed_in = Some(at);
        self.error = Some(reason.into());
        Ok(())
    }

    /// failed → precheck: try again from the start (the copy is taken anew).
    pub fn retry(&mut self) -> Result<(), TransitionError> {
        self.enter(&[Phase::Failed], "be retried", Phase::Precheck)?;
        self.failed_in = None;
        self.error = None;
        self.copy = None;
        self.replication = ReplicationState::Unstarted;
        self.attempts += 1;
        Ok(())
    }

    /// any phase before switch (or failed) → cancelled: the destination was restored.
    pub fn cancel(&mut self) -> Result<(), TransitionError> {
        let from = [
            Phase::Precheck,
            Phase::Basebackup,
            Phase::Startup,
            Phase::Increment,
            Phase::Failed,
        ];
        self.enter(&from, "be cancelled", Phase::Cancelled)?;
        if self.replication != ReplicationState::Unstarted {
            self.replication = ReplicationState::Finish;
        }
        Ok(())
    }

    /// Records what the monitor saw; returns the previous state when it changed.
    /// Only meaningful while a standby exists (startup, increment, switch).
    pub fn observe_replication(&mut self, state: ReplicationState) -> Option<ReplicationState> {
        let live = matches!(
            self.phase,
            Phase::Startup | Phase::Increment | Phase::Switch
        );
        if !live || self.replication == state {
            return None;
        }
        Some(std::mem::replace(&mut self.replication, state))
    }
}

impl crate::Coded for TransitionError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::WrongPhase
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Task {
        let id = TaskId::from_stored("0123456789ab");
        Task::new(
            id.clone(),
            Mode::Migration,
            TaskInstance {
                id: InstanceId::generate(),
                name: "src".into(),
            },
            TaskInstance {
                id: InstanceId::generate(),
                name: "dst".into(),
            },
            "report".into(),
            CopyOptions::default(),
            TaskLayout {
                slot_name: id.slot_name(),
                application_name: id.slot_name(),
                data_dir: "/d".into(),
                aside_dir: "/d.aside".into(),
                copy_dir: "/d.copy".into(),
                passfile: "/d.pgpass".into(),
                standby_files: vec![],
                tablespaces: vec![],
                standby_role: None,
            },
        )
    }

    fn copy() -> CopyResult {
        CopyResult {
            start_lsn: Lsn(1),
            end_lsn: Lsn(2),
            timeline: 1,
            system_id: "1".into(),
            bytes: 0,
            files: 0,
        }
    }

    #[test]
    fn slot_names_are_valid_postgres_slot_names() {
        let id = TaskId::generate();
        crate::wire::SlotName::new(&id.slot_name()).unwrap();
    }

    #[test]
    fn begin_basebackup_then_startup_then_increment_records_each_phase_time() {
        let mut t = task();
        t.begin_basebackup().unwrap();
        t.begin_startup(copy()).unwrap();
        assert_eq!(t.copy.as_ref().unwrap().end_lsn, Lsn(2));
        t.begin_increment().unwrap();
        assert_eq!(t.phase, Phase::Increment);
        for p in [
            Phase::Precheck,
            Phase::Basebackup,
            Phase::Startup,
            Phase::Increment,
        ] {
            assert!(t.phase_times.contains_key(&p), "{p}");
        }
    }

    #[test]
    fn begin_increment_is_refused_before_the_copy() {
        let mut t = task();
        let err = t.begin_increment().unwrap_err();
        assert_eq!(err.phase, Phase::Precheck);
        assert_eq!(t.phase, Phase::Precheck);
        assert!(t.begin_startup(copy()).is_err());
    }

    #[test]
    fn fail_records_where_and_retry_starts_over() {
        let mut t = task();
        t.begin_basebackup().unwrap();
        t.fail("interrupted").unwrap();
        assert_eq!(
            (t.phase, t.failed_in),
            (Phase::Failed, Some(Phase::Basebackup))
        );
        assert!(
            t.fail("again").is_err(),
            "a failed task does not fail twice"
        );
        t.retry().unwrap();
        assert_eq!(
            (t.phase, t.failed_in, t.attempts),
            (Phase::Precheck, None, 1)
        );
        assert!(t.error.is_none());
    }

    #[test]
    fn cancel_is_allowed_before_switch_and_refused_after() {
        let mut t = task();
        t.begin_basebackup().unwrap();
        t.cancel().unwrap();
        assert_eq!(t.phase, Phase::Cancelled);
        assert!(t.cancel().is_err());

        let mut t = task();
        t.begin_basebackup().unwrap();
        t.begin_startup(copy()).unwrap();
        t.begin_increment().unwrap();
        t.observe_replication(ReplicationState::Streaming);
        t.begin_switch().unwrap();
        assert!(t.cancel().is_err(), "no cancel during switch");
        t.abort_switch().unwrap();
        t.cancel().unwrap();
        assert_eq!(t.replication, ReplicationState::Finish);
    }

    #[test]
    fn finish_switch_ends_replication() {
        let mut t = task();
        t.begin_basebackup().unwrap();
        t.begin_startup(copy()).unwrap();
        t.begin_increment().unwrap();
        t.begin_switch().unwrap();
        t.finish_switch().unwrap();
        assert_eq!(
            (t.phase, t.replication),
            (Phase::Success, ReplicationState::Finish)
        );
        assert!(t.phase.is_terminal());
    }

    #[test]
    fn observe_replication_reports_changes_only_while_a_standby_exists() {
        let mut t = task();
        assert_eq!(t.observe_replication(ReplicationState::Streaming), None);
        assert_eq!(t.replication, ReplicationState::Unstarted);
        t.begin_basebackup().unwrap();
        t.begin_startup(copy()).unwrap();
        assert_eq!(
            t.observe_replication(ReplicationState::Catchup),
            Some(ReplicationState::Unstarted)
        );
        assert_eq!(t.observe_replication(ReplicationState::Catchup), None);
        assert_eq!(
            t.observe_replication(ReplicationState::Disconnect),
            Some(ReplicationState::Catchup)
        );
    }

    #[test]
    fn the_json_form_round_trips() {
        let t = task();
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"phase\":\"precheck\""), "{json}");
        assert_eq!(serde_json::from_str::<Task>(&json).unwrap(), t);
    }
}
