//! Shared by the switchover_* tests: a state directory with the real `Instances` and `Tasks`
//! services (in-memory credential store), a source that is either a test-kit cluster
//! registered as external (fenced with SQL) or a managed instance (fenced by shutdown),
//! a managed destination, a migration or DR task streaming between them, the test kit's
//! writer, and the checks a DBA would make on both servers afterwards.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
pub mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pgrelocate_engine::assess::{self, AssessRequest, Mode, Verdict};
use pgrelocate_engine::instances::{CreateRequest, Instances, RegisterRequest};
use pgrelocate_engine::secrets::Keyring;
use pgrelocate_engine::server::OsUser;
use pgrelocate_engine::store::InstanceRecord;
use pgrelocate_engine::switchover::{Progress, SwitchoverReport};
use pgrelocate_engine::task::{CopyOptions, EventKind, ReplicationState, Task, TaskRequest, Tasks};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::{Cluster, ConnParams, Installation};
use tokio_postgres::Client;

pub const SOURCE: &str = "src";
pub const DEST: &str = "dst";
/// A password with quotes, a backslash and a colon: it must survive every layer.
pub const PASSWORD: &str = r#"sw'itch:o\ver"#;
/// Databases besides `postgres` and the templates, one with a name that needs quoting.
pub const EXTRA_DATABASES: [&str; 2] = ["appdb", "Données clients"];

/// How the source is fenced, which decides what kind of instance it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A test-kit cluster registered as an external instance: the `sql` fence.
    Remote,
    /// A managed instance on this host: the `shutdown` fence.
    Managed,
}

/// The source: either a test-kit cluster or a managed instance of the state directory.
pub enum SourceServer {
    Remote(Cluster),
    Managed(InstanceRecord),
}

/// A state directory with its services; dropping it stops every managed server in it.
pub struct Env {
    pub instances: Arc<Instances>,
    pub tasks: Tasks,
    pub dir: tempfile::TempDir,
    pub source: Option<SourceServer>,
    pub major: u32,
    /// SQL run on the source (database `postgres`) after it is created, before the copy.
    pub setup: Vec<String>,
}

fn bin_dir(major: u32) -> PathBuf {
    Installation::embedded(major)
        .unwrap()
        .bin_dir()
        .to_path_buf()
}

impl Env {
    pub fn new(major: u32) -> Env {
        let dir = common::state_dir("pgrelocate-switchover-test-");
        let instances = Arc::new(common::instances(
            dir.path(),
            Arc::new(Keyring::in_memory()),
        ));
        let tasks = common::tasks(instances.clone());
        Env {
            instances,
            tasks,
            dir,
            source: None,
            major,
            setup: Vec::new(),
        }
    }

    /// Runs `sql` on the source once it exists, before the copy.
    pub fn before_copy(&mut self, sql: &str) {
        self.setup.push(sql.to_string());
    }

