//! The way back (issue 15) on real servers. For every major 10–18: a managed source is
//! migrated and switched over with the `shutdown` fence while the test kit's writer commits
//! continuously; `task reverse` makes the old source a standby of the new primary (nothing
//! copied), the writer's commits on the new primary arrive on it, and a switchover of the
//! reverse task brings the writer back to the old source — no acknowledged commit lost in
//! either direction, and the pair is ready to reverse again. On 15: the same after the `sql`
//! fence and after a failover with the source stopped immediately, through pg_rewind (the
//! bytes it copied printed); and clear refusals without data checksums or wal_log_hints and
//! without a pg_rewind of the source's major.

mod support;

use std::time::{Duration, Instant};

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::{FenceStrategy, Options};
use pgrelocate_engine::task::{Phase, RejoinMethod, ReplicationState, Task, TaskError};
use pgrelocate_engine::{Coded, ErrorCode};
use pgrelocate_testkit::{ConnParams, Writer};
use support::*;

fn options(strategy: Option<FenceStrategy>) -> Options {
    Options {
        catchup_timeout: Duration::from_secs(120),
        strategy,
        ..Options::default()
    }
}

/// Connects to a server that may still be reaching a consistent state (57P03).
async fn connect_ready(params: &ConnParams) -> tokio_postgres::Client {
    let started = Instant::now();
    loop {
        match params.connect().await {
            Ok(c) => return c,
            Err(e) if started.elapsed() < Duration::from_secs(120) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("cannot connect to {}:{}: {e}", params.host, params.port),
        }
    }
}

/// Rows of the writer's table on `client`.
async fn rows(client: &tokio_postgres::Client) -> i64 {
    client
        .query_one("SELECT count(*) FROM pgrelocate_writer", &[])
        .await
        .unwrap()
        .get(0)
}

/// The writes of the new primary reach the rejoined old source: it replays past the new
/// primary's current position and holds at least as many of the writer's rows as the new
/// primary had then.
async fn writes_arrive(env: &Env, old: &ConnParams) {
    let new_primary = env.dest_params().connect().await.unwrap();
    let had = rows(&new_primary).await;
    let lsn = current_lsn(&new_primary).await;
    let standby = connect_ready(old).await;
    wait_replayed(&standby, lsn, 120).await;
    let has = rows(&standby).await;
    assert!(
        has >= had,
        "the old source has {has} rows, the new primary had {had}"
    );
    println!(
        "the rejoined old source replayed {lsn}: {has} writer rows (the new primary had {had})"
    );
}

/// Reverses `forward`, checks the reverse task and prints what the rejoin copied.
async fn reverse(env: &Env, forward: &Task, method: RejoinMethod) -> Task {
    let status = env.tasks.status(forward.id.as_str()).await.unwrap();
    let way = status.way_back.expect("a completed task has a way back");
    assert!(way.available, "{way:?}");
    assert_eq!(way.method, method);
    let started = Instant::now();
    let task = env
        .tasks
        .reverse(forward.id.as_str())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(forward)));
    let task = env
        .wait(&task, "the rejoined standby streaming", 240, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    let rejoin = task
        .rejoin
        .clone()
        .expect("the reverse task records the rejoin");
    println!(
        "rejoin of {} by {}: {} bytes copied of {} bytes of data, {} ms ({:?} until streaming)",
        task.destination.name,
        rejoin.method,
        rejoin.bytes_copied,
        rejoin.data_bytes,
        rejoin.duration_ms,
        started.elapsed()
    );
    assert_eq!(rejoin.method, method);
    assert_eq!(rejoin.forward_task, forward.id);
    match method {
        RejoinMethod::Follow => assert_eq!(rejoin.bytes_copied, 0),
        RejoinMethod::Rewind => assert!(
            rejoin.bytes_copied < rejoin.data_bytes / 4,
            "a rewind copies a fraction of the data: {rejoin:?}"
        ),
    }
    assert_eq!(task.mode, forward.mode);
    assert_eq!(
        (task.source.id.clone(), task.destination.id.clone()),
        (forward.destination.id.clone(), forward.source.id.clone())
    );
    let forward = env.tasks.get(forward.id.as_str()).unwrap();
    assert_eq!(forward.reversed_by.as_ref(), Some(&task.id));
    // The forward task's way back is taken; a second reverse is refused.
    let err = env.tasks.reverse(forward.id.as_str()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::RejoinRefused, "{err}");
    task
}

/// Switches the reverse task over (the new primary is managed here: the `shutdown` fence)
/// and checks the pair is ready to be reversed again.
async fn switch_back(env: &Env, reverse: &Task) {
    let steps = Steps::default();
    let report = env
        .tasks
        .switchover(reverse.id.as_str(), &options(None), &steps.callback())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(reverse)));
    print_window(&report);
    assert_eq!(report.strategy, FenceStrategy::Shutdown);
    let done = env.tasks.get(reverse.id.as_str()).unwrap();
    assert_eq!(done.phase, Phase::Success);
    let status = env.tasks.status(reverse.id.as_str()).await.unwrap();
    let way = status
        .way_back
        .expect("the switched-back pair has a way back");
    assert!(way.available, "{way:?}");
    assert_eq!(way.method, RejoinMethod::Follow);
}

