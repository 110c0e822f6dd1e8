//! Shared by the task_* tests: a state directory with the real `Instances` and `Tasks`
//! services (in-memory credential store), a test-kit source registered as external, a
//! managed destination from the pinned build, pgbench load, and checks on both servers.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
pub mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgrelocate_engine::assess::{self, AssessRequest, Mode, Verdict};
use pgrelocate_engine::instances::{CreateRequest, Instances, RegisterRequest};
use pgrelocate_engine::secrets::Keyring;
use pgrelocate_engine::server::OsUser;
use pgrelocate_engine::store::InstanceRecord;
use pgrelocate_engine::task::{CopyOptions, EventKind, Task, TaskRequest, Tasks};
use pgrelocate_engine::wire::Lsn;
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::{Cluster, Installation};
use tokio_postgres::Client;

/// A password with every character that needs quoting somewhere: `'` and `\` (conninfo,
/// config file), `:` (password file), `"` and a space.
pub const TRICKY_PASSWORD: &str = r#"pa'ss:w\o"rd é"#;

pub const SOURCE: &str = "src";
pub const DEST: &str = "dst";

/// A state directory with its services; dropping it stops every managed server in it.
pub struct Env {
    pub instances: Arc<Instances>,
    pub tasks: Tasks,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = common::state_dir("pgrelocate-task-test-");
        let instances = Arc::new(common::instances(
            dir.path(),
            Arc::new(Keyring::in_memory()),
        ));
        let tasks = common::tasks(instances.clone());
        Env {
            instances,
            tasks,
            dir,
        }
    }

    /// Registers `cluster` as the external source, as its superuser.
    pub async fn register_source(&self, cluster: &Cluster) -> InstanceRecord {
        self.register_source_requiring(cluster, None).await
    }

    /// Registers `cluster` as the external source, as its superuser, allowing only the
    /// authentication methods `require_auth` lists (libpq's syntax).
    pub async fn register_source_requiring(
        &self,
        cluster: &Cluster,
        require_auth: Option<&str>,
    ) -> InstanceRecord {
        let mut endpoint = Endpoint::new(
            cluster.host(),
            cluster.port(),
            cluster.superuser(),
            None,
            SslMode::Disable,
        )
        .unwrap();
        endpoint.require_auth = require_auth.map(|r| r.parse().unwrap());
        self.instances
            .register(RegisterRequest {
                name: SOURCE.into(),
                endpoint,
                password: cluster.superuser_password().map(Password::new),
                test: false,
            })
            .await
            .unwrap()
            .0
    }

    /// Creates the managed destination from the test kit's build of `major`.
    pub async fn create_dest(&self, major: u32) -> InstanceRecord {
        let bin_dir = tokio::task::spawn_blocking(move || {
            Installation::embedded(major)
                .unwrap()
                .bin_dir()
                .to_path_buf()
        })
        .await
        .unwrap();
        self.instances
            .create(CreateRequest {
                name: DEST.into(),
                major,
                bin_dir: Some(bin_dir),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// Runs the assessment; it must find no error (the report is printed otherwise).
    pub async fn assess(&self, mode: Mode) -> String {
        let report = assess::assess(
            &self.instances,
            AssessRequest {
                source: SOURCE.into(),
                dest: DEST.into(),
                mode,
                options: common::assess_options(),
            },
            &|_| {},
        )
        .await
        .unwrap();
        assert_ne!(
            report.verdict,
            Verdict::Error,
            "the assessment found errors:\n{}",
            assess::export::text(&report, false)
        );
        report.id
    }

    pub fn request(&self, mode: Mode, options: CopyOptions) -> TaskRequest {
        TaskRequest {
            source: SOURCE.into(),
            dest: DEST.into(),
            mode,
            report_id: None,
            options,
        }
    }

    /// The destination record.
    pub fn dest(&self) -> InstanceRecord {
        self.instances.store().instance_by_name(DEST).unwrap()
    }

    /// Connects to the destination with its own superuser (when it is its empty self).
    pub async fn dest_own(&self) -> Client {
        let record = self.dest();
        let password = self.instances.password_for(&record).await.unwrap();
        pgrelocate_engine::sql::connect(
            &record.endpoint,
            password.as_ref(),
            Duration::from_secs(10),
        )
        .await
        .unwrap()
    }

    /// Connects to the destination standby with the source's role (its catalog is the source's).
    /// A standby streams before it has replayed to a consistent state and refuses connections
    /// until then (SQLSTATE 57P03), so that refusal is waited out (60 s).
    pub async fn dest_as_source(&self, source: &Cluster) -> Client {
        let record = self.dest();
        let endpoint = Endpoint::new(
            &record.endpoint.host,
            record.endpoint.port,
            source.superuser(),
            None,
            SslMode::Disable,
        )
        .unwrap();
        let password = source.superuser_password().map(Password::new);
        let started = Instant::now();
        loop {
            match pgrelocate_engine::sql::connect(
                &endpoint,
                password.as_ref(),
                Duration::from_secs(10),
            )
            .await
            {
                Ok(client) => return client,
                Err(e)
                    if e.sqlstate() == Some("57P03")
                        && started.elapsed() < Duration::from_secs(60) =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => panic!("connecting to the standby: {e}"),
            }
        }
    }

    /// Waits until the task satisfies `done`; panics with the task and its events otherwise.
    pub async fn wait(
        &self,
        task: &Task,
        what: &str,
        secs: u64,
        done: impl Fn(&Task) -> bool,
    ) -> Task {
        let t = self
            .tasks
            .wait_until(&task.id, what, Duration::from_secs(secs), &done)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", self.history(task)));
        assert!(
            done(&t),
            "task ended {}/{} waiting for {what}: {:?}\n{}",
            t.phase,
            t.replication,
            t.error,
            self.history(task)
        );
        t
    }

    /// The task's events as text, for failure messages.
    pub fn history(&self, task: &Task) -> String {
        self.tasks
            .events(&task.id, 0)
            .unwrap()
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Sample(_) | EventKind::Copy(_)))
            .map(|e| format!("{} {}", e.at, serde_json::to_string(&e.kind).unwrap()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let Ok(records) = self.instances.store().list_instances() else {
            return;
        };
        for m in records.iter().filter_map(|r| r.managed.as_ref()) {
            stop_now(&m.bin_dir, &m.data_dir, m.os_user.as_deref());
        }
    }
}

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

fn pgbench(cluster: &Cluster) -> Command {
    let bin = Installation::debian(15).unwrap().bin("pgbench");
    let mut cmd = Command::new(bin);
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &cluster.port().to_string(),
        "-U",
        cluster.superuser(),
    ])
    .env("PGPASSWORD", cluster.superuser_password().unwrap_or(""))
    .env("PGDATABASE", "postgres")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    cmd
}

