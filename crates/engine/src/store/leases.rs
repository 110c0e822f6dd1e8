//! Who drives a task (migration 3). A lease row names the one process that drives a task:
//! holder (a random id per process), pid, host, and an expiry it renews while alive. A lease
//! whose holder is a dead process on this host, or whose expiry passed, can be taken over.

use std::time::Duration;

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::tasks::TaskStoreError;
use super::Store;
use crate::task::model::{now, TaskId};

/// Who holds (or wants) a lease: one per process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct LeaseHolder {
    /// Random id of this process's task service.
    pub holder: String,
    /// OS process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
}

impl LeaseHolder {
    /// This process.
    pub fn this_process() -> LeaseHolder {
        LeaseHolder {
            holder: uuid::Uuid::new_v4().simple().to_string(),
            pid: std::process::id(),
            host: host_name(),
        }
    }
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Lease {
    /// The holder.
    #[serde(flatten)]
    pub holder: LeaseHolder,
    /// When it was taken.
    pub acquired_at: String,
    /// Expiry (Unix milliseconds).
    pub expires_ms: i64,
}

impl Lease {
    /// Whether the holder can no longer be driving the task: expired, or a process of this
    /// host that is gone.
    pub fn is_stale(&self) -> bool {
        if self.expires_ms < unix_ms() {
            return true;
        }
        self.holder.host == host_name() && !process_alive(self.holder.pid)
    }
}

/// Another process drives the task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task {task} is driven by process {pid} on {host}")]
pub struct LeaseBusy {
    /// The task.
    pub task: TaskId,
    /// The other process.
    pub pid: u32,
    /// Its host.
    pub host: String,
}

fn unix_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// This host's name (for lease rows).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        // No /proc (not Linux): fall back on kill(pid, 0).
        // SAFETY: signal 0 only checks for existence.
        return !cfg!(target_os = "linux") && unsafe { libc::kill(pid as i32, 0) == 0 };
    };
    // The state follows the command name in parentheses: "pid (comm) S ...".
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
}

/// Takes (or renews) the lease on `task` for `ttl`. Fails when another live process holds it.
pub fn acquire_lease(
    store: &Store,
    task: &TaskId,
    me: &LeaseHolder,
    ttl: Duration,
) -> Result<Result<(), LeaseBusy>, TaskStoreError> {
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = lease_in(&tx, task)?;
    if let Some(lease) = current {
        if lease.holder.holder != me.holder && !lease.is_stale() {
            return Ok(Err(LeaseBusy {
                task: task.clone(),
                pid: lease.holder.pid,
                host: lease.holder.host,
            }));
        }
    }
    tx.execute(
        "INSERT INTO task_leases (task_id, holder, pid, host, acquired_at, expires_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (task_id) DO UPDATE SET holder = ?2, pid = ?3, host = ?4, \
         acquired_at = CASE WHEN task_leases.holder = ?2 THEN task_leases.acquired_at ELSE ?5 END, \
         expires_ms = ?6",
        params![
            task.as_str(),
            me.holder,
            me.pid,
            me.host,
            now(),
            unix_ms() + ttl.as_millis() as i64
        ],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

/// Gives the lease back (only if `me` holds it).
pub fn release_lease(store: &Store, task: &TaskId, me: &LeaseHolder) -> Result<(), TaskStoreError> {
    store.conn().execute(
        "DELETE FROM task_leases WHERE task_id = ?1 AND holder = ?2",
        params![task.as_str(), me.holder],
    )?;
    Ok(())
}

/// The lease on a task, if any (possibly stale).
pub fn lease(store: &Store, task: &TaskId) -> Result<Option<Lease>, TaskStoreError> {
    lease_in(&store.conn(), task)
}

fn lease_in(conn: &rusqlite::Connection, task: &TaskId) -> Result<Option<Lease>, TaskStoreError> {
    Ok(conn
        .query_row(
            "SELECT holder, pid, host, acquired_at, expires_ms FROM task_leases WHERE task_id = ?1",
            [task.as_str()],
            |r| {
                Ok(Lease {
                    holder: LeaseHolder {
                        holder: r.get(0)?,
                        pid: r.get(1)?,
                        host: r.get(2)?,
                    },
                    acquired_at: r.get(3)?,
                    expires_ms: r.get(4)?,
                })
            },
        )
        .optional()?)
}

impl crate::Coded for LeaseBusy {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::TaskBusy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tasks::{insert, tests::task};

    #[test]
    fn a_lease_excludes_other_live_holders_and_passes_on_when_stale() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = task("bbbb11112222");
        insert(&store, &t).unwrap();
        let me = LeaseHolder::this_process();
        let other = LeaseHolder::this_process();
        let ttl = Duration::from_secs(30);
        acquire_lease(&store, &t.id, &me, ttl).unwrap().unwrap();
        acquire_lease(&store, &t.id, &me, ttl).unwrap().unwrap();
        let busy = acquire_lease(&store, &t.id, &other, ttl)
            .unwrap()
            .unwrap_err();
        assert_eq!(busy.pid, std::process::id());

        // A holder whose process is gone (pid 0 never names a user process) is stale.
        let dead = LeaseHolder {
            pid: u32::MAX - 1,
            ..LeaseHolder::this_process()
        };
        release_lease(&store, &t.id, &me).unwrap();
        acquire_lease(&store, &t.id, &dead, ttl).unwrap().unwrap();
        assert!(lease(&store, &t.id).unwrap().unwrap().is_stale());
        acquire_lease(&store, &t.id, &other, ttl).unwrap().unwrap();
        assert_eq!(lease(&store, &t.id).unwrap().unwrap().holder, other);

        // An expired lease is stale even when its process lives.
        acquire_lease(&store, &t.id, &other, Duration::ZERO)
            .unwrap()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5));
        acquire_lease(&store, &t.id, &me, ttl).unwrap().unwrap();
    }

    #[test]
    fn process_alive_tells_this_process_from_a_missing_one() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX - 1));
    }
}
