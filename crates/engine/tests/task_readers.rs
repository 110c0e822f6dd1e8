//! What a reader of a task sees when no process drives it (issue 12, items 7 and 8): the
//! status reads the servers when the stored sample is stale, so a stopped source is a
//! `disconnect` with the time it began, not the `streaming` a follower stored before it
//! quit; and a task left in `startup` with its data directory moved aside is finished by
//! the next status, not only by `task follow`.

mod support;

use std::time::{Duration, Instant};

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::store::tasks;
use pgrelocate_engine::task::{
    CopyOptions, EventKind, Phase, ReplicationState, TaskSettings, TaskStatus, Tasks,
};
use pgrelocate_testkit::Cluster;
use support::*;

fn no_sync() -> CopyOptions {
    CopyOptions {
        sync: false,
        ..CopyOptions::default()
    }
}

/// Another process that only reads (as `task status` run from a shell would).
fn reader(env: &Env) -> Tasks {
    Tasks::with_settings(
        env.instances.clone(),
        TaskSettings {
            sample_interval: Duration::from_millis(500),
            ..TaskSettings::default()
        },
    )
}

/// Polls `status` until `done` holds (a reader's view changes as samples age).
async fn status_until(
    tasks: &Tasks,
    id: &str,
    what: &str,
    secs: u64,
    done: impl Fn(&TaskStatus) -> bool,
) -> TaskStatus {
    let started = Instant::now();
    loop {
        let status = tasks.status(id).await.unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "no {what} within {secs} s; last status: {}",
            serde_json::to_string_pretty(&status).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_source_shows_as_disconnect_since_its_stop_in_the_status_of_a_task_nobody_monitors(
) {
    let source = Cluster::builder(16).start().await.unwrap();
    source
        .sql("CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 100)")
        .await
        .unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(16).await;
    env.assess_pair(Mode::Dr).await;
    let task = env
        .tasks
        .create(env.request(Mode::Dr, no_sync()))
        .await
        .unwrap();
    env.wait(&task, "streaming", 180, |t| {
        t.replication == ReplicationState::Streaming
    })
    .await;
    // The follower quits: the standby streams on its own, nobody samples it any more.
    env.tasks.shutdown().await;
    let reader = reader(&env);
    let id = task.id.as_str();

    source.stop().await.unwrap();
    let stopped_at = jiff::Timestamp::now();
    let status = status_until(&reader, id, "disconnect", 120, |s| {
        s.task.replication == ReplicationState::Disconnect
    })
    .await;
    assert!(status.driver.is_none(), "nobody drives the task");
    assert!(status.sample_live, "the figure was read from the servers");
    let sample = status.sample.as_ref().expect("a sample");
    assert!(
        sample.source_error.is_some(),
        "the sample says why the source cannot be read: {sample:?}"
    );
    let since: jiff::Timestamp = status
        .replication_since
        .as_deref()
        .expect("the time the disconnect began")
        .parse()
        .unwrap();
    assert!(
        since >= stopped_at - jiff::SignedDuration::from_secs(1),
        "the disconnect began after the stop ({since} vs {stopped_at})"
    );
    assert_eq!(status.task.phase, Phase::Increment);
    // The stored task says so too, so `task list` and the app agree with `task status`.
    let listed = reader.list().unwrap();
    assert_eq!(listed[0].replication, ReplicationState::Disconnect);

    source.start().await.unwrap();
    let back = status_until(&reader, id, "streaming again", 120, |s| {
        s.task.replication == ReplicationState::Streaming
    })
    .await;
    assert!(back.sample_live);
    assert!(
        back.sample.as_ref().unwrap().source_error.is_none(),
        "{back:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_left_in_startup_with_its_data_directory_gone_is_finished_by_the_next_status() {
    let source = Cluster::builder(13).start().await.unwrap();
    source
        .sql("CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 500)")
        .await
        .unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(13).await;
    env.assess_pair(Mode::Migration).await;
    let task = env
        .tasks
        .create(env.request(Mode::Migration, no_sync()))
        .await
        .unwrap();
    let streaming = env
        .wait(&task, "streaming", 180, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    env.tasks.shutdown().await;

    // The state a process killed inside startup leaves: the empty destination moved aside,
    // the configured copy not yet in place, nothing running.
    let dest = env.dest();
    let managed = dest.managed.as_ref().unwrap();
    stop_now(
        &managed.bin_dir,
        &managed.data_dir,
        managed.os_user.as_deref(),
    );
    let layout = &streaming.layout;
    std::fs::rename(&layout.data_dir, &layout.copy_dir).unwrap();
    assert!(layout.aside_dir.is_dir(), "the empty destination is aside");
    let mut left = env.tasks.get(task.id.as_str()).unwrap();
    left.phase = Phase::Startup;
    tasks::save(env.instances.store(), &left).unwrap();
    assert!(!layout.data_dir.exists());

    let reader = reader(&env);
    let status = reader.status(task.id.as_str()).await.unwrap();
    assert_eq!(
        status.task.phase,
        Phase::Increment,
        "{}",
        env.history(&task)
    );
    assert!(matches!(
        status.task.replication,
        ReplicationState::Streaming | ReplicationState::Catchup
    ));
    assert!(layout.data_dir.is_dir(), "the standby is in place again");
    assert!(!layout.copy_dir.exists());
    assert!(status.driver.is_none(), "the reader gave the lease back");
    let noted = env.tasks.events(&task.id, 0).unwrap().iter().any(
        |e| matches!(&e.kind, EventKind::Note { message } if message.contains("left in startup")),
    );
    assert!(noted, "the event log says what was finished");

    // It is the source's data, replaying.
    source.sql("INSERT INTO orders VALUES (501)").await.unwrap();
    let src = source.connect().await.unwrap();
    let standby = env.dest_as_source(&source).await;
    wait_replayed(&standby, current_lsn(&src).await, 60).await;
    let n: i64 = standby
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 501);
}
