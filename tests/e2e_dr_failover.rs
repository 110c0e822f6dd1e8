//! A DR source that stops, in the real window: the task's page alerts with the time the
//! disconnect began, what it means and a Failover button (issue 12, item 9); the Failover
//! dialog states the cost read fresh — the source does not answer, the replayed position
//! and the time since the last replayed transaction — and after the failover names the new
//! endpoint, and the event log says "Failover", not "Switchover" (item 2).

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::task::TaskId;
use support::{DesktopApp, Launch};

/// Creates `dr-src` and `dr-dst` in the app's state directory and a streaming DR task,
/// which the app drives from then on.
async fn streaming_dr_task(launch: &Launch) -> TaskId {
    let (tasks, id) = launch.streaming_task("dr-src", "dr-dst", Mode::Dr).await;
    tasks.shutdown().await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_dr_source_is_alerted_and_its_failover_states_the_cost_first() {
    let launch = Launch::new();
    let id = streaming_dr_task(&launch).await;
    let app = DesktopApp::launch_with(launch).await;
    app.eval(&format!("(location.hash = '#/tasks/{id}', true)"))
        .await;
    app.wait_until(
        "the task streaming",
        "document.querySelector('[data-testid=task-replication]')?.textContent === 'Streaming'",
        Duration::from_secs(60),
    )
    .await;

    // A commit the standby replays (so there is a last replayed transaction), then the
    // source stops: an alert, not only a grey tag.
    let instances = pgrelocate_engine::instances::Instances::open(app.home()).unwrap();
    let record = instances
        .store()
        .list_instances()
        .unwrap()
        .into_iter()
        .find(|r| r.name.as_str() == "dr-src")
        .unwrap();
    let password = instances.password_for(&record).await.unwrap();
    let source = pgrelocate_engine::sql::connect(
        &record.endpoint,
        password.as_ref(),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    source
        .batch_execute("CREATE TABLE orders AS SELECT 1 AS id")
        .await
        .unwrap();
    drop(source);
    instances.stop("dr-src").await.unwrap();
    let since = app
        .wait_until(
            "the disconnect alert",
            "document.querySelector('[data-testid=disconnect-since]')?.textContent",
            Duration::from_secs(90),
        )
        .await;
    let since = since.as_str().unwrap_or_default().to_string();
    assert!(
        since.starts_with("The source is disconnected since 20") && since.contains("ago"),
        "{since}"
    );
    let alert = app.content("[data-testid=disconnect-alert]").await;
    assert!(alert.contains("no longer receiving changes"), "{alert}");
    app.screenshot("dr-01-disconnect-alert").await;

    // Its button opens the Failover dialog, which states the cost read now.
    app.click("[data-testid=disconnect-failover]").await;
    app.wait_for("[data-testid=failover-preview]", Duration::from_secs(60))
        .await;
    let lost = app.content("[data-testid=failover-source-lost]").await;
    assert!(lost.contains("The source does not answer"), "{lost}");
    let replayed = app.content("[data-testid=failover-replayed]").await;
    if !replayed.starts_with("0/") {
        app.screenshot("FAILED-dr-preview").await;
        panic!("{}", app.content("[data-testid=failover-preview]").await);
    }
    let loss = app.content("[data-testid=failover-loss-time]").await;
    assert!(loss.contains("at most what was committed"), "{loss}");
    app.screenshot("dr-02-failover-preview").await;

    for i in 0..2 {
        app.click(&format!(
            ".ant-modal .ant-checkbox-wrapper:nth-of-type({}) input",
            i + 1
        ))
        .await;
    }
    app.click("[data-testid=failover-now]").await;
    let success = app
        .wait_until(
            "the failover's result",
            "document.querySelector('[data-testid=failover-success]')?.textContent",
            Duration::from_secs(120),
        )
        .await;
    let dest = instances
        .store()
        .list_instances()
        .unwrap()
        .into_iter()
        .find(|r| r.name.as_str() == "dr-dst")
        .unwrap()
        .endpoint
        .address();
    assert_eq!(
        success.as_str().unwrap_or_default(),
        format!("Failover complete: {dest} is the new primary")
    );
    let figures = app.content("[data-testid=failover-figures]").await;
    assert!(figures.contains("Promotion took"), "{figures}");
    assert!(!figures.to_lowercase().contains("unavailab"), "{figures}");
    app.screenshot("dr-03-failed-over").await;
    app.click_text(".ant-modal-footer button", "Close").await;

    // The event log and the timeline call it a failover.
    app.wait_until(
        "Failover in the event log",
        "document.querySelector('[data-testid=event-log]')?.textContent.includes('Incremental sync → Failover')",
        Duration::from_secs(60),
    )
    .await;
    let timeline = app.content("[data-testid=phase-timeline]").await;
    assert!(
        timeline.contains("Failover") && !timeline.contains("Switchover"),
        "{timeline}"
    );
    app.close().await;
}
