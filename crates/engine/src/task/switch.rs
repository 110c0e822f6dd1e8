//! Switchover and failover of a task (#7): the [`switchover::Plan`] built from the task,
//! the phase moved `increment → switch → success` (or back to `increment` when the
//! switchover rolls back), every step recorded in the event log, and the outcome stored
//! with the task ([`SwitchRecord`]).
//!
//! The process that switches over holds the task's lease for the whole operation; when it
//! drove the task's monitoring before, it stops that first and resumes it after a rollback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::event::EventKind;
use super::lease::LeaseGuard;
pub use super::model::{Operation, SwitchRecord};
use super::model::{Phase, Task, TaskId};
use super::warning::Warning;
use super::{housekeeping, Inner, TaskError, Tasks};
use crate::agent::protocol::TaskOperation;
use crate::assess::Mode;
use crate::server::OsUser;
use crate::store::{events, leases, tasks};
use crate::switchover::{
    self, Destination, FailoverPreview, FailoverReport, FenceRecord, Finding, Guardrail,
    GuardrailStatus, LocalServer, Options, Plan, Preview, Progress, ProgressFn, Source, SourceHost,
    SwitchoverError, SwitchoverReport,
};
use crate::Coded;

/// The plan for a task: the source as registered; the destination with the source's
/// account (its catalog is the source's: see [`super::StandbyAccess`]).
async fn plan(inner: &Inner, task: &Task) -> Result<Plan, TaskError> {
    let access = inner.standby_access(task).await?;
    let source_managed = match &access.source.managed {
        Some(m) => Some(LocalServer {
            data_dir: m.data_dir.clone(),
            bin_dir: m.bin_dir.clone(),
            os_user: OsUser::for_servers(m.os_user.as_deref())?,
        }),
        None => None,
    };
    Ok(Plan {
        source: Source {
            endpoint: access.source.endpoint.clone(),
            password: access.source_password.clone(),
            managed: source_managed,
            on_host: None,
        },
        destination: Destination {
            endpoint: access.dest_endpoint,
            password: access.source_password,
            server: LocalServer {
                data_dir: access.dest_managed.data_dir.clone(),
                bin_dir: access.dest_managed.bin_dir.clone(),
                os_user: access.dest_user,
            },
        },
        slot_name: task.layout.slot_name.clone(),
        application_name: task.layout.application_name.clone(),
        passfile: Some(task.layout.passfile.clone()),
        standby_role: task.layout.standby_role.clone(),
        task_id: task.id.to_string(),
    })
}

/// The source's host reached from here, when the source is managed on another registered
/// host: the one the workstation handed over in `options`, else this machine's own record
/// of it. `None` for a source managed here or not managed at all.
async fn reach_source_host(
    inner: &Inner,
    task: &Task,
    options: &Options,
    known: Option<&crate::store::HostRecord>,
) -> Result<Option<SourceHost>, TaskError> {
    let source = inner.instance(&task.source)?;
    if source.managed.as_ref().is_some_and(|m| m.host.is_none()) {
        return Ok(None); // managed on this host: the local shutdown fence
    }
    let hosts = inner.instances.hosts()?;
    let host = match (known.or(options.source_host.as_ref()), &source.managed) {
        (Some(h), _) => h.clone(),
        (None, Some(m)) => match &m.host {
            Some(name) => match hosts.get(name) {
                Ok(h) => h,
                Err(e) => {
                    return Ok(Some(SourceHost::Unreachable(switchover::Unreached {
                        host: name.clone(),
                        code: e.code(),
                        error: e.to_string(),
                    })))
                }
            },
            None => return Ok(None),
        },
        (None, None) => return Ok(None),
    };
    // Undoing a recorded fence (`known`), the source is expected stopped there.
    let stopped_ok = known.is_some();
    let reached =
        switchover::source_host::reach(&hosts, &host, source.name.as_str(), &source.id, stopped_ok)
            .await;
    if let SourceHost::Unreachable(u) = &reached {
        tracing::info!(task = %task.id, host = %u.host, error = %u.error, "the source's host is not reached: no shutdown fence");
    }
    Ok(Some(reached))
}

