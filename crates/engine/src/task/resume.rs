//! Re-attaching after a restart: the stored phase is reconciled with what happened.
//!
//! - `precheck` / `basebackup` with no live driver: the process that drove it died (or was
//!   killed) before the copy was complete. The partial copy, the slot and the password file
//!   are removed, and the task is marked failed so it can be retried cleanly.
//! - `startup`: resumable — the next driver re-runs the step, which checks what is done.
//! - `increment`: the standby kept streaming on its own; the next driver resumes monitoring.
//! - `switch`: a switchover or failover was interrupted; see [`super::switch::reconcile`].
//! - `success`: housekeeping after promotion left missing is finished; see
//!   [`super::housekeeping`].

use std::sync::Arc;

use super::model::{Phase, Task, TaskId};
use super::{cancel, Inner, TaskError};
use crate::store::leases;

/// Marks a task whose driver died during precheck or basebackup as failed, after rolling
/// back what it left. Does nothing while a live process drives it.
pub(crate) async fn reconcile(inner: &Arc<Inner>, id: &TaskId) -> Result<Task, TaskError> {
    let task = inner.get(id)?;
    if matches!(task.phase, Phase::Switch | Phase::Success) {
        return super::switch::reconcile(inner, id).await;
    }
    if !matches!(task.phase, Phase::Precheck | Phase::Basebackup) || inner.driving(id) {
        return Ok(task);
    }
    let lease = leases::lease(inner.store(), id)?;
    if lease.as_ref().is_some_and(|l| !l.is_stale()) {
        return Ok(task);
    }
    if leases::acquire_lease(inner.store(), id, &inner.me, inner.settings.lease_ttl)?.is_err() {
        return Ok(task);
    }
    let result = async {
        let mut task = inner.get(id)?;
        if !matches!(task.phase, Phase::Precheck | Phase::Basebackup) {
            return Ok(());
        }
        let who = lease
            .map(|l| format!("process {} on {}", l.holder.pid, l.holder.host))
            .unwrap_or_else(|| "the process".into());
        inner.note(
            id,
            format!(
                "{who} stopped while the task was in {}; cleaning up",
                task.phase
            ),
        );
        for warning in cancel::rollback(inner, &mut task).await {
            inner.note(id, warning);
        }
        let from = task.phase;
        task.fail(format!(
            "interrupted during {from}: {who} stopped before the copy was complete; the partial \
             copy was removed; retry the task"
        ))?;
        inner.save_phase(&task, from)
    }
    .await;
    let _ = leases::release_lease(inner.store(), id, &inner.me);
    result?;
    inner.get(id)
}

/// failed → precheck, after making sure nothing of the failed attempt is left. The caller
/// then drives the task (this process keeps the lease).
pub(crate) async fn retry(inner: &Arc<Inner>, id: &TaskId) -> Result<Task, TaskError> {
    leases::acquire_lease(inner.store(), id, &inner.me, inner.settings.lease_ttl)??;
    let result = async {
        let mut task = inner.get(id)?;
        if task.phase != Phase::Failed {
            task.clone().retry()?;
        }
        for warning in cancel::rollback(inner, &mut task).await {
            inner.note(id, warning);
        }
        let from = task.phase;
        task.retry()?;
        inner.save_phase(&task, from)?;
        Ok(task)
    }
    .await;
    if result.is_err() {
        let _ = leases::release_lease(inner.store(), id, &inner.me);
    }
    result
}
