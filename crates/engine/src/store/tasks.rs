//! Tasks in the state store (migration 3): a task row holds the whole [`Task`] as JSON plus
//! the columns a list filters on; a remote task's row and events are mirrored from its agent.
//! Its events are in [`super::events`], who drives it in [`super::leases`].

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::events::insert_event;
use super::{InstanceId, Store, StoreError};
use crate::task::event::TaskEvent;
use crate::task::model::{now, Task};
use crate::task::TaskId;

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
    Ok(
        newest
            .filter(|t| t.phase == crate::task::model::Phase::Success && &t.source.id == instance),
    )
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
    use crate::store::events::{append_event, events_since};
    use crate::task::event::EventKind;
    use crate::task::model::{CopyOptions, Phase, TaskInstance, TaskLayout};

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
                standby_role: None,
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
}
