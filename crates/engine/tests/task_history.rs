//! A DR task that runs for a year keeps a small store: a day of raw samples, a month of
//! per-minute and a year of per-hour aggregates, every state change — and an hour-long outage
//! three weeks ago still shows in the 30-day chart (issue 18).

use std::time::Instant;

use pgrelocate_engine::store::Store;
use pgrelocate_engine::store::{events, tasks};
use pgrelocate_engine::task::event::EventKind;
use pgrelocate_engine::task::history::{self, Ageing, LagHistory, Period};
use pgrelocate_engine::task::model::ReplicationState;

fn secs_to_rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).unwrap().to_string()
}

#[test]
fn a_year_old_dr_task_keeps_a_small_store_and_its_outages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let now = jiff::Timestamp::now().as_second();
    let year_ago = now - 365 * 24 * 3600;
    let task = history::made_up_dr_task("src", "dst", year_ago);
    tasks::insert(&store, &task).unwrap();
    // An hour-long disconnect three weeks ago, and a short one this morning.
    let outage = (now - 21 * 24 * 3600, now - 21 * 24 * 3600 + 3600);
    let recent = (now - 2 * 3600, now - 2 * 3600 + 120);
    // The shape retention leaves does not depend on how densely the old part was sampled
    // (a minute or an hour bucket is one row either way), so the year before the last day is
    // sampled once a minute and the last day every 5 s, as the monitor does: the test ages a
    // store in seconds instead of minutes.
    let day_ago = now - 24 * 3600;
    let started = Instant::now();
    let mut written = 0;
    for (from, to, every_secs) in [(year_ago, day_ago, 60), (day_ago, now, 5)] {
        written += history::age(
            &store,
            &task.id,
            &Ageing {
                from,
                to,
                every_secs,
                bytes: 4096,
                outages: vec![outage, recent],
            },
        )
        .unwrap();
    }
    eprintln!("aged a year ({written} samples) in {:?}", started.elapsed());
    assert!(written > 500_000, "{written}");

    // The store is in the low tens of MB, not the ~3 GB a year of raw samples takes.
    drop(store);
    // Closing the store checkpoints its WAL: the folder holds the state file alone.
    let size = dir_size(dir.path());
    eprintln!("state store: {} MB", size / 1_000_000);
    assert!(size < 50_000_000, "store is {size} bytes");
    let store = Store::open(dir.path()).unwrap();

    // Raw samples cover only the last day (and a retention period of slack).
    let oldest_raw = events::events_before(&store, &task.id, None, usize::MAX, true)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::Sample(_)))
        .map(|e| e.at.parse::<jiff::Timestamp>().unwrap().as_second())
        .min()
        .unwrap();
    assert!(
        oldest_raw >= now - history::RAW_KEPT - 700,
        "raw samples reach back {} s",
        now - oldest_raw
    );

    // Every state change is kept: the event log lists the outage of three weeks ago.
    let changes: Vec<_> = events::events_before(&store, &task.id, None, 100, false)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Replication { to, .. } => Some((e.at, to)),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert!(changes
        .iter()
        .any(|(at, to)| *to == ReplicationState::Disconnect && *at == secs_to_rfc3339(outage.0)));

    // The 30-day chart shows the outage: its hour buckets keep the state and the count.
    let month = LagHistory::read(&store, &task, Period::Days30).unwrap();
    assert_eq!(month.width_secs, 3600);
    assert!(month.buckets.len() >= 700, "{}", month.buckets.len());
    let worst: Vec<_> = month
        .buckets
        .iter()
        .filter(|b| b.worst == Some(ReplicationState::Disconnect))
        .collect();
    let outage_samples: u32 = worst
        .iter()
        .filter(|b| b.start < secs_to_rfc3339(now - 7 * 24 * 3600))
        .map(|b| b.not_streaming)
        .sum();
    assert_eq!(
        outage_samples, 60,
        "the hour-long outage, by the minute: {worst:?}"
    );
    // The 24-hour chart (minute aggregates) shows this morning's two minutes.
    let day = LagHistory::read(&store, &task, Period::Hours24).unwrap();
    assert_eq!(day.width_secs, 120);
    assert!(day.buckets.len() >= 700);
    assert!(day
        .buckets
        .iter()
        .any(|b| b.worst == Some(ReplicationState::Disconnect)));
    assert!(day
        .buckets
        .iter()
        .all(|b| b.bytes_max.is_none_or(|x| x == 4096)));
    // The last 15 minutes are raw samples, one per bucket.
    let quarter = LagHistory::read(&store, &task, Period::Minutes15).unwrap();
    assert_eq!(quarter.width_secs, 5);
    // The samples end where the ageing began; the period ends now, a loaded minute or more later.
    let late = jiff::Timestamp::now().as_second() - now;
    let expected = (15 * 60 - late) / 5;
    assert!(
        quarter.buckets.len() as i64 >= expected - 2,
        "{} buckets, {expected} expected {late} s after the samples end",
        quarter.buckets.len()
    );
    assert!(quarter.buckets.iter().all(|b| b.samples == 1));
    // The whole year, by the hour aggregates.
    let all = LagHistory::read(&store, &task, Period::All).unwrap();
    assert!(all.buckets.len() <= history::MAX_BUCKETS as usize + 1);
    let total: u64 = all.buckets.iter().map(|b| u64::from(b.samples)).sum();
    assert!(total + 2000 >= written, "{total} of {written}");
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum()
}
