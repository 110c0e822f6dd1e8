//! Schema migrations: a numbered list, applied in order inside one transaction at open;
//! `PRAGMA user_version` records how many have run.
//!
//! To change the schema, **append** a new entry to [`MIGRATIONS`] (never edit or reorder a
//! released one): its position + 1 is its version. Write plain SQL that moves a store at the
//! previous version to the new one, e.g. for tasks:
//!
//! ```text
//! // 2: migration tasks
//! "CREATE TABLE tasks (id TEXT PRIMARY KEY,
//!                      source_id TEXT NOT NULL REFERENCES instances(id),
//!                      ...);",
//! ```
//!
//! then add the record type and its queries in a sibling module of `instances.rs`
//! (`impl Store` blocks may live in several files). The unit test
//! `every_migration_applies_to_the_previous_schema` runs the whole list on a fresh store.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Every schema change, oldest first. Version N is `MIGRATIONS[N - 1]`.
pub const MIGRATIONS: &[&str] = &[
    // 1: instances, and the folders a user added to binary discovery.
    "CREATE TABLE instances (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        kind          TEXT NOT NULL CHECK (kind IN ('external', 'managed')),
        host          TEXT NOT NULL,
        port          INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
        user_name     TEXT NOT NULL,
        dbname        TEXT NOT NULL,
        sslmode       TEXT NOT NULL,
        ssl_root_cert TEXT,
        data_dir      TEXT,
        bin_dir       TEXT,
        major         INTEGER,
        os_user       TEXT,
        created_dir   TEXT,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        CHECK ((kind = 'managed') = (data_dir IS NOT NULL AND bin_dir IS NOT NULL
                                     AND major IS NOT NULL))
    );
    CREATE TABLE bin_folders (
        path     TEXT PRIMARY KEY,
        added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );",
    // 2: feasibility assessment reports: the whole report as JSON, plus the columns a list
    // shows. Names rather than instance ids: a report outlives the instances it assessed.
    "CREATE TABLE reports (
        id          TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL,
        source_name TEXT NOT NULL,
        dest_name   TEXT NOT NULL,
        mode        TEXT NOT NULL CHECK (mode IN ('migration', 'dr')),
        verdict     TEXT NOT NULL CHECK (verdict IN ('success', 'warning', 'error')),
        errors      INTEGER NOT NULL,
        warnings    INTEGER NOT NULL,
        skipped     INTEGER NOT NULL,
        passed      INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        body        TEXT NOT NULL
    );
    CREATE INDEX reports_by_time ON reports (created_at);",
    // 3: migration / DR tasks (the whole task as JSON plus the columns a list shows), their
    // append-only event log, and the lease that lets one process drive a task at a time.
    "CREATE TABLE tasks (
        id               TEXT PRIMARY KEY,
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        mode             TEXT NOT NULL CHECK (mode IN ('migration', 'dr')),
        source_id        TEXT NOT NULL,
        dest_id          TEXT NOT NULL,
        phase            TEXT NOT NULL,
        replication      TEXT NOT NULL,
        cancel_requested INTEGER NOT NULL DEFAULT 0,
        body             TEXT NOT NULL
    );
    CREATE INDEX tasks_by_dest ON tasks (dest_id);
    CREATE TABLE task_events (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        at      TEXT NOT NULL,
        kind    TEXT NOT NULL,
        body    TEXT NOT NULL
    );
    CREATE INDEX task_events_by_task ON task_events (task_id, seq);
    CREATE TABLE task_leases (
        task_id     TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
        holder      TEXT NOT NULL,
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_ms  INTEGER NOT NULL
    );",
    // 4: per-instance connect timeout (seconds) and libpq-style require_auth (NULL: any
    // method except a clear-text password over an unencrypted connection).
    "ALTER TABLE instances ADD COLUMN connect_timeout INTEGER NOT NULL DEFAULT 10
        CHECK (connect_timeout BETWEEN 1 AND 600);
    ALTER TABLE instances ADD COLUMN require_auth TEXT;",
    // 5: remote hosts reached over SSH (the agent runs there). The accepted host key lives
    // in pgrelocate's own known_hosts file; its fingerprint is kept here for display.
    "CREATE TABLE hosts (
        name        TEXT PRIMARY KEY,
        ssh_user    TEXT,
        ssh_host    TEXT NOT NULL,
        ssh_port    INTEGER CHECK (ssh_port BETWEEN 1 AND 65535),
        identity    TEXT,
        host_key    TEXT,
        added_at    TEXT NOT NULL
    );",
    // 6: a managed instance may run on a registered host (its agent manages it there).
    "ALTER TABLE instances ADD COLUMN managed_host TEXT REFERENCES hosts(name);",
    // 7: tasks driven on a destination's host: the row in `tasks` (and its events) mirrors
    // the agent's; `remote_seq` is the agent's newest event already copied here.
    "CREATE TABLE remote_tasks (
        task_id    TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
        host       TEXT NOT NULL REFERENCES hosts(name),
        remote_seq INTEGER NOT NULL DEFAULT 0
    );",
    // 8: a managed instance adopted from an existing cluster: removing it forgets it and
    // leaves the server running and its files in place.
    "ALTER TABLE instances ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;",
    // 9: a task's lag history per minute and per hour (`task/history.rs`), written with each
    // sample so raw samples can be dropped after a day. `history_legacy` marks the samples
    // stored before this migration, which retention folds in before deleting them.
    "CREATE TABLE lag_rollups (
        task_id       TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
        width         INTEGER NOT NULL CHECK (width IN (60, 3600)),
        bucket        INTEGER NOT NULL,
        samples       INTEGER NOT NULL,
        bytes_min     INTEGER,
        bytes_max     INTEGER,
        bytes_last    INTEGER,
        secs_min      REAL,
        secs_max      REAL,
        secs_last     REAL,
        not_streaming INTEGER NOT NULL DEFAULT 0,
        worst         TEXT,
        last_at       TEXT NOT NULL,
        PRIMARY KEY (task_id, width, bucket)
    ) WITHOUT ROWID;
    CREATE TABLE history_legacy (
        task_id TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL
    );
    INSERT INTO history_legacy
        SELECT task_id, max(seq) FROM task_events WHERE kind = 'sample' GROUP BY task_id;",
    // 10: a task page's first reads without walking the day of raw samples: the newest event
    // of a kind (`latest_event`: the status's copy progress and replication change, which
    // may be weeks old) and the newest page of the log, which leaves samples out.
    "CREATE INDEX task_events_by_kind ON task_events (task_id, kind, seq);
    CREATE INDEX task_events_log ON task_events (task_id, seq) WHERE kind <> 'sample';",
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// Brings `conn` to the latest version. `BEGIN IMMEDIATE` takes the write lock before the
/// version is read, so two processes opening a new store at once cannot both migrate it.
pub(super) fn apply(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > latest() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: current,
            known: latest(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as u32 + 1;
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { version, source })?;
        tracing::info!(version, "applied state store migration");
    }
    tx.pragma_update(None, "user_version", latest())?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_applies_to_the_previous_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, Path::new(":memory:")).unwrap();
        let version: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest());
        // Applying again is a no-op.
        apply(&mut conn, Path::new(":memory:")).unwrap();
    }
}
