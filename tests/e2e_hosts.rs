//! A remote host added in the real window, against a real OpenSSH server on loopback (the
//! test kit's `SshServer`): the unknown host key is shown by fingerprint and trusted only
//! by "Trust and add", the agent (the CLI binary of this build) is uploaded and runs there,
//! and the host's check shows the login user. Then the whole journey of issue 13 in the
//! window: an external source registered, a managed instance created on the host, the
//! assessment and the migration into it driven there, and a switchover under the test
//! kit's writer that loses no acknowledged commit.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use pgrelocate_testkit::{Cluster, ConnParams, SshServer, Writer};
use support::{DesktopApp, Launch};

/// Adding uploads the debug CLI (tens of MB) over SSH and starts it: generous on 2 cores.
const ADD: Duration = Duration::from_secs(300);
/// initdb and the first start on the host, through its agent.
const CREATE: Duration = Duration::from_secs(300);
/// An assessment run on the host (it samples the source's WAL for a few seconds).
const ASSESSMENT: Duration = Duration::from_secs(300);
/// The full copy into the host under the writer's load, then the standby streaming.
const MIGRATION: Duration = Duration::from_secs(600);
/// Guardrails, fence, catch-up, promotion and verification, run on the host.
const SWITCHOVER: Duration = Duration::from_secs(300);

/// The CLI binary beside this test's (`target/debug/pgrelocate`), the agent the app uploads.
fn agent_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/debug/deps/e2e_hosts-… → target/debug/pgrelocate
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|debug| debug.join("pgrelocate"))
        .expect("the target directory above the test executable");
    assert!(
        bin.is_file(),
        "the agent binary {} is missing: build the CLI first (`cargo build -p pgrelocate-cli`; \
         scripts/test.sh builds the whole workspace before the end-to-end tests)",
        bin.display()
    );
    bin
}

/// Opens Hosts → Add Host (no host yet) and submits `ssh` as host `name`; the trust dialog
/// comes next.
async fn fill_add_host(app: &DesktopApp, ssh: &SshServer, name: &str) {
    app.click(".ant-menu-item[data-menu-id$='-hosts']").await;
    app.wait_for("[data-testid=hosts-empty]", Duration::from_secs(30))
        .await;
    app.click("[data-testid=add-host]").await;
    app.type_into("[data-testid=host-name]", name).await;
    app.type_into("[data-testid=host-destination]", &ssh.destination())
        .await;
    app.type_into("[data-testid=host-port]", &ssh.port().to_string())
        .await;
    app.type_into(
        "[data-testid=host-identity]",
        &ssh.user_key().display().to_string(),
    )
    .await;
    app.click("[data-testid=host-add-ok]").await;
}

