//! Cancel (abort) before switchover, and the rollback a failure shares with it: stop the
//! destination, put its empty data directory back and start it, remove the copy and
//! tablespace directories the task wrote, drop the slot and the standby's own role on the
//! source, delete the password file. Every part checks what is there, so a cancel can be
//! repeated after an interruption.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::model::{Phase, Task, TaskId};
use super::{flag_set, set_flag, Inner, TaskError};
use crate::server::control;
use crate::store::{leases, tasks};
use crate::wire::{ConnectOptions, ReplicationConnection, SlotName};

/// How long a cancel waits for another process that drives the task to act on it.
const OTHER_PROCESS_WAIT: Duration = Duration::from_secs(60);

type LocalDriver = (
    CancellationToken,
    Arc<AtomicBool>,
    tokio::task::JoinHandle<()>,
);

/// Cancels the task, wherever it is driven.
pub(crate) async fn cancel(
    inner: &Arc<Inner>,
    id: &TaskId,
    local: Option<LocalDriver>,
) -> Result<Task, TaskError> {
    let task = inner.get(id)?;
    if task.phase == Phase::Cancelled {
        return Ok(task);
    }
    if !task.phase.can_cancel() {
        // The transition's error says why.
        task.clone().cancel()?;
    }
    if let Some((stop, flag, handle)) = local {
        // The driver rolls back and records the cancel itself, holding its lease.
        set_flag(&flag);
        stop.cancel();
        let _ = handle.await;
        let task = inner.get(id)?;
        if task.phase == Phase::Cancelled || !flag_set(&flag) {
            return Ok(task);
        }
    }
    if let Some(lease) = leases::lease(inner.store(), id)? {
        if lease.holder.holder != inner.me.holder && !lease.is_stale() {
            tasks::request_cancel(inner.store(), id, true)?;
            let started = Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let task = inner.get(id)?;
                if task.phase == Phase::Cancelled {
                    return Ok(task);
                }
                let still = leases::lease(inner.store(), id)?.filter(|l| !l.is_stale());
                if still.is_none() {
                    break;
                }
                if started.elapsed() > OTHER_PROCESS_WAIT {
                    return Err(TaskError::CancelNotHonoured {
                        task: id.clone(),
                        pid: lease.holder.pid,
                        host: lease.holder.host,
                    });
                }
            }
        }
    }
    leases::acquire_lease(inner.store(), id, &inner.me, inner.settings.lease_ttl)??;
    let result = finish(inner, id).await;
    let _ = leases::release_lease(inner.store(), id, &inner.me);
    result?;
    inner.get(id)
}

/// Rolls back and records `cancelled` (the caller holds the lease).
pub(crate) async fn finish(inner: &Inner, id: &TaskId) -> Result<(), TaskError> {
    let mut task = inner.get(id)?;
    if task.phase == Phase::Cancelled {
        return Ok(());
    }
    if !task.phase.can_cancel() {
        task.clone().cancel()?;
    }
    inner.note(id, format!("cancelling during {}", task.phase));
    for warning in rollback(inner, &mut task).await {
        inner.note(id, warning);
    }
    let from = task.phase;
    task.cancel()?;
    inner.save_phase(&task, from)?;
    tasks::request_cancel(inner.store(), id, false)?;
    Ok(())
}

