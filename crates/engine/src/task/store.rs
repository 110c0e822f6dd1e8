//! Tasks, their events and leases in the state store (migration 3).
//!
//! A task row holds the whole [`Task`] as JSON plus the columns a list filters on. Events are
//! append-only. A lease row names the one process that drives a task: holder (a random id per
//! process), pid, host, and an expiry it renews while alive. A lease whose holder is a dead
//! process on this host, or whose expiry passed, can be taken over.

use std::time::Duration;

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::event::{EventKind, TaskEvent};
use super::history;
use super::model::{now, Task, TaskId};
use crate::inventory::{InstanceId, Store, StoreError};

/// Shortest id prefix accepted for a lookup.
pub const MIN_PREFIX: usize = 4;

/// Why a task row could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TaskStoreError {
    #[error("no task {0:?} (see `pgrelocate task list`)")]
    NotFound(String),
    #[error("task id {prefix:?} is ambiguous: it starts {count} task ids; give more characters")]
    Ambiguous { prefix: String, count: usize },
    #[error("task id {0:?} is too short: give at least {MIN_PREFIX} characters")]
    PrefixTooShort(String),
    #[error("stored task {id} is unreadable: {reason}")]
    Corrupt { id: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TaskStoreError {
    fn from(e: rusqlite::Error) -> Self {
        TaskStoreError::Store(StoreError::Sql(e))
    }
}

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

fn word<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_task(id: &str, body: &str) -> Result<Task, TaskStoreError> {
    serde_json::from_str(body).map_err(|e| TaskStoreError::Corrupt {
        id: id.to_string(),
        reason: e.to_string(),
    })
}

/// Inserts a new task.
pub fn insert(store: &Store, task: &Task) -> Result<(), TaskStoreError> {
    let body = serde_json::to_string(task).expect("a task always serialises");
    store.conn().execute(
        "INSERT INTO tasks (id, created_at, updated_at, mode, source_id, dest_id, phase, \
         replication, body) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            task.id.as_str(),
            task.created_at,
            word(task.mode),
            task.source.id.as_str(),
            task.destination.id.as_str(),
            task.phase.as_str(),
            task.replication.as_str(),
            body
        ],
    )?;
    Ok(())
}

/// Writes a task's new state.
pub fn save(store: &Store, task: &Task) -> Result<(), TaskStoreError> {
    let body = serde_json::to_string(task).expect("a task always serialises");
    let n = store.conn().execute(
        "UPDATE tasks SET updated_at = ?2, phase = ?3, replication = ?4, body = ?5 WHERE id = ?1",
        params![
            task.id.as_str(),
            now(),
            task.phase.as_str(),
            task.replication.as_str(),
            body
        ],
    )?;
    if n == 0 {
        return Err(TaskStoreError::NotFound(task.id.to_string()));
    }
    Ok(())
}