/// The task-level guardrail: the phase (and, for a failover, the mode).
fn task_guardrail(task: &Task, operation: Operation) -> Guardrail {
    if task.phase != Phase::Increment {
        return Guardrail::of(
            "task.phase",
            GuardrailStatus::Error,
            Finding::TaskNotInIncrement {
                task: task.id.to_string(),
                phase: task.phase,
                operation,
            },
        );
    }
    Guardrail::of(
        "task.phase",
        GuardrailStatus::Pass,
        Finding::TaskInIncrement {
            task: task.id.to_string(),
            mode: task.mode,
            replication: task.replication,
        },
    )
}

impl Tasks {
    /// Takes the task for a switchover or failover: stops this process's monitoring of it
    /// and takes the lease (refused while another live process drives it), renewed until
    /// released. Returns whether this process drove it before.
    async fn take_for_switch(&self, id: &TaskId) -> Result<(LeaseGuard, bool), TaskError> {
        let was_driving = self.is_driving(id);
        if was_driving {
            self.detach(id).await;
        }
        match LeaseGuard::take(&self.inner, id, None)? {
            Ok(lease) => Ok((lease, was_driving)),
            Err(busy) => {
                if was_driving {
                    let _ = self.drive(id);
                }
                Err(busy.into())
            }
        }
    }

    /// The switchover dialog's content: guardrails evaluated now and the fence that would
    /// be used, with what it guarantees. Changes nothing.
    pub async fn switchover_preview(
        &self,
        id: &str,
        options: &Options,
    ) -> Result<Preview, TaskError> {
        let id = self.get(id)?.id;
        if let Some(host) = self.host_of_task(&id)? {
            let options = self.with_source_host(&id, &host, options)?;
            let operation = TaskOperation::Switchover(Box::new((&options).into()));
            return self.preview_on_host(&id, &host, operation).await;
        }
        let task = reconcile(&self.inner, &id).await?;
        let phase = task_guardrail(&task, Operation::Switchover);
        let mut preview = if phase.status == GuardrailStatus::Error {
            Preview {
                guardrails: Vec::new(),
                strategy: None,
                guarantee: None,
                ready: false,
                fences: Vec::new(),
                default_strategy: None,
            }
        } else {
            let mut plan = plan(&self.inner, &task).await?;
            plan.source.on_host = reach_source_host(&self.inner, &task, options, None).await?;
            switchover::preview(&plan, options).await
        };
        preview.ready &= phase.status != GuardrailStatus::Error;
        preview.guardrails.insert(0, phase);
        Ok(preview)
    }

    /// The failover dialog's content, read now: whether the source answers (a migration
    /// task is refused while it does), the destination's received and replayed positions
    /// and times, and the estimated loss. Changes nothing.
    pub async fn failover_preview(&self, id: &str) -> Result<FailoverPreview, TaskError> {
        let id = self.get(id)?.id;
        if let Some(host) = self.host_of_task(&id)? {
            return self
                .preview_on_host(&id, &host, TaskOperation::Failover)
                .await;
        }
        let task = reconcile(&self.inner, &id).await?;
        // With nobody following the task, its stored state may predate the source's loss:
        // a live sample records the disconnect (and since when) before it is read below.
        super::settle::latest_sample(&self.inner, &task).await?;
        let task = self.inner.get(&task.id)?;
        let phase = task_guardrail(&task, Operation::Failover);
        let plan = plan(&self.inner, &task).await?;
        let mut preview = switchover::failover::preview(&plan, task.mode == Mode::Migration).await;
        preview.ready &= phase.status != GuardrailStatus::Error;
        preview.guardrails.insert(0, phase);
        preview.source_unreachable_since = unreachable_since(&self.inner, &task)?;
        Ok(preview)
    }

