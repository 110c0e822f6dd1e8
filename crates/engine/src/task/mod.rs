//! Migration and DR tasks: an assessment without errors becomes a running replica.
//!
//! `precheck → basebackup → startup → increment` (→ `switch → success`, issue #7), plus
//! `failed` and `cancelled`. The [`Tasks`] service is what the CLI and the desktop app call:
//! it creates tasks, drives them in background tokio tasks, reports events (stored and
//! broadcast), cancels, retries, and re-attaches to tasks after a restart.
//!
//! After the copy the replication runs inside PostgreSQL: a process that quits during
//! `increment` changes nothing on the servers. A task in `increment` that no process drives
//! is just a standby: PostgreSQL keeps streaming and reconnecting, no samples are recorded
//! (the lag chart shows a gap), and the next process that attaches reconciles and resumes
//! monitoring. One process drives a task at a time (a lease row); others read.

mod basebackup;
pub mod cancel;
pub(crate) mod credential;
pub mod event;
pub mod history;
pub mod housekeeping;
mod increment;
mod lease;
pub mod model;
pub mod monitor;
pub mod plan;
mod precheck;
pub(crate) mod rejoin;
mod remote;
pub mod resume;
pub mod reverse;
pub mod run;
mod settle;
pub mod standby;
mod startup;
pub mod switch;
pub mod warning;
pub mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use crate::store::leases::{Lease, LeaseBusy, LeaseHolder};
pub use crate::store::tasks::TaskStoreError;
pub use event::{CopyProgress, EventKind, TaskEvent};
pub use housekeeping::{Housekeeping, HousekeepingEntry, HousekeepingState, HousekeepingStep};
pub use model::{
    CopyOptions, CopyResult, Phase, Rejoin, RejoinMethod, ReplicationState, SwitchRecord, Task,
    TaskId, TaskInstance, TaskLayout, TransitionError,
};
pub use monitor::{Sample, Thresholds};
pub use reverse::{ReverseError, WayBack};
pub use warning::Warning;
pub use watch::TaskWatch;

use crate::agent::protocol::TaskOperation;
use crate::assess::model::{Mode, Verdict};
use crate::assess::AssessError;
use crate::backup::BackupError;
use crate::instances::{InstanceError, Instances};
use crate::secrets::Password;
use crate::server::{OsUser, ServerError};
use crate::sql::SqlError;
use crate::store::reports::{self, ReportError};
use crate::store::{events, leases, tasks};
use crate::store::{InstanceRecord, ManagedDetails, StoreError};
use crate::wire::WireError;

/// Why a task operation failed. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Store(#[from] TaskStoreError),
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Assess(#[from] AssessError),
    #[error(
        "no assessment report for {source_name} → {dest} ({mode}); run `pgrelocate assess --source \
         {source_name} --dest {dest} --mode {mode}` first"
    )]
    NoReport {
        source_name: String,
        dest: String,
        mode: &'static str,
    },
    #[error("report {id} found {errors} blocking error(s): fix them and assess again")]
    ReportHasErrors { id: String, errors: usize },
    #[error("report {id} is for {what}, not for this task")]
    ReportMismatch { id: String, what: String },
    #[error("destination {0:?} is not managed by pgrelocate on this host: a migration rebuilds its data directory")]
    DestinationNotManaged(String),
    #[error("source and destination are the same instance")]
    SameInstance,
    #[error("destination {dest:?} is already used by task {task} ({phase}); cancel it first")]
    DestinationBusy {
        dest: String,
        task: TaskId,
        phase: Phase,
    },
    #[error("the destination is not ready: {0}")]
    DestinationNotReady(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Busy(#[from] LeaseBusy),
    #[error("full copy failed: {0}")]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error("replication connection: {0}")]
    Wire(#[from] WireError),
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the standby did not connect to the source within {secs} s; its log ends with:\n{log}"
    )]
    StandbyDidNotConnect { secs: u64, log: String },
    #[error("{0}")]
    Inconsistent(String),
    #[error("task {task} is still driven by process {pid} on {host}, which did not act on the cancel request")]
    CancelNotHonoured {
        task: TaskId,
        pid: u32,
        host: String,
    },
    #[error("stopped")]
    Stopped,
    #[error(
        "the connection to host {host} was lost while {what} task {task} ({source}); it \
         goes on there: `pgrelocate task status {task}` tells how it ended"
    )]
    HostLost {
        task: TaskId,
        host: String,
        what: &'static str,
        source: crate::agent::AgentError,
    },
    #[error(transparent)]
    Switchover(#[from] crate::switchover::SwitchoverError),
    #[error(transparent)]
    Reverse(#[from] ReverseError),
    #[error(
        "timed out after {secs} s waiting for task {task} ({what}); it is {phase}/{replication}"
    )]
    WaitTimeout {
        task: TaskId,
        what: String,
        secs: u64,
        phase: Phase,
        replication: ReplicationState,
    },
}

