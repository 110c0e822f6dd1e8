//! Tasks whose destination runs on a registered host: the host's agent creates the task and
//! starts its driver there (detached from the SSH session), so the copy and the standby's
//! monitoring go on when the workstation sleeps, loses the network or closes. This machine
//! keeps a mirror — the task row and its events, copied whenever it is read — so every
//! reader (task list/status/follow, the app) shows the true state and full history.
use super::{Task, TaskError, TaskId, TaskRequest, TaskStatus, Tasks};
use crate::agent::protocol::{
    Passwords, RemoteOperate, RemoteTask, RemoteTaskRead, Request, Secret, TaskOperation, TaskView,
};
use crate::host::HostError;
use crate::instances::{host_of, InstanceError};
use crate::store::tasks;
use crate::store::InstanceRecord;
use crate::switchover::{Progress, ProgressFn};

fn agent_error(e: crate::agent::AgentError) -> TaskError {
    TaskError::Instance(InstanceError::Host(HostError::Agent(e)))
}

impl Tasks {
    /// The host a task is driven on, when not this machine.
    pub fn host_of_task(&self, id: &TaskId) -> Result<Option<String>, TaskError> {
        Ok(tasks::remote_of(self.inner.store(), id)?.map(|(host, _)| host))
    }

    async fn secret(&self, record: &InstanceRecord) -> Option<Secret> {
        match self.inner.instances.password_for(record).await {
            Ok(p) => p.as_ref().map(Secret::new),
            Err(e) => {
                tracing::warn!(instance = %record.name, error = %e, "no password to send to the host");
                None
            }
        }
    }

    async fn passwords(&self, source: &InstanceRecord, dest: &InstanceRecord) -> Passwords {
        Passwords {
            source: self.secret(source).await,
            dest: self.secret(dest).await,
        }
    }

    /// Starts `request` on the destination's host and mirrors the new task here.
    pub(super) async fn create_on_host(
        &self,
        host: &str,
        request: TaskRequest,
    ) -> Result<Task, TaskError> {
        let store = self.inner.store();
        let source = store.instance_by_name(&request.source)?;
        let dest = store.instance_by_name(&request.dest)?;
        if source.id == dest.id {
            return Err(TaskError::SameInstance);
        }
        // The report is checked here first, so "assess first" works as for a local task;
        // the host checks it again against its own copy.
        let report_id = match &request.report_id {
            Some(id) => id.clone(),
            None => super::latest_report(store, &request.source, &request.dest, request.mode)?
                .ok_or(TaskError::NoReport {
                    source_name: request.source.clone(),
                    dest: request.dest.clone(),
                    mode: request.mode.as_str(),
                })?,
        };
        let report = crate::store::reports::get(store, &report_id)?;
        super::check_report(&report, &request.source, &request.dest, request.mode)?;
        let agent = self
            .inner
            .instances
            .hosts()?
            .agent(host)
            .await
            .map_err(InstanceError::from)?;
        let view: TaskView = agent
            .call(Request::TaskCreate(RemoteTask {
                passwords: self.passwords(&source, &dest).await,
                source,
                request: TaskRequest {
                    report_id: Some(report_id),
                    ..request
                },
            }))
            .await
            .map_err(agent_error)?;
        tasks::mirror(store, host, &view.status.task, &view.events)?;
        tracing::info!(task = %view.status.task.id, host, "task started on the destination's host");
        Ok(view.status.task)
    }

    /// Reads a task driven on a host from its agent and copies what is new here; returns
    /// the host's status. `Ok(None)` for a task driven from this machine.
    pub async fn refresh(&self, id: &TaskId) -> Result<Option<TaskStatus>, TaskError> {
        let store = self.inner.store();
        let Some((host, after)) = tasks::remote_of(store, id)? else {
            return Ok(None);
        };
        let (agent, passwords) = self.agent_for(id, &host).await?;
        let view: TaskView = agent
            .call(Request::TaskStatus(RemoteTaskRead {
                id: id.to_string(),
                after,
                passwords,
            }))
            .await
            .map_err(agent_error)?;
        tasks::mirror(store, &host, &view.status.task, &view.events)?;
        Ok(Some(view.status))
    }