    /// Switches the task over: see [`crate::switchover`]. On a rollback the task is back in
    /// `increment` and the error says why; on success it is in `success` with the report
    /// stored in [`Task::switch`].
    pub async fn switchover(
        &self,
        id: &str,
        options: &Options,
        progress: ProgressFn<'_>,
    ) -> Result<SwitchoverReport, TaskError> {
        let task = self.get(id)?.id;
        if let Some(host) = self.host_of_task(&task)? {
            let options = self.with_source_host(&task, &host, options)?;
            let operation = TaskOperation::Switchover(Box::new((&options).into()));
            return self
                .operate_on_host(&task, &host, operation, progress)
                .await;
        }
        self.operate(&Switchover { options }, id, progress).await
    }

    /// Fails the task over: promotes the destination without fencing the source. For DR
    /// tasks; a migration task only when its source no longer answers. The caller asks the
    /// DBA to confirm first.
    pub async fn failover(
        &self,
        id: &str,
        progress: ProgressFn<'_>,
    ) -> Result<FailoverReport, TaskError> {
        let task = self.get(id)?.id;
        if let Some(host) = self.host_of_task(&task)? {
            return self
                .operate_on_host(&task, &host, TaskOperation::Failover, progress)
                .await;
        }
        self.operate(&Failover, id, progress).await
    }

    /// `options` with the host the task's source is managed on, when that is a registered
    /// host other than `dest_host` (where the task runs): that host reaches it itself.
    fn with_source_host(
        &self,
        id: &TaskId,
        dest_host: &str,
        options: &Options,
    ) -> Result<Options, TaskError> {
        let task = self.inner.get(id)?;
        let source = self.inner.instance(&task.source)?;
        let mut options = options.clone();
        if let Some(host) = source.managed.as_ref().and_then(|m| m.host.as_deref()) {
            if host != dest_host {
                let hosts = self.inner.instances.hosts()?;
                options.source_host = Some(
                    hosts
                        .get(host)
                        .map_err(crate::instances::InstanceError::from)?,
                );
            }
        }
        Ok(options)
    }

    /// A switchover or failover under the task's lease: the task's own guardrail first,
    /// then [`run`]; this process's monitoring resumes after a rollback when it drove the
    /// task before.
    async fn operate<O: Operate>(
        &self,
        op: &O,
        id: &str,
        progress: ProgressFn<'_>,
    ) -> Result<O::Report, TaskError> {
        let task = reconcile(&self.inner, &self.get(id)?.id).await?;
        let phase = task_guardrail(&task, O::OPERATION);
        if phase.status == GuardrailStatus::Error {
            progress(&Progress::Guardrails {
                checks: vec![phase.clone()],
            });
            return Err(O::refused(vec![phase]).into());
        }
        let (lease, was_driving) = self.take_for_switch(&task.id).await?;
        let result = run(op, &self.inner, &task.id, phase, progress).await;
        lease.release().await;
        let after = self.inner.get(&task.id)?;
        if was_driving && after.phase == Phase::Increment {
            let _ = self.drive(&task.id);
        }
        result
    }
}

/// Since when the task has seen its source disconnected, if it is now.
fn unreachable_since(inner: &Inner, task: &Task) -> Result<Option<String>, TaskError> {
    if task.replication != super::ReplicationState::Disconnect {
        return Ok(None);
    }
    Ok(
        match events::latest_event(inner.store(), &task.id, "replication")? {
            Some(super::TaskEvent {
                kind:
                    EventKind::Replication {
                        to: super::ReplicationState::Disconnect,
                        ..
                    },
                at,
                ..
            }) => Some(at),
            _ => None,
        },
    )
}

