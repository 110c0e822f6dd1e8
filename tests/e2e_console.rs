//! The console driven end to end in the real window against real PostgreSQL servers:
//! the sandbox, the feasibility assessment wizard, the report and its export, a cloud
//! migration task to incremental sync with its lag chart, and the switchover. Its main pages
//! are also pictured at 1024×700 and 1440×900 in English and Chinese (`journey_shots`).

mod support;

use std::time::Duration;

use support::{DesktopApp, Launch};

/// Creating the sandbox initialises two clusters and loads sample data.
const SANDBOX: Duration = Duration::from_secs(240);
/// A full assessment of the sandbox (it samples WAL for a few seconds).
const ASSESSMENT: Duration = Duration::from_secs(180);
/// Full copy of the sandbox, then the standby connecting.
const MIGRATION: Duration = Duration::from_secs(300);
/// Guardrails, fence, catch-up, promotion and verification.
const SWITCHOVER: Duration = Duration::from_secs(180);

#[tokio::test]
async fn sandbox_to_switchover_through_every_page() {
    let saved = tempfile::tempdir().expect("export folder");
    let app =
        DesktopApp::launch_with(Launch::new().env("PGRELOCATE_SAVE_DIR_FOR_TESTS", saved.path()))
            .await;
    app.wait_for("[data-testid=instances-empty]", Duration::from_secs(30))
        .await;
    app.screenshot("console-01-instances-empty").await;

    // Create Sandbox: both instances appear as Creating, then run.
    app.click("[data-testid=create-sandbox]").await;
    // The dialog says which PostgreSQL and ports it will use; Create is offered once it does.
    app.wait_for("[data-testid=sandbox-plan]", Duration::from_secs(30))
        .await;
    app.click("[data-testid=sandbox-ok]").await;
    app.wait_until(
        "the sandbox being created",
        "document.querySelector('[data-testid=instance-row-sandbox-dest]')?.textContent.includes('Creating')",
        Duration::from_secs(30),
    )
    .await;
    app.screenshot("console-02-sandbox-creating").await;
    app.wait_until(
        "both sandbox instances running",
        "['sandbox-source', 'sandbox-dest'].every(n => document.querySelector(`[data-testid=instance-row-${n}] [data-testid=status-tag]`)?.textContent === 'Running')",
        SANDBOX,
    )
    .await;
    let dest_row = app.content("[data-testid=instance-row-sandbox-dest]").await;
    assert!(dest_row.contains("Managed here"), "{dest_row}");
    assert!(dest_row.contains("PostgreSQL 15."), "{dest_row}");
    app.screenshot("console-03-instances-sandbox").await;
    app.journey_shots("instances", "实例列表").await;

    // The destination's console: every section of its left navigation.
    app.click_text("[data-testid=instance-row-sandbox-dest] a", "sandbox-dest")
        .await;
    app.wait_for("[data-testid=basic-info]", Duration::from_secs(30))
        .await;
    assert!(app
        .content("[data-testid=basic-info]")
        .await
        .contains("Primary"));
    app.screenshot("console-04-detail-basic").await;
    for (section, ready, shot) in [
        (
            "connection",
            "[data-testid=host-addresses] li",
            "console-05-detail-connection",
        ),
        (
            "accounts",
            "[data-testid=account-test]",
            "console-06-detail-accounts",
        ),
        (
            "parameters",
            "[data-testid=parameters] td",
            "console-07-detail-parameters",
        ),
        ("logs", "[data-testid=server-log]", "console-08-detail-logs"),
    ] {
        app.click(&format!("[data-testid=nav-{section}]")).await;
        app.wait_for(ready, Duration::from_secs(30)).await;
        app.screenshot(shot).await;
    }
    assert!(app
        .content("[data-testid=server-log]")
        .await
        .contains("database system is ready to accept connections"));
    // The stored password is tested, never shown.
    app.click("[data-testid=nav-accounts]").await;
    app.click("[data-testid=account-test]").await;
    let tested = app.content("[data-testid=accounts-test-ok]").await;
    assert!(
        tested.starts_with("Login works: PostgreSQL 15."),
        "{tested}"
    );

    // Feasibility assessment wizard.
    app.click("[data-testid=nav-migration]").await;
    app.click("[data-testid=create-assessment]").await;
    app.wait_until(
        "the source choice",
        "document.querySelector('[data-testid=wizard-source]')?.textContent.includes('sandbox-source')",
        Duration::from_secs(30),
    )
    .await;
    app.screenshot("console-09-wizard-scenario").await;
    app.next_wizard_step(1).await;
    app.wait_until(
        "the destination prerequisites",
        "document.querySelectorAll('[data-testid=wizard-destination] li[data-status]').length >= 5",
        Duration::from_secs(60),
    )
    .await;
    let prereqs = app.content("[data-testid=wizard-destination]").await;
    assert!(prereqs.contains("sandbox-dest"), "{prereqs}");
    assert_eq!(
        app.eval("document.querySelectorAll('[data-testid=wizard-destination] li[data-status=error]').length")
            .await,
        0,
        "the sandbox destination meets its prerequisites: {prereqs}"
    );
    app.screenshot("console-10-wizard-destination").await;
    app.next_wizard_step(2).await;
    app.wait_for("[data-testid=prep-hba]", Duration::from_secs(30))
        .await;
    let hba = app.content("[data-testid=prep-hba]").await;
    assert!(
        hba.contains("host    replication postgres 127.0.0.1/32 scram-sha-256"),
        "{hba}"
    );
    // Checked on the live source: the sandbox's superuser account is in place, and a source
    // managed here is fenced by shutdown, so no fencing grants are asked for.
    assert_eq!(
        app.eval("document.querySelector('[data-testid=prep-account]').dataset.state")
            .await,
        "met"
    );
    assert_eq!(
        app.eval("document.querySelectorAll('[data-testid=prep-fencing]').length")
            .await,
        0
    );
    app.screenshot("console-11-wizard-source").await;
    app.next_wizard_step(3).await;
    app.wait_for("[data-testid=wizard-connection]", Duration::from_secs(10))
        .await;
    app.screenshot("console-12-wizard-start").await;
    app.click("[data-testid=wizard-submit]").await;

    // The task table shows the run, then its verdict.
    app.wait_for("[data-testid=assessment-row]", Duration::from_secs(30))
        .await;
    app.screenshot("console-13-assessment-running").await;
    let status = app
        .wait_until(
            "the assessment to finish",
            "(() => { const s = document.querySelector('[data-testid=assessment-row]')?.dataset.status; return s && s !== 'running' ? s : null })()",
            ASSESSMENT,
        )
        .await;
    assert!(
        status == "success" || status == "warning",
        "the sandbox passes its assessment, got {status}: {}",
        app.content("[data-testid=assessments]").await
    );
    app.screenshot("console-14-assessment-done").await;

    // View Report, then Export as HTML through the (test-seamed) save dialog.
    app.click("[data-testid=view-report]").await;
    app.wait_for("[data-testid=report-verdict]", Duration::from_secs(30))
        .await;
    let verdict = app.content("[data-testid=report-verdict]").await;
    assert!(verdict.starts_with("Successful"), "{verdict}");
    app.screenshot("console-15-report").await;
    app.journey_shots("report", "评估报告").await;
    let report = app.content("[data-testid=report-view]").await;
    assert!(report.contains("Source connectivity"), "{report}");
    app.click("[data-testid=export]").await;
    app.click("[data-testid=export-html]").await;
    let saved_text = app.content("[data-testid=export-result]").await;
    let file = std::fs::read_dir(saved.path())
        .expect("export folder")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "html"))
        .unwrap_or_else(|| panic!("no HTML file written; the page said {saved_text:?}"));
    assert!(
        saved_text.contains(&file.display().to_string()),
        "{saved_text}"
    );
    let html = std::fs::read_to_string(&file).expect("read export");
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..80.min(html.len())]
    );
    assert!(html.contains("sandbox-source") && html.contains("sandbox-dest"));
    app.screenshot("console-16-report-exported").await;

    // Migration to Cloud: a task from that assessment, through the full copy to incremental sync.
    app.click("[data-testid=back]").await;
    app.click_text(".ant-tabs-tab-btn", "Migration to Cloud")
        .await;
    app.click("[data-testid=create-task]").await;
    app.wait_until(
        "the assessment to pick",
        "document.querySelector('[data-testid=new-task-assessment]')?.textContent.includes('sandbox-source')",
        Duration::from_secs(30),
    )
    .await;
    app.screenshot("console-17-new-task").await;
    app.click("[data-testid=new-task-ok]").await;
    app.wait_for("[data-testid=task-row]", Duration::from_secs(30))
        .await;
    app.screenshot("console-18-task-copying").await;
    app.wait_until(
        "the task to reach incremental sync",
        "document.querySelector('[data-testid=task-row]')?.dataset.phase === 'increment'",
        MIGRATION,
    )
    .await;
    let phase = app
        .content("[data-testid=task-row] [data-testid=phase]")
        .await;
    assert!(phase.starts_with("Incremental sync"), "{phase}");
    app.screenshot("console-19-task-increment").await;
    app.journey_shots("migration", "增量同步").await;

    // Task details: the timeline and a lag chart that fills with samples.
    app.click("[data-testid=action-details]").await;
    app.wait_for("[data-testid=phase-timeline]", Duration::from_secs(30))
        .await;
    app.wait_until(
        "two lag samples on the chart",
        "Number(document.querySelector('[data-testid=lag-chart]')?.dataset.points ?? 0) >= 2",
        Duration::from_secs(90),
    )
    .await;
    assert!(
        app.eval("document.querySelectorAll('[data-testid=lag-point]').length")
            .await
            .as_u64()
            .unwrap_or(0)
            >= 2
    );
    let log = app.content("[data-testid=event-log]").await;
    assert!(log.contains("Incremental sync"), "{log}");
    app.screenshot("console-20-task-details").await;
    app.journey_shots("task-details", "事件日志").await;

    // State lives in Rust: a reloaded page re-subscribes and draws the same history.
    let before = app
        .eval("Number(document.querySelector('[data-testid=lag-chart]').dataset.points)")
        .await
        .as_u64()
        .unwrap_or(0);
    app.eval("(location.reload(), true)").await;
    app.wait_until(
        "the reloaded page to show the chart's history again",
        &format!(
            "Number(document.querySelector('[data-testid=lag-chart]')?.dataset.points ?? 0) >= {before}"
        ),
        Duration::from_secs(60),
    )
    .await;

    // Switchover: fresh guardrails, the fence, three acknowledgements, then the live steps.
    app.click("[data-testid=details-switchover]").await;
    // A managed source offers both fences; the strongest, shutdown, is chosen.
    app.wait_for("[data-testid=switch-fences]", Duration::from_secs(60))
        .await;
    let fence = app
        .eval("document.querySelector('[data-testid=switch-fences]').dataset.chosen")
        .await;
    assert_eq!(fence, "shutdown", "a managed source is shut down");
    let sql = app
        .eval("(e => (e.tagName === 'INPUT' ? e : e.querySelector('input')).disabled)(document.querySelector('[data-testid=fence-sql]'))")
        .await;
    assert_eq!(sql, false, "the sql fence is offered too");
    assert_eq!(
        app.eval(
            "document.querySelectorAll('[data-testid^=guardrail-][data-status=error]').length"
        )
        .await,
        0,
        "{}",
        app.content("[data-testid=switch-plan]").await
    );
    assert_eq!(
        app.eval("document.querySelector('[data-testid=switch-now]').disabled")
            .await,
        true,
        "Switch Now waits for the acknowledgements"
    );
    for ack in ["writes", "reconnect", "readonly"] {
        app.click(&format!("[data-testid=ack-{ack}]")).await;
    }
    app.screenshot("console-21-switchover-dialog").await;
    app.journey_shots("switchover", "立即切换").await;
    app.click("[data-testid=switch-now]").await;
    app.wait_for("[data-testid=switch-success]", SWITCHOVER)
        .await;
    let window = app.content("[data-testid=switch-window]").await;
    assert!(
        window.starts_with("Write-unavailability window: "),
        "{window}"
    );
    let next = app.content("[data-testid=switch-next]").await;
    assert!(
        next.contains("Reconnect applications to the new primary at 127.0.0.1:")
            && next.contains("postgresql://"),
        "{next}"
    );
    app.screenshot("console-22-switchover-done").await;
    app.click("[data-testid=switch-close]").await;
    app.wait_until(
        "the task to show Completed",
        "document.querySelector('[data-testid=phase]')?.dataset.phase === 'success'",
        Duration::from_secs(30),
    )
    .await;
    // The slot card says what the switchover's record holds, not the last sample's "reserved".
    app.wait_until(
        "the slot card to show the switchover's outcome",
        "document.querySelector('[data-testid=slot-after]')?.textContent.includes('old source')",
        Duration::from_secs(30),
    )
    .await;
    let slot = app.content("[data-testid=slot]").await;
    assert!(!slot.contains("reserved"), "{slot}");
    // The completed task keeps the measured window in its header and the steps to take.
    app.wait_for("[data-testid=task-window]", Duration::from_secs(30))
        .await;
    let header = app.content("[data-testid=task-window]").await;
    assert!(header.starts_with("Writes unavailable for "), "{header}");
    let steps = app.content("[data-testid=task-next]").await;
    assert!(steps.contains("postgresql://"), "{steps}");
    app.screenshot("console-23-task-completed").await;

    // The destination now answers as a primary, with the source's data.
    let promoted = destination_role(app.home(), "sandbox-dest").await;
    assert_eq!(promoted, "primary");

    app.close().await;
}

