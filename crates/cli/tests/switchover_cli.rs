//! `pgrelocate switchover` and `pgrelocate failover` end to end, with the real OS keyring: a
//! switchover that times out in the catch-up rolls back (exit 1, JSON says so, the source
//! takes writes again), the next one prints its steps and the measured window; a failover
//! needs a confirmation and promotes a DR destination whose source is gone.

mod instance_support;

use std::time::Duration;

use instance_support::{migration, require_keyring, stderr, Cli};
use pgrelocate_testkit::{Cluster, ConnParams};
use serde_json::Value;

const PASSWORD: &str = r#"cli'switch:o\ver"#;

async fn streaming_task(
    cli: &mut Cli,
    source: &Cluster,
    mode: &str,
) -> (String, ConnParams, migration::StopDest) {
    migration::streaming_task(cli, source, PASSWORD, mode).await
}

async fn commit(params: &ConnParams) -> Result<(), String> {
    let client = params.connect().await.map_err(|e| format!("{e:?}"))?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS cli_probe (x int); INSERT INTO cli_probe VALUES (1)",
        )
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchover_rolls_back_with_exit_1_then_succeeds_printing_steps_and_the_window() {
    require_keyring();
    let source = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let mut cli = Cli::new();
    let (task_id, dest, _stop) = streaming_task(&mut cli, &source, "migration").await;

    // Without --yes and without a terminal there is no confirmation: a usage error.
    let out = cli.run(&["switchover", &task_id]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"));

    // The preview lists every fence with its guarantee; this source is not managed, so
    // shutdown is unavailable and says why, and choosing it is refused with nothing touched.
    let preview = cli.json(&["switchover", &task_id, "--preview", "--json"]);
    assert_eq!(preview["strategy"], "sql", "{preview:#}");
    assert_eq!(preview["default_strategy"], "sql", "{preview:#}");
    assert_eq!(preview["fences"][0]["strategy"], "shutdown");
    assert_eq!(preview["fences"][0]["available"], false);
    assert_eq!(
        preview["fences"][0]["finding"]["kind"],
        "shutdown_not_managed"
    );
    assert_eq!(preview["fences"][1]["available"], true);
    let out = cli.run(&["switchover", &task_id, "--preview"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("* sql (default): every commit"), "{text}");
    assert!(
        text.contains("  shutdown: unavailable: fence: shutdown needs"),
        "{text}"
    );
    let out = cli.run(&[
        "switchover",
        &task_id,
        "--fence",
        "shutdown",
        "--yes",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["outcome"], "refused", "{doc:#}");
    assert_eq!(doc["code"], "fence_unavailable", "{doc:#}");
    let out = cli.run(&["switchover", &task_id, "--fence", "shutdown"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the shutdown fence cannot be used"),
        "{}",
        stderr(&out)
    );
    commit(&source.params()).await.unwrap();
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "increment", "{status:#}");

    // Replay paused: the catch-up times out and the switchover rolls back.
    dest.connect()
        .await
        .unwrap()
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    let out = cli.run(&["switchover", &task_id, "--yes", "--json", "--timeout", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["operation"], "switchover");
    assert_eq!(doc["outcome"], "rolled_back", "{doc:#}");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("the source accepts writes again"),
        "{doc:#}"
    );
    let steps: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    for step in [
        "guardrails",
        "fencing",
        "fenced",
        "rolling_back",
        "rolled_back",
    ] {
        assert!(steps.contains(&step), "{step} missing from {steps:?}");
    }
    commit(&source.params()).await.unwrap();
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "increment", "{status:#}");

    // Replay resumed: the switchover goes through, printing each step and the window.
    dest.connect()
        .await
        .unwrap()
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // A hook timeout that cannot be used is a usage error; a failing hook before promotion
    // rolls back, its output and exit status in the steps.
    let out = cli.run(&[
        "switchover",
        &task_id,
        "--yes",
        "--hook",
        "true",
        "--hook-timeout",
        "0s",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cli.run(&[
        "switchover",
        &task_id,
        "--yes",
        "--json",
        "--hook",
        "echo vip busy >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["outcome"], "rolled_back", "{doc:#}");
    let finished = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "hook_finished")
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(finished["run"]["exit_code"], 3);
    assert!(finished["run"]["stderr"]
        .as_str()
        .unwrap()
        .contains("vip busy"));
    commit(&source.params()).await.unwrap();

    // The switchover goes through with a hook that sees both endpoints.
    let hook_dir = tempfile::tempdir().unwrap();
    let seen = hook_dir.path().join("hook.env");
    let hook = format!(
        "echo \"$PGRELOCATE_OLD_PORT $PGRELOCATE_NEW_PORT $PGRELOCATE_TASK_ID\" > '{}'",
        seen.display()
    );
    let out = cli.run(&[
        "switchover",
        &task_id,
        "--yes",
        "--fence",
        "sql",
        "--hook",
        &hook,
        "--hook-timeout",
        "20s",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{text}");
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for expected in [
        "Guardrails:",
        "fencing the source (strategy sql)",
        "caught up",
        "promoted with pg_promote()",
        "Writes were unavailable for",
        "Fence: sql. Guarantee:",
        "running the endpoint hook before promotion (timeout 20 s)",
        "endpoint hook exited with status 0",
        "Endpoint hook (before promotion): succeeded in",
        "What to do next:",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        format!("{} {} {task_id}\n", source.port(), dest.port)
    );
    // The next steps carry the new primary's connection string on a line of its own, and
    // an application pasting it (with its own password) reaches the new primary.
    let uri = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("postgresql://"))
        .unwrap_or_else(|| panic!("no connection URI in:\n{text}"))
        .to_string();
    assert!(!uri.contains(PASSWORD), "{uri}");
    // Debian's psql (the test kit's builds carry only the server): a real libpq parses it.
    let psql = std::process::Command::new("psql")
        .args([
            uri.as_str(),
            "-XAtc",
            "SELECT pg_is_in_recovery(), current_setting('port')",
        ])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&psql.stdout).trim(),
        format!("f|{}", dest.port),
        "{uri} does not lead to the new primary"
    );
    // `task status` shows the measured window and the same steps afterwards.
    let out = cli.run(&["task", "status", &task_id]);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{shown}\n{}", stderr(&out));
    assert!(
        shown.contains("window       writes unavailable for "),
        "{shown}"
    );
    assert!(shown.contains(&uri), "{shown}");
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "success", "{status:#}");
    assert_eq!(status["switch"]["switchover"]["strategy"], "sql");
    assert!(status["switch"]["switchover"]["window"]["write_unavailable_ms"].is_u64());
    commit(&dest).await.unwrap();
    assert!(
        commit(&source.params()).await.is_err(),
        "the source still takes writes"
    );

    // The way back needs the old source's files, which an external source does not give:
    // `task status` says so, and `task reverse` asks first, then refuses with its code.
    assert!(shown.contains("way back     unavailable:"), "{shown}");
    let out = cli.run(&["task", "reverse", &task_id]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cli.run(&["task", "reverse", &task_id, "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(doc["code"], "rejoin_refused", "{doc:#}");
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["way_back"]["available"], false, "{status:#}");
    assert!(status.get("reversed_by").is_none(), "{status:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_needs_a_confirmation_and_promotes_a_dr_destination_whose_source_is_gone() {
    require_keyring();
    let source = Cluster::builder(14)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let mut cli = Cli::new();
    let (task_id, dest, _stop) = streaming_task(&mut cli, &source, "dr").await;
    // A transaction the standby replays: the loss is then estimated from its time.
    commit(&source.params()).await.unwrap();
    source.stop().await.unwrap();

    // `task status` says what the disconnect means and the way out (read live once the
    // stored sample is stale).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let status = loop {
        let text = cli.ok(&["task", "status", &task_id]);
        if text.contains("disconnect since") || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert!(status.contains("disconnect since"), "{status}");
    assert!(
        status.contains("the standby is no longer receiving changes from the source"),
        "{status}"
    );
    assert!(
        status.contains(&format!("run `pgrelocate failover {task_id}`")),
        "{status}"
    );

    // The cost, read now, before anything is asked.
    let preview = cli.ok(&["failover", &task_id, "--preview"]);
    assert!(preview.contains("does not answer"), "{preview}");
    assert!(preview.contains("replayed     up to 0/"), "{preview}");
    assert!(preview.contains("est. loss"), "{preview}");
    let doc = cli.json(&["failover", &task_id, "--preview", "--json"]);
    assert_eq!(doc["source_answers"], false, "{doc:#}");
    assert!(doc["loss_since_replay_ms"].is_u64(), "{doc:#}");
    assert_eq!(doc["ready"], true, "{doc:#}");

    let out = cli.run(&["failover", &task_id]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("est. loss"));
    let out = cli.run(&["failover", &task_id, "--yes", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["outcome"], "success", "{doc:#}");
    let report = &doc["report"];
    assert_eq!(report["source_reachable"], false);
    assert!(report["last_replayed_lsn"].as_str().unwrap().contains('/'));
    assert_eq!(report["slot"]["status"], "kept");
    commit(&dest).await.unwrap();
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["phase"], "success", "{status:#}");
}