/// Records a step in the event log (and the fence record in the task) and passes it on.
fn recorder<'a>(
    inner: &'a Inner,
    id: &'a TaskId,
    progress: ProgressFn<'a>,
) -> impl Fn(&Progress) + Send + Sync + 'a {
    let last_catchup = Mutex::new(None::<std::time::Instant>);
    move |p: &Progress| {
        match p {
            Progress::FenceRecorded { record } => {
                if let Err(e) = save_fence(inner, id, record) {
                    tracing::error!(task = %id, error = %e, "cannot store the fence record");
                }
            }
            // The catch-up reports often; the log keeps one line a second.
            Progress::CatchUp { .. } => {
                let mut last = last_catchup.lock().unwrap_or_else(|e| e.into_inner());
                if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    *last = Some(std::time::Instant::now());
                    inner.step(id, p);
                }
            }
            Progress::Guardrails { checks } => {
                for c in checks.iter().filter(|c| c.status != GuardrailStatus::Pass) {
                    let _ = inner.emit(
                        id,
                        EventKind::Warning(Warning::Guardrail { check: c.clone() }),
                    );
                }
                inner.step(id, p);
            }
            _ => inner.step(id, p),
        }
        progress(p);
    }
}

fn save_fence(inner: &Inner, id: &TaskId, record: &FenceRecord) -> Result<(), TaskError> {
    let mut task = inner.get(id)?;
    let switch = task
        .switch
        .get_or_insert_with(|| SwitchRecord::new(Operation::Switchover));
    let nothing = record.blocked_databases.is_empty() && !record.read_only && !record.stopped;
    switch.fence = (!nothing).then(|| record.clone());
    tasks::save(inner.store(), &task)?;
    Ok(())
}

/// increment → switch, with a fresh switch record (naming the endpoint hook, if any).
fn enter_switch(
    inner: &Inner,
    id: &TaskId,
    operation: Operation,
    hook: Option<&switchover::Hook>,
) -> Result<(), TaskError> {
    let mut task = inner.get(id)?;
    task.begin_switch()?;
    let mut record = SwitchRecord::new(operation);
    record.hook = hook.cloned();
    task.switch = Some(record);
    inner.save_phase(&task, Phase::Increment)
}

/// What a switchover and a failover do differently; [`Tasks::operate`] and [`run`] do the
/// rest (the phase, the record, the event log).
trait Operate: Sync {
    /// What the checks hand to the execution.
    type Ready;
    /// The outcome of a successful operation.
    type Report: Clone;
    /// Which operation.
    const OPERATION: Operation;
    /// The refusal when the task's own guardrail fails.
    fn refused(checks: Vec<Guardrail>) -> SwitchoverError;
    /// The note recorded when the operation is requested.
    fn requested(&self) -> String;
    /// The endpoint hook it runs, stored in the switch record.
    fn hook(&self) -> Option<&switchover::Hook> {
        None
    }
    /// Completes the plan before the checks (a switchover reaches the source's host).
    async fn complete(
        &self,
        _inner: &Inner,
        _task: &Task,
        _plan: &mut Plan,
    ) -> Result<(), TaskError> {
        Ok(())
    }
    /// The guardrails, reported through `progress`; an error when they forbid the operation.
    async fn check(
        &self,
        inner: &Inner,
        task: &Task,
        plan: &Plan,
        progress: ProgressFn<'_>,
    ) -> Result<Self::Ready, TaskError>;
    /// The operation itself (the task is in `switch`); `phase` is the task's own guardrail.
    async fn execute(
        &self,
        plan: &Plan,
        ready: Self::Ready,
        phase: Guardrail,
        progress: ProgressFn<'_>,
    ) -> Result<Self::Report, SwitchoverError>;
    /// Stores a successful report in the task's record.
    fn succeeded(switch: &mut SwitchRecord, report: &Self::Report);
    /// `Some` when `e` ended the operation before promotion (the task returns to
    /// `increment`), with the warning to record then, if any.
    fn rolled_back(e: &SwitchoverError) -> Option<Option<Warning>>;
}

/// Fence, catch up, promote.
struct Switchover<'a> {
    options: &'a Options,
}

