//! The switchover tests' source — a test-kit cluster registered as external (fenced with
//! SQL) or a managed instance (fenced by shutdown) — with its databases and the test kit's
//! writer, a migration or DR task streaming from it, and the steps a switchover reports.

use std::path::PathBuf;
use std::sync::Arc;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::instances::CreateRequest;
use pgrelocate_engine::store::InstanceRecord;
use pgrelocate_engine::switchover::{Progress, SwitchoverReport};
use pgrelocate_engine::task::{CopyOptions, ReplicationState, Task, TaskRequest};
use pgrelocate_engine::Password;
use pgrelocate_testkit::{Cluster, ConnParams};

use super::env::{Env, DEST, SOURCE};
use super::servers::embedded_bin_dir;

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

impl Env {
    /// Runs `sql` on the source once it exists, before the copy.
    pub fn before_copy(&mut self, sql: &str) {
        self.setup.push(sql.to_string());
    }

    /// Creates and registers the source, with the extra databases and the writer's table.
    pub async fn create_source(&mut self, kind: SourceKind) {
        let major = self.major;
        let bin = embedded_bin_dir(major).await;
        match kind {
            SourceKind::Remote => {
                let cluster = Cluster::builder(major)
                    .superuser_password(PASSWORD)
                    .start()
                    .await
                    .unwrap();
                self.register_source(&cluster).await;
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

    /// Source (unless one was created already), destination, assessment, task: returns
    /// the task once it streams.
    pub async fn streaming_task(&mut self, kind: SourceKind, mode: Mode) -> Task {
        if self.source.is_none() {
            self.create_source(kind).await;
        }
        self.create_dest_of_major().await;
        self.assess_pair(mode).await;
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

    /// Every database of the source that accepts connections (read before the switchover).
    pub fn databases(&self) -> Vec<String> {
        let mut all = vec!["postgres".to_string(), "template1".to_string()];
        all.extend(EXTRA_DATABASES.iter().map(|d| d.to_string()));
        all.sort();
        all
    }
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
