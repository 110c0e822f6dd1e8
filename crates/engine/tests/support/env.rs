//! One environment for every engine integration test: a state directory the server user can
//! traverse, the engine's services over it (an in-memory keyring, ports for managed instances
//! that no parallel test takes, tasks that sample often), and the source and destination a
//! test registers or creates in it. Dropping it stops every managed server in it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pgrelocate_engine::assess::{self, AssessRequest, Mode, Options, Report, Verdict};
use pgrelocate_engine::instances::{CreateRequest, Instances, RegisterRequest};
use pgrelocate_engine::secrets::{CredentialStore, Keyring};
use pgrelocate_engine::store::InstanceRecord;
use pgrelocate_engine::task::{CopyOptions, EventKind, Task, TaskRequest, TaskSettings, Tasks};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::Cluster;
use tokio_postgres::Client;

use super::servers::{embedded_bin_dir, stop_now};
use super::switchover::SourceServer;

/// A password with every character that needs quoting somewhere: `'` and `\` (conninfo,
/// config file), `:` (password file), `"` and a space.
pub const TRICKY_PASSWORD: &str = r#"pa'ss:w\o"rd é"#;

/// The source's and the destination's instance names.
pub const SOURCE: &str = "src";
pub const DEST: &str = "dst";

/// A fresh state directory under `/tmp`, mode 0711: when the tests run as root the servers
/// run as `postgres`, who must reach the managed data directories inside it.
pub fn state_dir(prefix: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    dir
}

/// `Instances` over `dir` with `keyring`; new managed instances take their ports from a
/// block this test process holds (see `PortBlock`).
pub fn instances(dir: &Path, keyring: Arc<dyn CredentialStore>) -> Instances {
    let block = pgrelocate_testkit::PortBlock::reserve();
    Instances::with_credentials(dir, Ok(keyring))
        .unwrap()
        .with_ports(block.env_value().parse().unwrap())
}

/// `Tasks` that sample twice a second, give up a dead driver's lease quickly and wait
/// patiently for a standby that loads a slow machine.
pub fn tasks(instances: Arc<Instances>) -> Tasks {
    let settings = TaskSettings {
        sample_interval: Duration::from_millis(500),
        lease_ttl: Duration::from_secs(6),
        standby_connect_timeout: Duration::from_secs(120),
        ..TaskSettings::default()
    };
    Tasks::with_settings(instances, settings)
}

/// Assessment options for tests: a short WAL sample, and connect timeouts long enough for a
/// loopback server on a loaded two-core machine (3 s was seen to run out while a dozen
/// test servers and pgbench shared the cores).
pub fn assess_options() -> Options {
    Options {
        connect_timeout: Duration::from_secs(10),
        wal_sample: Duration::from_millis(500),
        ..Options::default()
    }
}

/// A state directory with its services; dropping it stops every managed server in it.
pub struct Env {
    pub instances: Arc<Instances>,
    pub tasks: Tasks,
    pub dir: tempfile::TempDir,
    /// The switchover tests' source, once created (see [`Env::create_source`]).
    pub source: Option<SourceServer>,
    /// The major of the source and destination [`Env::create_source`] and
    /// [`Env::create_dest_of_major`] create.
    pub major: u32,
    /// SQL run on the source (database `postgres`) after it is created, before the copy.
    pub setup: Vec<String>,
}

/// How to build an [`Env`]: the variations between the tests, each with a default.
pub struct EnvBuilder {
    prefix: String,
    major: u32,
    keyring: Option<Arc<dyn CredentialStore>>,
}

impl EnvBuilder {
    /// The state directory's name starts with `prefix` (default: the test binary's name).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// The major of the servers the switchover tests create (default 16).
    pub fn major(mut self, major: u32) -> Self {
        self.major = major;
        self
    }

    /// The credential store (default: an in-memory keyring).
    pub fn keyring(mut self, keyring: Arc<dyn CredentialStore>) -> Self {
        self.keyring = Some(keyring);
        self
    }

    pub fn build(self) -> Env {
        let dir = state_dir(&self.prefix);
        let keyring = self
            .keyring
            .unwrap_or_else(|| Arc::new(Keyring::in_memory()));
        let instances = Arc::new(instances(dir.path(), keyring));
        let tasks = tasks(instances.clone());
        Env {
            instances,
            tasks,
            dir,
            source: None,
            major: self.major,
            setup: Vec::new(),
        }
    }
}

/// `pgrelocate-<test binary>-`, so a folder left behind names the test that made it.
fn default_prefix() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(|p| p.file_stem())
        .and_then(|s| s.to_str())
        .map(|s| s.rsplit_once('-').map_or(s, |(name, _hash)| name))
        .unwrap_or("engine");
    format!("pgrelocate-{stem}-test-")
}

impl Env {
    pub fn builder() -> EnvBuilder {
        EnvBuilder {
            prefix: default_prefix(),
            major: 16,
            keyring: None,
        }
    }

    /// The defaults: an in-memory keyring, servers of major 16.
    pub fn new() -> Env {
        Env::builder().build()
    }

    /// Servers of `major` for [`Env::create_source`] and [`Env::create_dest_of_major`].
    pub fn with_major(major: u32) -> Env {
        Env::builder().major(major).build()
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
        self.register_endpoint(name, endpoint, password.map(Password::new))
            .await
    }

    async fn register_endpoint(
        &self,
        name: &str,
        endpoint: Endpoint,
        password: Option<Password>,
    ) -> InstanceRecord {
        self.instances
            .register(RegisterRequest {
                name: name.into(),
                endpoint,
                password,
                test: false,
            })
            .await
            .unwrap()
            .0
    }

    /// Registers an external instance nobody listens on: a destination for tests that are
    /// only about the source.
    pub async fn register_nowhere(&self, name: &str) -> InstanceRecord {
        let port = super::protocol::free_port();
        self.register_at(name, "127.0.0.1", port, "postgres", None, SslMode::Disable)
            .await
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
        let password = cluster.superuser_password().map(Password::new);
        self.register_endpoint(SOURCE, endpoint, password).await
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

    /// Creates the managed destination [`DEST`] from the test kit's build of `major`.
    pub async fn create_dest_of(&self, major: u32) -> InstanceRecord {
        self.create_dest(DEST, major, None).await
    }

    /// Creates the managed destination [`DEST`] of the environment's major.
    pub async fn create_dest_of_major(&self) -> InstanceRecord {
        self.create_dest_of(self.major).await
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

    /// Assesses `source` → `dest` and returns the report, whatever its verdict.
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

    /// Assesses [`SOURCE`] → [`DEST`]; it must find no error (the report is printed
    /// otherwise). Returns the report's id.
    pub async fn assess_pair(&self, mode: Mode) -> String {
        let report = self.assess(SOURCE, DEST, mode, assess_options()).await;
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