impl Operate for Switchover<'_> {
    type Ready = switchover::Ready;
    type Report = SwitchoverReport;
    const OPERATION: Operation = Operation::Switchover;

    fn refused(checks: Vec<Guardrail>) -> SwitchoverError {
        SwitchoverError::Guardrails { checks }
    }

    fn requested(&self) -> String {
        let hook = match &self.options.hook {
            Some(h) => format!(
                "; endpoint hook {} (timeout {} s): {}",
                h.at,
                h.timeout().as_secs(),
                h.command
            ),
            None => String::new(),
        };
        format!(
            "switchover requested (catch-up timeout {} s{hook})",
            self.options.catchup_timeout.as_secs()
        )
    }

    fn hook(&self) -> Option<&switchover::Hook> {
        self.options.hook.as_ref()
    }

    async fn complete(&self, inner: &Inner, task: &Task, plan: &mut Plan) -> Result<(), TaskError> {
        plan.source.on_host = reach_source_host(inner, task, self.options, None).await?;
        Ok(())
    }

    async fn check(
        &self,
        _inner: &Inner,
        _task: &Task,
        plan: &Plan,
        progress: ProgressFn<'_>,
    ) -> Result<Self::Ready, TaskError> {
        Ok(switchover::check(plan, self.options, progress).await?)
    }

    async fn execute(
        &self,
        plan: &Plan,
        mut ready: Self::Ready,
        phase: Guardrail,
        progress: ProgressFn<'_>,
    ) -> Result<Self::Report, SwitchoverError> {
        ready.checks.insert(0, phase);
        switchover::execute(plan, ready, self.options, progress).await
    }

    fn succeeded(switch: &mut SwitchRecord, report: &Self::Report) {
        switch.fence = Some(report.fence.clone());
        switch.switchover = Some(report.clone());
    }

    fn rolled_back(e: &SwitchoverError) -> Option<Option<Warning>> {
        let warning = match e {
            SwitchoverError::RollbackIncomplete { reason, problems } => {
                Warning::SwitchoverRollbackIncomplete {
                    cause: reason.code(),
                    reason: reason.to_string(),
                    problems: problems.iter().map(ToString::to_string).collect(),
                }
            }
            SwitchoverError::RolledBack { reason } => Warning::SwitchoverRolledBack {
                cause: reason.code(),
                reason: reason.to_string(),
            },
            SwitchoverError::Destination(_) => Warning::SwitchoverRolledBack {
                cause: e.code(),
                reason: e.to_string(),
            },
            _ => return None,
        };
        Some(Some(warning))
    }
}

/// Promote without a fence (the source is lost).
struct Failover;

impl Operate for Failover {
    /// The checks' result, and since when the source has been seen disconnected.
    type Ready = (switchover::failover::FailoverReady, Option<String>);
    type Report = FailoverReport;
    const OPERATION: Operation = Operation::Failover;

    fn refused(checks: Vec<Guardrail>) -> SwitchoverError {
        SwitchoverError::FailoverRefused { checks }
    }

    fn requested(&self) -> String {
        "failover requested".into()
    }

    async fn check(
        &self,
        inner: &Inner,
        task: &Task,
        plan: &Plan,
        progress: ProgressFn<'_>,
    ) -> Result<Self::Ready, TaskError> {
        // A migration task fails over only when its source is really gone.
        let require_lost = task.mode == Mode::Migration;
        let unreachable = unreachable_since(inner, task)?;
        let ready = switchover::failover::check(plan, require_lost, progress).await?;
        Ok((ready, unreachable))
    }

    async fn execute(
        &self,
        plan: &Plan,
        (ready, unreachable): Self::Ready,
        _phase: Guardrail,
        progress: ProgressFn<'_>,
    ) -> Result<Self::Report, SwitchoverError> {
        let mut report = switchover::failover::execute(plan, ready, progress).await?;
        report.source_unreachable_since = unreachable;
        Ok(report)
    }

