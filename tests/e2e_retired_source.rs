//! A retired source in the real window: after a switchover (prepared with the engine, the
//! `shutdown` fence), its Start asks first — in recovery by default, as a primary only with
//! its name typed — and the status tags in the list and on the detail page are what the
//! server reports.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::Options;
use support::{DesktopApp, Launch};

/// Creates `old-src` and `new-dst` in the app's state directory, migrates and switches over.
async fn switched_over(launch: &Launch) {
    let (tasks, id) = launch
        .streaming_task("old-src", "new-dst", Mode::Migration)
        .await;
    tasks
        .switchover(id.as_str(), &Options::default(), &|_| {})
        .await
        .unwrap();
}

/// The status tag of `name`'s row in the Instances list, once it is `expected`.
async fn wait_for_row_tag(app: &DesktopApp, name: &str, expected: &str) {
    app.wait_until(
        &format!("{name} tagged {expected:?}"),
        &format!(
            "document.querySelector('[data-testid=instance-row-{name}] [data-testid=status-tag]')?.textContent === {expected:?}"
        ),
        Duration::from_secs(60),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_of_a_retired_source_asks_for_its_name_and_the_tags_tell_the_truth() {
    let launch = Launch::new();
    switched_over(&launch).await;
    let app = DesktopApp::launch_with(launch).await;

    // The old source is stopped by the fence: the tag says so (no stored "fenced" label).
    wait_for_row_tag(&app, "old-src", "Stopped").await;
    app.click_text("[data-testid=instance-row-old-src] button", "Start")
        .await;
    let why = app.content("[data-testid=start-retired-why]").await;
    assert!(
        why.contains("old-src is a retired source") && why.contains("new-dst is the primary now"),
        "{why}"
    );
    let disabled = "document.querySelector('[data-testid=start-as-primary]').disabled";
    assert_eq!(app.eval(disabled).await, serde_json::Value::Bool(true));
    app.type_into("[data-testid=start-confirm-name]", "old-sr")
        .await;
    assert_eq!(
        app.eval(disabled).await,
        serde_json::Value::Bool(true),
        "a wrong name enabled the primary start"
    );
    app.screenshot("retired-01-start-dialog").await;
    app.click("[data-testid=start-in-recovery]").await;

    // What the server reports: in recovery.
    wait_for_row_tag(&app, "old-src", "In recovery").await;
    let instances = pgrelocate_engine::instances::Instances::open(app.home()).unwrap();
    let status = instances.status("old-src").await.unwrap();
    assert_eq!(
        status.connection.map(|c| c.role.as_str()),
        Some("standby"),
        "{:?}",
        status.error
    );
    wait_for_row_tag(&app, "new-dst", "Running").await;
    app.screenshot("retired-02-in-recovery").await;

    // The detail page shows the same tag.
    app.click_text("[data-testid=instance-row-old-src] a", "old-src")
        .await;
    app.wait_until(
        "the detail page's tag",
        "Array.from(document.querySelectorAll('[data-testid=status-tag]')).some(t => t.textContent === 'In recovery')",
        Duration::from_secs(30),
    )
    .await;
    app.close().await;
}
