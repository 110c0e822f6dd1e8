//! `task follow` starts at the present (history with `--since` / `--all`), and `task history`
//! reads a months-old task's lag by period from its aggregates (issue 18).

use std::process::Command;

use pgrelocate_engine::store::tasks;
use pgrelocate_engine::store::Store;
use pgrelocate_engine::task::history::{self, Ageing};
use pgrelocate_engine::task::model::{Phase, TaskId};

fn pgrelocate(home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pgrelocate"))
        .args(args)
        .env("PGRELOCATE_HOME", home)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A cancelled DR task created 40 days ago, aged through the engine's own write path with a
/// three-hour outage ten days ago; the last day sampled every 5 s.
fn aged_task(home: &std::path::Path) -> (TaskId, i64) {
    let store = Store::open(home).unwrap();
    let now = jiff::Timestamp::now().as_second();
    let mut task = history::made_up_dr_task("src", "dst", now - 40 * 86_400);
    let id = task.id.clone();
    task.phase = Phase::Cancelled;
    tasks::insert(&store, &task).unwrap();
    let outage = (now - 10 * 86_400, now - 10 * 86_400 + 3 * 3600);
    for (from, to, every_secs) in [
        (now - 40 * 86_400, now - 86_400, 60),
        (now - 86_400, now, 5),
    ] {
        history::age(
            &store,
            &id,
            &Ageing {
                from,
                to,
                every_secs,
                bytes: 1000,
                outages: vec![outage],
            },
        )
        .unwrap();
    }
    (id, outage.0)
}

#[test]
fn follow_starts_now_and_history_reads_any_period() {
    let home = tempfile::tempdir().unwrap();
    let (id, outage_start) = aged_task(home.path());
    let id = id.to_string();

    // From now: nothing of the stored history (the task has ended, so it returns at once).
    let (code, out, err) = pgrelocate(home.path(), &["task", "follow", &id, "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 0, "{out}");
    // --since 1h: the last hour's samples only (720 at 5 s, give or take the edges).
    let (code, out, err) = pgrelocate(
        home.path(),
        &["task", "follow", &id, "--json", "--since", "1h"],
    );
    assert_eq!(code, 0, "{err}");
    let lines = out.lines().count();
    assert!((700..=740).contains(&lines), "{lines} lines");
    // --all: the whole stored history, whose state changes include the outage.
    let (code, out, err) = pgrelocate(home.path(), &["task", "follow", &id, "--json", "--all"]);
    assert_eq!(code, 0, "{err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let down = jiff::Timestamp::from_second(outage_start)
        .unwrap()
        .to_string();
    assert!(events
        .iter()
        .any(|e| e["event"] == "replication" && e["to"] == "disconnect" && e["at"] == down));
    // Retention kept a day of raw samples, not 40 days of them.
    assert!(events.len() < 20_000, "{} events", events.len());
    // A malformed --since is refused before anything is read.
    let (code, _, err) = pgrelocate(
        home.path(),
        &["task", "follow", &id, "--since", "yesterday"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("RFC 3339"), "{err}");

    // The 30-day history shows the outage in its hour buckets.
    let (code, out, err) = pgrelocate(
        home.path(),
        &["task", "history", &id, "--period", "30d", "--json"],
    );
    assert_eq!(code, 0, "{err}");
    let h: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(h["width_secs"], 3600);
    let down_samples: u64 = h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["worst"] == "disconnect")
        .map(|b| b["not_streaming"].as_u64().unwrap())
        .sum();
    assert_eq!(down_samples, 180, "three hours by the minute");
    // Text output names the state of each bucket; an unknown period is a usage error.
    let (code, out, _) = pgrelocate(home.path(), &["task", "history", &id, "--period", "7d"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("SECONDS BEHIND") && out.contains("streaming"),
        "{out}"
    );
    let (code, _, err) = pgrelocate(home.path(), &["task", "history", &id, "--period", "2w"]);
    assert_eq!(code, 2);
    assert!(err.contains("15m, 1h, 24h, 7d, 30d or all"), "{err}");
}
