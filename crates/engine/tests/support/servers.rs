//! What the tests do with servers: stop one at once, find the test kit's build of a major,
//! read its slots and WAL positions, connect and write to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pgrelocate_engine::server::OsUser;
use pgrelocate_engine::wire::Lsn;
use pgrelocate_testkit::{Cluster, ConnParams, Installation};
use tokio_postgres::Client;

/// Stops a server at once (immediate mode), as its OS user.
pub fn stop_now(bin_dir: &Path, data_dir: &Path, os_user: Option<&str>) {
    use std::os::unix::process::CommandExt;
    if !data_dir.join("postmaster.pid").exists() {
        return;
    }
    let mut cmd = Command::new(bin_dir.join("pg_ctl"));
    cmd.args(["stop", "-w", "-t", "60", "-m", "immediate", "-D"])
        .arg(data_dir)
        .current_dir("/")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Ok(Some(user)) = OsUser::for_servers(os_user) {
        cmd.uid(user.uid).gid(user.gid);
    }
    let _ = cmd.status();
}

/// The test kit's build of `major` (found or fetched off the async runtime).
pub async fn embedded_bin_dir(major: u32) -> PathBuf {
    tokio::task::spawn_blocking(move || {
        Installation::embedded(major)
            .unwrap()
            .bin_dir()
            .to_path_buf()
    })
    .await
    .unwrap()
}

/// A server the helpers below can connect to: a test-kit cluster or connection parameters.
pub trait Server {
    fn conn_params(&self) -> ConnParams;
}

impl Server for Cluster {
    fn conn_params(&self) -> ConnParams {
        self.params()
    }
}

impl Server for ConnParams {
    fn conn_params(&self) -> ConnParams {
        self.clone()
    }
}

/// Slot names on a server (read from template1, which a fenced source still admits).
pub async fn slots(server: &impl Server) -> Vec<String> {
    server
        .conn_params()
        .with_dbname("template1")
        .connect()
        .await
        .unwrap()
        .query(
            "SELECT slot_name::text FROM pg_replication_slots ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

pub async fn current_lsn(client: &Client) -> Lsn {
    let text: String = client
        .query_one("SELECT pg_current_wal_lsn()::text", &[])
        .await
        .unwrap()
        .get(0);
    text.parse().unwrap()
}

/// Waits until the standby has replayed `lsn`.
pub async fn wait_replayed(dest: &Client, lsn: Lsn, secs: u64) {
    let started = Instant::now();
    loop {
        let text: Option<String> = dest
            .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
            .await
            .unwrap()
            .get(0);
        let replayed: Lsn = text.unwrap_or_else(|| "0/0".into()).parse().unwrap();
        if replayed >= lsn {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "the standby replayed {replayed}, not {lsn}, in {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A fresh connection to `db` commits a write.
pub async fn commit_in(params: &ConnParams, db: &str) -> Result<(), String> {
    let client = params
        .clone()
        .with_dbname(db)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS after_switchover (x int); \
             INSERT INTO after_switchover VALUES (1);",
        )
        .await
        .map_err(|e| e.to_string())
}

/// Connects to `db`, or says why not.
pub async fn connect_to(params: &ConnParams, db: &str) -> Result<Client, String> {
    params
        .clone()
        .with_dbname(db)
        .connect()
        .await
        .map_err(|e| format!("{e:?}"))
}

/// The writer's rows on a server.
pub async fn writer_rows(params: &ConnParams) -> i64 {
    params
        .connect()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM pgrelocate_writer", &[])
        .await
        .unwrap()
        .get(0)
}
