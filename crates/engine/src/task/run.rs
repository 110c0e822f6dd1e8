//! Driving a task: precheck → basebackup → startup → increment, one file per phase
//! (`precheck`, `basebackup`, `startup`, `increment` beside this one),
//! each step idempotent so a retried or resumed task can run it again. A failure before
//! `increment` rolls the destination and the source back (see [`super::cancel::rollback`])
//! before the task is marked failed, so a failed task never holds a slot or a half-built
//! destination.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::lease::LeaseGuard;
use super::model::{Phase, Task, TaskId, TaskInstance, TaskLayout};
use super::{
    basebackup, cancel, check_report, flag_set, increment, precheck, startup, Inner, TaskError,
    TaskRequest,
};
use crate::store::reports;
use crate::store::{leases, tasks};

/// Creates the task row (phase precheck) after the checks that need no server.
pub(crate) async fn create(inner: &Inner, request: TaskRequest) -> Result<Task, TaskError> {
    let store = inner.store();
    let source = store.instance_by_name(&request.source)?;
    let dest = store.instance_by_name(&request.dest)?;
    if source.id == dest.id {
        return Err(TaskError::SameInstance);
    }
    let managed = dest
        .managed
        .clone()
        .ok_or_else(|| TaskError::DestinationNotManaged(dest.name.to_string()))?;
    if let Some(other) = tasks::live_task_for_destination(store, &dest.id)? {
        return Err(TaskError::DestinationBusy {
            dest: dest.name.to_string(),
            task: other.id,
            phase: other.phase,
        });
    }
    let report_id = match request.report_id {
        Some(id) => id,
        None => super::latest_report(store, &request.source, &request.dest, request.mode)?.ok_or(
            TaskError::NoReport {
                source_name: request.source.clone(),
                dest: request.dest.clone(),
                mode: request.mode.as_str(),
            },
        )?,
    };
    let report = reports::get(store, &report_id)?;
    check_report(&report, &request.source, &request.dest, request.mode)?;

    let id = TaskId::generate();
    let layout = layout(&id, &managed.data_dir);
    let task = Task::new(
        id,
        request.mode,
        TaskInstance {
            id: source.id.clone(),
            name: source.name.to_string(),
        },
        TaskInstance {
            id: dest.id.clone(),
            name: dest.name.to_string(),
        },
        report.id.clone(),
        request.options,
        layout,
    );
    tasks::insert(store, &task)?;
    // Held from the start, so no other process takes the new task for an interrupted one.
    leases::acquire_lease(store, &task.id, &inner.me, inner.settings.lease_ttl)??;
    inner.note(
        &task.id,
        format!(
            "task created from report {} ({}): {} → {}",
            report.id,
            report.verdict.label(),
            task.source.name,
            task.destination.name
        ),
    );
    Ok(task)
}

/// Where the task puts things: siblings of the data directory, named after the task.
pub(crate) fn layout(id: &TaskId, data_dir: &Path) -> TaskLayout {
    let sibling = |suffix: &str| {
        let mut name = data_dir.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".pgrelocate-{id}-{suffix}"));
        data_dir.with_file_name(name)
    };
    TaskLayout {
        slot_name: id.slot_name(),
        application_name: id.slot_name(),
        data_dir: data_dir.to_path_buf(),
        aside_dir: sibling("empty"),
        copy_dir: sibling("copy"),
        passfile: sibling("pgpass"),
        standby_files: Vec::new(),
        tablespaces: Vec::new(),
        standby_role: None,
    }
}

/// The driver of one task in this process. Ends when the task needs nothing more from it,
/// when `stop` fires (detach), or after a cancel requested through `cancel`. The lease,
/// renewed meanwhile (watching for a cancel asked by another process), is given back at the
/// end.
pub(crate) async fn drive(
    inner: Arc<Inner>,
    id: TaskId,
    mut lease: LeaseGuard,
    stop: CancellationToken,
    cancel_flag: Arc<AtomicBool>,
) {
    let result = steps(&inner, &id, &stop).await;
    lease.stop_renewing();
    if flag_set(&cancel_flag) {
        if let Err(e) = cancel::finish(&inner, &id).await {
            tracing::error!(task = %id, error = %e, "cancel failed");
            inner.note(&id, format!("cancel failed: {e}"));
        }
    } else if let Err(e) = result {
        let interrupted = matches!(e, TaskError::Stopped)
            || matches!(e, TaskError::Backup(crate::backup::BackupError::Cancelled));
        if let Err(e2) = fail(&inner, &id, &e, interrupted).await {
            tracing::error!(task = %id, error = %e2, "cannot record the failure");
        }
    }
    drop(lease);
    inner.driver_finished(&id);
}

/// Records a failure: before `increment` the destination and slot are rolled back first.
/// A stopped driver during `startup` or later leaves the task as it is (resumable).
async fn fail(
    inner: &Inner,
    id: &TaskId,
    error: &TaskError,
    interrupted: bool,
) -> Result<(), TaskError> {
    let mut task = inner.get(id)?;
    let rollback = matches!(
        task.phase,
        Phase::Precheck | Phase::Basebackup | Phase::Startup
    );
    if interrupted && !matches!(task.phase, Phase::Precheck | Phase::Basebackup) {
        return Ok(());
    }
    if !rollback {
        // Monitoring errors do not fail a running standby: record and leave it.
        inner.note(id, format!("monitoring stopped: {error}"));
        return Ok(());
    }
    let reason = if interrupted {
        format!("interrupted during {}: pgrelocate stopped before the copy was complete; retry the task", task.phase)
    } else {
        error.to_string()
    };
    tracing::warn!(task = %id, phase = %task.phase, "task failed: {reason}");
    for warning in cancel::rollback(inner, &mut task).await {
        inner.note(id, warning);
    }
    let from = task.phase;
    task.fail(reason)?;
    inner.save_phase(&task, from)
}

async fn steps(inner: &Inner, id: &TaskId, stop: &CancellationToken) -> Result<(), TaskError> {
    loop {
        if stop.is_cancelled() {
            return Err(TaskError::Stopped);
        }
        let mut task = inner.get(id)?;
        let from = task.phase;
        match task.phase {
            Phase::Precheck => {
                tokio::select! {
                    r = precheck::precheck(inner, &mut task) => r?,
                    _ = stop.cancelled() => return Err(TaskError::Stopped),
                }
                task.begin_basebackup()?;
                inner.save_phase(&task, from)?;
            }
            Phase::Basebackup => {
                let copy = basebackup::basebackup(inner, &task, stop).await?;
                task.begin_startup(copy)?;
                inner.save_phase(&task, from)?;
            }
            Phase::Startup => {
                let timeout = inner.settings.standby_connect_timeout;
                startup::finish_startup(inner, &mut task, stop, timeout).await?;
            }
            Phase::Increment => return increment::monitor_loop(inner, id, stop).await,
            _ => return Ok(()),
        }
    }
}
