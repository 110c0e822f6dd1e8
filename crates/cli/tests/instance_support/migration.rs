//! The set-up the task CLI tests share: a registered source, a managed destination of the
//! same major on a port of the test's own block, a migration streaming into it.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use pgrelocate_testkit::{Cluster, ConnParams, Installation};
use serde_json::Value;

use super::{stderr, Cli};

/// Stops a managed destination when the test ends, however it ends.
pub struct StopDest {
    bin: PathBuf,
    data_dir: PathBuf,
}

impl Drop for StopDest {
    fn drop(&mut self) {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(self.bin.join("pg_ctl"));
        cmd.args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(&self.data_dir)
            .current_dir("/")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Ok(Some(u)) = pgrelocate_engine::server::OsUser::for_servers(None) {
            cmd.uid(u.uid).gid(u.gid);
        }
        let _ = cmd.status();
    }
}

/// `pgrelocate instance register src` for `source`, its password on stdin.
pub fn register_source(cli: &mut Cli, source: &Cluster, password: &str) {
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
        password,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A managed destination `dst` of `major`. The engine gives it the first free port of the
/// test's block (`Cli::command` passes it), which no parallel test uses, so it can stop and
/// start again without meeting another test's instance. Returns its port, data directory
/// and stopper.
pub async fn managed_dest(cli: &mut Cli, major: u32) -> (u16, PathBuf, StopDest) {
    let bin = tokio::task::spawn_blocking(move || {
        Installation::embedded(major)
            .unwrap()
            .bin_dir()
            .to_path_buf()
    })
    .await
    .unwrap();
    cli.ok(&[
        "instance",
        "create",
        "dst",
        "--major",
        &major.to_string(),
        "--bin-dir",
        bin.to_str().unwrap(),
    ]);
    let dest = cli.json(&["instance", "status", "dst", "--json"]);
    let data_dir = PathBuf::from(dest["managed"]["data_dir"].as_str().unwrap());
    let port = dest["endpoint"]["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or_else(|| panic!("no port in {dest:#}"));
    let stop = StopDest {
        bin,
        data_dir: data_dir.clone(),
    };
    (port, data_dir, stop)
}

/// Registers `source`, creates a managed destination of the same major and migrates into
/// it in `mode` (`migrate --no-sync` returns once the destination streams). Returns the
/// task id, the destination's parameters (with the source's role) and its stopper.
pub async fn streaming_task(
    cli: &mut Cli,
    source: &Cluster,
    password: &str,
    mode: &str,
) -> (String, ConnParams, StopDest) {
    register_source(cli, source, password);
    let (dest_port, _, stop) = managed_dest(cli, source.major()).await;
    let out = cli.ok(&[
        "migrate",
        "--source",
        "src",
        "--dest",
        "dst",
        "--mode",
        mode,
        "--no-sync",
        "--json",
    ]);
    let task_id = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|e| e["task_id"].as_str().map(str::to_string))
        .expect("migrate printed the task id");
    let status = cli.json(&["task", "status", &task_id, "--json"]);
    assert_eq!(status["replication"], "streaming", "{status:#}");
    let params = ConnParams {
        port: dest_port,
        ..source.params()
    };
    (task_id, params, stop)
}
