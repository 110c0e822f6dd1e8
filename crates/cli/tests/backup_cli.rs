//! `pgrelocate backup` end to end: a registered instance (password in the real keyring) is
//! copied with a tablespace mapping; JSON lines report progress and the outcome; an unmapped
//! tablespace and a bad rate are refused with the contract's exit codes.

mod instance_support;

use std::os::unix::fs::PermissionsExt;

use instance_support::{require_keyring, stderr, Cli};
use pgrelocate_testkit::{Cluster, Flavour};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_registered_instance() {
    require_keyring();
    // Debian's build has LZ4 compiled in (the embedded one does not).
    let source = Cluster::builder(15)
        .flavour(Flavour::Debian)
        .start()
        .await
        .unwrap();
    let ts = source.create_tablespace("ts1").await.unwrap();
    source
        .sql("CREATE TABLE t TABLESPACE ts1 AS SELECT g FROM generate_series(1, 10000) g")
        .await
        .unwrap();
    let mut cli = Cli::new();
    let port = source.port().to_string();
    let out = cli.run_with_stdin(
        &[
            "instance",
            "register",
            "src",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            "postgres",
            "--password-stdin",
        ],
        &format!("{}\n", source.superuser_password().unwrap()),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let work = tempfile::tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = work.path().join("copy");
    let ts_target = work.path().join("ts1");

    // The tablespace's source folder exists on this host: it must be mapped.
    let out = cli.run(&[
        "backup",
        "--source",
        "src",
        "--target-dir",
        target.to_str().unwrap(),
        "--no-sync",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--tablespace-mapping"),
        "{}",
        stderr(&out)
    );
    assert!(!target.exists());

    let out = cli.run(&[
        "backup",
        "--source",
        "src",
        "--target-dir",
        target.to_str().unwrap(),
        "--max-rate",
        "fast",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let mapping = format!("{}={}", ts.display(), ts_target.display());
    let stdout = cli.ok(&[
        "backup",
        "--source",
        "src",
        "--target-dir",
        target.to_str().unwrap(),
        "--tablespace-mapping",
        &mapping,
        "--compress",
        "lz4",
        "--json",
    ]);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done = lines.last().unwrap();
    assert_eq!(done["event"], "done", "{stdout}");
    assert_eq!(
        done["server_version"].as_str().unwrap().split('.').next(),
        Some("15")
    );
    assert!(done["manifest_files_verified"].as_u64().unwrap() > 100);
    assert!(lines
        .iter()
        .any(|l| l["event"] == "progress" && l["phase"] == "copying"));
    assert!(target.join("backup_manifest").is_file());
    assert!(std::fs::read_dir(&ts_target).unwrap().next().is_some());
}
