//! A task's lag history in the state store (migration 9): the per-minute and per-hour
//! aggregates (`lag_rollups`) folded in as each sample is stored, retention, and the two
//! readers a chart is drawn from. What is kept how long, and how buckets are regrouped, is
//! [`crate::task::history`]'s.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rusqlite::{params, Connection, OptionalExtension};

use super::tasks::TaskStoreError;
use super::Store;
use crate::task::event::EventKind;
use crate::task::history::{
    figures, rank, state_of, state_word, unix_secs, LagBucket, HOUR, MINUTE, MINUTES_KEPT,
    PRUNE_EVERY, RAW_KEPT,
};
use crate::task::model::{ReplicationState, TaskId};
use crate::task::monitor::Sample;

/// The same ranking in SQL, for the stored `worst` column.
const RANK_OF_WORST: &str = "CASE worst WHEN 'disconnect' THEN 4 WHEN 'catchup' THEN 3 \
     WHEN 'unstarted' THEN 2 WHEN 'finish' THEN 1 WHEN 'streaming' THEN 0 ELSE -1 END";

/// Folds one stored sample into its minute and hour aggregates. Called in the transaction
/// that stores the sample, so the two never disagree.
pub(crate) fn record(
    conn: &Connection,
    task: &str,
    at: &str,
    sample: &Sample,
) -> rusqlite::Result<()> {
    let Some(secs) = unix_secs(at) else {
        return Ok(());
    };
    let (bytes, lag_secs) = figures(sample);
    let not_streaming = i64::from(
        sample
            .replication
            .is_some_and(|s| s != ReplicationState::Streaming),
    );
    let worst = sample.replication.map(state_word);
    let worst_rank = sample.replication.map(rank).unwrap_or(-1);
    let sql = format!(
        "INSERT INTO lag_rollups (task_id, width, bucket, samples, bytes_min, bytes_max, \
         bytes_last, secs_min, secs_max, secs_last, not_streaming, worst, last_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?4, ?4, ?5, ?5, ?5, ?6, ?7, ?8)
         ON CONFLICT (task_id, width, bucket) DO UPDATE SET
            samples = samples + 1,
            bytes_min = min(coalesce(bytes_min, excluded.bytes_min), coalesce(excluded.bytes_min, bytes_min)),
            bytes_max = max(coalesce(bytes_max, excluded.bytes_max), coalesce(excluded.bytes_max, bytes_max)),
            bytes_last = coalesce(excluded.bytes_last, bytes_last),
            secs_min = min(coalesce(secs_min, excluded.secs_min), coalesce(excluded.secs_min, secs_min)),
            secs_max = max(coalesce(secs_max, excluded.secs_max), coalesce(excluded.secs_max, secs_max)),
            secs_last = coalesce(excluded.secs_last, secs_last),
            not_streaming = not_streaming + excluded.not_streaming,
            worst = CASE WHEN ?9 > {RANK_OF_WORST} THEN excluded.worst ELSE worst END,
            last_at = excluded.last_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    for width in [MINUTE, HOUR] {
        stmt.execute(params![
            task,
            width,
            secs.div_euclid(width) * width,
            bytes.map(|b| b as i64),
            lag_secs,
            not_streaming,
            worst,
            at,
            worst_rank
        ])?;
    }
    Ok(())
}

/// When retention last ran for a task in this process (event time, unix seconds).
fn last_pruned() -> &'static Mutex<HashMap<String, i64>> {
    static LAST: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    LAST.get_or_init(Default::default)
}

/// Runs [`prune`] when it has not run for this task in the last [`PRUNE_EVERY`] seconds of
/// event time (so a store aged by a replay is pruned as it grows, like a live one).
pub(crate) fn maybe_prune(conn: &Connection, task: &str, at: &str) -> rusqlite::Result<()> {
    let Some(now) = unix_secs(at) else {
        return Ok(());
    };
    {
        let mut last = last_pruned().lock().unwrap_or_else(|e| e.into_inner());
        match last.get(task) {
            Some(&then) if now >= then && now - then < PRUNE_EVERY => return Ok(()),
            _ => last.insert(task.to_string(), now),
        };
    }
    prune(conn, task, now)
}

