//! Failover of a DR task: promote the destination without fencing the source. With the
//! source stopped, the report states the last replayed position and names the slot to drop;
//! with the source still running, it states the gap and drops the slot. A migration task
//! fails over only when its source no longer answers.

mod switchover_support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::{GuardrailStatus, SlotOutcome, SwitchoverError};
use pgrelocate_engine::task::{Phase, TaskError};
use pgrelocate_testkit::Writer;
use switchover_support::*;

fn remote(env: &Env) -> &pgrelocate_testkit::Cluster {
    match env.source.as_ref().unwrap() {
        SourceServer::Remote(c) => c,
        SourceServer::Managed(_) => unreachable!("the failover tests use a remote source"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_promotes_a_dr_destination_when_the_source_is_stopped() {
    let mut env = Env::new(14);
    let task = env.streaming_task(SourceKind::Remote, Mode::Dr).await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 50, Duration::from_secs(60)).await);

    // The source is lost (a clean stop here, so everything it acknowledged was sent).
    remote(&env).stop().await.unwrap();
    let steps = Steps::default();
    let report = env
        .tasks
        .failover(task.id.as_str(), &steps.callback())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    assert!(!report.source_reachable);
    assert_eq!((report.source_lsn, report.gap_bytes), (None, None));
    assert!(report.last_replayed_lsn > task.copy.as_ref().unwrap().end_lsn);
    assert_eq!(report.timeline, Some(2));
    assert!(
        matches!(&report.slot, SlotOutcome::Kept { slot, .. } if *slot == task.layout.slot_name)
    );
    assert!(report
        .guardrails
        .iter()
        .any(|g| g.id == "source.lost" && g.status == GuardrailStatus::Pass));

    // The writer carries on on the destination, and had lost nothing.
    assert!(writer.wait_for_target(1, 30, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    let missing = log
        .missing_on(&dest.connect().await.unwrap())
        .await
        .unwrap();
    assert!(missing.is_empty(), "lost: {missing:?}");
    for db in env.databases() {
        commit_in(&dest, &db).await.unwrap();
    }
    let done = env.tasks.get(task.id.as_str()).unwrap();
    assert_eq!(done.phase, Phase::Success);
    assert_eq!(done.switch.unwrap().failover, Some(report));
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_with_the_source_still_running_reports_the_gap_and_drops_the_slot() {
    let mut env = Env::new(17);
    let task = env.streaming_task(SourceKind::Remote, Mode::Dr).await;
    let source = env.source_params();
    // The writer knows only the source: it keeps writing there after the promotion.
    let writer = Writer::start(vec![source.clone()]);
    assert!(writer.wait_for_target(0, 50, Duration::from_secs(60)).await);
    let report = env
        .tasks
        .failover(task.id.as_str(), &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    assert!(report.source_reachable);
    assert!(report.gap_bytes.is_some_and(|g| g > 0), "{report:?}");
    assert!(report
        .guardrails
        .iter()
        .any(|g| g.id == "source.lost" && g.status == GuardrailStatus::Warning));
    assert_eq!(
        report.slot,
        SlotOutcome::Dropped {
            slot: task.layout.slot_name.clone()
        }
    );
    assert_eq!(slots(&source).await, Vec::<String>::new());
    writer.stop().await;
    commit_in(&env.dest_params(), "postgres").await.unwrap();
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_of_a_migration_task_is_refused_while_its_source_answers() {
    let mut env = Env::new(13);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let err = env
        .tasks
        .failover(task.id.as_str(), &|_| {})
        .await
        .unwrap_err();
    let TaskError::Switchover(SwitchoverError::FailoverRefused { checks }) = &err else {
        panic!("{err}");
    };
    assert!(checks
        .iter()
        .any(|g| g.id == "source.lost" && g.status == GuardrailStatus::Error));
    assert!(err.to_string().contains("use a switchover"), "{err}");
    assert_eq!(
        env.tasks.get(task.id.as_str()).unwrap().phase,
        Phase::Increment
    );
    let in_recovery: bool = env
        .dest_params()
        .connect()
        .await
        .unwrap()
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(in_recovery);
    env.tasks.shutdown().await;
}
