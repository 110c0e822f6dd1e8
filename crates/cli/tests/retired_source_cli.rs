//! A retired source stays retired: after a switchover with the `shutdown` fence, `instance
//! start` of the old source brings it up in recovery (a CREATE TABLE fails there), a primary
//! start with the wrong name typed changes nothing, and with its name it is a primary again.
//! `instance status` and `instance list` say what the server reports.

mod instance_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use instance_support::{require_keyring, stderr, Cli};
use pgrelocate_engine::instances::Instances;
use pgrelocate_engine::sql;
use serde_json::Value;

/// Stops the managed servers when the test ends, however it ends.
struct StopAll(Vec<(PathBuf, PathBuf)>);

impl Drop for StopAll {
    fn drop(&mut self) {
        use std::os::unix::process::CommandExt;
        for (bin, data) in &self.0 {
            let mut cmd = Command::new(bin.join("pg_ctl"));
            cmd.args(["stop", "-m", "immediate", "-w", "-D"])
                .arg(data)
                .current_dir("/")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Ok(Some(u)) = pgrelocate_engine::server::OsUser::for_servers(None) {
                cmd.uid(u.uid).gid(u.gid);
            }
            let _ = cmd.status();
        }
    }
}

/// Runs `statement` on a managed instance as its superuser (password from the OS keyring).
async fn execute(home: &std::path::Path, name: &str, statement: &str) -> Result<(), String> {
    let instances = Instances::open(home).unwrap();
    let record = instances.store().instance_by_name(name).unwrap();
    let password = instances.password_for(&record).await.unwrap();
    let client = sql::connect(
        &record.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .map_err(|e| e.to_string())?;
    client
        .batch_execute(statement)
        .await
        .map_err(|e| sql::SqlError::from_driver(&e, &record.endpoint).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switched_over_source_starts_in_recovery_unless_forced_by_name() {
    require_keyring();
    let mut cli = Cli::new();
    let bin = tokio::task::spawn_blocking(|| {
        pgrelocate_testkit::Installation::embedded(15)
            .unwrap()
            .bin_dir()
            .to_path_buf()
    })
    .await
    .unwrap();
    let bin_arg = bin.display().to_string();
    let mut guard = StopAll(Vec::new());
    for name in ["old-src", "new-dst"] {
        let made = cli.json(&[
            "instance",
            "create",
            name,
            "--major",
            "15",
            "--bin-dir",
            &bin_arg,
            "--json",
        ]);
        let data = PathBuf::from(made["managed"]["data_dir"].as_str().unwrap());
        guard.0.push((bin.clone(), data));
    }
    let home = cli.state_dir().to_path_buf();
    execute(
        &home,
        "old-src",
        "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)",
    )
    .await
    .unwrap();

    let out = cli.ok(&[
        "migrate",
        "--source",
        "old-src",
        "--dest",
        "new-dst",
        "--mode",
        "migration",
        "--no-sync",
        "--json",
    ]);
    let task_id = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|e| e["task_id"].as_str().map(str::to_string))
        .expect("migrate printed the task id");
    let out = cli.run(&["switchover", &task_id, "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let task = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(task["phase"], "success", "{task:#}");
    assert_eq!(
        task["switch"]["switchover"]["strategy"], "shutdown",
        "{task:#}"
    );
    let status = cli.json(&["instance", "status", "old-src", "--json"]);
    assert_eq!(status["state"], "stopped", "{status:#}");
    assert_eq!(status["retired"]["task_id"], task_id.as_str(), "{status:#}");

    // A plain start: in recovery, and the server itself refuses the write.
    let out = cli.ok(&["instance", "start", "old-src"]);
    assert!(out.contains("started old-src in recovery"), "{out}");
    assert!(out.contains(&format!("retired by task {task_id}")), "{out}");
    assert!(out.contains("--as-primary --confirm old-src"), "{out}");
    let err = execute(&home, "old-src", "CREATE TABLE split_brain (id int)")
        .await
        .unwrap_err();
    assert!(err.contains("read-only transaction"), "{err}");
    let status = cli.json(&["instance", "status", "old-src", "--json"]);
    assert_eq!(status["connection"]["role"], "standby", "{status:#}");
    let text = cli.ok(&["instance", "status", "old-src"]);
    assert!(text.starts_with("old-src (managed): in recovery"), "{text}");
    let list = cli.ok(&["instance", "list"]);
    let row = list.lines().find(|l| l.starts_with("old-src")).unwrap();
    assert!(row.contains("in recovery"), "{list}");

    // --as-primary wants the name typed, and the wrong one changes nothing.
    let out = cli.run(&["instance", "start", "old-src", "--as-primary"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cli.run(&[
        "instance",
        "start",
        "old-src",
        "--as-primary",
        "--confirm",
        "old-scr",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("confirmation does not match"),
        "{}",
        stderr(&out)
    );
    let status = cli.json(&["instance", "status", "old-src", "--json"]);
    assert_eq!(status["connection"]["role"], "standby", "{status:#}");
    assert!(
        execute(&home, "old-src", "CREATE TABLE split_brain (id int)")
            .await
            .is_err()
    );

    // The name typed: a writable primary, said loudly.
    let out = cli.run(&[
        "instance",
        "start",
        "old-src",
        "--as-primary",
        "--confirm",
        "old-src",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("started old-src as a writable primary"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr(&out).contains("new-dst is the primary now"),
        "{}",
        stderr(&out)
    );
    let status = cli.json(&["instance", "status", "old-src", "--json"]);
    assert_eq!(status["connection"]["role"], "primary", "{status:#}");
    execute(&home, "old-src", "CREATE TABLE split_brain (id int)")
        .await
        .unwrap();
    // It is still the retired source: the next plain start is in recovery again.
    cli.ok(&["instance", "stop", "old-src"]);
    let out = cli.ok(&["instance", "start", "old-src"]);
    assert!(out.contains("in recovery"), "{out}");
    cli.ok(&["instance", "stop", "old-src"]);
}
