//! Shared by the assessment tests: a state directory with the real `Instances` service (and
//! the in-memory credential store), registration of test-kit clusters, managed destinations,
//! and assertions on reports that print the whole report when they fail.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
pub mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pgrelocate_engine::assess::{self, AssessRequest, CheckResult, Mode, Options, Report, Status};
use pgrelocate_engine::instances::{CreateRequest, Instances, RegisterRequest};
use pgrelocate_engine::secrets::Keyring;
use pgrelocate_engine::server::OsUser;
use pgrelocate_engine::store::InstanceRecord;
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::Cluster;

/// A state directory with its `Instances`; dropping it stops every managed server in it.
pub struct Env {
    pub instances: Instances,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = common::state_dir("pgrelocate-assess-test-");
        let instances = common::instances(dir.path(), Arc::new(Keyring::in_memory()));
        Env { instances, dir }
    }

    /// Registers `cluster` (over TCP on loopback) as an external instance.
    pub async fn register(
        &self,
        name: &str,
        cluster: &Cluster,
        user: &str,
        password: Option<&str>,
    ) -> InstanceRecord {
        self.register_at(
            name,
            cluster.host(),
            cluster.port(),
            user,
            password,
            SslMode::Disable,
        )
        .await
    }

    pub async fn register_at(
        &self,
        name: &str,
        host: &str,
        port: u16,
        user: &str,
        password: Option<&str>,
        sslmode: SslMode,
    ) -> InstanceRecord {
        let endpoint = Endpoint::new(host, port, user, None, sslmode).unwrap();
        self.instances
            .register(RegisterRequest {
                name: name.into(),
                endpoint,
                password: password.map(Password::new),
                test: false,
            })
            .await
            .unwrap()
            .0
    }

    /// Registers an external instance nobody listens on: a destination for tests that are
    /// only about the source.
    pub async fn register_nowhere(&self, name: &str) -> InstanceRecord {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        self.register_at(name, "127.0.0.1", port, "postgres", None, SslMode::Disable)
            .await
    }

    /// Creates a managed destination of `major` from the test kit's build (or `bin_dir`).
    pub async fn create_dest(
        &self,
        name: &str,
        major: u32,
        bin_dir: Option<PathBuf>,
    ) -> InstanceRecord {
        let bin_dir = match bin_dir {
            Some(b) => b,
            None => embedded_bin_dir(major).await,
        };
        self.instances
            .create(CreateRequest {
                name: name.into(),
                major,
                bin_dir: Some(bin_dir),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    pub async fn create_dest_in(&self, name: &str, major: u32, data_dir: &Path) -> InstanceRecord {
        self.instances
            .create(CreateRequest {
                name: name.into(),
                major,
                bin_dir: Some(embedded_bin_dir(major).await),
                data_dir: Some(data_dir.to_path_buf()),
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// The superuser password of a managed instance (from the credential store).
    pub async fn password_of(&self, name: &str) -> Option<Password> {
        let record = self.instances.store().instance_by_name(name).unwrap();
        self.instances.password_for(&record).await.unwrap()
    }

    /// Runs SQL on an instance as its registered user.
    pub async fn sql(&self, name: &str, dbname: &str, statements: &str) {
        let record = self.instances.store().instance_by_name(name).unwrap();
        let mut endpoint = record.endpoint.clone();
        endpoint.dbname = dbname.into();
        let password = self.instances.password_for(&record).await.unwrap();
        let client =
            pgrelocate_engine::sql::connect(&endpoint, password.as_ref(), Duration::from_secs(10))
                .await
                .unwrap();
        client.batch_execute(statements).await.unwrap();
    }

    pub async fn assess(&self, source: &str, dest: &str, mode: Mode, options: Options) -> Report {
        assess::assess(
            &self.instances,
            AssessRequest {
                source: source.into(),
                dest: dest.into(),
                mode,
                options,
            },
            &|_| {},
        )
        .await
        .unwrap()
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
    let mut cmd = std::process::Command::new(bin_dir.join("pg_ctl"));
    cmd.args(["stop", "-w", "-t", "60", "-m", "immediate", "-D"])
        .arg(data_dir)
        .current_dir("/")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Ok(Some(user)) = OsUser::for_servers(os_user) {
        cmd.uid(user.uid).gid(user.gid);
    }
    let _ = cmd.status();
}

/// A short WAL sample and patient connections (see `common::assess_options`).
pub fn options() -> Options {
    common::assess_options()
}

pub async fn embedded_bin_dir(major: u32) -> PathBuf {
    tokio::task::spawn_blocking(move || {
        pgrelocate_testkit::Installation::embedded(major)
            .unwrap()
            .bin_dir()
            .to_path_buf()
    })
    .await
    .unwrap()
}

/// The check `id`, which must have ended with `status`; the report is printed otherwise.
pub fn expect<'a>(report: &'a Report, id: &str, status: Status) -> &'a CheckResult {
    let check = report
        .check(id)
        .unwrap_or_else(|| panic!("no check {id} in\n{}", assess::export::text(report, false)));
    assert_eq!(
        check.status,
        status,
        "{id}: expected {status:?}, got {:?}: {}\n--- whole report ---\n{}",
        check.status,
        check.message,
        assess::export::text(report, false)
    );
    check
}

/// `expect` for an Error-level failure: the level is Error and the remedy names `fix`.
pub fn expect_error<'a>(report: &'a Report, id: &str, fix: &[&str]) -> &'a CheckResult {
    let check = expect(report, id, Status::Error);
    for needle in fix {
        assert!(
            check.remedy.contains(needle),
            "{id}: the remedy does not name {needle:?}:\n{}",
            check.remedy
        );
    }
    check
}

/// `expect` for a warning whose message mentions `words`.
pub fn expect_warning<'a>(report: &'a Report, id: &str, words: &[&str]) -> &'a CheckResult {
    let check = expect(report, id, Status::Warning);
    for w in words {
        assert!(
            check.message.contains(w),
            "{id}: {:?} lacks {w:?}",
            check.message
        );
    }
    check
}
