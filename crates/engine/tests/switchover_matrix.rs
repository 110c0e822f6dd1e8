//! For every major 10–18 and both fences: a migration task streaming while the test kit's
//! writer commits continuously is switched over. Afterwards every commit the writer got an
//! acknowledgment for is on the destination, a fresh connection to every database of the
//! destination commits, the source refuses writes, and the slot is gone from a running
//! source (a stopped one: the result names the slot to drop). The writer itself moves to
//! the destination as soon as it takes writes, which measures the window from the client.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::{FenceStrategy, Options, SlotOutcome};
use pgrelocate_engine::task::{EventKind, Phase, ReplicationState};
use pgrelocate_testkit::Writer;
use support::*;

async fn switches_over_without_losing_a_commit(major: u32, kind: SourceKind) {
    switches_over(major, kind, false).await;
}

/// With `async_commit`, the writer's commits are acknowledged before their WAL is flushed
/// (`synchronous_commit = off` for its database, set before the copy).
async fn switches_over(major: u32, kind: SourceKind, async_commit: bool) {
    let mut env = Env::with_major(major);
    if async_commit {
        env.before_copy("ALTER DATABASE postgres SET synchronous_commit = off");
    }
    let task = env.streaming_task(kind, Mode::Migration).await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(
        writer.wait_for_target(0, 50, Duration::from_secs(60)).await,
        "the writer does not commit on the source"
    );

    let steps = Steps::default();
    let options = Options {
        catchup_timeout: Duration::from_secs(120),
        ..Options::default()
    };
    let report = env
        .tasks
        .switchover(task.id.as_str(), &options, &steps.callback())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    print_window(&report);
    assert!(
        writer.wait_for_target(1, 50, Duration::from_secs(60)).await,
        "the writer did not resume on the destination"
    );
    let log = writer.stop().await;
    println!(
        "writer: {} commits on the source, {} on the destination, client-side window {:?}",
        log.acked_by(0),
        log.acked_by(1),
        log.window(0, 1)
    );

    // Nothing acknowledged is lost.
    let dest_client = dest.connect().await.unwrap();
    let missing = log.missing_on(&dest_client).await.unwrap();
    assert!(
        missing.is_empty(),
        "{} acknowledged commit(s) are not on the destination, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );

    // The strongest fence available was used, and the destination is the primary.
    let expected = match kind {
        SourceKind::Remote => FenceStrategy::Sql,
        SourceKind::Managed => FenceStrategy::Shutdown,
    };
    assert_eq!(report.strategy, expected);
    assert_eq!(report.timeline, Some(2));
    assert!(report.replayed_lsn >= report.source_final_lsn);

    // A fresh connection to every database of the destination commits.
    for db in env.databases() {
        commit_in(&dest, &db)
            .await
            .unwrap_or_else(|e| panic!("destination database {db:?} refuses a write: {e}"));
    }
    let mut verified: Vec<String> = report
        .writes_verified
        .iter()
        .filter(|p| p.committed)
        .map(|p| p.database.clone())
        .collect();
    verified.sort();
    assert_eq!(verified, env.databases());

    // The source refuses writes; the slot is dropped where the source runs.
    match kind {
        SourceKind::Remote => {
            for db in env.databases().iter().filter(|d| *d != "template1") {
                let refused = connect_to(&source, db).await.err().unwrap_or_default();
                assert!(
                    refused.contains("not currently accepting connections"),
                    "the source still accepts logins to {db:?}: {refused}"
                );
            }
            let control = connect_to(&source, "template1").await.unwrap();
            let err = control
                .batch_execute("CREATE TABLE written_after_switchover (x int)")
                .await
                .unwrap_err();
            assert_eq!(
                err.code(),
                Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION),
                "{err}"
            );
            assert_eq!(
                report.slot,
                SlotOutcome::Dropped {
                    slot: task.layout.slot_name.clone()
                }
            );
            assert_eq!(slots(&source).await, Vec::<String>::new());
        }
        SourceKind::Managed => {
            assert!(connect_to(&source, "postgres").await.is_err());
            let SlotOutcome::Kept {
                slot, drop_with, ..
            } = &report.slot
            else {
                panic!(
                    "a stopped source's slot cannot be dropped: {:?}",
                    report.slot
                );
            };
            assert_eq!(slot, &task.layout.slot_name);
            assert!(drop_with.contains(slot.as_str()));
            assert!(report
                .next_steps
                .iter()
                .any(|s| s.to_string().contains(slot.as_str())));
            let on_disk = env
                .source_data_dir()
                .unwrap()
                .join("pg_replslot")
                .join(slot);
            assert!(on_disk.is_dir(), "{}", on_disk.display());
        }
    }

    // The task is done, with the report stored; the destination is a plain primary.
    let done = env.tasks.get(task.id.as_str()).unwrap();
    assert_eq!(
        (done.phase, done.replication),
        (Phase::Success, ReplicationState::Finish)
    );
    let switch = done.switch.clone().unwrap();
    assert_eq!(switch.switchover.as_ref(), Some(&report));
    let data_dir = env.dest().managed.unwrap().data_dir;
    for file in ["standby.signal", "recovery.conf", "recovery.done"] {
        assert!(!data_dir.join(file).exists(), "{file} is left");
    }
    let auto = std::fs::read_to_string(data_dir.join("postgresql.auto.conf")).unwrap();
    assert!(!auto.contains("primary_conninfo"), "{auto}");
    assert!(!task.layout.passfile.exists());
    assert!(!task.layout.aside_dir.exists());
    let phases: Vec<Phase> = env
        .tasks
        .events(&task.id, 0)
        .unwrap()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Phase { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    assert!(
        phases.ends_with(&[Phase::Increment, Phase::Switch, Phase::Success]),
        "{phases:?}"
    );
    // The destination instance is reachable with its stored login again.
    let status = env.instances.status(DEST).await.unwrap();
    assert!(status.connection.is_some(), "{:?}", status.error);
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asynchronous_commits_acknowledged_before_the_sql_fence_are_not_lost() {
    switches_over(15, SourceKind::Remote, true).await;
}

macro_rules! matrix {
    ($($name:ident => $major:expr, $kind:expr),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                switches_over_without_losing_a_commit($major, $kind).await;
            }
        )*
    };
}