    fn succeeded(switch: &mut SwitchRecord, report: &Self::Report) {
        switch.failover = Some(report.clone());
    }

    fn rolled_back(e: &SwitchoverError) -> Option<Option<Warning>> {
        matches!(e, SwitchoverError::FailoverFailed(_)).then_some(None)
    }
}

/// Runs the operation on a task whose lease this process holds: guardrails (the task's own
/// leading the list), `increment → switch`, the operation, then the outcome recorded —
/// `success` (promoted, also when a step after promotion failed), back to `increment`
/// (rolled back before promotion), or left in `switch` when promotion's outcome is unknown.
async fn run<O: Operate>(
    op: &O,
    inner: &Arc<Inner>,
    id: &TaskId,
    phase: Guardrail,
    progress: ProgressFn<'_>,
) -> Result<O::Report, TaskError> {
    let task = inner.get(id)?;
    let mut plan = plan(inner, &task).await?;
    op.complete(inner, &task, &mut plan).await?;
    let record = recorder(inner, id, progress);
    inner.note(id, op.requested());
    // The task's own guardrail leads the list the DBA sees.
    let first = phase.clone();
    let with_phase = |p: &Progress| match p {
        Progress::Guardrails { checks } => {
            let mut all = vec![first.clone()];
            all.extend(checks.iter().cloned());
            record(&Progress::Guardrails { checks: all })
        }
        other => record(other),
    };
    let ready = op.check(inner, &task, &plan, &with_phase).await?;
    enter_switch(inner, id, O::OPERATION, op.hook())?;
    let outcome = op.execute(&plan, ready, phase, &record).await;
    let mut task = inner.get(id)?;
    let from = task.phase;
    let switch = task
        .switch
        .get_or_insert_with(|| SwitchRecord::new(O::OPERATION));
    let e = match outcome {
        Ok(report) => {
            O::succeeded(switch, &report);
            finish(inner, &mut task, from)?;
            housekeeping::run(inner, &mut task).await;
            return Ok(report);
        }
        Err(e) => e,
    };
    if let Some(warning) = O::rolled_back(&e) {
        switch.rolled_back = Some(e.to_string());
        task.abort_switch()?;
        inner.save_phase(&task, from)?;
        if let Some(warning) = warning {
            inner.emit(id, EventKind::Warning(warning))?;
        }
        return Err(e.into());
    }
    switch.error = Some(e.to_string());
    if matches!(e, SwitchoverError::AfterPromotion(_)) {
        // The destination is the primary: the task is done, with the problem recorded.
        finish(inner, &mut task, from)?;
        inner.emit(
            id,
            EventKind::Error {
                message: e.to_string(),
            },
        )?;
        housekeeping::run(inner, &mut task).await;
    } else {
        // Promotion's outcome is unknown: the task stays in `switch`, fenced.
        tasks::save(inner.store(), &task)?;
        inner.emit(
            id,
            EventKind::Error {
                message: e.to_string(),
            },
        )?;
    }
    Err(e.into())
}

/// switch → success, with the housekeeping planned into the same save (see
/// [`housekeeping`]); the caller runs it once it has recorded the outcome.
fn finish(inner: &Inner, task: &mut Task, from: Phase) -> Result<(), TaskError> {
    task.finish_switch()?;
    housekeeping::plan(task);
    inner.save_phase(task, from)?;
    housekeeping::fault_point("exit-after-success");
    Ok(())
}

