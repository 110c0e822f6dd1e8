//! increment: the standby streams inside PostgreSQL; the driver samples both ends at a
//! steady rate and records state changes, samples (the lag chart) and new risks.

use tokio_util::sync::CancellationToken;

use super::event::EventKind;
use super::model::{Phase, Task, TaskId};
use super::monitor::{self, Monitor, Target};
use super::{Inner, TaskError};
use crate::version::ServerVersion;

/// Where the monitor of a task looks: the destination with the source's account (see
/// [`super::StandbyAccess`]).
pub(crate) async fn monitor_target(inner: &Inner, task: &Task) -> Result<Target, TaskError> {
    let access = inner.standby_access(task).await?;
    let version = match &task.plan {
        Some(p) => p.version,
        None => ServerVersion::new(access.dest_managed.major, 0),
    };
    Ok(Target {
        dest_password: access.source_password.clone(),
        source_password: access.source_password,
        source: access.source.endpoint,
        dest: access.dest_endpoint,
        dest_data_dir: access.dest_managed.data_dir,
        version,
        slot_name: task.layout.slot_name.clone(),
        application_name: task.layout.application_name.clone(),
    })
}

/// increment: sample at a steady rate, record state changes, samples and new risks.
pub(crate) async fn monitor_loop(
    inner: &Inner,
    id: &TaskId,
    stop: &CancellationToken,
) -> Result<(), TaskError> {
    let task = inner.get(id)?;
    let mut monitor = Monitor::new(monitor_target(inner, &task).await?);
    let mut active: Vec<String> = Vec::new();
    inner.note(
        id,
        format!(
            "monitoring from process {} on {}",
            inner.me.pid, inner.me.host
        ),
    );
    loop {
        let sample = monitor.sample().await;
        let mut task = inner.get(id)?;
        if task.phase != Phase::Increment {
            return Ok(());
        }
        inner.observe(&mut task, sample.state())?;
        let risks = monitor::risks(&sample, &task.layout.slot_name, &inner.settings.thresholds);
        for risk in &risks {
            if !active.iter().any(|code| code == risk.code()) {
                tracing::warn!(task = %id, code = risk.code(), "{risk}");
                inner.emit(id, EventKind::Warning(risk.clone()))?;
            }
        }
        active = risks.iter().map(|r| r.code().to_string()).collect();
        inner.emit(id, EventKind::Sample(Box::new(sample)))?;
        tokio::select! {
            _ = tokio::time::sleep(inner.settings.sample_interval) => {}
            _ = stop.cancelled() => return Ok(()),
        }
    }
}
