//! basebackup: the slot on the source first (it keeps every WAL segment from the backup's
//! start), then the full copy into a fresh directory beside the destination's data
//! directory, with the tablespaces where precheck placed them.

use std::path::Path;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::event::{CopyProgress, EventKind};
use super::model::{CopyResult, Task};
use super::{Inner, TaskError};
use crate::backup::{self, BackupOptions, Owner};
use crate::wire::{ConnectOptions, ReplicationConnection, SlotName};

fn owner_of(user: Option<&crate::server::OsUser>) -> Option<Owner> {
    user.map(|u| Owner {
        uid: u.uid,
        gid: u.gid,
    })
}

/// Creates the slot afresh (dropping one of ours left by an earlier attempt).
pub(crate) async fn create_slot(inner: &Inner, task: &Task) -> Result<(), TaskError> {
    let source = inner.instance(&task.source)?;
    let password = inner.password(&source).await?;
    let options = ConnectOptions {
        application_name: "pgrelocate_task".into(),
        ..ConnectOptions::default()
    };
    let mut conn =
        ReplicationConnection::connect(&source.endpoint, password.as_ref(), &options).await?;
    let slot = SlotName::new(&task.layout.slot_name)
        .map_err(|e| TaskError::Inconsistent(e.to_string()))?;
    match conn.drop_slot(&slot, false).await {
        Ok(()) => inner.note(
            &task.id,
            format!("dropped slot {} left by an earlier attempt", slot.as_str()),
        ),
        Err(e) if e.sqlstate() == Some("42704") => {}
        Err(e) => return Err(e.into()),
    }
    conn.create_physical_slot(&slot, false).await?;
    let _ = conn.close().await;
    inner.note(
        &task.id,
        format!("created replication slot {} on the source", slot.as_str()),
    );
    Ok(())
}

/// basebackup: the slot first (it keeps every WAL segment from the backup's start), then
/// the copy into a fresh directory beside the data directory.
pub(crate) async fn basebackup(
    inner: &Inner,
    task: &Task,
    stop: &CancellationToken,
) -> Result<CopyResult, TaskError> {
    tokio::select! {
        r = create_slot(inner, task) => r?,
        _ = stop.cancelled() => return Err(TaskError::Stopped),
    }
    let copy_dir = &task.layout.copy_dir;
    if copy_dir.exists() {
        std::fs::remove_dir_all(copy_dir)
            .map_err(TaskError::io("remove the earlier copy", copy_dir))?;
    }
    let source = inner.instance(&task.source)?;
    let password = inner.password(&source).await?;
    let (_, _, user) = inner.managed_dest(task)?;
    let options = BackupOptions {
        target_dir: copy_dir.clone(),
        // The targets precheck settled on (given mappings, or the default folder for a
        // source on this host), so the copy goes exactly where the layout says.
        tablespace_mappings: task
            .layout
            .tablespaces
            .iter()
            .map(|t| crate::backup::options::TablespaceMapping {
                old: crate::backup::options::normalize(Path::new(&t.source_location)),
                new: t.target.clone(),
            })
            // A tablespace copied to its own location is passed as a mapping only when the
            // DBA mapped it so: otherwise the backup checks again that nothing exists there.
            .filter(|m| {
                m.old != m.new
                    || task
                        .options
                        .tablespace_mappings
                        .iter()
                        .any(|o| o.old == m.old)
            })
            .collect(),
        compression: task.options.compression,
        max_rate: task.options.max_rate,
        owner: owner_of(user.as_ref()),
        sync: task.options.sync,
        application_name: format!("{}_copy", task.layout.slot_name),
    };
    let (tx, mut rx) = backup::progress::channel();
    let every = inner.settings.progress_interval;
    let forward = async {
        let mut last: Option<Instant> = None;
        while rx.changed().await.is_ok() {
            let p = CopyProgress::from(&*rx.borrow_and_update());
            let phase_end = p.stage != "copying";
            if phase_end || last.is_none_or(|t| t.elapsed() >= every) {
                last = Some(Instant::now());
                let _ = inner.emit(&task.id, EventKind::Copy(p));
            }
        }
    };
    let run = backup::run(
        &source.endpoint,
        password.as_ref(),
        &options,
        tx,
        stop.child_token(),
    );
    let (outcome, ()) = tokio::join!(run, forward);
    let outcome = outcome?;
    inner.note(
        &task.id,
        format!(
            "full copy done: {} files, {} MiB in {:.1} s, WAL from {} to {}",
            outcome.files,
            outcome.bytes >> 20,
            outcome.elapsed_secs,
            outcome.start_lsn,
            outcome.end_lsn
        ),
    );
    Ok(CopyResult {
        start_lsn: outcome.start_lsn,
        end_lsn: outcome.end_lsn,
        timeline: outcome.timeline,
        system_id: outcome.system_id.to_string(),
        bytes: outcome.bytes,
        files: outcome.files,
    })
}
