//! startup: the copy configured as a standby and put in place of the destination's data
//! directory (the empty one kept aside for rollback), started, and followed until it
//! connects to the source; then `increment`.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::increment::monitor_target;
use super::model::{ReplicationState, Task};
use super::monitor::Monitor;
use super::{credential, standby, Inner, TaskError};
use crate::assess;
use crate::server::control;
use crate::store::tasks;

/// startup → increment: puts the copy in place as a standby, starts it and waits up to
/// `connect_timeout` for it to connect. Every step checks what is done, so a driver or a
/// reader ([`super::settle`]) can run it again after an interruption anywhere in it.
pub(crate) async fn finish_startup(
    inner: &Inner,
    task: &mut Task,
    stop: &CancellationToken,
    connect_timeout: Duration,
) -> Result<(), TaskError> {
    let from = task.phase;
    let connected = startup(inner, task, stop, connect_timeout).await?;
    // One save for the phase and the state the standby connected in: a reader
    // never sees a streaming standby still in startup.
    task.begin_increment()?;
    let replication_was = task.observe_replication(connected);
    inner.save_phase(task, from)?;
    if let Some(was) = replication_was {
        inner.replication_changed(task, was)?;
    }
    if task.mode == assess::Mode::Dr {
        inner.note(
            &task.id,
            "DR construction: the destination stays a streaming standby until failover or cancel",
        );
    }
    Ok(())
}

/// startup: stop the destination, move its empty data directory aside, configure the copy as
/// a standby, put it in place, start it and wait until it connects to the source; returns
/// the state it connected in. Each part checks what is already done, so an interrupted
/// startup can run again.
async fn startup(
    inner: &Inner,
    task: &mut Task,
    stop: &CancellationToken,
    connect_timeout: Duration,
) -> Result<ReplicationState, TaskError> {
    let (_, managed, user) = inner.managed_dest(task)?;
    let layout = task.layout.clone();
    let plan = task
        .plan
        .clone()
        .ok_or_else(|| TaskError::Inconsistent("the task has no standby plan; retry it".into()))?;
    control::stop(&managed.bin_dir, &layout.data_dir, user.as_ref()).await?;
    if layout.copy_dir.exists() {
        if !layout.aside_dir.exists() {
            std::fs::rename(&layout.data_dir, &layout.aside_dir)
                .map_err(TaskError::io("move aside", &layout.data_dir))?;
            inner.note(
                &task.id,
                format!(
                    "the empty destination is kept at {}",
                    layout.aside_dir.display()
                ),
            );
        } else if layout.data_dir.exists() {
            // Left by an interrupted earlier startup: the original is already aside.
            std::fs::remove_dir_all(&layout.data_dir)
                .map_err(TaskError::io("remove", &layout.data_dir))?;
        }
        let source = inner.instance(&task.source)?;
        let password = inner.password(&source).await?;
        standby::keep_destination_files(&layout.copy_dir, &layout.aside_dir, user.as_ref())
            .map_err(TaskError::io(
                "keep the destination's configuration in",
                &layout.copy_dir,
            ))?;
        let standby = credential::standby_credential(inner, task, &source, password).await?;
        let passfile = match &standby.password {
            Some(pw) => {
                standby::write_passfile(&layout.passfile, &standby.endpoint, pw, user.as_ref())
                    .map_err(TaskError::io("write", &layout.passfile))?;
                Some(layout.passfile.as_path())
            }
            None => None,
        };
        let conninfo = standby::primary_conninfo(
            &standby.endpoint,
            plan.version,
            passfile,
            &layout.application_name,
        );
        let written = standby::write_standby_config(
            &layout.copy_dir,
            task.id.as_str(),
            &plan,
            &conninfo,
            &layout.slot_name,
            user.as_ref(),
        )
        .map_err(TaskError::io(
            "write the standby configuration in",
            &layout.copy_dir,
        ))?;
        std::fs::rename(&layout.copy_dir, &layout.data_dir)
            .map_err(TaskError::io("move into place", &layout.copy_dir))?;
        task.layout.standby_files = written
            .iter()
            .filter_map(|f| f.file_name().map(|n| layout.data_dir.join(n)))
            .collect();
        tasks::save(inner.store(), task)?;
        inner.note(&task.id, "standby configuration written; the destination keeps its own postgresql.conf and pg_hba.conf");
    } else if !standby::is_configured(&layout.data_dir, task.id.as_str()) {
        return Err(TaskError::Inconsistent(format!(
            "neither the copy {} nor a configured standby in {} exists; cancel and start again",
            layout.copy_dir.display(),
            layout.data_dir.display()
        )));
    }
    control::start(&managed.bin_dir, &layout.data_dir, user.as_ref()).await?;
    inner.note(&task.id, "destination started as a standby");

    let mut monitor = Monitor::new(monitor_target(inner, task).await?);
    let deadline = Instant::now() + connect_timeout;
    loop {
        let sample = monitor.sample().await;
        let state = sample.state();
        if matches!(
            state,
            ReplicationState::Catchup | ReplicationState::Streaming
        ) {
            return Ok(state);
        }
        if Instant::now() > deadline {
            let log =
                std::fs::read_to_string(control::log_file(&layout.data_dir)).unwrap_or_default();
            return Err(TaskError::StandbyDidNotConnect {
                secs: connect_timeout.as_secs(),
                log: crate::server::tail(&log, 10),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.cancelled() => return Err(TaskError::Stopped),
        }
    }
}