impl TaskError {
    /// How a switchover or failover that failed with this error ended.
    pub fn outcome(&self) -> crate::switchover::Outcome {
        match self {
            TaskError::Switchover(e) => e.outcome(),
            // The operation ran on the task's host: its code tells how it ended there.
            TaskError::Instance(InstanceError::Host(crate::host::HostError::Agent(
                crate::agent::AgentError::Remote { code, .. },
            ))) => crate::switchover::Outcome::of_code(*code),
            _ => crate::switchover::Outcome::Failed,
        }
    }
}

impl crate::Coded for TaskError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            TaskError::Store(e) => e.code(),
            TaskError::HostLost { .. } => ErrorCode::HostLost,
            TaskError::Instance(e) => e.code(),
            TaskError::Report(e) => e.code(),
            TaskError::Assess(e) => e.code(),
            TaskError::NoReport { .. } => ErrorCode::NoReport,
            TaskError::ReportHasErrors { .. } => ErrorCode::ReportHasErrors,
            TaskError::ReportMismatch { .. } => ErrorCode::ReportMismatch,
            TaskError::DestinationNotManaged(_) => ErrorCode::DestinationNotManaged,
            TaskError::SameInstance => ErrorCode::SameInstance,
            TaskError::DestinationBusy { .. } => ErrorCode::DestinationBusy,
            TaskError::DestinationNotReady(_) => ErrorCode::DestinationNotReady,
            TaskError::Transition(e) => e.code(),
            TaskError::Busy(e) => e.code(),
            TaskError::Backup(e) => e.code(),
            TaskError::Server(e) => e.code(),
            TaskError::Sql(e) => e.code(),
            TaskError::Wire(e) => e.code(),
            TaskError::Io { .. } => ErrorCode::Io,
            TaskError::StandbyDidNotConnect { .. } => ErrorCode::StandbyDidNotConnect,
            TaskError::Inconsistent(_) => ErrorCode::Inconsistent,
            TaskError::CancelNotHonoured { .. } => ErrorCode::CancelNotHonoured,
            TaskError::Stopped => ErrorCode::Stopped,
            TaskError::Switchover(e) => e.code(),
            TaskError::Reverse(e) => e.code(),
            TaskError::WaitTimeout { .. } => ErrorCode::Timeout,
        }
    }
}

impl From<StoreError> for TaskError {
    fn from(e: StoreError) -> Self {
        TaskError::Store(TaskStoreError::Store(e))
    }
}

impl TaskError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TaskError::Io { op, path, source }
    }
}

/// What to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRequest {
    /// Registered source instance.
    pub source: String,
    /// Managed destination instance.
    pub dest: String,
    /// Migration or DR.
    pub mode: Mode,
    /// The report to start from; `None`: the newest one for this source, destination and mode.
    pub report_id: Option<String>,
    /// Copy options.
    pub options: CopyOptions,
}

/// Tunables of the task service.
#[derive(Debug, Clone)]
pub struct TaskSettings {
    /// Monitoring sample period in `increment` (also the lag chart's resolution).
    pub sample_interval: Duration,
    /// How long a lease lasts without renewal (renewed every third of it, at most every
    /// second).
    pub lease_ttl: Duration,
    /// How long the started standby may take to connect to the source.
    pub standby_connect_timeout: Duration,
    /// Copy progress is stored at most this often (every update is broadcast).
    pub progress_interval: Duration,
    /// Warning thresholds.
    pub thresholds: Thresholds,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            sample_interval: Duration::from_secs(5),
            lease_ttl: Duration::from_secs(15),
            standby_connect_timeout: Duration::from_secs(300),
            progress_interval: Duration::from_secs(1),
            thresholds: Thresholds::default(),
        }
    }
}

