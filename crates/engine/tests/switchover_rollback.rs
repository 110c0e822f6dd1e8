//! A switchover that cannot finish gives everything back: with the destination's replay
//! paused, the catch-up times out, the fence is undone (logins and writes allowed again, or
//! the managed source started again), the task returns to `increment`, the writer resumes
//! on the source, and once replay resumes a later switchover succeeds without losing a
//! commit. A switchover the guardrails refuse changes nothing at all.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::{GuardrailStatus, Options, Progress, SwitchoverError};
use pgrelocate_engine::task::{EventKind, Phase, ReplicationState, TaskError};
use pgrelocate_testkit::Writer;
use support::*;

async fn rolls_back_when_catch_up_times_out_then_succeeds(major: u32, kind: SourceKind) {
    let mut env = Env::with_major(major);
    let task = env.streaming_task(kind, Mode::Migration).await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 30, Duration::from_secs(60)).await);

    // The destination receives WAL but applies none.
    let standby = dest.connect().await.unwrap();
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let steps = Steps::default();
    let options = Options {
        catchup_timeout: Duration::from_secs(3),
        ..Options::default()
    };
    let err = env
        .tasks
        .switchover(task.id.as_str(), &options, &steps.callback())
        .await
        .unwrap_err();
    let TaskError::Switchover(SwitchoverError::RolledBack { reason }) = &err else {
        panic!("expected a rollback, got: {err}\n{}", env.history(&task));
    };
    let reason = reason.to_string();
    assert!(reason.contains("did not catch up within 3 s"), "{reason}");
    assert!(err.to_string().contains("the source accepts writes again"));
    assert!(steps.all().iter().any(|p| matches!(
        p,
        Progress::RolledBack {
            source_accepts_writes: true,
            ..
        }
    )));

    // The source takes writes again: the writer's and a fresh connection's, everywhere.
    assert!(
        writer.wait_for_target(0, 30, Duration::from_secs(60)).await,
        "the writer did not resume on the source"
    );
    for db in env.databases() {
        commit_in(&source, &db)
            .await
            .unwrap_or_else(|e| panic!("the source refuses a write in {db:?}: {e}"));
    }
    // The destination was not promoted; the task is back in increment with nothing fenced.
    let in_recovery: bool = standby
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(in_recovery);
    let back = env.tasks.get(task.id.as_str()).unwrap();
    assert_eq!(back.phase, Phase::Increment);
    let switch = back.switch.clone().unwrap();
    assert_eq!(switch.fence, None, "something is still fenced: {switch:?}");
    assert!(switch.rolled_back.unwrap().contains("did not catch up"));

    // Once replay resumes, the next switchover succeeds and loses nothing.
    standby
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    drop(standby);
    env.wait(&task, "streaming again", 120, |t| {
        t.replication == ReplicationState::Streaming
    })
    .await;
    let report = env
        .tasks
        .switchover(
            task.id.as_str(),
            &Options {
                catchup_timeout: Duration::from_secs(120),
                ..Options::default()
            },
            &steps.callback(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    print_window(&report);
    assert!(writer.wait_for_target(1, 30, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    let missing = log
        .missing_on(&dest.connect().await.unwrap())
        .await
        .unwrap();
    assert!(missing.is_empty(), "lost: {missing:?}");
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
        phases.ends_with(&[
            Phase::Increment,
            Phase::Switch,
            Phase::Increment,
            Phase::Switch,
            Phase::Success
        ]),
        "{phases:?}"
    );
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchover_rolls_back_when_catch_up_times_out_with_the_sql_fence() {
    rolls_back_when_catch_up_times_out_then_succeeds(17, SourceKind::Remote).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchover_rolls_back_when_catch_up_times_out_with_the_shutdown_fence() {
    rolls_back_when_catch_up_times_out_then_succeeds(12, SourceKind::Managed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switchover_the_guardrails_refuse_changes_nothing() {
    let mut env = Env::with_major(15);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 10, Duration::from_secs(60)).await);
    let standby = dest.connect().await.unwrap();
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    // The writer goes on: the destination falls behind.
    assert!(writer.wait_for_target(0, 50, Duration::from_secs(60)).await);
    // A transaction left open on the source: every transaction counts as long-running
    // with a threshold of zero.
    let idle = source.connect().await.unwrap();
    idle.batch_execute("BEGIN; SELECT txid_current()")
        .await
        .unwrap();
    let options = Options {
        max_lag_bytes: 1,
        long_transaction: Duration::ZERO,
        ..Options::default()
    };

    let preview = env
        .tasks
        .switchover_preview(task.id.as_str(), &options)
        .await
        .unwrap();
    assert!(!preview.ready);
    let status = |id: &str| {
        preview
            .guardrails
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.status)
    };
    assert_eq!(status("task.phase"), Some(GuardrailStatus::Pass));
    assert_eq!(status("replication.lag"), Some(GuardrailStatus::Error));
    assert_eq!(
        status("destination.healthy"),
        Some(GuardrailStatus::Warning)
    );
    assert_eq!(status("fence.strategy"), Some(GuardrailStatus::Pass));
    assert_eq!(
        status("source.long_transactions"),
        Some(GuardrailStatus::Warning)
    );
    assert_eq!(
        status("source.prepared_transactions"),
        Some(GuardrailStatus::Pass)
    );
    assert!(preview
        .guarantee
        .unwrap()
        .contains("every commit the source acknowledged"));

    let err = env
        .tasks
        .switchover(task.id.as_str(), &options, &|_| {})
        .await
        .unwrap_err();
    let TaskError::Switchover(SwitchoverError::Guardrails { checks }) = &err else {
        panic!("{err}");
    };
    assert!(checks
        .iter()
        .any(|c| c.id == "replication.lag" && c.status == GuardrailStatus::Error));
    assert!(err.to_string().contains("Lag under the threshold"), "{err}");

    // Nothing happened: no phase change, no insert of the writer failed.
    assert_eq!(
        env.tasks.get(task.id.as_str()).unwrap().phase,
        Phase::Increment
    );
    assert!(!env
        .tasks
        .events(&task.id, 0)
        .unwrap()
        .iter()
        .any(|e| matches!(
            e.kind,
            EventKind::Phase {
                to: Phase::Switch,
                ..
            }
        )));
    assert!(writer.wait_for_target(0, 10, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    assert_eq!(log.failed_inserts, 0);
    assert_eq!(log.acked_by(1), 0);
    idle.batch_execute("COMMIT").await.unwrap();
    env.tasks.shutdown().await;
}