/// The task with this id, or the only one whose id starts with it.
pub fn get(store: &Store, id: &str) -> Result<Task, TaskStoreError> {
    let conn = store.conn();
    if let Some(body) = conn
        .query_row("SELECT body FROM tasks WHERE id = ?1", [id], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
    {
        return parse_task(id, &body);
    }
    if id.chars().count() < MIN_PREFIX {
        return Err(TaskStoreError::PrefixTooShort(id.to_string()));
    }
    let mut stmt =
        conn.prepare("SELECT id, body FROM tasks WHERE substr(id, 1, length(?1)) = ?1")?;
    let found: Vec<(String, String)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    match found.as_slice() {
        [] => Err(TaskStoreError::NotFound(id.to_string())),
        [(full, body)] => parse_task(full, body),
        many => Err(TaskStoreError::Ambiguous {
            prefix: id.to_string(),
            count: many.len(),
        }),
    }
}

/// Every task, newest first.
pub fn list(store: &Store) -> Result<Vec<Task>, TaskStoreError> {
    let conn = store.conn();
    let mut stmt = conn.prepare("SELECT id, body FROM tasks ORDER BY created_at DESC, id")?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.iter().map(|(id, body)| parse_task(id, body)).collect()
}

/// The unfinished task (not success or cancelled) that uses `dest`, if any.
pub fn live_task_for_destination(
    store: &Store,
    dest: &InstanceId,
) -> Result<Option<Task>, TaskStoreError> {
    let conn = store.conn();
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT id, body FROM tasks WHERE dest_id = ?1 \
             AND phase NOT IN ('success', 'cancelled') ORDER BY created_at DESC LIMIT 1",
            [dest.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(id, body)| parse_task(&id, &body)).transpose()
}

/// The task that retired `instance`: the newest task it takes part in, when that one is
/// finished (`success`: switched or failed over) with `instance` as its source. A newer task
/// (the instance forced back to a primary and migrated again, or rebuilt as a destination)
/// ends the retirement.
pub fn retiring_task(store: &Store, instance: &InstanceId) -> Result<Option<Task>, TaskStoreError> {
    let conn = store.conn();
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT id, body FROM tasks WHERE source_id = ?1 OR dest_id = ?1 \
             ORDER BY created_at DESC, id LIMIT 1",
            [instance.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let newest = row.map(|(id, body)| parse_task(&id, &body)).transpose()?;
    Ok(newest.filter(|t| t.phase == super::model::Phase::Success && &t.source.id == instance))
}

/// The newest finished task (`success`: switched or failed over) that promoted `dest`: the
/// destination serves as a primary since.
pub fn promoting_task(store: &Store, dest: &InstanceId) -> Result<Option<Task>, TaskStoreError> {
    finished_task(store, "dest_id", dest)
}

/// The newest task in `success` whose `column` (`source_id` or `dest_id`) is `instance`.
fn finished_task(
    store: &Store,
    column: &'static str,
    instance: &InstanceId,
) -> Result<Option<Task>, TaskStoreError> {
    let conn = store.conn();
    let row: Option<(String, String)> = conn
        .query_row(
            &format!(
                "SELECT id, body FROM tasks WHERE {column} = ?1 AND phase = 'success' \
                 ORDER BY created_at DESC LIMIT 1"
            ),
            [instance.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(id, body)| parse_task(&id, &body)).transpose()
}

/// Appends an event and returns it with its sequence number.
pub fn append_event(
    store: &Store,
    task: &TaskId,
    kind: EventKind,
) -> Result<TaskEvent, TaskStoreError> {
    let mut events = append_events_at(store, task, vec![(now(), kind)])?;
    Ok(events.pop().expect("one event in, one out"))
}

/// Appends events that happened at the given times (RFC 3339), oldest first, in one
/// transaction: the write path of [`append_event`], for tools that replay or age a store
/// (the tests and benchmarks of a months-old task). A sample is folded into the task's lag
/// history as it is stored, and retention runs as the event time advances.
pub fn append_events_at(
    store: &Store,
    task: &TaskId,
    events: Vec<(String, EventKind)>,
) -> Result<Vec<TaskEvent>, TaskStoreError> {
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let mut out = Vec::with_capacity(events.len());
    for (at, kind) in events {
        let seq = insert_event(&tx, task.as_str(), &at, &kind)?;
        out.push(TaskEvent {
            seq,
            task_id: task.clone(),
            at,
            kind,
        });
    }
    tx.commit()?;
    Ok(out)
}

/// Stores one event (and a sample's aggregates) and returns its sequence number.
fn insert_event(
    conn: &rusqlite::Connection,
    task: &str,
    at: &str,
    kind: &EventKind,
) -> Result<i64, TaskStoreError> {
    let body = serde_json::to_string(kind).expect("an event always serialises");
    conn.prepare_cached(
        "INSERT INTO task_events (task_id, at, kind, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![task, at, kind.tag(), body])?;
    let seq = conn.last_insert_rowid();
    if let EventKind::Sample(sample) = kind {
        history::record(conn, task, at, sample)?;
        history::maybe_prune(conn, task, at)?;
    }
    Ok(seq)
}

/// Events of a task after `after` (0 for all), oldest first, at most `limit`.
pub fn events_since(
    store: &Store,
    task: &TaskId,
    after: i64,
    limit: usize,
) -> Result<Vec<TaskEvent>, TaskStoreError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT seq, at, body FROM task_events WHERE task_id = ?1 AND seq > ?2 \
         ORDER BY seq LIMIT ?3",
    )?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map(params![task.as_str(), after, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(seq, at, body)| parse_event(task, seq, at, &body))
        .collect()
}

/// The newest events before a `seq`, of every kind.
const EVENTS_BEFORE: &str = "SELECT seq, at, body FROM task_events \
     WHERE task_id = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3";
/// The same without samples: the log's page. It names the partial index's condition (not
/// `(?3 OR kind <> 'sample')`), so it walks `task_events_log` instead of a day of samples.
const LOG_BEFORE: &str = "SELECT seq, at, body FROM task_events \
     WHERE task_id = ?1 AND seq < ?2 AND kind <> 'sample' ORDER BY seq DESC LIMIT ?3";
/// The newest event of a kind, through `task_events_by_kind`.
const LATEST_OF_KIND: &str = "SELECT seq, at, body FROM task_events \
     WHERE task_id = ?1 AND kind = ?2 ORDER BY seq DESC LIMIT 1";

/// The newest events of a task before `before` (`None`: the newest of all), newest first, at
/// most `limit`; samples left out when `samples` is false (the event log pages backwards
/// through what happened, the chart reads [`history::lag`]).
pub fn events_before(
    store: &Store,
    task: &TaskId,
    before: Option<i64>,
    limit: usize,
    samples: bool,
) -> Result<Vec<TaskEvent>, TaskStoreError> {
    let conn = store.conn();
    let mut stmt = conn.prepare_cached(if samples { EVENTS_BEFORE } else { LOG_BEFORE })?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map(
            params![task.as_str(), before.unwrap_or(i64::MAX), limit as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(seq, at, body)| parse_event(task, seq, at, &body))
        .collect()
}

/// The first event at or after `at` (RFC 3339): where a follower asked to start at a time
/// begins (`None` when nothing is that recent).
pub fn first_seq_since(
    store: &Store,
    task: &TaskId,
    at: &str,
) -> Result<Option<i64>, TaskStoreError> {
    let secs = at
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .unwrap_or(i64::MIN);
    Ok(history::first_seq_at(&store.conn(), task.as_str(), secs)?)
}

/// The newest event's sequence number (0 when there is none).
pub fn newest_seq(store: &Store, task: &TaskId) -> Result<i64, TaskStoreError> {
    Ok(store.conn().query_row(
        "SELECT coalesce(max(seq), 0) FROM task_events WHERE task_id = ?1",
        [task.as_str()],
        |r| r.get(0),
    )?)
}

/// A stored event row as a [`TaskEvent`] (an unreadable body is `Corrupt`, naming it).
fn parse_event(
    task: &TaskId,
    seq: i64,
    at: String,
    body: &str,
) -> Result<TaskEvent, TaskStoreError> {
    let kind = serde_json::from_str(body).map_err(|e| TaskStoreError::Corrupt {
        id: task.to_string(),
        reason: format!("event {seq}: {e}"),
    })?;
    Ok(TaskEvent {
        seq,
        task_id: task.clone(),
        at,
        kind,
    })
}

/// The newest event of a kind (`copy`, `sample`, …) of a task.
pub fn latest_event(
    store: &Store,
    task: &TaskId,
    kind: &str,
) -> Result<Option<TaskEvent>, TaskStoreError> {
    let row: Option<(i64, String, String)> = store
        .conn()
        .query_row(LATEST_OF_KIND, params![task.as_str(), kind], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    row.map(|(seq, at, body)| parse_event(task, seq, at, &body))
        .transpose()
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

/// Asks whichever process drives the task to cancel it (seen at its next heartbeat).
pub fn request_cancel(store: &Store, task: &TaskId, requested: bool) -> Result<(), TaskStoreError> {
    store.conn().execute(
        "UPDATE tasks SET cancel_requested = ?2 WHERE id = ?1",
        params![task.as_str(), requested],
    )?;
    Ok(())
}

/// Whether a cancel was requested.
pub fn cancel_requested(store: &Store, task: &TaskId) -> Result<bool, TaskStoreError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT cancel_requested FROM tasks WHERE id = ?1",
            [task.as_str()],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

impl crate::Coded for TaskStoreError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            TaskStoreError::NotFound(_) => ErrorCode::TaskNotFound,
            TaskStoreError::Ambiguous { .. } => ErrorCode::AmbiguousId,
            TaskStoreError::PrefixTooShort(_) => ErrorCode::IdTooShort,
            TaskStoreError::Corrupt { .. } => ErrorCode::Store,
            TaskStoreError::Store(e) => e.code(),
        }
    }
}

impl crate::Coded for LeaseBusy {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::TaskBusy
    }
}

/// The host whose agent drives this task, and the agent's newest event already copied
/// here; `None` for a task driven from this machine.
pub fn remote_of(store: &Store, task: &TaskId) -> Result<Option<(String, i64)>, TaskStoreError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT host, remote_seq FROM remote_tasks WHERE task_id = ?1",
            [task.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Copies the agent's view of a task here: its row (inserted the first time) and its
/// events after the ones already copied, keeping their times, in one transaction.
pub fn mirror(
    store: &Store,
    host: &str,
    task: &Task,
    events: &[TaskEvent],
) -> Result<(), TaskStoreError> {
    let body = serde_json::to_string(task).expect("a task always serialises");
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO tasks (id, created_at, updated_at, mode, source_id, dest_id, phase, \
         replication, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET updated_at = ?3, phase = ?7, replication = ?8, body = ?9",
        params![
            task.id.as_str(),
            task.created_at,
            now(),
            word(task.mode),
            task.source.id.as_str(),
            task.destination.id.as_str(),
            task.phase.as_str(),
            task.replication.as_str(),
            body
        ],
    )?;
    tx.execute(
        "INSERT INTO remote_tasks (task_id, host) VALUES (?1, ?2) ON CONFLICT(task_id) DO NOTHING",
        params![task.id.as_str(), host],
    )?;
    let seen: i64 = tx.query_row(
        "SELECT remote_seq FROM remote_tasks WHERE task_id = ?1",
        [task.id.as_str()],
        |r| r.get(0),
    )?;
    let mut newest = seen;
    for e in events.iter().filter(|e| e.seq > seen) {
        insert_event(&tx, task.id.as_str(), &e.at, &e.kind)?;
        newest = newest.max(e.seq);
    }
    tx.execute(
        "UPDATE remote_tasks SET remote_seq = ?2 WHERE task_id = ?1",
        params![task.id.as_str(), newest],
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::assess::model::Mode;
    use crate::task::model::{CopyOptions, Phase, ReplicationState, TaskInstance, TaskLayout};

    /// A stored-shape task for unit tests of the store.
    pub(crate) fn task(id: &str) -> Task {
        let id = TaskId::from_stored(id);
        Task::new(
            id.clone(),
            Mode::Dr,
            TaskInstance {
                id: InstanceId::generate(),
                name: "s".into(),
            },
            TaskInstance {
                id: InstanceId::generate(),
                name: "d".into(),
            },
            "r".into(),
            CopyOptions::default(),
            TaskLayout {
                slot_name: id.slot_name(),
                application_name: id.slot_name(),
                data_dir: "/d".into(),
                aside_dir: "/a".into(),
                copy_dir: "/c".into(),
                passfile: "/p".into(),
                standby_files: vec![],
                tablespaces: vec![],
            },
        )
    }

    #[test]
    fn the_source_of_a_finished_task_is_retired_until_a_newer_task_uses_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut done = task("bbbb11112222");
        let old = done.source.id.clone();
        insert(&store, &done).unwrap();
        assert_eq!(
            retiring_task(&store, &old).unwrap(),
            None,
            "a live task retires nothing"
        );
        done.phase = Phase::Success;
        save(&store, &done).unwrap();
        assert_eq!(
            retiring_task(&store, &old).unwrap().map(|t| t.id),
            Some(done.id.clone())
        );
        assert_eq!(
            retiring_task(&store, &done.destination.id).unwrap(),
            None,
            "the promoted destination is not retired"
        );
        assert_eq!(
            promoting_task(&store, &done.destination.id)
                .unwrap()
                .map(|t| t.id),
            Some(done.id.clone())
        );

        // Rebuilt later as another task's destination: no longer retired.
        let mut again = task("bbbb33334444");
        again.destination.id = old.clone();
        again.created_at = "2999-01-01T00:00:00Z".into();
        insert(&store, &again).unwrap();
        assert_eq!(retiring_task(&store, &old).unwrap(), None);
    }

    #[test]
    fn a_saved_task_comes_back_by_id_or_prefix_with_its_events_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut t = task("aaaa11112222");
        insert(&store, &t).unwrap();
        insert(&store, &task("aaaa33334444")).unwrap();
        t.begin_basebackup().unwrap();
        save(&store, &t).unwrap();
        assert_eq!(get(&store, "aaaa1111").unwrap(), t);
        assert!(matches!(
            get(&store, "aaaa"),
            Err(TaskStoreError::Ambiguous { count: 2, .. })
        ));
        assert!(matches!(
            get(&store, "aa"),
            Err(TaskStoreError::PrefixTooShort(_))
        ));
        assert!(matches!(
            get(&store, "bbbb"),
            Err(TaskStoreError::NotFound(_))
        ));
        assert_eq!(list(&store).unwrap().len(), 2);
        assert_eq!(
            live_task_for_destination(&store, &t.destination.id).unwrap(),
            Some(t.clone())
        );

        let a = append_event(
            &store,
            &t.id,
            EventKind::Note {
                message: "one".into(),
            },
        )
        .unwrap();
        let b = append_event(
            &store,
            &t.id,
            EventKind::Note {
                message: "two".into(),
            },
        )
        .unwrap();
        assert!(b.seq > a.seq);
        assert_eq!(
            events_since(&store, &t.id, 0, 100).unwrap(),
            vec![a.clone(), b.clone()]
        );
        assert_eq!(events_since(&store, &t.id, a.seq, 100).unwrap(), vec![b]);
    }

    #[test]
    fn a_page_finds_the_log_and_the_newest_event_of_a_kind_without_walking_the_samples() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = task("cccc11112222");
        insert(&store, &t).unwrap();
        let change = append_event(
            &store,
            &t.id,
            EventKind::Replication {
                from: ReplicationState::Streaming,
                to: ReplicationState::Disconnect,
            },
        )
        .unwrap();
        let rows = (0..500)
            .map(|_| (now(), EventKind::Sample(Box::default())))
            .collect();
        append_events_at(&store, &t.id, rows).unwrap();
        assert_eq!(
            latest_event(&store, &t.id, "replication").unwrap(),
            Some(change.clone())
        );
        assert_eq!(latest_event(&store, &t.id, "copy").unwrap(), None);
        assert_eq!(
            events_before(&store, &t.id, None, 100, false).unwrap(),
            vec![change]
        );
        assert_eq!(
            events_before(&store, &t.id, None, 100, true).unwrap().len(),
            100
        );
        // What SQLite plans for them: an index seek, never the task's whole history.
        let plan = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> String {
            let conn = store.conn();
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt.query_map(args, |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let latest = plan(LATEST_OF_KIND, params![t.id.as_str(), "copy"]);
        assert!(latest.contains("task_events_by_kind"), "{latest}");
        let log = plan(LOG_BEFORE, params![t.id.as_str(), i64::MAX, 100]);
        assert!(log.contains("task_events_log"), "{log}");
        assert!(!log.contains("TEMP B-TREE"), "{log}");
    }

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
