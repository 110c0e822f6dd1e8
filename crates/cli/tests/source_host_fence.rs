//! A source managed on one registered host, migrated into a managed instance on *another*:
//! the switchover runs on the destination's host, which reaches the source's host itself
//! over SSH (the host record handed over by the workstation, the key checked against the
//! fingerprint accepted here) and fences the source by shutting it down there. Without
//! that reach it says why and uses the `sql` fence. Two real sshd servers stand in for
//! the hosts; both log in as the server user, each with its own folders.

mod instance_support;

use instance_support::hosts::{add_host, body, host_cli, nothing_lost, task_id_of, wait_status};
use instance_support::{stderr, Cli};
use pgrelocate_engine::switchover::pg_control::{self, ClusterState};
use pgrelocate_testkit::{Cluster, ConnParams, SshServer, Writer};

const MAJOR: u32 = 15;
/// `DB_IN_PRODUCTION` in pg_control: a running primary.
const IN_PRODUCTION: u32 = 6;

/// Hosts `a` (the source's) and `b` (the destination's) registered here; `src` a running
/// cluster adopted on `a`, `dst` a new instance on `b`, the task streaming under the
/// writer's load. Returns the task id and the destination's connection parameters.
async fn streaming_task(
    cli: &mut Cli,
    a: &SshServer,
    b: &SshServer,
    source: &Cluster,
    password: &str,
    writer: &Writer,
) -> (String, ConnParams) {
    add_host(cli, a, "a");
    add_host(cli, b, "b");
    let data_dir = source.data_dir().display().to_string();
    let bin_dir = source.bin_dir().display().to_string();
    let adopted = body(&cli.run_with_stdin(
        &[
            "instance",
            "adopt",
            "src",
            "--host",
            "a",
            "--data-dir",
            &data_dir,
            "--bin-dir",
            &bin_dir,
            "--password-stdin",
            "--json",
        ],
        password,
    ));
    assert_eq!(adopted["managed"]["host"], "a", "{adopted:#}");
    let port = cli.ports.first.to_string();
    let major = MAJOR.to_string();
    cli.json(&[
        "instance", "create", "dst", "--major", &major, "--host", "b", "--port", &port, "--json",
    ]);
    let out = cli.run(&[
        "migrate",
        "--source",
        "src",
        "--dest",
        "dst",
        "--no-sync",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let task_id = task_id_of(&out);
    wait_status(cli, &task_id, "streaming", |s| {
        s["phase"] == "increment" && s["replication"] == "streaming"
    });
    assert!(
        writer
            .wait_for(50, std::time::Duration::from_secs(60))
            .await,
        "the source kept taking writes"
    );
    let dest = ConnParams {
        port: cli.ports.first,
        ..source.params()
    };
    (task_id, dest)
}

/// The state `global/pg_control` of `cluster` records (the engine's reader, as the fence's).
fn cluster_state(cluster: &Cluster) -> ClusterState {
    pg_control::read(&cluster.data_dir()).unwrap().state
}

/// The switchover's preview as printed before it asks (it refuses without a terminal or
/// `--yes`, having changed nothing).
fn preview(cli: &mut Cli, task_id: &str) -> String {
    let out = cli.run(&["switchover", task_id]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The guardrails of the switchover's `--json` document.
fn guardrails(result: &serde_json::Value) -> Vec<serde_json::Value> {
    result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "guardrails")
        .flat_map(|s| s["checks"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The `src.fencing` check of the assessment `migrate` ran first (on b, the destination's
/// host): its forecast of the fence.
fn fencing_forecast(cli: &mut Cli) -> serde_json::Value {
    let reports = cli.json(&["report", "list", "--json"]);
    let id = reports[0]["id"]
        .as_str()
        .expect("a stored report")
        .to_string();
    let report: serde_json::Value =
        serde_json::from_str(&cli.ok(&["report", "show", &id, "--format", "json"])).unwrap();
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["checks"].as_array().cloned().unwrap_or_default())
        .find(|c| c["id"] == "src.fencing")
        .unwrap_or_else(|| panic!("no src.fencing check: {report:#}"))
}

fn guardrail<'a>(checks: &'a [serde_json::Value], id: &str) -> Option<&'a serde_json::Value> {
    checks.iter().find(|c| c["id"] == id)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_destinations_host_shuts_down_a_source_managed_on_another_host() {
    instance_support::require_keyring();
    const PASSWORD: &str = "far'aw\\ay";
    let a = SshServer::start().await.unwrap();
    let b = SshServer::start().await.unwrap();
    // b's login user may log in to a: the reach the shutdown fence needs.
    a.authorize(&b.outbound_public_key()).unwrap();
    let source = Cluster::builder(MAJOR)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    Writer::prepare(&source.params()).await.unwrap();
    let writer = Writer::start(vec![source.params()]);
    let mut cli = host_cli(&a);
    let (task_id, dest) = streaming_task(&mut cli, &a, &b, &source, PASSWORD, &writer).await;

    // The assessment forecast the fence the switchover will use.
    let forecast = fencing_forecast(&mut cli);
    assert_eq!(forecast["status"], "success", "{forecast:#}");
    assert_eq!(forecast["evidence"]["strategy"], "shutdown", "{forecast:#}");
    assert_eq!(forecast["evidence"]["host"], "a", "{forecast:#}");

    let preview = preview(&mut cli, &task_id);
    assert!(
        preview.contains("fence: shutdown (on host a, reached from here)"),
        "{preview}"
    );
    assert_eq!(
        cluster_state(&source),
        ClusterState::Other(IN_PRODUCTION),
        "a preview touches nothing"
    );

    writer.set_targets(vec![source.params(), dest.clone()]);
    let switched = cli.run(&[
        "switchover",
        &task_id,
        "--json",
        "--yes",
        "--timeout",
        "120",
    ]);
    let result = body(&switched);
    assert_eq!(result["outcome"], "success", "{result:#}");
    assert_eq!(result["report"]["strategy"], "shutdown", "{result:#}");
    let checks = guardrails(&result);
    let fence = guardrail(&checks, "fence.strategy").expect("a fence guardrail");
    assert_eq!(fence["strategy"], "shutdown", "{fence:#}");
    assert_eq!(
        fence["host"], "a",
        "the fence runs on the source's host: {fence:#}"
    );
    assert!(
        guardrail(&checks, "fence.source_host").is_none(),
        "{checks:#?}"
    );
    let log = nothing_lost(writer, &dest).await;
    assert!(log.acked_by(0) > 0 && log.acked_by(1) > 0);

    // The old source was stopped cleanly on its host, by its agent there.
    assert_eq!(cluster_state(&source), ClusterState::ShutDown);
    let status = cli.json(&["instance", "status", "src", "--json"]);
    assert_eq!(status["state"], "stopped", "{status:#}");
    // b trusted a's key under the fingerprint accepted here, in its own known_hosts.
    let trusted = std::fs::read_to_string(b.remote_state_dir().join("ssh/known_hosts")).unwrap();
    assert!(trusted.contains("ssh-ed25519"), "{trusted}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_host_the_destinations_host_cannot_reach_gets_the_sql_fence_and_says_why() {
    instance_support::require_keyring();
    const PASSWORD: &str = "no-reach";
    let a = SshServer::start().await.unwrap();
    let b = SshServer::start().await.unwrap();
    // b's key is not authorised on a: b cannot log in there.
    let source = Cluster::builder(MAJOR)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    Writer::prepare(&source.params()).await.unwrap();
    let writer = Writer::start(vec![source.params()]);
    let mut cli = host_cli(&a);
    let (task_id, dest) = streaming_task(&mut cli, &a, &b, &source, PASSWORD, &writer).await;

    // The assessment (run on b) forecast the sql fence, why, and how to get the shutdown one.
    let forecast = fencing_forecast(&mut cli);
    assert_eq!(forecast["status"], "warning", "{forecast:#}");
    assert_eq!(forecast["evidence"]["strategy"], "sql", "{forecast:#}");
    assert_eq!(forecast["evidence"]["source_host"], "a", "{forecast:#}");
    assert_eq!(
        forecast["evidence"]["source_host_code"], "ssh_auth_failed",
        "{forecast:#}"
    );
    assert!(
        forecast["evidence"]["source_host_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{forecast:#}"
    );
    let remedy = forecast["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("host a over SSH") && remedy.contains("authorized_keys"),
        "{forecast:#}"
    );

    // The preview (run on b) says why there is no shutdown fence; nothing is touched.
    let preview = preview(&mut cli, &task_id);
    assert!(preview.contains("Fence: sql."), "{preview}");
    assert!(
        preview.contains("Shutdown fence on the source's host")
            && preview.contains("ssh_auth_failed"),
        "{preview}"
    );
    assert_eq!(cluster_state(&source), ClusterState::Other(IN_PRODUCTION));

    writer.set_targets(vec![source.params(), dest.clone()]);
    let switched = cli.run(&[
        "switchover",
        &task_id,
        "--json",
        "--yes",
        "--timeout",
        "120",
    ]);
    let result = body(&switched);
    assert_eq!(result["outcome"], "success", "{result:#}");
    assert_eq!(result["report"]["strategy"], "sql", "{result:#}");
    let checks = guardrails(&result);
    let why = guardrail(&checks, "fence.source_host").expect("the reason for no shutdown fence");
    assert_eq!(why["status"], "warning", "{why:#}");
    assert_eq!(why["kind"], "source_host_unreachable", "{why:#}");
    assert_eq!(why["host"], "a", "{why:#}");
    assert_eq!(why["code"], "ssh_auth_failed", "{why:#}");
    nothing_lost(writer, &dest).await;
    // The source was fenced by SQL, never stopped.
    assert_eq!(cluster_state(&source), ClusterState::Other(IN_PRODUCTION));
}

/// Waits until the source's postmaster is gone (the fence stopped it on its host); fails
/// with the switchover's answer when it ended first.
async fn wait_stopped(
    source: &Cluster,
    switchover: tokio::task::JoinHandle<serde_json::Value>,
) -> tokio::task::JoinHandle<serde_json::Value> {
    let pid_file = source.data_dir().join("postmaster.pid");
    let started = std::time::Instant::now();
    while pid_file.exists() {
        if switchover.is_finished() {
            let answer = switchover.await.unwrap();
            panic!("the switchover ended before the fence stopped the source: {answer:#}");
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the fence never stopped the source"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    switchover
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rollback_starts_the_source_again_on_its_host_or_says_it_is_stopped() {
    instance_support::require_keyring();
    const PASSWORD: &str = "roll-back";
    let mut a = SshServer::start().await.unwrap();
    let b = SshServer::start().await.unwrap();
    a.authorize(&b.outbound_public_key()).unwrap();
    let source = Cluster::builder(MAJOR)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    Writer::prepare(&source.params()).await.unwrap();
    let writer = Writer::start(vec![source.params()]);
    let mut cli = host_cli(&a);
    let (task_id, dest) = streaming_task(&mut cli, &a, &b, &source, PASSWORD, &writer).await;
    // The destination receives but does not replay: no catch-up can finish.
    let standby = dest.connect().await.unwrap();
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();

    // The catch-up times out after the stop on a: the rollback starts the source there.
    let out = cli.run(&["switchover", &task_id, "--json", "--yes", "--timeout", "15"]);
    let result = body(&out);
    assert_eq!(result["outcome"], "rolled_back", "{result:#}");
    assert!(
        result["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "fenced" && s["strategy"] == "shutdown"),
        "it was fenced by a shutdown on a first: {result:#}"
    );
    assert_eq!(cluster_state(&source), ClusterState::Other(IN_PRODUCTION));
    assert!(
        writer
            .wait_for(20, std::time::Duration::from_secs(60))
            .await,
        "the source takes writes again"
    );
    // The standby streams from the restarted source again (a paused startup process does
    // not restart its WAL receiver: resumed meanwhile, then paused again).
    standby
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    wait_status(&mut cli, &task_id, "streaming again", |s| {
        s["phase"] == "increment" && s["replication"] == "streaming"
    });
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();

    // Again, and a's sshd (with the agent b reached it through) goes away once the source
    // is stopped: the rollback cannot start it, and says so.
    let mut child = cli
        .command()
        .args(["switchover", &task_id, "--json", "--yes", "--timeout", "30"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let answer = tokio::task::spawn_blocking(move || {
        let value: serde_json::Value = serde_json::from_reader(stdout).unwrap();
        child.wait().unwrap();
        value
    });
    let answer = wait_stopped(&source, answer).await;
    a.stop();
    let out = answer.await.unwrap();
    assert_eq!(out["outcome"], "rollback_incomplete", "{out:#}");
    assert_eq!(out["code"], "rollback_incomplete", "{out:#}");
    let message = out["error"].as_str().unwrap();
    assert!(
        message.contains("the source on host a is stopped"),
        "{message}"
    );
    assert_eq!(cluster_state(&source), ClusterState::ShutDown);
    writer.stop().await;
}