fn text_is(css: &str, expected: &str) -> String {
    format!("document.querySelector({css:?})?.textContent === {expected:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_is_added_only_after_its_key_is_trusted_by_fingerprint() {
    let ssh = SshServer::start().await.unwrap();
    let fingerprint = ssh.host_key_fingerprint().unwrap();
    let launch = Launch::new()
        .env("PGRELOCATE_SSH_CONFIG", ssh.client_config())
        .env("PGRELOCATE_AGENT_BINARY", agent_binary());
    let app = DesktopApp::launch_with(launch).await;

    fill_add_host(&app, &ssh, "db1").await;

    // The key the host offers, exactly as its administrator reads it; nothing trusted yet.
    let shown = app
        .wait_for_text("[data-testid=trust-key-fingerprint]", &fingerprint)
        .await;
    assert_eq!(shown, fingerprint);
    let warning = app.content("[data-testid=trust-key-warning]").await;
    assert!(warning.contains("administrator"), "{warning}");
    let known_hosts = app.home().join("ssh/known_hosts");
    assert_eq!(
        std::fs::read_to_string(&known_hosts).unwrap_or_default(),
        "",
        "a key was trusted before the DBA accepted it"
    );
    app.screenshot("hosts-01-trust-key").await;
    app.click("[data-testid=trust-key-ok]").await;

    // Added: the check that came with it shows who the agent runs as.
    app.wait_until(
        "the added host's check",
        &text_is("[data-testid=host-check-user]", ssh.login()),
        ADD,
    )
    .await;
    let placement = app.content("[data-testid=host-check-placement]").await;
    assert!(placement.starts_with("uploaded now"), "{placement}");
    app.wait_until(
        "db1 in the list with its accepted key",
        &text_is(
            "[data-testid=host-row-db1] [data-testid=host-key-cell]",
            &fingerprint,
        ),
        Duration::from_secs(30),
    )
    .await;
    app.screenshot("hosts-02-added").await;

    // A check from the list reaches it again, with the agent uploaded before.
    app.click(".ant-drawer-close").await;
    app.wait_until(
        "the drawer closed",
        "!document.querySelector('[data-testid=host-check-drawer]')",
        Duration::from_secs(30),
    )
    .await;
    app.click("[data-testid=host-check-db1]").await;
    app.wait_until(
        "the check from the list",
        "document.querySelector('[data-testid=host-check-placement]')?.textContent.startsWith('uploaded earlier')",
        ADD,
    )
    .await;
    assert_eq!(
        app.content("[data-testid=host-check-user]").await,
        ssh.login()
    );
    app.screenshot("hosts-03-checked").await;
    app.close().await;
}

/// Issue 13's journey in the window, from a state folder that holds no data directory: an
/// external PostgreSQL 15 source (a superuser password with a quote and a backslash) under
/// the test kit's writer, a host added by fingerprint, `dst` created on it, the assessment
/// and the migration driven there, and the switchover from the Switchover dialog, run on
/// the host. No commit the source acknowledged is missing on the new primary, and the
/// writer goes on committing there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_into_a_host_is_assessed_started_and_switched_over_from_the_window() {
    const PASSWORD: &str = "migr\\\"ate";
    let ssh = SshServer::start().await.unwrap();
    let source = Cluster::builder(15)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    // Something to copy beside the writer's table.
    source
        .sql("CREATE TABLE payload AS SELECT g AS id, repeat(md5(g::text), 4) AS body FROM generate_series(1, 20000) g")
        .await
        .unwrap();
    Writer::prepare(&source.params()).await.unwrap();
    let writer = Writer::start(vec![source.params()]);
    let launch = Launch::new()
        .env("PGRELOCATE_SSH_CONFIG", ssh.client_config())
        .env("PGRELOCATE_AGENT_BINARY", agent_binary());
    // The host's agent does not see the app's port range: the destination is given the
    // first port of this test's block, which no parallel test uses.
    let dest_port = *launch.ports().ports().start();
    let home = launch.home().to_path_buf();
    let app = DesktopApp::launch_with(launch).await;

    // 1. The host, trusted by its fingerprint.
    fill_add_host(&app, &ssh, "db1").await;
    let fingerprint = ssh.host_key_fingerprint().unwrap();
    app.wait_for_text("[data-testid=trust-key-fingerprint]", &fingerprint)
        .await;
    app.click("[data-testid=trust-key-ok]").await;
    app.wait_until(
        "the added host's check",
        &text_is("[data-testid=host-check-user]", ssh.login()),
        ADD,
    )
    .await;
    app.screenshot("hosts-1x-01-host-added").await;
    app.click(".ant-drawer-close").await;
    app.wait_until(
        "the drawer closed",
        "!document.querySelector('[data-testid=host-check-drawer]')",
        Duration::from_secs(30),
    )
    .await;

    // 2. The source: an external instance, its login tested before it is stored.
    app.click(".ant-menu-item[data-menu-id$='-instances']")
        .await;
    app.wait_for("[data-testid=instances-empty]", Duration::from_secs(30))
        .await;
    app.click_text_when_ready("button", "Register Instance")
        .await;
    // The dialog puts the focus in its first field once it has opened: type after that.
    app.wait_until(
        "the Register dialog open, its first field focused",
        "document.activeElement?.dataset.testid === 'register-name'",
        Duration::from_secs(30),
    )
    .await;
    app.type_into("[data-testid=register-name]", "src").await;
    app.type_into("[data-testid=register-host]", source.host())
        .await;
    app.replace_text("[data-testid=register-port]", &source.port().to_string())
        .await;
    app.replace_text("[data-testid=register-user]", source.superuser())
        .await;
    app.type_into("[data-testid=register-password]", PASSWORD)
        .await;
    app.click("[data-testid=register-test]").await;
    app.wait_until(
        "the source's login to be tested",
        "document.querySelector('[data-testid=register-test-result]')?.textContent.startsWith('Connected: PostgreSQL 15.')",
        Duration::from_secs(60),
    )
    .await;
    app.screenshot("hosts-1x-02-source-tested").await;
    app.click("[data-testid=register-ok]").await;
    app.wait_for("[data-testid=instance-row-src]", Duration::from_secs(60))
        .await;

    // 3. The destination, created on the host through the dialog's host picker.
    app.click_text_when_ready("button", "Create Instance").await;
    // Typed once the dialog has opened (the click waits for that), where it was clicked.
    app.click("[data-testid=create-name]").await;
    app.type_into("[data-testid=create-name]", "dst").await;
    app.choose("[data-testid=create-host]", "db1").await;
    app.choose("[data-testid=create-major]", "PostgreSQL 15")
        .await;
    app.type_into("[data-testid=create-port]", &dest_port.to_string())
        .await;
    app.screenshot("hosts-1x-03-create-on-host").await;
    app.click(".ant-modal-footer .ant-btn-primary").await;
    app.wait_until(
        "dst running on db1",
        "document.querySelector('[data-testid=instance-row-dst] [data-testid=status-tag]')?.textContent === 'Running'",
        CREATE,
    )
    .await;
    assert_eq!(
        app.content("[data-testid=instance-row-dst] [data-testid=instance-host]")
            .await,
        "db1"
    );
    app.screenshot("hosts-1x-04-instances").await;

    // 4. The assessment, from the destination's console, run on the host.
    app.click_text_when_ready("[data-testid=instance-row-dst] a", "dst")
        .await;
    app.wait_for("[data-testid=basic-info]", Duration::from_secs(60))
        .await;
    app.click("[data-testid=nav-migration]").await;
    app.click("[data-testid=create-assessment]").await;
    app.wait_until(
        "the source choice",
        "document.querySelector('[data-testid=wizard-source]')?.textContent.includes('src')",
        Duration::from_secs(30),
    )
    .await;
    app.next_wizard_step(1).await;
    app.wait_until(
        "the destination prerequisites, checked on the host",
        "document.querySelectorAll('[data-testid=wizard-destination] li[data-status]').length >= 1",
        Duration::from_secs(120),
    )
    .await;
    let prereqs = app.content("[data-testid=wizard-destination]").await;
    assert_eq!(
        app.eval("document.querySelectorAll('[data-testid=wizard-destination] li[data-status=error]').length")
            .await,
        0,
        "the new instance on the host meets its prerequisites: {prereqs}"
    );
    app.screenshot("hosts-1x-05-wizard-destination").await;
    app.next_wizard_step(2).await;
    app.next_wizard_step(3).await;
    app.wait_for("[data-testid=wizard-connection]", Duration::from_secs(30))
        .await;
    app.click("[data-testid=wizard-submit]").await;
    let status = app
        .wait_until(
            "the assessment to finish",
            "(() => { const s = document.querySelector('[data-testid=assessment-row]')?.dataset.status; return s && s !== 'running' ? s : null })()",
            ASSESSMENT,
        )
        .await;
    assert!(
        status == "success" || status == "warning",
        "the source passes its assessment from the host, got {status}: {}",
        app.content("[data-testid=assessments]").await
    );
    app.screenshot("hosts-1x-06-assessment-done").await;

    // 5. The migration from that assessment, driven on the host, until it streams.
    app.click_text_when_ready(".ant-tabs-tab-btn", "Migration to Cloud")
        .await;
    app.click("[data-testid=create-task]").await;
    app.wait_until(
        "the assessment to pick",
        "document.querySelector('[data-testid=new-task-assessment]')?.textContent.includes('src')",
        Duration::from_secs(30),
    )
    .await;
    app.click("[data-testid=new-task-ok]").await;
    app.wait_for("[data-testid=task-row]", Duration::from_secs(60))
        .await;
    app.screenshot("hosts-1x-07-task-copying").await;
    app.wait_until(
        "the task to stream in incremental sync",
        "(() => { const r = document.querySelector('[data-testid=task-row]'); return r?.dataset.phase === 'increment' && r.querySelector('[data-testid=replication]')?.textContent === 'Streaming' })()",
        MIGRATION,
    )
    .await;
    app.click("[data-testid=action-details]").await;
    app.wait_for("[data-testid=phase-timeline]", Duration::from_secs(60))
        .await;
    app.wait_until(
        "the details to show the standby streaming",
        "document.querySelector('[data-testid=task-replication]')?.textContent === 'Streaming'",
        Duration::from_secs(60),
    )
    .await;
    app.screenshot("hosts-1x-08-task-streaming").await;
    assert!(
        writer.wait_for(50, Duration::from_secs(120)).await,
        "the source kept taking writes during the migration"
    );

    // 6. The switchover, run on the host; the writer follows to the new primary.
    let dest = ConnParams {
        port: dest_port,
        ..source.params()
    };
    writer.set_targets(vec![source.params(), dest.clone()]);
    app.click("[data-testid=details-switchover]").await;
    app.wait_for(
        "[data-testid=switch-fences], [data-testid=switch-fence]",
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(
        app.eval(
            "document.querySelectorAll('[data-testid^=guardrail-][data-status=error]').length"
        )
        .await,
        0,
        "{}",
        app.content("[data-testid=switch-plan]").await
    );
    for ack in ["writes", "reconnect", "readonly"] {
        app.click(&format!("[data-testid=ack-{ack}]")).await;
    }
    app.screenshot("hosts-1x-09-switchover-dialog").await;
    app.click("[data-testid=switch-now]").await;
    app.wait_until(
        "the switchover to succeed",
        "!!document.querySelector('[data-testid=switch-success]') || !!document.querySelector('[data-testid=switch-failed], [data-testid=switch-rolled-back], [data-testid=switch-start-error]')",
        SWITCHOVER,
    )
    .await;
    let outcome = app.eval(PAGE_DIALOGS).await;
    assert!(
        app.eval("!!document.querySelector('[data-testid=switch-success]')")
            .await
            == serde_json::Value::Bool(true),
        "the switchover did not succeed: {}",
        outcome.as_str().unwrap_or_default()
    );
    let window = app.content("[data-testid=switch-window]").await;
    assert!(
        window.starts_with("Write-unavailability window: "),
        "{window}"
    );
    let primary = app.content("[data-testid=switch-new-primary]").await;
    assert!(primary.contains(&dest_port.to_string()), "{primary}");
    app.screenshot("hosts-1x-10-switchover-done").await;
    app.click("[data-testid=switch-close]").await;
    app.wait_until(
        "the task to show Completed",
        "document.querySelector('[data-testid=phase]')?.dataset.phase === 'success'",
        Duration::from_secs(60),
    )
    .await;
    app.screenshot("hosts-1x-11-task-completed").await;

    // 7. Nothing the source acknowledged is lost, and the new primary takes the writes.
    assert!(
        writer
            .wait_for_target(1, 50, Duration::from_secs(120))
            .await,
        "the writer does not commit on the new primary"
    );
    let log = writer.stop().await;
    let missing = log
        .missing_on(&dest.connect().await.unwrap())
        .await
        .unwrap();
    assert!(
        missing.is_empty(),
        "{} acknowledged commit(s) lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(log.acked_by(0) > 0 && log.acked_by(1) > 0);
    let here = data_dirs_under(&home);
    assert!(
        here.is_empty(),
        "data directories were made in the workstation's state folder: {here:?}"
    );
    app.close().await;
}

/// The PostgreSQL data directories (folders holding `PG_VERSION`) under `dir`.
fn data_dirs_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(path);
            } else if entry.file_name() == "PG_VERSION" {
                found.push(dir.clone());
            }
        }
    }
    found
}

/// The open dialogs' text (what a failed switchover says).
const PAGE_DIALOGS: &str =
    "Array.from(document.querySelectorAll('.ant-modal')).map(m => m.innerText).join('\\n')";
