//! A task's events in the state store (migration 3): append-only, numbered by `seq`; a
//! sample is folded into the task's lag history ([`super::history`]) as it is stored.

use rusqlite::{params, OptionalExtension};

use super::history;
use super::tasks::TaskStoreError;
use super::Store;
use crate::task::event::{EventKind, TaskEvent};
use crate::task::model::{now, TaskId};

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
pub(crate) fn insert_event(
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

/// The newest events of a task before `before` (`None`: the newest of all), newest first, at
/// most `limit`; samples left out when `samples` is false (the event log pages backwards
/// through what happened, the chart reads [`crate::task::history::lag`]).
pub fn events_before(
    store: &Store,
    task: &TaskId,
    before: Option<i64>,
    limit: usize,
    samples: bool,
) -> Result<Vec<TaskEvent>, TaskStoreError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT seq, at, body FROM task_events WHERE task_id = ?1 AND seq < ?2 \
         AND (?3 OR kind <> 'sample') ORDER BY seq DESC LIMIT ?4",
    )?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map(
            params![
                task.as_str(),
                before.unwrap_or(i64::MAX),
                samples,
                limit as i64
            ],
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
        .query_row(
            "SELECT seq, at, body FROM task_events WHERE task_id = ?1 AND kind = ?2 \
             ORDER BY seq DESC LIMIT 1",
            params![task.as_str(), kind],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    row.map(|(seq, at, body)| parse_event(task, seq, at, &body))
        .transpose()
}