matrix! {
    pg10_switches_over_with_the_sql_fence_without_losing_a_commit => 10, SourceKind::Remote,
    pg10_switches_over_with_the_shutdown_fence_without_losing_a_commit => 10, SourceKind::Managed,
    pg11_switches_over_with_the_sql_fence_without_losing_a_commit => 11, SourceKind::Remote,
    pg11_switches_over_with_the_shutdown_fence_without_losing_a_commit => 11, SourceKind::Managed,
    pg12_switches_over_with_the_sql_fence_without_losing_a_commit => 12, SourceKind::Remote,
    pg12_switches_over_with_the_shutdown_fence_without_losing_a_commit => 12, SourceKind::Managed,
    pg13_switches_over_with_the_sql_fence_without_losing_a_commit => 13, SourceKind::Remote,
    pg13_switches_over_with_the_shutdown_fence_without_losing_a_commit => 13, SourceKind::Managed,
    pg14_switches_over_with_the_sql_fence_without_losing_a_commit => 14, SourceKind::Remote,
    pg14_switches_over_with_the_shutdown_fence_without_losing_a_commit => 14, SourceKind::Managed,
    pg15_switches_over_with_the_sql_fence_without_losing_a_commit => 15, SourceKind::Remote,
    pg15_switches_over_with_the_shutdown_fence_without_losing_a_commit => 15, SourceKind::Managed,
    pg16_switches_over_with_the_sql_fence_without_losing_a_commit => 16, SourceKind::Remote,
    pg16_switches_over_with_the_shutdown_fence_without_losing_a_commit => 16, SourceKind::Managed,
    pg17_switches_over_with_the_sql_fence_without_losing_a_commit => 17, SourceKind::Remote,
    pg17_switches_over_with_the_shutdown_fence_without_losing_a_commit => 17, SourceKind::Managed,
    pg18_switches_over_with_the_sql_fence_without_losing_a_commit => 18, SourceKind::Remote,
    pg18_switches_over_with_the_shutdown_fence_without_losing_a_commit => 18, SourceKind::Managed,
}