/// A task left in `switch` by a process that stopped mid-way (no live lease): asks the
/// destination whether it was promoted. Not promoted: the fence in the task's record is
/// undone and the task returns to `increment`. Promoted: the steps after promotion are
/// completed (logins allowed again on the destination, standby settings and password file
/// removed, slot dropped where the source runs) and the task is `success`, with no window
/// measured. Unreachable destination: nothing changes.
pub(crate) async fn reconcile(inner: &Arc<Inner>, id: &TaskId) -> Result<Task, TaskError> {
    let task = inner.get(id)?;
    if task.phase == Phase::Success {
        return super::settle::housekeeping(inner, id).await;
    }
    if task.phase != Phase::Switch || inner.driving(id) {
        return Ok(task);
    }
    if leases::lease(inner.store(), id)?.is_some_and(|l| !l.is_stale()) {
        return Ok(task);
    }
    if leases::acquire_lease(inner.store(), id, &inner.me, inner.settings.lease_ttl)?.is_err() {
        return Ok(task);
    }
    let result = recover(inner, id).await;
    let _ = leases::release_lease(inner.store(), id, &inner.me);
    result?;
    inner.get(id)
}

async fn recover(inner: &Inner, id: &TaskId) -> Result<(), TaskError> {
    let mut task = inner.get(id)?;
    let mut plan = plan(inner, &task).await?;
    // A source stopped on another host is started again through that host, as recorded.
    if let Some(host) = task
        .switch
        .as_ref()
        .and_then(|s| s.fence.as_ref())
        .and_then(|f| f.host.as_ref())
    {
        plan.source.on_host =
            reach_source_host(inner, &task, &Options::default(), Some(host)).await?;
    }
    // The control database: the fence may have blocked the others there too.
    let dest = match switchover::fence::destination_control(
        &plan.destination.endpoint,
        plan.destination.password.as_ref(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            inner.note(
                id,
                format!("an interrupted switchover cannot be settled yet: the destination does not answer ({e})"),
            );
            return Ok(());
        }
    };
    let in_recovery = switchover::promote::in_recovery(&dest, &plan.destination.endpoint).await?;
    let record = task.switch.as_ref().and_then(|s| s.fence.clone());
    let from = task.phase;
    if in_recovery {
        let mut problems = Vec::new();
        if let Some(record) = record.clone() {
            let mut fence = switchover::fence::Fence::resume(record, &plan.source);
            if let Err(p) = fence.undo().await {
                problems = p;
            }
            save_fence(inner, id, fence.record())?;
        }
        let mut task = inner.get(id)?;
        let warning = Warning::SwitchoverInterrupted {
            promoted: false,
            problems: problems.iter().map(ToString::to_string).collect(),
            slot: None,
        };
        if let Some(s) = task.switch.as_mut() {
            s.rolled_back = Some(warning.to_string());
        }
        task.abort_switch()?;
        inner.save_phase(&task, from)?;
        inner.emit(id, EventKind::Warning(warning))?;
        return Ok(());
    }
    // Promoted: finish what the interrupted process could not.
    let mut warnings = Vec::new();
    if let Some(record) = &record {
        if let Err(e) = switchover::fence::undo_replicated(
            Some(&dest),
            &plan.destination.endpoint,
            plan.destination.password.as_ref(),
            record,
        )
        .await
        {
            warnings.push(format!(
                "logins could not be allowed again on the destination: {e}"
            ));
        }
    }
    switchover::clean_standby(&plan, &|_| {}, &mut warnings);
    let source_runs = !matches!(
        record.as_ref().map(|r| r.strategy),
        Some(switchover::FenceStrategy::Shutdown)
    );
    switchover::drop_standby_role(&plan, source_runs, &|_| {}, &mut warnings).await;
    let slot = match record.as_ref().map(|r| r.strategy) {
        Some(switchover::FenceStrategy::Shutdown) => None,
        _ => Some(switchover::release_slot(&plan).await),
    };
    let warning = Warning::SwitchoverInterrupted {
        promoted: true,
        problems: warnings,
        slot,
    };
    if let Some(s) = task.switch.as_mut() {
        s.error = Some(warning.to_string());
    }
    finish(inner, &mut task, from)?;
    inner.emit(id, EventKind::Warning(warning))?;
    housekeeping::run(inner, &mut task).await;
    Ok(())
}