/// A task with what the store knows about who drives it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct TaskStatus {
    /// The task.
    #[serde(flatten)]
    pub task: Task,
    /// The process driving it, if any process does.
    pub driver: Option<Lease>,
    /// The latest copy progress (during basebackup).
    pub progress: Option<CopyProgress>,
    /// The latest monitoring sample.
    pub sample: Option<Sample>,
    /// When that sample was taken (RFC 3339, UTC).
    pub sample_at: Option<String>,
    /// The sample was read from the servers by this call: no process monitors the task and
    /// the stored one was stale.
    pub sample_live: bool,
    /// When the task entered its current replication state (RFC 3339, UTC), if recorded.
    pub replication_since: Option<String>,
    /// A switched- or failed-over task: whether its old source can be made a standby of the
    /// new primary now (`task reverse`), and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub way_back: Option<WayBack>,
}

impl TaskStatus {
    /// The task as last stored, nothing read live (a host that is away, a driver just
    /// started).
    pub fn as_stored(task: Task) -> TaskStatus {
        TaskStatus {
            task,
            driver: None,
            progress: None,
            sample: None,
            sample_at: None,
            sample_live: false,
            replication_since: None,
            way_back: None,
        }
    }
}

/// A task's two ends as the monitor and the switchover reach them. The standby's catalog is
/// the source's, so the destination is reached with the source's role, database and password
/// (its own generated superuser password went aside with its empty data directory).
pub(crate) struct StandbyAccess {
    /// The source as registered.
    pub(crate) source: InstanceRecord,
    /// The source's password (also the destination's now).
    pub(crate) source_password: Option<Password>,
    /// The destination's address with the source's role and database.
    pub(crate) dest_endpoint: crate::endpoint::Endpoint,
    /// The destination's server on this host.
    pub(crate) dest_managed: ManagedDetails,
    /// The OS user its server runs as.
    pub(crate) dest_user: Option<OsUser>,
}

struct Driver {
    stop: CancellationToken,
    cancel: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<()>,
}

/// Shared state of the service and its drivers.
pub(crate) struct Inner {
    pub(crate) instances: Arc<Instances>,
    pub(crate) me: LeaseHolder,
    pub(crate) settings: TaskSettings,
    events: broadcast::Sender<TaskEvent>,
    drivers: Mutex<HashMap<TaskId, Driver>>,
}

/// The task service over one state directory (shares the instances' store).
#[derive(Clone)]
pub struct Tasks {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tasks")
            .field("holder", &self.inner.me)
            .finish_non_exhaustive()
    }
}

impl Inner {
    pub(crate) fn store(&self) -> &crate::store::Store {
        self.instances.store()
    }

    pub(crate) fn get(&self, id: &TaskId) -> Result<Task, TaskError> {
        Ok(tasks::get(self.store(), id.as_str())?)
    }

    /// Appends an event and broadcasts it.
    pub(crate) fn emit(&self, task: &TaskId, kind: EventKind) -> Result<TaskEvent, TaskError> {
        let event = events::append_event(self.store(), task, kind)?;
        let _ = self.events.send(event.clone());
        Ok(event)
    }

    /// Saves the task after a phase transition from `from` and records it.
    pub(crate) fn save_phase(&self, task: &Task, from: Phase) -> Result<(), TaskError> {
        tasks::save(self.store(), task)?;
        tracing::info!(task = %task.id, %from, to = %task.phase, "task phase");
        self.emit(
            &task.id,
            EventKind::Phase {
                from,
                to: task.phase,
                operation: (from == Phase::Switch || task.phase == Phase::Switch)
                    .then(|| task.switch.as_ref().map(|s| s.operation))
                    .flatten(),
            },
        )?;
        if let (Phase::Failed, Some(message)) = (task.phase, &task.error) {
            self.emit(
                &task.id,
                EventKind::Error {
                    message: message.clone(),
                },
            )?;
        }
        Ok(())
    }

    /// Records an observed replication state; saves and reports it when it changed.
    pub(crate) fn observe(
        &self,
        task: &mut Task,
        state: ReplicationState,
    ) -> Result<(), TaskError> {
        if let Some(from) = task.observe_replication(state) {
            tasks::save(self.store(), task)?;
            self.replication_changed(task, from)?;
        }
        Ok(())
    }

