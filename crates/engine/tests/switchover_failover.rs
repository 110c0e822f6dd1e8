//! Failover of a DR task: promote the destination without fencing the source. With the
//! source stopped, the report states the last replayed position and names the slot to drop;
//! with the source still running, it states the gap and drops the slot. A migration task
//! fails over only when its source no longer answers.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::{GuardrailStatus, SlotOutcome, SwitchoverError};
use pgrelocate_engine::task::switch::Operation;
use pgrelocate_engine::task::{EventKind, Phase, ReplicationState, TaskError};
use pgrelocate_engine::Coded;
use pgrelocate_testkit::Writer;
use support::*;

fn remote(env: &Env) -> &pgrelocate_testkit::Cluster {
    match env.source.as_ref().unwrap() {
        SourceServer::Remote(c) => c,
        SourceServer::Managed(_) => unreachable!("the failover tests use a remote source"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_promotes_a_dr_destination_when_the_source_is_stopped() {
    let mut env = Env::with_major(14);
    let task = env.streaming_task(SourceKind::Remote, Mode::Dr).await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 50, Duration::from_secs(60)).await);

    // The source is lost (a clean stop here, so everything it acknowledged was sent).
    remote(&env).stop().await.unwrap();
    env.tasks
        .wait_until(&task.id, "disconnect", Duration::from_secs(60), |t| {
            t.replication == ReplicationState::Disconnect
        })
        .await
        .unwrap();

    // The dialog's preview, read now: the source does not answer, and the loss is estimated
    // from what the destination has.
    let preview = env
        .tasks
        .failover_preview(task.id.as_str())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    assert!(preview.ready, "{preview:?}");
    assert!(!preview.source_answers);
    assert!(preview.source_error.is_some(), "{preview:?}");
    assert_eq!((preview.source_lsn, preview.loss_bytes), (None, None));
    assert!(preview
        .replayed_lsn
        .is_some_and(|l| l > task.copy.as_ref().unwrap().end_lsn));
    assert!(preview.received_lsn >= preview.replayed_lsn, "{preview:?}");
    assert!(preview.replayed_at.is_some(), "{preview:?}");
    assert!(
        preview.loss_since_replay_ms.is_some_and(|ms| ms < 600_000),
        "{preview:?}"
    );
    assert!(preview
        .guardrails
        .iter()
        .any(|g| g.id == "source.lost" && g.status == GuardrailStatus::Pass));
    let dest_at = env.dest_params();
    assert_eq!(
        preview.new_endpoint,
        format!("{}:{}", dest_at.host, dest_at.port)
    );
    assert!(preview.source_unreachable_since.is_some(), "{preview:?}");

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
    // The event log calls it a failover, and no "write-unavailability window" is claimed.
    let events = env.tasks.events(&task.id, 0).unwrap();
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::Phase {
            to: Phase::Switch,
            operation: Some(Operation::Failover),
            ..
        }
    )));
    assert!(
        !events.iter().any(|e| match &e.kind {
            EventKind::Note { message } => message.contains("unavailable"),
            EventKind::Step(step) => step.to_string().contains("unavailable"),
            _ => false,
        }),
        "{}",
        env.history(&task)
    );
    assert!(report.source_unreachable_since.is_some(), "{report:?}");
    let done = env.tasks.get(task.id.as_str()).unwrap();
    assert_eq!(done.phase, Phase::Success);
    assert_eq!(done.switch.unwrap().failover, Some(report));
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_with_the_source_still_running_reports_the_gap_and_drops_the_slot() {
    let mut env = Env::with_major(17);
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
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    writer.stop().await;
    commit_in(&env.dest_params(), "postgres").await.unwrap();
    // The standby's own role is gone from the new primary and from the source that still runs.
    let role = task
        .layout
        .standby_role
        .clone()
        .expect("a role of the task's own");
    for params in [env.dest_params(), source.clone()] {
        let client = params.connect().await.unwrap();
        let row = client
            .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&role])
            .await
            .unwrap();
        assert_eq!(
            row.get::<_, i64>(0),
            0,
            "{role} on {}:{}",
            params.host,
            params.port
        );
    }
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_of_a_migration_task_is_refused_while_its_source_answers() {
    let mut env = Env::with_major(13);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    // The preview says so before anything is asked.
    let preview = env.tasks.failover_preview(task.id.as_str()).await.unwrap();
    assert!(!preview.ready && preview.source_answers, "{preview:?}");
    assert!(preview.loss_bytes.is_some(), "{preview:?}");
    let err = env
        .tasks
        .failover(task.id.as_str(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        pgrelocate_engine::ErrorCode::SourceAnswers,
        "{err}"
    );
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
