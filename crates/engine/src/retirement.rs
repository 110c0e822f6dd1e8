//! A retired source: the old primary of a task that switched or failed over. Its data
//! directory still holds a primary; started as one it would take writes the new primary
//! never sees (split brain). So a plain start brings it up in recovery, where the server
//! itself refuses every write, and a primary start needs the DBA to type its name.
//!
//! Recovery, not `default_transaction_read_only`: any session may `SET` that off again.
//! The signal is the one each version reads: `standby.signal` (12+), or a `recovery.conf`
//! with `standby_mode = 'on'` (10, 11). Without `primary_conninfo` or `restore_command` the
//! server replays its own `pg_wal`, opens for reads (hot standby) and waits there.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::server::{OsUser, ServerError};
use crate::store::tasks;
use crate::store::tasks::TaskStoreError;
use crate::store::{InstanceId, Store};
use crate::task::model::TaskId;
use crate::task::switch::Operation;

/// First line of the `recovery.conf` written here, so only ours is ever removed.
const RECOVERY_CONF_MARK: &str = "# Written by pgrelocate: a retired source starts in recovery.";

/// Which task retired an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Retirement {
    /// The task whose source it was.
    pub task_id: TaskId,
    /// The task's destination, now the primary.
    pub successor: String,
    /// Switchover or failover.
    pub operation: Option<Operation>,
    /// When the task finished (RFC 3339, UTC).
    pub at: Option<String>,
}

/// The task that retired `instance`, if any.
pub fn of(store: &Store, instance: &InstanceId) -> Result<Option<Retirement>, TaskStoreError> {
    Ok(
        tasks::retiring_task(store, instance)?.map(|task| Retirement {
            at: task
                .phase_times
                .get(&crate::task::model::Phase::Success)
                .cloned(),
            operation: task.switch.as_ref().map(|s| s.operation),
            successor: task.destination.name.clone(),
            task_id: task.id,
        }),
    )
}

/// How a server of `major` is told to start in recovery.
fn signal_file(data_dir: &Path, major: u32) -> PathBuf {
    data_dir.join(if major < 12 {
        "recovery.conf"
    } else {
        "standby.signal"
    })
}

/// Whether the cluster's next (or current) start is in recovery: its signal is there.
pub fn recovery_signal_present(data_dir: &Path, major: u32) -> bool {
    signal_file(data_dir, major).is_file()
}

/// Makes the next start of the cluster a start in recovery (standby mode, nothing to
/// stream from).
pub fn write_recovery_signal(
    data_dir: &Path,
    major: u32,
    owner: Option<&OsUser>,
) -> Result<(), ServerError> {
    let path = signal_file(data_dir, major);
    let content = if major < 12 {
        format!("{RECOVERY_CONF_MARK}\nstandby_mode = 'on'\n")
    } else {
        String::new()
    };
    crate::task::standby::write_owned(&path, content.as_bytes(), 0o600, owner)
        .map_err(ServerError::io(&path))
}

/// Removes the signal [`write_recovery_signal`] wrote, so the next start is a primary's.
/// A `recovery.conf` someone else wrote is left alone.
pub fn remove_recovery_signal(data_dir: &Path, major: u32) -> Result<(), ServerError> {
    let path = signal_file(data_dir, major);
    if major < 12 {
        match std::fs::read_to_string(&path) {
            Ok(text) if text.starts_with(RECOVERY_CONF_MARK) => {}
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(ServerError::io(&path)(e)),
        }
    }
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ServerError::io(&path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_gets_its_own_signal_and_only_ours_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        write_recovery_signal(dir.path(), 15, None).unwrap();
        assert!(dir.path().join("standby.signal").is_file());
        remove_recovery_signal(dir.path(), 15).unwrap();
        assert!(!dir.path().join("standby.signal").exists());

        write_recovery_signal(dir.path(), 10, None).unwrap();
        let text = std::fs::read_to_string(dir.path().join("recovery.conf")).unwrap();
        assert!(text.contains("standby_mode = 'on'"), "{text}");
        remove_recovery_signal(dir.path(), 10).unwrap();
        assert!(!dir.path().join("recovery.conf").exists());

        std::fs::write(dir.path().join("recovery.conf"), "restore_command = 'x'\n").unwrap();
        remove_recovery_signal(dir.path(), 11).unwrap();
        assert!(
            dir.path().join("recovery.conf").exists(),
            "a foreign recovery.conf was removed"
        );
    }
}