/// migrate → switchover (`strategy`) → reverse → writes arrive → switch back, under the
/// writer; every acknowledged commit is on the old source at the end.
/// A source with ~300 MB of table data before its copy, so a rewind's fixed cost (the new
/// primary's WAL and control files, some 57 MB here) shows against the data it did not copy.
async fn source_with_ballast(env: &mut Env) {
    env.create_source(SourceKind::Managed).await;
    connect_ready(&env.source_params())
        .await
        .batch_execute(
            "CREATE TABLE ballast AS \
             SELECT g, md5(g::text) || repeat('x', 200) AS filler \
             FROM generate_series(1, 1000000) g",
        )
        .await
        .unwrap();
}

async fn round_trip(major: u32, strategy: FenceStrategy, method: RejoinMethod) {
    let mut env = Env::with_major(major);
    if method == RejoinMethod::Rewind {
        source_with_ballast(&mut env).await;
    }
    let forward = env
        .streaming_task(SourceKind::Managed, Mode::Migration)
        .await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(
        writer.wait_for_target(0, 50, Duration::from_secs(60)).await,
        "the writer does not commit on the source"
    );
    let steps = Steps::default();
    let report = env
        .tasks
        .switchover(
            forward.id.as_str(),
            &options(Some(strategy)),
            &steps.callback(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&forward)));
    assert_eq!(report.strategy, strategy);
    assert!(
        writer.wait_for_target(1, 50, Duration::from_secs(60)).await,
        "the writer did not move to the new primary"
    );
    let forward = env.tasks.get(forward.id.as_str()).unwrap();

    let reverse = reverse(&env, &forward, method).await;
    assert!(
        writer.wait_for_target(1, 50, Duration::from_secs(60)).await,
        "the new primary stopped taking writes"
    );
    writes_arrive(&env, &source).await;

    switch_back(&env, &reverse).await;
    assert!(
        writer.wait_for_target(0, 50, Duration::from_secs(60)).await,
        "the writer did not come back to the old source"
    );
    let log = writer.stop().await;
    println!(
        "writer: {} commits on the old source, {} on the new primary",
        log.acked_by(0),
        log.acked_by(1)
    );
    let client = source.connect().await.unwrap();
    let missing = log.missing_on(&client).await.unwrap();
    assert!(
        missing.is_empty(),
        "{} acknowledged commit(s) are not on the old source after the switch-back, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    // Writable again everywhere (the sql fence's read-only default was lifted).
    for db in env.databases() {
        commit_in(&source, &db)
            .await
            .unwrap_or_else(|e| panic!("old source database {db:?} refuses a write: {e}"));
    }
    env.tasks.shutdown().await;
}

macro_rules! matrix {
    ($($name:ident => $major:expr),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                round_trip($major, FenceStrategy::Shutdown, RejoinMethod::Follow).await;
            }
        )*
    };
}

