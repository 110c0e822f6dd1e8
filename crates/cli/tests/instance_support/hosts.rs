//! Shared by the CLI tests that reach hosts over the test kit's sshd.

use std::process::Output;

use pgrelocate_testkit::SshServer;

use super::{stderr, Cli};

/// A workstation whose ssh reads `ssh`'s test config, never the machine's (each test runs
/// in its own process under nextest, so the variable is this test's alone).
pub fn host_cli(ssh: &SshServer) -> Cli {
    std::env::set_var("PGRELOCATE_SSH_CONFIG", ssh.client_config());
    Cli::new()
}

pub fn body(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// Adds the test's sshd as host `name`, accepting its key.
pub fn add_host(cli: &mut Cli, ssh: &SshServer, name: &str) {
    let port = ssh.port().to_string();
    let key = ssh.user_key().display().to_string();
    let fingerprint = ssh.host_key_fingerprint().unwrap();
    cli.json(&[
        "host",
        "add",
        name,
        "--ssh",
        &ssh.destination(),
        "--port",
        &port,
        "--identity",
        &key,
        "--accept-host-key",
        &fingerprint,
        "--json",
    ]);
}

/// After a switchover to `dest`: the writer commits there, and nothing the source
/// acknowledged is missing on it. Returns the writer's log.
pub async fn nothing_lost(
    writer: pgrelocate_testkit::Writer,
    dest: &pgrelocate_testkit::ConnParams,
) -> pgrelocate_testkit::writer::WriterLog {
    assert!(
        writer
            .wait_for_target(1, 50, std::time::Duration::from_secs(60))
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
    log
}

/// Polls `task status` until `done` holds (generous: a loaded 2-core machine).
pub fn wait_status(
    cli: &mut Cli,
    id: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let started = std::time::Instant::now();
    loop {
        let out = cli.run(&["task", "status", id, "--json"]);
        if out.status.success() {
            let status = body(&out);
            if done(&status) {
                return status;
            }
            assert_ne!(status["phase"], "failed", "{status:#}");
            if started.elapsed() > std::time::Duration::from_secs(300) {
                panic!("{what}: still {status:#}");
            }
        } else if started.elapsed() > std::time::Duration::from_secs(300) {
            panic!("{what}: {}", stderr(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

/// The task id `migrate --json` printed.
pub fn task_id_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["task_id"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("migrate printed no task id: {}", stderr(out)))
}