/// Applies retention to one task as of `now` (unix seconds): folds in the samples stored
/// before aggregates existed, then drops raw samples older than [`RAW_KEPT`] and minute
/// aggregates older than [`MINUTES_KEPT`].
pub(crate) fn prune(conn: &Connection, task: &str, now: i64) -> rusqlite::Result<()> {
    fold_legacy(conn, task)?;
    if let Some(boundary) = first_seq_at(conn, task, now - RAW_KEPT)? {
        conn.execute(
            "DELETE FROM task_events WHERE task_id = ?1 AND kind = 'sample' AND seq < ?2",
            params![task, boundary],
        )?;
    }
    conn.execute(
        "DELETE FROM lag_rollups WHERE task_id = ?1 AND width = ?2 AND bucket < ?3",
        params![task, MINUTE, now - MINUTES_KEPT],
    )?;
    Ok(())
}

/// The first event of `task` at or after `secs` (unix seconds), `None` when none is. A
/// binary search over `seq` (a task's events are stored in time order), so retention and
/// "events since" read a few index pages instead of every event of a months-old task.
pub(crate) fn first_seq_at(
    conn: &Connection,
    task: &str,
    secs: i64,
) -> rusqlite::Result<Option<i64>> {
    let mut at_or_after = conn.prepare_cached(
        "SELECT seq, at FROM task_events WHERE task_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT 1",
    )?;
    let mut probe = |seq: i64| -> rusqlite::Result<Option<(i64, i64)>> {
        let row: Option<(i64, String)> = at_or_after
            .query_row(params![task, seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(|(seq, at)| (seq, unix_secs(&at).unwrap_or(i64::MIN))))
    };
    let Some((mut lo, first_at)) = probe(0)? else {
        return Ok(None);
    };
    if first_at >= secs {
        return Ok(Some(lo));
    }
    let mut hi: i64 = conn.query_row(
        "SELECT max(seq) FROM task_events WHERE task_id = ?1",
        [task],
        |r| r.get(0),
    )?;
    match probe(hi)? {
        Some((_, at)) if at >= secs => {}
        _ => return Ok(None),
    }
    // Invariant: the event at `lo` is older than `secs`, the one at `hi` is not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match probe(mid)? {
            Some((seq, at)) if at >= secs => hi = seq,
            Some((seq, _)) => lo = if seq >= hi { hi - 1 } else { seq.max(mid) },
            None => hi = mid,
        }
    }
    Ok(Some(hi))
}

/// Samples stored before migration 9 have no aggregates: fold them once, before retention
/// may delete them.
fn fold_legacy(conn: &Connection, task: &str) -> rusqlite::Result<()> {
    let upto: Option<i64> = conn
        .query_row(
            "SELECT max(seq) FROM history_legacy WHERE task_id = ?1",
            [task],
            |r| r.get(0),
        )
        .unwrap_or(None);
    let Some(upto) = upto else {
        return Ok(());
    };
    let rows: Vec<(String, String)> = conn
        .prepare(
            "SELECT at, body FROM task_events WHERE task_id = ?1 AND kind = 'sample' \
             AND seq <= ?2 ORDER BY seq",
        )?
        .query_map(params![task, upto], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (at, body) in rows {
        if let Ok(EventKind::Sample(sample)) = serde_json::from_str::<EventKind>(&body) {
            record(conn, task, &at, &sample)?;
        }
    }
    conn.execute("DELETE FROM history_legacy WHERE task_id = ?1", [task])?;
    Ok(())
}

/// `task`'s raw samples stored between `from` and `to` (unix seconds, both included), oldest
/// first, with their times.
pub(crate) fn samples_between(
    store: &Store,
    task: &TaskId,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Box<Sample>)>, TaskStoreError> {
    let conn = store.conn();
    let Some(first) = first_seq_at(&conn, task.as_str(), from)? else {
        return Ok(Vec::new());
    };
    let end = first_seq_at(&conn, task.as_str(), to.saturating_add(1))?.unwrap_or(i64::MAX);
    let mut stmt = conn.prepare(
        "SELECT at, body FROM task_events WHERE task_id = ?1 AND kind = 'sample' \
             AND seq >= ?2 AND seq < ?3 ORDER BY seq",
    )?;
    let rows: Vec<(String, String)> = stmt
        .query_map(params![task.as_str(), first, end], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, body)| {
            let secs = unix_secs(&at)?;
            match serde_json::from_str::<EventKind>(&body).ok()? {
                EventKind::Sample(sample) => Some((secs, sample)),
                _ => None,
            }
        })
        .collect())
}

