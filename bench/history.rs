//! Benchmark (not a test): a DR task's store after a year of samples every 5 s, as the
//! monitor takes them, written through the engine's own write path (`history::age` →
//! `events::append_events_at`: aggregates folded in with each sample, retention as event time
//! advances). Prints the samples written and the time taken, the state file's size, the time
//! of `LagHistory::read` for each period and of the newest page of the log
//! (`events_before(None, 100)`), and the size against what the same samples would take
//! without retention (samples × the bytes per sample of the first day, when nothing has been
//! dropped or folded yet).
//!
//!   cargo bench -p pgrelocate-engine --bench history
//!
//! Environment: `PGRELOCATE_BENCH_DAYS` (days aged, default 365), `PGRELOCATE_BENCH_RUNS`
//! (reads per figure, the median is printed; default 20).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgrelocate_engine::instances::Instances;
use pgrelocate_engine::secrets::memory::Memory;
use pgrelocate_engine::store::leases::{self, LeaseHolder};
use pgrelocate_engine::store::Store;
use pgrelocate_engine::store::{events, tasks};
use pgrelocate_engine::task::history::{self, Ageing, LagHistory, Period};
use pgrelocate_engine::task::model::TaskId;
use pgrelocate_engine::task::Tasks;

const EVERY_SECS: i64 = 5;
const DAY: i64 = 86_400;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The store's files (closed, so its WAL is checkpointed into the state file).
fn store_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    // Test runners list every target: a benchmark has no tests to list.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let days: i64 = env_or("PGRELOCATE_BENCH_DAYS", 365);
    let runs: usize = env_or("PGRELOCATE_BENCH_RUNS", 20).max(1);
    let dir = tempfile::tempdir().unwrap();
    let now = jiff::Timestamp::now().as_second();
    let from = now - days * DAY;
    let task = history::made_up_dr_task("src", "dst", from);
    {
        let store = Store::open(dir.path()).unwrap();
        tasks::insert(&store, &task).unwrap();
    }
    // An hour-long outage three weeks ago, so the state changes are part of the store.
    let outages = vec![(now - 21 * DAY, now - 21 * DAY + 3600)];
    let ageing = |store: &Store, from: i64, to: i64| {
        history::age(
            store,
            &task.id,
            &Ageing {
                from,
                to,
                every_secs: EVERY_SECS,
                bytes: 4096,
                outages: outages.clone(),
            },
        )
        .unwrap()
    };

    // The first day alone: every sample still raw, nothing dropped.
    let empty = store_size(dir.path());
    let started = Instant::now();
    let first_day = {
        let store = Store::open(dir.path()).unwrap();
        ageing(&store, from, from + DAY)
    };
    let mut aging = started.elapsed();
    let per_sample = (store_size(dir.path()) - empty) as f64 / first_day as f64;

    let started = Instant::now();
    let rest = {
        let store = Store::open(dir.path()).unwrap();
        ageing(&store, from + DAY, now)
    };
    aging += started.elapsed();
    let samples = first_day + rest;
    let size = store_size(dir.path());
    let raw = (samples as f64 * per_sample) as u64;
    println!(
        "aged {days} days at {EVERY_SECS} s: {samples} samples in {:.1?} ({:.0} samples/s)",
        aging,
        samples as f64 / aging.as_secs_f64()
    );
    println!(
        "state file: {:.1} MB; without retention ≈ {:.0} MB ({per_sample:.0} B per sample, first day): {:.1}× smaller",
        mb(size),
        mb(raw),
        raw as f64 / size as f64
    );

    let store = Store::open(dir.path()).unwrap();
    for period in Period::ALL {
        let mut buckets = 0;
        let times = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let history = LagHistory::read(&store, &task, period).unwrap();
                buckets = history.buckets.len();
                started.elapsed()
            })
            .collect();
        println!(
            "LagHistory::read {period:?}: {:.2?} (median of {runs}), {buckets} buckets",
            median(times)
        );
    }
    let times = (0..runs)
        .map(|_| {
            let started = Instant::now();
            events::events_before(&store, &task.id, None, 100, false).unwrap();
            started.elapsed()
        })
        .collect();
    println!(
        "events_before(None, 100): {:.2?} (median of {runs})",
        median(times)
    );
    for kind in ["sample", "replication", "copy"] {
        let times = (0..runs)
            .map(|_| {
                let started = Instant::now();
                events::latest_event(&store, &task.id, kind).unwrap();
                started.elapsed()
            })
            .collect();
        println!(
            "latest_event({kind:?}): {:.2?} (median of {runs})",
            median(times)
        );
    }
    drop(store);
    page_reads(dir.path(), &task.id, runs);
}

/// The engine calls the task page makes when it opens (`task_status`, then `task_lag` for
/// the period shown and the log's newest page), each timed, as the desktop makes them for a
/// task another process drives (so the status shows the stored sample).
fn page_reads(dir: &Path, id: &TaskId, runs: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let instances =
        Instances::with_credentials(dir, Ok(Arc::new(Memory::default()) as Arc<_>)).unwrap();
    let tasks = Tasks::new(Arc::new(instances));
    let store = Store::open(dir).unwrap();
    let other = LeaseHolder::this_process();
    leases::acquire_lease(&store, id, &other, Duration::from_secs(3600))
        .unwrap()
        .expect("nobody drives the benchmark's task");
    let mut total = Vec::new();
    let mut figures: Vec<(&str, Vec<Duration>)> = vec![
        ("status", vec![]),
        ("lag 24h", vec![]),
        ("log page", vec![]),
    ];
    for _ in 0..runs {
        let started = Instant::now();
        let status = runtime.block_on(tasks.status(id.as_str())).unwrap();
        assert!(status.sample.is_some());
        figures[0].1.push(started.elapsed());
        let at = Instant::now();
        tasks.lag(id, Period::Hours24).unwrap();
        figures[1].1.push(at.elapsed());
        let at = Instant::now();
        tasks.newest_seq(id).unwrap();
        tasks.events_before(id, None, 100, false).unwrap();
        figures[2].1.push(at.elapsed());
        total.push(started.elapsed());
    }
    let parts: Vec<String> = figures
        .into_iter()
        .map(|(what, times)| format!("{what} {:.2?}", median(times)))
        .collect();
    println!(
        "task page's reads: {:.2?} (median of {runs}: {})",
        median(total),
        parts.join(", ")
    );
    leases::release_lease(&store, id, &other).unwrap();
}
