//! The DBA's choice of fence: a managed source offers both fences (the preview lists each
//! with its guarantee, `shutdown` the default), and `sql` chosen there really fences by SQL —
//! the source keeps running, read-only, and no acknowledged commit is lost. A fence that
//! cannot be used on the source is refused with `fence_unavailable` before anything is
//! touched.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::{
    FenceStrategy, Finding, Options, SlotOutcome, SwitchoverError,
};
use pgrelocate_engine::task::{EventKind, Phase, TaskError};
use pgrelocate_engine::{Coded, ErrorCode};
use pgrelocate_testkit::Writer;
use support::*;

fn with(strategy: FenceStrategy) -> Options {
    Options {
        strategy: Some(strategy),
        catchup_timeout: Duration::from_secs(120),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sql_fence_chosen_on_a_managed_source_fences_it_by_sql_and_loses_nothing() {
    let mut env = Env::with_major(16);
    let task = env
        .streaming_task(SourceKind::Managed, Mode::Migration)
        .await;
    let source = env.source_params();
    let dest = env.dest_params();
    let data_dir = env.source_data_dir().unwrap();

    // Both fences are offered, each with its guarantee; shutdown is the default.
    let preview = env
        .tasks
        .switchover_preview(task.id.as_str(), &Options::default())
        .await
        .unwrap();
    let offered: Vec<(FenceStrategy, bool)> = preview
        .fences
        .iter()
        .map(|c| (c.strategy, c.available))
        .collect();
    assert_eq!(
        offered,
        [(FenceStrategy::Shutdown, true), (FenceStrategy::Sql, true)],
        "{preview:#?}"
    );
    assert_eq!(preview.default_strategy, Some(FenceStrategy::Shutdown));
    assert_eq!(preview.strategy, Some(FenceStrategy::Shutdown));
    assert_eq!(
        preview.fences[1].guarantee,
        FenceStrategy::Sql.guarantee(),
        "{preview:#?}"
    );
    // Evaluated for the choice: the fence that will be used is the one chosen.
    let chosen = env
        .tasks
        .switchover_preview(task.id.as_str(), &with(FenceStrategy::Sql))
        .await
        .unwrap();
    assert!(chosen.ready, "{chosen:#?}");
    assert_eq!(chosen.strategy, Some(FenceStrategy::Sql));
    assert_eq!(chosen.default_strategy, Some(FenceStrategy::Shutdown));

    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 30, Duration::from_secs(60)).await);
    let steps = Steps::default();
    let report = env
        .tasks
        .switchover(
            task.id.as_str(),
            &with(FenceStrategy::Sql),
            &steps.callback(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    print_window(&report);
    assert_eq!(report.strategy, FenceStrategy::Sql);
    assert!(!report.fence.stopped);
    assert!(
        matches!(report.slot, SlotOutcome::Dropped { .. }),
        "{:?}",
        report.slot
    );
    let stored = env.tasks.get(task.id.as_str()).unwrap();
    assert_eq!(stored.phase, Phase::Success);
    assert_eq!(
        stored.switch.unwrap().switchover.unwrap().strategy,
        FenceStrategy::Sql
    );

    // The source was not stopped: it runs, answers, and refuses writes by default.
    assert!(data_dir.join("postmaster.pid").is_file());
    let control = connect_to(&source, "template1").await.unwrap();
    let read_only: String = control
        .query_one("SHOW default_transaction_read_only", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(read_only, "on");

    assert!(writer.wait_for_target(1, 30, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    let missing = log
        .missing_on(&dest.connect().await.unwrap())
        .await
        .unwrap();
    assert!(missing.is_empty(), "lost: {missing:?}");
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fence_that_cannot_be_used_is_refused_with_its_code_and_nothing_changes() {
    let mut env = Env::with_major(17);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let source = env.source_params();

    let preview = env
        .tasks
        .switchover_preview(task.id.as_str(), &with(FenceStrategy::Shutdown))
        .await
        .unwrap();
    assert!(!preview.ready);
    assert_eq!(preview.strategy, None);
    assert_eq!(preview.default_strategy, Some(FenceStrategy::Sql));
    let shutdown = &preview.fences[0];
    assert_eq!(shutdown.strategy, FenceStrategy::Shutdown);
    assert!(!shutdown.available);
    assert_eq!(shutdown.finding, Finding::ShutdownNotManaged);
    assert!(preview.fences[1].available, "{preview:#?}");
    assert_eq!(
        preview
            .clone()
            .refusal(&with(FenceStrategy::Shutdown))
            .code(),
        ErrorCode::FenceUnavailable
    );

    let err = env
        .tasks
        .switchover(task.id.as_str(), &with(FenceStrategy::Shutdown), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FenceUnavailable, "{err}");
    let TaskError::Switchover(SwitchoverError::FenceUnavailable { strategy, .. }) = &err else {
        panic!("{err}");
    };
    assert_eq!(*strategy, FenceStrategy::Shutdown);
    assert!(
        err.to_string()
            .contains("the shutdown fence cannot be used"),
        "{err}"
    );

    // Nothing was touched: the task never entered `switch`, the source takes writes.
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
    for db in env.databases() {
        commit_in(&source, &db)
            .await
            .unwrap_or_else(|e| panic!("the source refuses a write in {db:?}: {e}"));
    }
    env.tasks.shutdown().await;
}