/// Undoes what the task did to the destination and the source. Returns what could not be
/// undone, as messages for the event log (the rest is recorded as notes).
pub(crate) async fn rollback(inner: &Inner, task: &mut Task) -> Vec<String> {
    let mut warnings = Vec::new();
    let layout = task.layout.clone();
    match inner.managed_dest(task) {
        Ok((_, managed, user)) => {
            let restore = || -> Result<(), TaskError> {
                if layout.data_dir.exists() {
                    std::fs::remove_dir_all(&layout.data_dir)
                        .map_err(TaskError::io("remove the standby", &layout.data_dir))?;
                }
                std::fs::rename(&layout.aside_dir, &layout.data_dir)
                    .map_err(TaskError::io("restore", &layout.aside_dir))
            };
            if layout.aside_dir.exists() {
                match control::stop(&managed.bin_dir, &layout.data_dir, user.as_ref()).await {
                    Err(e) => warnings.push(format!("the standby did not stop: {e}")),
                    Ok(()) => match restore() {
                        Ok(()) => {
                            inner.note(&task.id, "restored the destination's empty data directory")
                        }
                        Err(e) => warnings.push(e.to_string()),
                    },
                }
            }
            if layout.copy_dir.exists() {
                if let Err(e) = std::fs::remove_dir_all(&layout.copy_dir) {
                    warnings.push(format!("cannot remove {}: {e}", layout.copy_dir.display()));
                }
            }
            for t in &layout.tablespaces {
                if let Err(e) = clear_tablespace(&t.target, t.existed) {
                    warnings.push(format!(
                        "cannot clean tablespace folder {}: {e}",
                        t.target.display()
                    ));
                }
            }
            match control::start(&managed.bin_dir, &layout.data_dir, user.as_ref()).await {
                Ok(()) => {}
                Err(e) => warnings.push(format!("the destination did not start again: {e}")),
            }
        }
        Err(e) => warnings.push(format!("cannot restore the destination: {e}")),
    }
    if let Err(e) = drop_slot(inner, task).await {
        warnings.push(format!(
            "slot {0} could not be dropped on the source ({e}); drop it there with \
             SELECT pg_drop_replication_slot('{0}')",
            layout.slot_name
        ));
    }
    if let Some(role) = &layout.standby_role {
        if let Err(e) = drop_standby_role(inner, task, role).await {
            warnings.push(format!(
                "the standby role {role} could not be dropped on the source ({e}); drop it \
                 there with {}",
                crate::standby_role::drop_command(role)
            ));
        }
    }
    match std::fs::remove_file(&layout.passfile) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            warnings.push(format!("cannot remove {}: {e}", layout.passfile.display()))
        }
        _ => {}
    }
    task.layout.standby_files.clear();
    warnings
}

/// Drops the standby's own role on the source (absent is fine).
async fn drop_standby_role(inner: &Inner, task: &Task, role: &str) -> Result<(), TaskError> {
    let source = inner.instance(&task.source)?;
    let password = inner.password(&source).await?;
    crate::standby_role::drop(&source.endpoint, password.as_ref(), role).await?;
    inner.note(
        &task.id,
        format!("dropped the standby role {role} on the source"),
    );
    Ok(())
}

/// Removes what a copy wrote into a tablespace folder: the folder itself when the task
/// created it, its content when it existed (empty) before.
fn clear_tablespace(dir: &std::path::Path, existed: bool) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    if !existed {
        return std::fs::remove_dir_all(dir);
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Drops the task's slot on the source (absent is fine). A walsender that still uses it
/// (the standby just stopped) is waited for a few seconds.
pub(crate) async fn drop_slot(inner: &Inner, task: &Task) -> Result<(), TaskError> {
    let source = inner.instance(&task.source)?;
    let password = inner.password(&source).await?;
    let slot = SlotName::new(&task.layout.slot_name)
        .map_err(|e| TaskError::Inconsistent(e.to_string()))?;
    let options = ConnectOptions {
        application_name: "pgrelocate_task".into(),
        connect_timeout: Duration::from_secs(5),
    };
    let mut conn =
        ReplicationConnection::connect(&source.endpoint, password.as_ref(), &options).await?;
    let mut tries = 0;
    loop {
        match conn.drop_slot(&slot, false).await {
            Ok(()) => {
                inner.note(
                    &task.id,
                    format!("dropped slot {} on the source", slot.as_str()),
                );
                break;
            }
            Err(e) if e.sqlstate() == Some("42704") => break,
            Err(e) if e.sqlstate() == Some("55006") && tries < 20 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let _ = conn.close().await;
    Ok(())
}