    /// Reports a replication state change already saved with `task`.
    pub(crate) fn replication_changed(
        &self,
        task: &Task,
        from: ReplicationState,
    ) -> Result<(), TaskError> {
        let to = task.replication;
        tracing::info!(task = %task.id, %from, %to, "replication state");
        self.emit(&task.id, EventKind::Replication { from, to })?;
        Ok(())
    }

    pub(crate) fn note(&self, task: &TaskId, message: impl Into<String>) {
        let message = message.into();
        tracing::info!(task = %task, "{message}");
        if let Err(e) = self.emit(task, EventKind::Note { message }) {
            tracing::warn!(error = %e, "cannot record a task event");
        }
    }

    /// Records a switchover or failover step worth a line (see [`Progress::has_line`]).
    pub(crate) fn step(&self, task: &TaskId, step: &crate::switchover::Progress) {
        if !step.has_line() {
            return;
        }
        tracing::info!(task = %task, "{step}");
        if let Err(e) = self.emit(task, EventKind::Step(Box::new(step.clone()))) {
            tracing::warn!(error = %e, "cannot record a task event");
        }
    }

    pub(crate) fn instance(&self, t: &TaskInstance) -> Result<InstanceRecord, TaskError> {
        Ok(self.store().instance(&t.id)?)
    }

    pub(crate) fn managed_dest(
        &self,
        task: &Task,
    ) -> Result<(InstanceRecord, ManagedDetails, Option<OsUser>), TaskError> {
        let record = self.instance(&task.destination)?;
        let managed = record
            .managed
            .clone()
            .ok_or_else(|| TaskError::DestinationNotManaged(record.name.to_string()))?;
        let user = OsUser::for_servers(managed.os_user.as_deref())?;
        Ok((record, managed, user))
    }

    pub(crate) async fn password(
        &self,
        record: &InstanceRecord,
    ) -> Result<Option<Password>, TaskError> {
        Ok(self.instances.password_for(record).await?)
    }

    /// Both ends of the task as its standby is reached once the copy is in place: the
    /// destination with the source's account.
    pub(crate) async fn standby_access(&self, task: &Task) -> Result<StandbyAccess, TaskError> {
        let source = self.instance(&task.source)?;
        let (dest, dest_managed, dest_user) = self.managed_dest(task)?;
        let source_password = self.password(&source).await?;
        let mut dest_endpoint = dest.endpoint.clone();
        dest_endpoint.user = source.endpoint.user.clone();
        dest_endpoint.dbname = source.endpoint.dbname.clone();
        Ok(StandbyAccess {
            source,
            source_password,
            dest_endpoint,
            dest_managed,
            dest_user,
        })
    }

    fn driving(&self, id: &TaskId) -> bool {
        let drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.get(id).is_some_and(|d| !d.handle.is_finished())
    }

    pub(crate) fn driver_finished(&self, id: &TaskId) {
        let mut drivers = self.drivers.lock().unwrap_or_else(|e| e.into_inner());
        if drivers.get(id).is_some_and(|d| d.handle.is_finished()) {
            drivers.remove(id);
        }
    }
}

impl Tasks {
    /// The task service over `instances`' state directory, with default settings.
    pub fn new(instances: Arc<Instances>) -> Tasks {
        Self::with_settings(instances, TaskSettings::default())
    }

