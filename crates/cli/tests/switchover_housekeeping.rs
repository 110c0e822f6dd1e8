//! The housekeeping after a switchover's promotion is recorded step by step and finished by
//! the next command (issue 12, item 6), with the real OS keyring and real servers: a
//! `switchover` process that exits right after saving the task as `success` (the engine's
//! test-only fault point, as a kill at that moment) leaves the destination's old login and
//! a half-removed kept-aside directory; the next `task status` stores the source's login
//! (so `instance status` authenticates) and removes the directory. A step that fails is
//! reported by `task status` and retried by the next command.

mod instance_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use instance_support::{migration, require_keyring, stderr, Cli};
use pgrelocate_engine::task::housekeeping::{FAULT_ENV, FAULT_EXIT_CODE};
use pgrelocate_testkit::{Cluster, ConnParams};
use serde_json::Value;

const PASSWORD: &str = "house'keep:ing";

/// Makes a file immutable (even root cannot remove it) until dropped.
struct Immutable(PathBuf);

impl Immutable {
    fn set(path: &Path) -> Immutable {
        let status = Command::new("chattr").arg("+i").arg(path).status().unwrap();
        assert!(
            status.success(),
            "chattr +i {} failed: this test needs CAP_LINUX_IMMUTABLE",
            path.display()
        );
        Immutable(path.to_path_buf())
    }

    fn clear(&self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        self.clear();
    }
}

async fn streaming_task(
    cli: &mut Cli,
    source: &Cluster,
) -> (String, ConnParams, migration::StopDest) {
    migration::streaming_task(cli, source, PASSWORD, "migration").await
}

/// The state of each housekeeping step in a `task status --json` document.
fn steps(status: &Value) -> Vec<(String, String)> {
    status["housekeeping"]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no housekeeping record: {status:#}"))
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn all_done() -> Vec<(String, String)> {
    ["destination_login", "remove_aside_dir"]
        .iter()
        .map(|s| (s.to_string(), "done".to_string()))
        .collect()
}

/// `instance status dst` reaches the promoted destination with its stored login.
fn assert_destination_login_works(cli: &mut Cli) {
    let dest = cli.json(&["instance", "status", "dst", "--json"]);
    assert_eq!(dest["error"], Value::Null, "{dest:#}");
    assert_eq!(dest["connection"]["role"], "primary", "{dest:#}");
    assert_eq!(dest["endpoint"]["user"], "postgres", "{dest:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switchover_killed_after_success_has_its_housekeeping_finished_by_the_next_task_status() {
    require_keyring();
    let source = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let mut cli = Cli::new();
    let (task_id, dest, _stop) = streaming_task(&mut cli, &source).await;
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    let aside = PathBuf::from(status["layout"]["aside_dir"].as_str().unwrap());
    assert!(aside.join("PG_VERSION").is_file(), "{}", aside.display());

    // The switchover process exits right after it saved the task as success.
    let out = cli
        .command()
        .args(["switchover", &task_id, "--yes", "--json"])
        .env(FAULT_ENV, "exit-after-success")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(FAULT_EXIT_CODE),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The destination is the primary with the source's catalog: the source's password.
    dest.connect()
        .await
        .unwrap()
        .batch_execute("CREATE TABLE after_kill (x int)")
        .await
        .unwrap();
    // A kill in the middle of removing the kept-aside directory leaves part of it.
    std::fs::remove_file(aside.join("PG_VERSION")).unwrap();
    std::fs::remove_dir_all(aside.join("global")).unwrap();

    // The next command finishes what is missing.
    let text = cli.ok(&["task", "status", &task_id]);
    assert!(text.contains("phase        success"), "{text}");
    assert!(text.contains("housekeeping done"), "{text}");
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "success", "{status:#}");
    assert_eq!(steps(&status), all_done(), "{status:#}");
    assert!(
        std::fs::symlink_metadata(&aside).is_err(),
        "{} is still there",
        aside.display()
    );
    assert_destination_login_works(&mut cli);
    let events = cli.ok(&["task", "follow", &task_id, "--json", "--all"]);
    assert!(
        events.contains("housekeeping after promotion was not finished"),
        "{events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_housekeeping_step_that_fails_is_reported_and_retried_by_the_next_command() {
    require_keyring();
    let source = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let mut cli = Cli::new();
    let (task_id, _dest, _stop) = streaming_task(&mut cli, &source).await;
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    let aside = PathBuf::from(status["layout"]["aside_dir"].as_str().unwrap());
    // A file nobody may remove keeps the kept-aside directory from being removed.
    let pinned = Immutable::set(&aside.join("PG_VERSION"));

    let out = cli.run(&["switchover", &task_id, "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Warning: housekeeping step remove_aside_dir failed"),
        "{text}"
    );
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "success", "{status:#}");
    assert_eq!(
        steps(&status),
        vec![
            ("destination_login".to_string(), "done".to_string()),
            ("remove_aside_dir".to_string(), "failed".to_string()),
        ],
        "{status:#}"
    );
    let failed = &status["housekeeping"]["steps"][1];
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("Operation not permitted"),
        "{failed:#}"
    );
    // Each reader retried it (the switchover, then both status reads).
    assert!(failed["attempts"].as_u64().unwrap() >= 2, "{failed:#}");
    let text = cli.ok(&["task", "status", &task_id]);
    assert!(text.contains("housekeeping incomplete"), "{text}");
    assert!(text.contains("remove_aside_dir"), "{text}");
    assert!(text.contains("Operation not permitted"), "{text}");
    assert_destination_login_works(&mut cli);
    // `cancel` refuses a switched-over task, but not before it retried the housekeeping.
    let out = cli.run(&["task", "cancel", &task_id, "--yes"]);
    assert!(!out.status.success(), "{}", stderr(&out));

    // Every command retried it; the event log says so once, not once per read.
    let events = cli.ok(&["task", "follow", &task_id, "--json", "--all"]);
    assert_eq!(
        events
            .matches("housekeeping step remove_aside_dir failed")
            .count(),
        1,
        "{events}"
    );

    // Once the file may go, the next command removes the directory.
    pinned.clear();
    cli.ok(&["task", "list"]);
    assert!(
        std::fs::symlink_metadata(&aside).is_err(),
        "{} is still there",
        aside.display()
    );
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(steps(&status), all_done(), "{status:#}");
    assert_eq!(status["housekeeping"]["steps"][1]["error"], Value::Null);
}