/// The role the server reports (`primary` / `standby`), asked through the engine with the
/// stored credential, as the app itself would.
async fn destination_role(home: &std::path::Path, name: &str) -> String {
    let instances =
        pgrelocate_engine::instances::Instances::open(home).expect("open the state directory");
    let status = instances.status(name).await.expect("instance status");
    let connection = status
        .connection
        .unwrap_or_else(|| panic!("{name} does not answer: {:?}", status.error));
    connection.role.as_str().to_string()
}

#[tokio::test]
async fn a_failing_assessment_shows_the_error_and_its_remedy() {
    // A source that cannot feed a standby (wal_level = minimal) and an empty destination,
    // made with the engine before the app opens: this test is about the report.
    let launch = Launch::new();
    prepare_minimal_wal_source(&launch).await;
    let app = DesktopApp::launch_with(launch).await;
    app.wait_for(
        "[data-testid=instance-row-legacy-source]",
        Duration::from_secs(30),
    )
    .await;
    app.screenshot("failing-01-instances").await;

    app.click_text("[data-testid=instance-row-new-dest] a", "new-dest")
        .await;
    app.click("[data-testid=nav-migration]").await;
    app.click("[data-testid=create-assessment]").await;
    app.wait_until(
        "the source choice",
        "document.querySelector('[data-testid=wizard-source]')?.textContent.includes('legacy-source')",
        Duration::from_secs(30),
    )
    .await;
    for step in 1..=3 {
        app.next_wizard_step(step).await;
    }
    app.click("[data-testid=wizard-submit]").await;
    let status = app
        .wait_until(
            "the assessment to finish",
            "(() => { const s = document.querySelector('[data-testid=assessment-row]')?.dataset.status; return s && s !== 'running' ? s : null })()",
            ASSESSMENT,
        )
        .await;
    assert_eq!(
        status,
        "error",
        "{}",
        app.content("[data-testid=assessments]").await
    );
    app.screenshot("failing-02-assessment-failed").await;

    app.click("[data-testid=view-report]").await;
    assert_eq!(app.content("[data-testid=report-verdict]").await, "Failed");
    let row = app
        .wait_for(
            "[data-testid='check-src.wal_level']",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        row.attr("data-status")
            .await
            .expect("status attribute")
            .as_deref(),
        Some("error")
    );
    // The error is open on arrival, with its impact and a remedy to copy.
    let details = app
        .content("[data-testid='check-details-src.wal_level']")
        .await;
    assert!(details.contains("minimal"), "{details}");
    assert!(details.contains("Impact:"), "{details}");
    let remedy = app.content("[data-testid='remedy-src.wal_level']").await;
    assert!(remedy.contains("wal_level"), "{remedy}");
    assert!(remedy.contains("replica"), "{remedy}");
    app.eval("document.querySelector(\"[data-testid='check-src.wal_level']\").scrollIntoView({block: 'center'})")
        .await;
    app.screenshot("failing-03-report-error").await;

    // No successful assessment: the DR tab explains its empty table, and its Create dialog
    // says an assessment without errors comes first.
    app.click("[data-testid=back]").await;
    app.click_text(".ant-tabs-tab-btn", "DR Construction").await;
    // The table is blank while it loads; then it explains why it is empty.
    app.wait_until(
        "the DR table to explain it is empty",
        "document.querySelector('[data-testid=tasks]')?.textContent.includes('No DR task yet')",
        Duration::from_secs(30),
    )
    .await;
    app.click("[data-testid=create-task]").await;
    app.wait_until(
        "the dialog to say an assessment is needed",
        "document.body.textContent.includes('No successful assessment for this scenario yet')",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        app.eval("document.querySelector('[data-testid=new-task-ok]').disabled")
            .await,
        true
    );
    app.screenshot("failing-04-dr-needs-assessment").await;

    app.close().await;
}

