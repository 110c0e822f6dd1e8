//! `pgrelocate instance adopt`: a running cluster registered as managed. Its password and
//! identity are checked first (bad input changes nothing); pgrelocate then stops and starts
//! it, and removing it forgets it while the server keeps running with its files.

mod instance_support;

use instance_support::{stderr, Cli};
use pgrelocate_testkit::Cluster;

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn body(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_running_cluster_is_adopted_managed_and_forgotten_without_being_stopped() {
    instance_support::require_keyring();
    const PASSWORD: &str = "ad'op\\t";
    let cluster = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let data_dir = cluster.data_dir().display().to_string();
    let bin_dir = cluster.bin_dir().display().to_string();
    let mut cli = Cli::new();
    let adopt = |dir: &str| {
        vec![
            "instance".to_string(),
            "adopt".into(),
            "old".into(),
            "--data-dir".into(),
            dir.to_string(),
            "--bin-dir".into(),
            bin_dir.clone(),
            "--password-stdin".into(),
            "--json".into(),
        ]
    };

    // Bad input is named and stores nothing.
    let not_a_cluster = cluster.root_dir().display().to_string();
    let out = cli.run_with_stdin(&args(&adopt(&not_a_cluster)), PASSWORD);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(body(&out)["code"], "not_a_cluster", "{}", stderr(&out));
    let out = cli.run_with_stdin(&args(&adopt(&data_dir)), "wrong\\'");
    assert_eq!(body(&out)["code"], "auth_failed", "{}", stderr(&out));
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );

    // Adopted: managed, on its own port, password checked and kept in the keyring.
    let record = body(&cli.run_with_stdin(&args(&adopt(&data_dir)), PASSWORD));
    assert_eq!(record["endpoint"]["port"], cluster.port(), "{record:#}");
    assert_eq!(record["managed"]["adopted"], true, "{record:#}");
    assert_eq!(record["managed"]["major"], 16, "{record:#}");
    let status = cli.json(&["instance", "status", "old", "--json"]);
    assert_eq!(status["state"], "running", "{status:#}");
    let again = cli.run_with_stdin(&args(&adopt(&data_dir)), PASSWORD);
    assert_eq!(body(&again)["code"], "duplicate_name", "{}", stderr(&again));

    // pgrelocate stops and starts it.
    cli.ok(&["instance", "stop", "old"]);
    assert!(cluster.params().connect().await.is_err(), "still answers");
    cli.ok(&["instance", "start", "old"]);
    cluster.params().connect().await.expect("started again");

    // A stopped cluster cannot be adopted: its password could not be checked.
    cli.ok(&["instance", "remove", "old", "--yes"]);
    cluster
        .params()
        .connect()
        .await
        .expect("forgetting it left it running");
    assert!(cluster.data_dir().join("PG_VERSION").is_file());
    cluster.stop().await.unwrap();
    let out = cli.run_with_stdin(&args(&adopt(&data_dir)), PASSWORD);
    assert_eq!(
        body(&out)["code"],
        "cluster_not_running",
        "{}",
        stderr(&out)
    );
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
}