matrix! {
    pg10_reverses_after_the_shutdown_fence_and_switches_back => 10,
    pg11_reverses_after_the_shutdown_fence_and_switches_back => 11,
    pg12_reverses_after_the_shutdown_fence_and_switches_back => 12,
    pg13_reverses_after_the_shutdown_fence_and_switches_back => 13,
    pg14_reverses_after_the_shutdown_fence_and_switches_back => 14,
    pg15_reverses_after_the_shutdown_fence_and_switches_back => 15,
    pg16_reverses_after_the_shutdown_fence_and_switches_back => 16,
    pg17_reverses_after_the_shutdown_fence_and_switches_back => 17,
    pg18_reverses_after_the_shutdown_fence_and_switches_back => 18,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg15_rewinds_after_the_sql_fence_and_switches_back() {
    round_trip(15, FenceStrategy::Sql, RejoinMethod::Rewind).await;
}

/// A DR task fails over with its source stopped immediately (crashed); the old source,
/// started again in recovery, is said to have diverged, then rewound (after its crash
/// recovery) and switched back to. Commits the new primary acknowledged are on it at the
/// end, and so are those it acknowledged after the switch-back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg15_rewinds_after_a_failover_with_the_source_stopped_immediately() {
    let mut env = Env::with_major(15);
    source_with_ballast(&mut env).await;
    let forward = env.streaming_task(SourceKind::Managed, Mode::Dr).await;
    let source = env.source_params();
    let dest = env.dest_params();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 50, Duration::from_secs(60)).await);
    let record = env.instances.store().instance_by_name(SOURCE).unwrap();
    let m = record.managed.clone().unwrap();
    stop_now(&m.bin_dir, &m.data_dir, m.os_user.as_deref());
    env.wait(&forward, "disconnect", 120, |t| {
        t.replication == ReplicationState::Disconnect
    })
    .await;
    env.tasks
        .failover(forward.id.as_str(), &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&forward)));
    assert!(writer.wait_for_target(1, 50, Duration::from_secs(60)).await);

    // The old primary comes back (a retired source starts in recovery): it has diverged.
    env.instances.start(SOURCE).await.unwrap();
    let status = env.tasks.status(forward.id.as_str()).await.unwrap();
    let way = status
        .way_back
        .clone()
        .expect("a failed-over task has a way back");
    assert!(
        way.diverged && way.source_running && way.available,
        "{way:?}"
    );
    assert_eq!(way.method, RejoinMethod::Rewind);
    // Crashed again, so the rewind must finish its crash recovery first.
    stop_now(&m.bin_dir, &m.data_dir, m.os_user.as_deref());

    let reverse = reverse(&env, &forward, RejoinMethod::Rewind).await;
    writes_arrive(&env, &source).await;
    let back = Instant::now();
    switch_back(&env, &reverse).await;
    assert!(writer.wait_for_target(0, 50, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    let client = source.connect().await.unwrap();
    let present: Vec<i64> = client
        .query("SELECT id FROM pgrelocate_writer", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let present: std::collections::HashSet<i64> = present.into_iter().collect();
    let lost: Vec<i64> = log
        .acks
        .iter()
        .filter(|a| a.target == 1 || a.at > back)
        .map(|a| a.id)
        .filter(|id| !present.contains(id))
        .collect();
    assert!(lost.is_empty(), "commits of the new primary lost: {lost:?}");
    env.tasks.shutdown().await;
}

/// A switched-over task whose way back needs a rewind that cannot be done: refused with
/// the reason before anything is touched (the old source still runs, fenced).
async fn refused_rewind(env: &mut Env, expect: &str) {
    let forward = env
        .streaming_task(SourceKind::Managed, Mode::Migration)
        .await;
    env.tasks
        .switchover(
            forward.id.as_str(),
            &options(Some(FenceStrategy::Sql)),
            &|_| {},
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&forward)));
    let status = env.tasks.status(forward.id.as_str()).await.unwrap();
    let way = status.way_back.expect("a completed task has a way back");
    assert!(!way.available, "{way:?}");
    assert_eq!(way.code, Some(ErrorCode::RewindUnavailable));
    let err = env.tasks.reverse(forward.id.as_str()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::RewindUnavailable, "{err}");
    assert!(matches!(err, TaskError::Reverse(_)), "{err:?}");
    let message = err.to_string();
    println!("refused: {message}");
    assert!(message.contains(expect), "{message}");
    assert!(message.contains("fresh copy"), "{message}");
    // Nothing was touched: the old source still answers (read-only), and no task was made.
    let client = connect_to(&env.source_params(), "template1").await.unwrap();
    let _ = client.query_one("SELECT 1", &[]).await.unwrap();
    assert_eq!(env.tasks.list().unwrap().len(), 1);
    assert!(env
        .tasks
        .get(forward.id.as_str())
        .unwrap()
        .reversed_by
        .is_none());
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg15_refuses_a_rewind_without_checksums_or_wal_log_hints() {
    let tool = std::path::Path::new("/usr/lib/postgresql/15/bin/pg_checksums");
    if !tool.is_file() {
        println!("no pg_checksums of 15 here to turn data checksums off: skipped");
        return;
    }
    let mut env = Env::with_major(15);
    env.create_source(SourceKind::Managed).await;
    // Data checksums off (the managed instance's initdb turned them on).
    let record = env.instances.store().instance_by_name(SOURCE).unwrap();
    env.instances.stop(SOURCE).await.unwrap();
    let m = record.managed.clone().unwrap();
    let mut cmd = std::process::Command::new(tool);
    cmd.args(["--disable", "-D"])
        .arg(&m.data_dir)
        .current_dir("/");
    if let Ok(Some(user)) = pgrelocate_engine::server::OsUser::for_servers(m.os_user.as_deref()) {
        use std::os::unix::process::CommandExt;
        cmd.uid(user.uid).gid(user.gid);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.instances.start(SOURCE).await.unwrap();
    refused_rewind(&mut env, "neither data checksums nor wal_log_hints").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg16_refuses_a_rewind_without_a_pg_rewind_of_its_major() {
    let mut env = Env::with_major(16);
    let here = pgrelocate_engine::server::discover::candidate_dirs(&[])
        .into_iter()
        .any(|d| d.join("pg_rewind").is_file() && d.to_string_lossy().contains("/16/"));
    if here {
        println!("this machine has a pg_rewind of 16: skipped");
        return;
    }
    refused_rewind(&mut env, "no pg_rewind of PostgreSQL 16").await;
}