    /// The task service with explicit settings (tests shorten the sample period).
    pub fn with_settings(instances: Arc<Instances>, settings: TaskSettings) -> Tasks {
        let (events, _) = broadcast::channel(1024);
        Tasks {
            inner: Arc::new(Inner {
                instances,
                me: LeaseHolder::this_process(),
                settings,
                events,
                drivers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The shared state (for the engine's other services, e.g. `access`).
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The instances service the tasks use.
    pub fn instances(&self) -> &Arc<Instances> {
        &self.inner.instances
    }

    /// Every event this process records from now on (any task). After a reload, read
    /// [`Tasks::events`] from the last seen `seq` first, then subscribe.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.events.subscribe()
    }

    /// Stored events of a task after `after` (0: from the start), oldest first.
    pub fn events(&self, id: &TaskId, after: i64) -> Result<Vec<TaskEvent>, TaskError> {
        Ok(events::events_since(self.inner.store(), id, after, 10_000)?)
    }

    /// The newest events of a task before `before` (`None`: the newest), newest first, at
    /// most `limit`, samples left out unless asked for: the event log pages backwards.
    pub fn events_before(
        &self,
        id: &TaskId,
        before: Option<i64>,
        limit: usize,
        samples: bool,
    ) -> Result<Vec<TaskEvent>, TaskError> {
        Ok(events::events_before(
            self.inner.store(),
            id,
            before,
            limit,
            samples,
        )?)
    }

    /// The newest stored event's `seq` (0: none): where a follower "from now" starts.
    pub fn newest_seq(&self, id: &TaskId) -> Result<i64, TaskError> {
        Ok(events::newest_seq(self.inner.store(), id)?)
    }

    /// The `seq` just before the first event at or after `at` (RFC 3339), for a follower
    /// that starts at a time.
    pub fn seq_before(&self, id: &TaskId, at: &str) -> Result<i64, TaskError> {
        let store = self.inner.store();
        Ok(match events::first_seq_since(store, id, at)? {
            Some(seq) => seq - 1,
            None => events::newest_seq(store, id)?,
        })
    }

    /// The task's lag over `period` (ending now), in at most [`history::MAX_BUCKETS`]
    /// buckets from the finest stored resolution that covers it.
    pub fn lag(
        &self,
        id: &TaskId,
        period: history::Period,
    ) -> Result<history::LagHistory, TaskError> {
        let task = tasks::get(self.inner.store(), id.as_str())?;
        Ok(history::LagHistory::read(
            self.inner.store(),
            &task,
            period,
        )?)
    }

    /// A task by id or unambiguous id prefix.
    pub fn get(&self, id: &str) -> Result<Task, TaskError> {
        Ok(tasks::get(self.inner.store(), id)?)
    }

    /// Every task, newest first.
    pub fn list(&self) -> Result<Vec<Task>, TaskError> {
        Ok(tasks::list(self.inner.store())?)
    }

    /// A task with its driver and latest progress or sample, as the servers have it now.
    /// Settles first what no process is left to settle: a task whose driver died during
    /// precheck or basebackup is rolled back and marked failed, one left in startup is
    /// finished, one in success has its missing housekeeping run, and one in increment that nobody monitors is sampled live when its stored
    /// sample is stale.
    pub async fn status(&self, id: &str) -> Result<TaskStatus, TaskError> {
        let task = self.get(id)?;
        if let Some(status) = self.refresh(&task.id).await? {
            return Ok(status);
        }
        resume::reconcile(&self.inner, &task.id).await?;
        let task = settle::startup(&self.inner, &task.id).await?;
        let latest = |kind| events::latest_event(self.inner.store(), &task.id, kind);
        let (sample_event, sample_live) = settle::latest_sample(&self.inner, &task).await?;
        let task = self.inner.get(&task.id)?;
        let driver = leases::lease(self.inner.store(), &task.id)?.filter(|l| !l.is_stale());
        let progress = match latest("copy")? {
            Some(TaskEvent {
                kind: EventKind::Copy(p),
                ..
            }) if task.phase == Phase::Basebackup => Some(p),
            _ => None,
        };
        let (sample, sample_at) = match sample_event {
            Some(TaskEvent {
                kind: EventKind::Sample(s),
                at,
                ..
            }) => (Some(*s), Some(at)),
            _ => (None, None),
        };
        let replication_since = match latest("replication")? {
            Some(TaskEvent {
                kind: EventKind::Replication { to, .. },
                at,
                ..
            }) if to == task.replication => Some(at),
            _ => None,
        };
        let way_back = reverse::way_back(&self.inner, &task).await;
        Ok(TaskStatus {
            task,
            driver,
            progress,
            sample,
            sample_at,
            sample_live,
            replication_since,
            way_back,
        })
    }

    /// Finishes the housekeeping after promotion that any switched-over task is missing (a
    /// process stopped after saving it as `success`, or a step failed). Instance reads call
    /// this first, so the destination's login is the right one before it is used. Problems
    /// are recorded in the tasks, not returned: an instance read does not fail over them.
    pub async fn settle_housekeeping(&self) {
        let tasks = match self.list() {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the tasks to settle their housekeeping");
                return;
            }
        };
        for t in tasks
            .iter()
            .filter(|t| housekeeping::is_missing(t))
            .filter(|t| matches!(self.host_of_task(&t.id), Ok(None)))
        {
            if let Err(e) = settle::housekeeping(&self.inner, &t.id).await {
                tracing::warn!(task = %t.id, error = %e, "cannot settle the housekeeping");
            }
        }
    }

    /// Creates a task from an assessment without errors and starts driving it here.
    pub async fn create(&self, request: TaskRequest) -> Result<Task, TaskError> {
        if let Some(host) = remote::dest_host(self.inner.store(), &request)? {
            return self.create_on_host(&host, request).await;
        }
        let task = run::create(&self.inner, request).await?;
        self.drive(&task.id)?;
        Ok(task)
    }

    /// Drives a task from this process (takes the lease). No-op when already driven here.
    fn drive(&self, id: &TaskId) -> Result<(), TaskError> {
        let mut drivers = self.inner.drivers.lock().unwrap_or_else(|e| e.into_inner());
        if drivers.get(id).is_some_and(|d| !d.handle.is_finished()) {
            return Ok(());
        }
        let stop = CancellationToken::new();
        let cancel = Arc::new(AtomicBool::new(false));
        let lease = lease::LeaseGuard::take(
            &self.inner,
            id,
            Some(lease::Watch {
                stop: stop.clone(),
                cancel: cancel.clone(),
            }),
        )??;
        let handle = tokio::spawn(run::drive(
            self.inner.clone(),
            id.clone(),
            lease,
            stop.clone(),
            cancel.clone(),
        ));
        drivers.insert(
            id.clone(),
            Driver {
                stop,
                cancel,
                handle,
            },
        );
        Ok(())
    }

    /// Re-attaches to a task after a restart: reconciles it with the servers and, when no
    /// other process drives it, drives it from here (a task in `startup` continues, one in
    /// `increment` is monitored). Returns the task and whether this process now drives it.
    pub async fn attach(&self, id: &str) -> Result<(Task, bool), TaskError> {
        let task = self.get(id)?;
        if self.host_of_task(&task.id)?.is_some() {
            // Its driver runs on its host; reading it is all there is to do here.
            self.refresh(&task.id).await?;
            return Ok((self.get(id)?, false));
        }
        let task = resume::reconcile(&self.inner, &task.id).await?;
        if !matches!(task.phase, Phase::Startup | Phase::Increment) {
            return Ok((task, false));
        }
        match self.drive(&task.id) {
            Ok(()) => Ok((task, true)),
            Err(TaskError::Busy(_)) => Ok((task, false)),
            Err(e) => Err(e),
        }
    }

    /// Re-attaches to every unfinished task (the desktop app calls this at start).
    pub async fn attach_all(&self) -> Vec<(TaskId, Result<bool, TaskError>)> {
        let tasks = match self.list() {
            Ok(t) => t,
            Err(e) => return vec![(TaskId::from_stored(""), Err(e))],
        };
        let mut out = Vec::new();
        for t in tasks.into_iter().filter(|t| {
            (!t.phase.is_terminal() && t.phase != Phase::Failed) || housekeeping::is_missing(t)
        }) {
            let result = self.attach(t.id.as_str()).await.map(|(_, driving)| driving);
            out.push((t.id, result));
        }
        out
    }

    /// Stops driving a task from this process (the servers are left as they are) and
    /// gives the lease back. Returns once the driver has stopped.
    pub async fn detach(&self, id: &TaskId) {
        let driver = {
            let mut drivers = self.inner.drivers.lock().unwrap_or_else(|e| e.into_inner());
            drivers.remove(id)
        };
        if let Some(d) = driver {
            d.stop.cancel();
            let _ = d.handle.await;
        }
        let _ = leases::release_lease(self.inner.store(), id, &self.inner.me);
    }

    /// Stops every driver of this process (at exit).
    pub async fn shutdown(&self) {
        let ids: Vec<TaskId> = {
            let drivers = self.inner.drivers.lock().unwrap_or_else(|e| e.into_inner());
            drivers.keys().cloned().collect()
        };
        for id in ids {
            self.detach(&id).await;
        }
    }

    /// Whether this process drives the task.
    pub fn is_driving(&self, id: &TaskId) -> bool {
        self.inner.driving(id)
    }

    /// Cancels a task before switchover: stops the destination, restores its empty data
    /// directory and starts it, drops the slot, removes the password file. Works whichever
    /// process drives the task (another one is asked through the store).
    pub async fn cancel(&self, id: &str) -> Result<Task, TaskError> {
        let task = self.get(id)?;
        if let Some(host) = self.host_of_task(&task.id)? {
            let _: serde_json::Value = self
                .operate_on_host(&task.id, &host, TaskOperation::Cancel, &|_: &_| {})
                .await?;
            return self.get(id);
        }
        // A switched-over task is not cancelled, but what its switchover left is finished.
        settle::housekeeping(&self.inner, &task.id).await?;
        cancel::cancel(&self.inner, &task.id, self.take_driver(&task.id)).await
    }

    fn take_driver(
        &self,
        id: &TaskId,
    ) -> Option<(
        CancellationToken,
        Arc<AtomicBool>,
        tokio::task::JoinHandle<()>,
    )> {
        let mut drivers = self.inner.drivers.lock().unwrap_or_else(|e| e.into_inner());
        drivers.remove(id).map(|d| (d.stop, d.cancel, d.handle))
    }

    /// Starts a failed task again from precheck (its copy is taken anew) and drives it.
    pub async fn retry(&self, id: &str) -> Result<Task, TaskError> {
        let task = self.get(id)?;
        if let Some(host) = self.host_of_task(&task.id)? {
            let _: serde_json::Value = self
                .operate_on_host(&task.id, &host, TaskOperation::Retry, &|_: &_| {})
                .await?;
            return self.get(id);
        }
        let task = resume::reconcile(&self.inner, &task.id).await?;
        let task = resume::retry(&self.inner, &task.id).await?;
        self.drive(&task.id)?;
        Ok(task)
    }

    /// Waits until `done` holds for the task (checked in the store, so it sees what any
    /// process does), or the task fails, or `timeout` passes.
    pub async fn wait_until(
        &self,
        id: &TaskId,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Task) -> bool,
    ) -> Result<Task, TaskError> {
        let started = Instant::now();
        loop {
            let task = self.inner.get(id)?;
            if done(&task) {
                return Ok(task);
            }
            if matches!(
                task.phase,
                Phase::Failed | Phase::Cancelled | Phase::Success
            ) {
                return Ok(task);
            }
            if started.elapsed() > timeout {
                return Err(TaskError::WaitTimeout {
                    task: id.clone(),
                    what: what.to_string(),
                    secs: timeout.as_secs(),
                    phase: task.phase,
                    replication: task.replication,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The newest stored report for `source` → `dest` in `mode`, if any.
    pub fn latest_report(
        &self,
        source: &str,
        dest: &str,
        mode: Mode,
    ) -> Result<Option<String>, TaskError> {
        latest_report(self.inner.store(), source, dest, mode)
    }
}

pub(crate) fn latest_report(
    store: &crate::store::Store,
    source: &str,
    dest: &str,
    mode: Mode,
) -> Result<Option<String>, TaskError> {
    Ok(reports::list(store)?
        .into_iter()
        .find(|r| r.source == source && r.destination == dest && r.mode == mode)
        .map(|r| r.id))
}

/// Whether a report lets a task start.
pub(crate) fn check_report(
    report: &crate::assess::Report,
    source: &str,
    dest: &str,
    mode: Mode,
) -> Result<(), TaskError> {
    if report.source.name != source || report.destination.name != dest || report.mode != mode {
        return Err(TaskError::ReportMismatch {
            id: report.id.clone(),
            what: format!(
                "{} → {} ({})",
                report.source.name,
                report.destination.name,
                report.mode.as_str()
            ),
        });
    }
    if report.verdict == Verdict::Error {
        return Err(TaskError::ReportHasErrors {
            id: report.id.clone(),
            errors: report.counts().errors,
        });
    }
    Ok(())
}

pub(crate) fn set_flag(flag: &AtomicBool) {
    flag.store(true, Ordering::SeqCst);
}

pub(crate) fn flag_set(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}