    /// Creates and registers the source, with the extra databases and the writer's table.
    pub async fn create_source(&mut self, kind: SourceKind) {
        let major = self.major;
        let bin = tokio::task::spawn_blocking(move || bin_dir(major))
            .await
            .unwrap();
        match kind {
            SourceKind::Remote => {
                let cluster = Cluster::builder(major)
                    .superuser_password(PASSWORD)
                    .start()
                    .await
                    .unwrap();
                let endpoint = Endpoint::new(
                    cluster.host(),
                    cluster.port(),
                    cluster.superuser(),
                    None,
                    SslMode::Disable,
                )
                .unwrap();
                self.instances
                    .register(RegisterRequest {
                        name: SOURCE.into(),
                        endpoint,
                        password: Some(Password::new(PASSWORD)),
                        test: false,
                    })
                    .await
                    .unwrap();
                self.source = Some(SourceServer::Remote(cluster));
            }
            SourceKind::Managed => {
                let record = self
                    .instances
                    .create(CreateRequest {
                        name: SOURCE.into(),
                        major,
                        bin_dir: Some(bin),
                        password: Some(Password::new(PASSWORD)),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                self.source = Some(SourceServer::Managed(record));
            }
        }
        let client = self.source_params().connect().await.unwrap();
        for db in EXTRA_DATABASES {
            client
                .batch_execute(&format!(
                    "CREATE DATABASE {}",
                    pgrelocate_engine::quote::sql::ident(db)
                ))
                .await
                .unwrap();
        }
        for sql in &self.setup {
            client.batch_execute(sql).await.unwrap();
        }
        pgrelocate_testkit::Writer::prepare(&self.source_params())
            .await
            .unwrap();
    }

    /// Creates the managed destination.
    pub async fn create_dest(&self) -> InstanceRecord {
        let major = self.major;
        let bin = tokio::task::spawn_blocking(move || bin_dir(major))
            .await
            .unwrap();
        self.instances
            .create(CreateRequest {
                name: DEST.into(),
                major,
                bin_dir: Some(bin),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// The source's connection parameters (its superuser, database `postgres`).
    pub fn source_params(&self) -> ConnParams {
        match self.source.as_ref().expect("source created") {
            SourceServer::Remote(c) => c.params(),
            SourceServer::Managed(r) => ConnParams {
                host: r.endpoint.host.clone(),
                port: r.endpoint.port,
                user: r.endpoint.user.clone(),
                password: Some(PASSWORD.into()),
                dbname: "postgres".into(),
            },
        }
    }

    /// The destination's parameters with the source's role (its catalog is the source's).
    pub fn dest_params(&self) -> ConnParams {
        let record = self.dest();
        let source = self.source_params();
        ConnParams {
            host: record.endpoint.host.clone(),
            port: record.endpoint.port,
            ..source
        }
    }

    /// The source's managed details, when it is managed.
    pub fn source_data_dir(&self) -> Option<PathBuf> {
        match self.source.as_ref()? {
            SourceServer::Managed(r) => r.managed.as_ref().map(|m| m.data_dir.clone()),
            SourceServer::Remote(_) => None,
        }
    }

    /// Runs the assessment; it must find no error.
    pub async fn assess(&self, mode: Mode) {
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
    }

    /// Source, destination, assessment, task: returns the task once it streams.
    pub async fn streaming_task(&mut self, kind: SourceKind, mode: Mode) -> Task {
        self.create_source(kind).await;
        self.create_dest().await;
        self.assess(mode).await;
        let task = self
            .tasks
            .create(TaskRequest {
                source: SOURCE.into(),
                dest: DEST.into(),
                mode,
                report_id: None,
                options: CopyOptions {
                    sync: false,
                    ..CopyOptions::default()
                },
            })
            .await
            .unwrap();
        self.wait(&task, "streaming", 240, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await
    }

    /// Waits until the task satisfies `done`; panics with its history otherwise.
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

    /// The destination record.
    pub fn dest(&self) -> InstanceRecord {
        self.instances.store().instance_by_name(DEST).unwrap()
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

    /// Every database of the source that accepts connections (read before the switchover).
    pub fn databases(&self) -> Vec<String> {
        let mut all = vec!["postgres".to_string(), "template1".to_string()];
        all.extend(EXTRA_DATABASES.iter().map(|d| d.to_string()));
        all.sort();
        all
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

/// Collects progress lines (printed too, so a failing test shows the steps).
#[derive(Default, Clone)]
pub struct Steps(pub Arc<std::sync::Mutex<Vec<Progress>>>);

impl Steps {
    pub fn callback(&self) -> impl Fn(&Progress) + Send + Sync + '_ {
        move |p: &Progress| {
            if let Some(line) = pgrelocate_engine::switchover::describe(p) {
                println!("step: {line}");
            }
            self.0.lock().unwrap().push(p.clone());
        }
    }

    pub fn all(&self) -> Vec<Progress> {
        self.0.lock().unwrap().clone()
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

/// Slot names on a server (read from template1, which a fenced source still admits).
pub async fn slots(params: &ConnParams) -> Vec<String> {
    params
        .clone()
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

/// Prints the report's window for the test log.
pub fn print_window(report: &SwitchoverReport) {
    println!(
        "strategy {} window {} ms: {}",
        report.strategy,
        report.window.write_unavailable_ms,
        report
            .window
            .steps
            .iter()
            .map(|s| format!("{} {} ms", s.step, s.ms))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
