//! `pgrelocate access show|apply` end to end, with the real OS keyring (issue 14, item 1):
//! a source whose pg_hba admits a client network (a loopback alias, 127.0.0.2) that the
//! destination refuses; `access show --json` lists the rule, `access apply` without --yes
//! and without a terminal is a usage error that changes nothing, `access apply --yes`
//! writes it, and after `switchover` a client from that network writes to the new primary.
//! The password carries a quote, a colon and a backslash.

mod instance_support;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use instance_support::{migration, require_keyring, stderr, Cli};
use pgrelocate_testkit::{Cluster, ConnParams};

const PASSWORD: &str = r#"cli'acc:e\ss"#;

const ALIAS: [u8; 4] = [127, 0, 0, 2];

/// Connects from `from` and runs `sql`.
async fn from_alias(params: &ConnParams, from: IpAddr, sql: &str) -> Result<(), String> {
    let client = params
        .connect_from(from)
        .await
        .map_err(|e| format!("{e:?}"))?;
    client.batch_execute(sql).await.map_err(|e| e.to_string())
}

/// Polls `check` until it is true, for at most `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(()) => return,
            Err(e) if start.elapsed() > limit => panic!("{what} after {limit:?}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_apply_then_switchover_admits_a_client_network_only_the_source_admitted() {
    require_keyring();
    let source = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .hba_line("host all all 127.0.0.2/32 scram-sha-256")
        .start()
        .await
        .unwrap();
    let alias = IpAddr::from(ALIAS);
    // The source admits the alias.
    from_alias(&source.params(), alias, "SELECT 1")
        .await
        .unwrap();

    let mut cli = Cli::new();
    let (task_id, dest, _stop) =
        migration::streaming_task(&mut cli, &source, PASSWORD, "migration").await;
    let status = cli.json(&["instance", "status", "dst", "--json"]);
    let hba = PathBuf::from(status["managed"]["data_dir"].as_str().unwrap()).join("pg_hba.conf");
    let before = std::fs::read(&hba).unwrap();

    // Before: the destination (a hot standby) refuses a client from the alias, admits 127.0.0.1.
    let refused = from_alias(&dest, alias, "SELECT 1").await.unwrap_err();
    assert!(refused.contains("pg_hba.conf"), "{refused}");
    from_alias(&dest, IpAddr::from([127, 0, 0, 1]), "SELECT 1")
        .await
        .unwrap();

    // `access show --json` lists the pending rule.
    let shown = cli.json(&["access", "show", &task_id, "--json"]);
    assert_eq!(shown["task_id"], task_id.as_str(), "{shown:#}");
    let pending: Vec<&str> = shown["pending"]
        .as_array()
        .unwrap_or_else(|| panic!("{shown:#}"))
        .iter()
        .filter_map(|p| p["line"].as_str())
        .collect();
    assert_eq!(
        pending,
        vec!["host all all 127.0.0.2/32 scram-sha-256"],
        "{shown:#}"
    );
    assert!(
        !shown["pending"][0]["refused"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{shown:#}"
    );
    assert_eq!(shown["applied"].as_array().unwrap().len(), 0, "{shown:#}");
    let out = cli.run(&["access", "show", &task_id]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("+ host all all 127.0.0.2/32 scram-sha-256"),
        "{text}"
    );

    // Without --yes and without a terminal: a usage error, the file untouched.
    let out = cli.run(&["access", "apply", &task_id]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&hba).unwrap(), before);
    let refused = from_alias(&dest, alias, "SELECT 1").await.unwrap_err();
    assert!(refused.contains("pg_hba.conf"), "{refused}");

    // With --yes: written at the top and reloaded.
    let applied = cli.json(&["access", "apply", &task_id, "--yes", "--json"]);
    assert_eq!(applied["changed"], true, "{applied:#}");
    assert_eq!(
        applied["rules"]["pending"].as_array().unwrap().len(),
        0,
        "{applied:#}"
    );
    assert_eq!(
        applied["rules"]["applied"],
        serde_json::json!(["host all all 127.0.0.2/32 scram-sha-256"]),
        "{applied:#}"
    );
    let text = String::from_utf8(std::fs::read(&hba).unwrap()).unwrap();
    assert!(
        text.starts_with(&format!(
            "# BEGIN pgrelocate access rules (task {task_id})\n"
        )),
        "{text}"
    );
    assert!(
        text.ends_with(std::str::from_utf8(&before).unwrap()),
        "{text}"
    );
    wait_until(
        "the standby admits the alias",
        Duration::from_secs(60),
        || from_alias(&dest, alias, "SELECT 1"),
    )
    .await;
    // Applying again changes nothing.
    let again = cli.json(&["access", "apply", &task_id, "--yes", "--json"]);
    assert_eq!(again["changed"], false, "{again:#}");

    // Switchover; then the alias's client writes to the new primary.
    let out = cli.run(&["switchover", &task_id, "--yes"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    wait_until(
        "a client from the alias writes to the new primary",
        Duration::from_secs(120),
        || {
            from_alias(
                &dest,
                alias,
                "CREATE TABLE IF NOT EXISTS access_probe (x int); INSERT INTO access_probe VALUES (1)",
            )
        },
    )
    .await;
    let client = dest.connect_from(alias).await.unwrap();
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), inet_client_addr()::text, count(*) FROM access_probe",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "127.0.0.2/32");
    assert!(row.get::<_, i64>(2) >= 1);
    // The block is still there after the switchover.
    let shown = cli.json(&["access", "show", &task_id, "--json"]);
    assert_eq!(
        shown["applied"],
        serde_json::json!(["host all all 127.0.0.2/32 scram-sha-256"]),
        "{shown:#}"
    );
}