    /// Runs `operation` on the host that drives task `id` (in a process of its own there:
    /// it goes on if this machine goes away), handing its steps to `progress`, then copies
    /// what the host recorded. A failure there keeps its code; a lost connection says the
    /// operation goes on there.
    pub(super) async fn operate_on_host<T: serde::de::DeserializeOwned>(
        &self,
        id: &TaskId,
        host: &str,
        operation: TaskOperation,
        progress: ProgressFn<'_>,
    ) -> Result<T, TaskError> {
        let what = match operation {
            TaskOperation::Switchover(_) => "switching over",
            TaskOperation::Failover => "failing over",
            TaskOperation::Cancel => "cancelling",
            TaskOperation::Retry => "retrying",
        };
        let (agent, passwords) = self.agent_for(id, host).await?;
        let result = agent
            .call_with_events(
                Request::TaskOperate(RemoteOperate {
                    id: id.to_string(),
                    operation,
                    passwords,
                }),
                |event| match serde_json::from_value::<Progress>(event) {
                    Ok(p) => progress(&p),
                    Err(e) => tracing::warn!(error = %e, "unreadable step from the host"),
                },
            )
            .await;
        // Whatever happened there, what the host recorded is copied here.
        if let Err(e) = self.refresh(id).await {
            tracing::warn!(task = %id, error = %e, "cannot read the task from its host");
        }
        result.map_err(|e| match e {
            remote @ crate::agent::AgentError::Remote { .. } => agent_error(remote),
            source => TaskError::HostLost {
                task: id.clone(),
                host: host.to_string(),
                what,
                source,
            },
        })
    }

    /// The switchover or failover dialog's content, read by the host that drives task `id`.
    pub(super) async fn preview_on_host<T: serde::de::DeserializeOwned>(
        &self,
        id: &TaskId,
        host: &str,
        operation: TaskOperation,
    ) -> Result<T, TaskError> {
        let (agent, passwords) = self.agent_for(id, host).await?;
        agent
            .call(Request::TaskPreview(RemoteOperate {
                id: id.to_string(),
                operation,
                passwords,
            }))
            .await
            .map_err(agent_error)
    }

    /// The agent of `host` and the passwords of task `id`'s instances to send it.
    async fn agent_for(
        &self,
        id: &TaskId,
        host: &str,
    ) -> Result<(std::sync::Arc<crate::agent::client::AgentClient>, Passwords), TaskError> {
        let store = self.inner.store();
        let task = tasks::get(store, id.as_str())?;
        let source = store.instance(&task.source.id)?;
        let dest = store.instance(&task.destination.id)?;
        let agent = self
            .inner
            .instances
            .hosts()?
            .agent(host)
            .await
            .map_err(InstanceError::from)?;
        Ok((agent, self.passwords(&source, &dest).await))
    }

    /// Refreshes every task driven on a host (problems are logged: a host that is away
    /// leaves its tasks as last read).
    pub async fn refresh_all(&self) {
        let Ok(tasks) = self.list() else { return };
        for t in tasks {
            if matches!(self.host_of_task(&t.id), Ok(Some(_))) {
                if let Err(e) = self.refresh(&t.id).await {
                    tracing::warn!(task = %t.id, error = %e, "cannot read the task from its host");
                }
            }
        }
    }
}

/// The host the destination of `request` runs on, if not this machine.
pub(super) fn dest_host(
    store: &crate::store::Store,
    request: &TaskRequest,
) -> Result<Option<String>, TaskError> {
    let dest = store.instance_by_name(&request.dest)?;
    Ok(host_of(&dest).map(str::to_string))
}
