//! `pgrelocate migrate` and `task …` end to end, with the real OS keyring: the process driving
//! a task is killed (SIGKILL) during the full copy; the interruption is detected, nothing of
//! the partial copy or the slot is left, `task retry` completes the task to streaming, and
//! `task cancel` gives the destination back.

mod instance_support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use instance_support::{migration, require_keyring, Cli};
use pgrelocate_testkit::Cluster;
use serde_json::Value;

const PASSWORD: &str = r#"kill'ed:\pw"#;

async fn slots(source: &Cluster) -> Vec<(String, bool)> {
    source
        .query("SELECT slot_name::text, active FROM pg_replication_slots ORDER BY 1")
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn leftovers(data_dir: &std::path::Path, suffix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(data_dir.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_killed_during_basebackup_is_retried_to_streaming_without_leftovers() {
    require_keyring();
    let source = Cluster::builder(15)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    // About 40 MB to copy: long enough at 4 MB/s to be caught mid-copy.
    source
        .sql("CREATE TABLE payload AS SELECT g AS id, repeat(md5(g::text), 4) AS body FROM generate_series(1, 150000) g")
        .await
        .unwrap();
    let mut cli = Cli::new();
    migration::register_source(&mut cli, &source, PASSWORD);
    let (dest_port, data_dir, _stop) = migration::managed_dest(&mut cli, 15).await;

    // migrate runs the assessment itself, then copies slowly; kill it once bytes flow.
    let mut child = cli
        .command()
        .args([
            "migrate",
            "--source",
            "src",
            "--dest",
            "dst",
            "--max-rate",
            "4M",
            "--no-sync",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut task_id = None;
    for line in stdout.lines() {
        let event: Value = serde_json::from_str(&line.unwrap()).unwrap();
        task_id = event["task_id"].as_str().map(str::to_string);
        if event["event"] == "copy" && event["bytes_done"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no copy progress"
        );
    }
    let task_id = task_id.expect("migrate printed no event");
    assert_eq!(
        leftovers(&data_dir, "-copy").len(),
        1,
        "the copy is being written"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // The next command notices: the partial copy and the slot are gone, the task failed.
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "failed", "{status:#}");
    assert_eq!(status["failed_in"], "basebackup");
    assert!(
        status["error"].as_str().unwrap().contains("interrupted"),
        "{status:#}"
    );
    assert_eq!(slots(&source).await, vec![]);
    assert_eq!(leftovers(&data_dir, "-copy"), Vec::<PathBuf>::new());

    // Retry: a new copy, and the task streams.
    cli.ok(&["task", "retry", &task_id, "--json"]);
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(
        (status["phase"].as_str(), status["replication"].as_str()),
        (Some("increment"), Some("streaming")),
        "{status:#}"
    );
    let slot = status["layout"]["slot_name"].as_str().unwrap().to_string();
    assert_eq!(
        slots(&source).await,
        vec![(slot, true)],
        "one slot, in use by the standby"
    );
    assert_eq!(leftovers(&data_dir, "-copy"), Vec::<PathBuf>::new());
    let listed = cli.json(&["task", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // The copy holds the source's data; the password is in no file of the data directory.
    let endpoint = pgrelocate_engine::Endpoint::new(
        "127.0.0.1",
        dest_port,
        "postgres",
        None,
        pgrelocate_engine::SslMode::Disable,
    )
    .unwrap();
    let password = pgrelocate_engine::Password::new(PASSWORD);
    let client =
        pgrelocate_engine::sql::connect(&endpoint, Some(&password), Duration::from_secs(10))
            .await
            .unwrap();
    let rows: i64 = client
        .query_one("SELECT count(*) FROM payload", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 150_000);
    drop(client);
    for file in instance_support::files_under(&data_dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !instance_support::contains(&bytes, PASSWORD.as_bytes()),
            "password in {}",
            file.display()
        );
    }

    // Cancel gives the destination back, empty and running; the slot goes.
    cli.ok(&["task", "cancel", &task_id, "--yes"]);
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "cancelled");
    assert_eq!(slots(&source).await, vec![]);
    let dest_status = cli.json(&["instance", "status", "dst", "--json"]);
    assert_eq!(dest_status["state"], "running", "{dest_status:#}");
    assert_eq!(leftovers(&data_dir, "-empty"), Vec::<PathBuf>::new());
}
