//! A switchover whose process stopped mid-way (the task left in `switch`, its lease gone) is
//! settled by the next process that looks at the task: rolled back when the destination
//! had not been promoted (the fence recorded in the task is undone), completed when it had
//! (logins allowed again on the destination, standby settings removed, slot dropped).

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::store::tasks;
use pgrelocate_engine::switchover::fence::{Fence, FenceRecord};
use pgrelocate_engine::switchover::{FenceStrategy, Source};
use pgrelocate_engine::task::switch::{Operation, SwitchRecord};
use pgrelocate_engine::task::{Phase, Task};
use pgrelocate_engine::{Password, SslMode};
use support::*;

/// Fences the source with the engine's own `sql` fence and leaves the task in `switch`
/// with that record, as a process killed during the catch-up would.
async fn interrupt_after_fencing(env: &Env, task: &Task) -> FenceRecord {
    env.tasks.detach(&task.id).await;
    let params = env.source_params();
    let source = Source {
        endpoint: pgrelocate_engine::Endpoint::new(
            &params.host,
            params.port,
            &params.user,
            None,
            SslMode::Disable,
        )
        .unwrap(),
        password: Some(Password::new(PASSWORD)),
        managed: None,
        on_host: None,
    };
    let mut fence = Fence::new(FenceStrategy::Sql, &source);
    fence.prepare().await.unwrap();
    fence.apply(&|_: &FenceRecord| {}).await.unwrap();
    let record = fence.hold();
    let mut t = env.tasks.get(task.id.as_str()).unwrap();
    t.begin_switch().unwrap();
    t.switch = Some(SwitchRecord {
        operation: Operation::Switchover,
        started_at: "2026-01-01T00:00:00Z".into(),
        fence: Some(record.clone()),
        rolled_back: None,
        error: None,
        switchover: None,
        failover: None,
        hook: None,
    });
    tasks::save(env.instances.store(), &t).unwrap();
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_switchover_before_promotion_is_rolled_back() {
    let mut env = Env::with_major(16);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let record = interrupt_after_fencing(&env, &task).await;
    assert_eq!(record.blocked_databases.len(), 3, "{record:?}");
    let source = env.source_params();
    assert!(connect_to(&source, "appdb").await.is_err());

    let status = env.tasks.status(task.id.as_str()).await.unwrap();
    assert_eq!(
        status.task.phase,
        Phase::Increment,
        "{}",
        env.history(&task)
    );
    let switch = status.task.switch.unwrap();
    assert_eq!(switch.fence, None);
    assert!(switch.rolled_back.unwrap().contains("interrupted"));
    for db in env.databases() {
        commit_in(&source, &db)
            .await
            .unwrap_or_else(|e| panic!("{db}: {e}"));
    }
    // The destination is still the source's standby.
    let dest = env.dest_params().connect().await.unwrap();
    let in_recovery: bool = dest
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(in_recovery);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_switchover_after_promotion_is_completed() {
    let mut env = Env::with_major(13);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    interrupt_after_fencing(&env, &task).await;
    // The killed process got as far as promoting the destination, once it had replayed
    // the fence's catalog changes.
    let dest = env.dest_params();
    let standby = connect_to(&dest, "template1").await.unwrap();
    let started = std::time::Instant::now();
    loop {
        let blocked: i64 = standby
            .query_one(
                "SELECT count(*) FROM pg_database WHERE datname = 'appdb' AND NOT datallowconn",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if blocked == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    standby
        .batch_execute("SELECT pg_promote(true, 60)")
        .await
        .unwrap();

    let status = env.tasks.status(task.id.as_str()).await.unwrap();
    assert_eq!(status.task.phase, Phase::Success, "{}", env.history(&task));
    assert!(status
        .task
        .switch
        .unwrap()
        .error
        .unwrap()
        .contains("completed"));
    // The housekeeping after promotion ran too, and the record says so.
    let housekeeping = status.task.housekeeping.clone().unwrap();
    assert!(housekeeping.is_complete(), "{housekeeping:?}");
    assert!(!task.layout.aside_dir.exists());
    for db in env.databases() {
        commit_in(&dest, &db)
            .await
            .unwrap_or_else(|e| panic!("{db}: {e}"));
    }
    let data_dir = env.dest().managed.unwrap().data_dir;
    assert!(!data_dir.join("standby.signal").exists());
    assert!(!task.layout.passfile.exists());
    assert_eq!(slots(&env.source_params()).await, Vec::<String>::new());
}
