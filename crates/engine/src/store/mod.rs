//! The local state store: one SQLite file in the state directory, shared by the CLI and the
//! desktop app (WAL journal, busy timeout, schema migrations applied at open). Every SQL
//! statement against that file lives in this module; the services (`instances`, `task`,
//! `assess`, the shells) call it.
//!
//! Tables: `instances` (and `bin_folders`), `hosts`, `reports`, `tasks` (with `task_events`,
//! `task_leases`, `remote_tasks`) and the lag history's `lag_rollups` — see [`migrations`]
//! for how to add one.

pub mod events;
pub mod history;
mod hosts;
mod instances;
pub mod leases;
pub mod migrations;
pub mod reports;
pub mod tasks;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use hosts::HostRecord;
pub use instances::{
    InstanceId, InstanceKind, InstanceName, InstanceRecord, ManagedDetails, NameError,
};

/// File name of the store inside the state directory.
pub const STORE_FILE: &str = "pgrelocate.sqlite3";

/// How long a writer waits for another process (CLI vs desktop app) to release its lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the store could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the state store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the state store {path} has schema version {found}, newer than this pgrelocate \
         understands ({known}): upgrade pgrelocate"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("schema migration {version} failed: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },
    #[error("an instance named {0:?} already exists")]
    DuplicateName(String),
    #[error("a host named {0:?} is already registered")]
    DuplicateHost(String),
    #[error("host {0:?} still runs managed instances: remove them first")]
    HostInUse(String),
    #[error("no instance named {0:?}")]
    NoSuchInstance(String),
    #[error("path {0:?} is not valid UTF-8; choose a path with a UTF-8 name")]
    NonUtf8Path(PathBuf),
    #[error("the state store holds an unreadable row: {0}")]
    Corrupt(String),
    #[error("state store error: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// The open state store. Cheap to share behind an `Arc`; calls are serialised per process
/// and SQLite's locking serialises writers across processes.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `state_dir` and brings its schema up to date.
    pub fn open(state_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(state_dir).map_err(|source| StoreError::CreateDir {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join(STORE_FILE);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // WAL lets the desktop app read while the CLI writes; switching needs a moment
        // without other connections, which the busy timeout covers.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        migrations::apply(&mut conn, &path)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            restrict_to_owner(Path::new(&file));
        }
        Ok(Store {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version in force (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// The connection, for this module's submodules.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements are atomic).
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The store names hosts and users: keep the file private to its owner.
fn restrict_to_owner(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// Path → TEXT column (the store keeps UTF-8 only, so it stays readable by any tool).
pub(crate) fn path_text(path: &Path) -> Result<&str, StoreError> {
    path.to_str()
        .ok_or_else(|| StoreError::NonUtf8Path(path.to_path_buf()))
}

impl crate::Coded for StoreError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            StoreError::DuplicateName(_) => ErrorCode::DuplicateName,
            StoreError::NoSuchInstance(_) => ErrorCode::NotFound,
            StoreError::DuplicateHost(_) => ErrorCode::DuplicateHost,
            StoreError::HostInUse(_) => ErrorCode::HostInUse,
            StoreError::CreateDir { .. } => ErrorCode::StateDirUnavailable,
            StoreError::Open { .. }
            | StoreError::TooNew { .. }
            | StoreError::Migration { .. }
            | StoreError::NonUtf8Path(_)
            | StoreError::Corrupt(_)
            | StoreError::Sql(_) => ErrorCode::Store,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_twice_applies_migrations_once_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path()).unwrap();
        let b = Store::open(dir.path()).unwrap();
        assert_eq!(a.schema_version().unwrap(), migrations::latest());
        assert_eq!(b.schema_version().unwrap(), migrations::latest());
        let mode: String = a
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn refuses_a_store_from_a_newer_pgrelocate() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(STORE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", migrations::latest() + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert!(err.to_string().contains("upgrade pgrelocate"));
    }

    #[test]
    fn concurrent_openers_and_writers_do_not_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let threads: Vec<_> = (0..6)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = Store::open(&path).unwrap();
                    for j in 0..10 {
                        let name = InstanceName::new(&format!("t{i}-{j}")).unwrap();
                        let endpoint = crate::Endpoint::new(
                            "127.0.0.1",
                            5432,
                            "u",
                            None,
                            crate::SslMode::Disable,
                        )
                        .unwrap();
                        store.insert_external(&name, &endpoint).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.list_instances().unwrap().len(), 60);
    }
}