/// Creates `legacy-source` with `wal_level = minimal` and an empty `new-dest`, both managed.
async fn prepare_minimal_wal_source(launch: &Launch) {
    use pgrelocate_engine::instances::CreateRequest;
    use pgrelocate_engine::sql;

    let instances = launch.instances();
    let major = instances
        .discover()
        .await
        .expect("discover PostgreSQL")
        .into_iter()
        .filter(|i| i.can_run_servers && i.version.is_supported())
        .map(|i| i.version.major)
        .max()
        .expect("a PostgreSQL installation on this host");
    for name in ["legacy-source", "new-dest"] {
        instances
            .create(CreateRequest {
                name: name.into(),
                major,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e}"));
    }
    let source = instances
        .store()
        .instance_by_name("legacy-source")
        .expect("source record");
    let password = instances.password_for(&source).await.expect("password");
    let client = sql::connect(
        &source.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .expect("connect to the source");
    // minimal needs no WAL senders; ALTER SYSTEM outranks the managed settings block.
    client
        .batch_execute("ALTER SYSTEM SET wal_level = 'minimal'")
        .await
        .expect("set wal_level");
    client
        .batch_execute("ALTER SYSTEM SET max_wal_senders = 0")
        .await
        .expect("set max_wal_senders");
    drop(client);
    instances.stop("legacy-source").await.expect("stop source");
    instances
        .start("legacy-source")
        .await
        .expect("start source");
}
