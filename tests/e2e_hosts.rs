//! A remote host added in the real window, against a real OpenSSH server on loopback (the
//! test kit's `SshServer`): the unknown host key is shown by fingerprint and trusted only
//! by "Trust and add", the agent (the CLI binary of this build) is uploaded and runs there,
//! and the host's check shows the login user.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use pgrelocate_testkit::SshServer;
use support::{DesktopApp, Launch};

/// Adding uploads the debug CLI (tens of MB) over SSH and starts it: generous on 2 cores.
const ADD: Duration = Duration::from_secs(300);

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

    app.click(".ant-menu-item[data-menu-id$='-hosts']").await;
    app.wait_for("[data-testid=hosts-empty]", Duration::from_secs(30))
        .await;
    app.click("[data-testid=add-host]").await;
    app.type_into("[data-testid=host-name]", "db1").await;
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