/// `pgbench -i` at `scale` (100 000 accounts per unit).
pub fn pgbench_init(cluster: &Cluster, scale: u32) {
    let out = pgbench(cluster)
        .args(["-i", "-q", "-s", &scale.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A rate-limited pgbench run in the background: continuous writes until stopped.
pub struct Load(Option<Child>);

impl Load {
    pub fn start(cluster: &Cluster) -> Load {
        let child = pgbench(cluster)
            .args(["-n", "-c", "2", "-T", "900", "-R", "100"])
            .spawn()
            .unwrap();
        Load(Some(child))
    }

    /// Stops the writers (pauses the load) and checks they were running. Returns once no
    /// pgbench session is left on the server (a killed client's last commit may still land).
    pub async fn stop(&mut self, cluster: &Cluster) {
        if let Some(mut child) = self.0.take() {
            assert!(child.try_wait().unwrap().is_none(), "pgbench stopped early");
            let _ = child.kill();
            let _ = child.wait();
        }
        let started = Instant::now();
        loop {
            let left: i64 = cluster
                .query_scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'",
                )
                .await
                .unwrap();
            if left == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "pgbench sessions linger"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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

/// An ordered checksum of each pgbench table, and the number of history rows.
pub async fn pgbench_checksums(client: &Client) -> (Vec<String>, i64) {
    // One snapshot for every table.
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .unwrap();
    let mut sums = Vec::new();
    for (table, key) in [
        ("pgbench_accounts", "aid"),
        ("pgbench_branches", "bid"),
        ("pgbench_tellers", "tid"),
        ("pgbench_history", "mtime, tid, aid, delta"),
    ] {
        let sum: String = client
            .query_one(&format!("SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY {key})), '') FROM {table} t"), &[])
            .await
            .unwrap()
            .get(0);
        sums.push(format!("{table}:{sum}"));
    }
    let history: i64 = client
        .query_one("SELECT count(*) FROM pgbench_history", &[])
        .await
        .unwrap()
        .get(0);
    client.batch_execute("COMMIT").await.unwrap();
    (sums, history)
}

/// Slot names on the source.
pub async fn slots(source: &Cluster) -> Vec<String> {
    source
        .query("SELECT slot_name::text FROM pg_replication_slots ORDER BY 1")
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Every regular file under `dir` (not following links).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let ft = entry.file_type().unwrap();
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                out.push(entry.path());
            }
        }
    }
    out
}

/// Files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let needle = needle.as_bytes();
    files_under(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// The pgrelocate folders the task put beside the destination's data directory.
pub fn task_leftovers(data_dir: &Path) -> Vec<PathBuf> {
    let parent = data_dir.parent().unwrap();
    std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains(".pgrelocate-")
        })
        .collect()
}

/// Whether the destination is its empty self again: running, a primary, no user table.
pub async fn assert_destination_restored(env: &Env) {
    let client = env.dest_own().await;
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), \
                    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                      WHERE n.nspname = 'public')",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0), "the destination is still a standby");
    assert_eq!(row.get::<_, i64>(1), 0, "the destination is not empty");
    let data_dir = env.dest().managed.unwrap().data_dir;
    assert!(!data_dir.join("standby.signal").exists() && !data_dir.join("recovery.conf").exists());
    assert_eq!(task_leftovers(&data_dir), Vec::<PathBuf>::new());
}