/// `task`'s aggregates of `width` (a stored width: [`MINUTE`] or [`HOUR`]) whose buckets
/// overlap `from`..=`to` (unix seconds), oldest first, keyed by their start.
pub(crate) fn rollups_between(
    store: &Store,
    task: &TaskId,
    width: i64,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, LagBucket)>, TaskStoreError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT bucket, samples, bytes_min, bytes_max, bytes_last, secs_min, secs_max, \
         secs_last, not_streaming, worst FROM lag_rollups \
         WHERE task_id = ?1 AND width = ?2 AND bucket BETWEEN ?3 AND ?4 ORDER BY bucket",
    )?;
    let rows: Vec<(i64, LagBucket)> = stmt
        .query_map(
            params![task.as_str(), width, from.div_euclid(width) * width, to],
            |r| {
                let worst: Option<String> = r.get(9)?;
                Ok((
                    r.get(0)?,
                    LagBucket {
                        start: String::new(),
                        width_secs: 0,
                        samples: r.get(1)?,
                        bytes_min: r.get::<_, Option<i64>>(2)?.map(|b| b as u64),
                        bytes_max: r.get::<_, Option<i64>>(3)?.map(|b| b as u64),
                        bytes_last: r.get::<_, Option<i64>>(4)?.map(|b| b as u64),
                        secs_min: r.get(5)?,
                        secs_max: r.get(6)?,
                        secs_last: r.get(7)?,
                        not_streaming: r.get(8)?,
                        worst: worst.as_deref().and_then(state_of),
                    },
                ))
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::history::{age, Ageing};
    use jiff::Timestamp;

    #[test]
    fn samples_stored_before_the_aggregates_are_folded_in_before_retention_drops_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let task = crate::store::tasks::tests::task("0123456789ab");
        crate::store::tasks::insert(&store, &task).unwrap();
        let now = Timestamp::now().as_second();
        // Three days at one sample a minute, stored as this build stores them...
        let ageing = Ageing {
            from: now - 3 * 86_400,
            to: now,
            every_secs: 60,
            bytes: 10,
            outages: vec![],
        };
        age(&store, &task.id, &ageing).unwrap();
        let hours = |store: &Store| -> i64 {
            store
                .conn()
                .query_row(
                    "SELECT coalesce(sum(samples), 0) FROM lag_rollups WHERE width = 3600",
                    [],
                    |r| r.get(0),
                )
                .unwrap()
        };
        assert!(hours(&store) >= 3 * 1440 - 2);
        // ...then as an older build left them: raw samples only (the migration marks them).
        let raw: i64 = {
            let conn = store.conn();
            conn.execute_batch(
                "DELETE FROM lag_rollups;
                 INSERT INTO history_legacy SELECT task_id, max(seq) FROM task_events GROUP BY task_id;",
            )
            .unwrap();
            let raw = conn
                .query_row(
                    "SELECT count(*) FROM task_events WHERE kind = 'sample'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            prune(&conn, task.id.as_str(), now).unwrap();
            raw
        };
        assert!(
            raw < 1500,
            "retention already ran on the newest build's samples: {raw}"
        );
        // Every sample that was still stored is in the aggregates again, once.
        let folded = hours(&store);
        assert_eq!(folded, raw);
        prune(&store.conn(), task.id.as_str(), now).unwrap();
        assert_eq!(hours(&store), folded, "folded once only");
    }

    #[test]
    fn first_seq_at_finds_the_boundary_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let task = crate::store::tasks::tests::task("0123456789ac");
        crate::store::tasks::insert(&store, &task).unwrap();
        let start = 1_700_000_000;
        age(
            &store,
            &task.id,
            &Ageing {
                from: start,
                to: start + 1000,
                every_secs: 10,
                bytes: 1,
                outages: vec![],
            },
        )
        .unwrap();
        let conn = store.conn();
        let at = |seq: i64| -> i64 {
            let at: String = conn
                .query_row("SELECT at FROM task_events WHERE seq = ?1", [seq], |r| {
                    r.get(0)
                })
                .unwrap();
            unix_secs(&at).unwrap()
        };
        assert_eq!(
            at(first_seq_at(&conn, task.id.as_str(), start - 5)
                .unwrap()
                .unwrap()),
            start
        );
        for probe in [start, start + 1, start + 505, start + 990] {
            let seq = first_seq_at(&conn, task.id.as_str(), probe)
                .unwrap()
                .unwrap();
            assert!(at(seq) >= probe && at(seq) < probe + 10, "{probe}");
        }
        assert_eq!(
            first_seq_at(&conn, task.id.as_str(), start + 991).unwrap(),
            None
        );
    }
}
