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
/// through what happened, the chart reads [`crate::task::history::lag`]).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tasks::{insert, tests::task};
    use crate::task::model::ReplicationState;

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
}
