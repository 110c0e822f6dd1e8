//! Benchmark (not a test): the write-unavailability window of a switchover under pgbench
//! load on loopback, for each fence strategy, measured by the client: the time from the last
//! commit the source acknowledged to the first commit the destination acknowledged, as seen
//! by the test kit's writer (which, like an application with a multi-host connection string
//! and `target_session_attrs=read-write`, moves to whichever server takes writes). The
//! engine's own measure (fence start → a fresh connection committed in every database of the
//! destination) is printed beside it, with its steps. The baseline, measured the same way in
//! the same run on a managed pair: the textbook manual switchover, `pg_ctl stop -m fast -w`
//! then `pg_ctl promote -w` (no catch-up check, no unfence, no write proof).
//!
//!   cargo bench -p pgrelocate-engine --bench switchover
//!
//! Environment: `PGRELOCATE_BENCH_RUNS` (switchovers per strategy, default 10),
//! `PGRELOCATE_BENCH_MAJOR` (default 16), `PGRELOCATE_BENCH_RATE` (pgbench transactions per
//! second during the switchover, default 300), `PGRELOCATE_BENCH_STRATEGY` (`sql`,
//! `shutdown` or `manual` only), `PGRELOCATE_BENCH_STEPS` (print each run's steps with their times). Each run builds a fresh source (a test-kit
//! cluster registered as external for the `sql` fence, a managed instance for `shutdown`), a
//! managed destination and a streaming migration task; every acknowledged commit is checked
//! on the destination afterwards.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pgrelocate_engine::assess::{self, AssessRequest, Mode, Verdict};
use pgrelocate_engine::instances::{CreateRequest, Instances, RegisterRequest};
use pgrelocate_engine::secrets::{CredentialStore, Keyring};
use pgrelocate_engine::server::{control, OsUser};
use pgrelocate_engine::switchover::{describe, FenceStrategy, Options, Progress, SwitchoverReport};
use pgrelocate_engine::task::{CopyOptions, ReplicationState, TaskRequest, TaskSettings, Tasks};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::{Cluster, ConnParams, Installation, Writer, DEBIAN_MAJOR};

const PASSWORD: &str = "bench-password";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What switches over: pgrelocate with one fence, or the textbook manual procedure on the
/// same managed pair (the baseline): `pg_ctl stop -m fast -w` on the source, then
/// `pg_ctl promote -w` on the destination, with pg_ctl's own waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Engine(FenceStrategy),
    Manual,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Engine(s) => write!(f, "{s}"),
            Kind::Manual => f.write_str("manual"),
        }
    }
}

/// One switchover's figures.
struct Run {
    client_ms: f64,
    engine_ms: u64,
    steps: Vec<(String, u64)>,
    source_acks: usize,
    dest_acks: usize,
}

fn main() {
    // Test runners list every target (`cargo test --all-targets`, nextest): a benchmark has
    // no tests to list and must not start measuring then.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = env_or("PGRELOCATE_BENCH_RUNS", 10);
    let major: u32 = env_or("PGRELOCATE_BENCH_MAJOR", 16);
    let rate: u32 = env_or("PGRELOCATE_BENCH_RATE", 300);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut results: Vec<(Kind, Vec<Run>)> = Vec::new();
    let only: Option<String> = std::env::var("PGRELOCATE_BENCH_STRATEGY").ok();
    let kinds = [
        Kind::Engine(FenceStrategy::Sql),
        Kind::Engine(FenceStrategy::Shutdown),
        Kind::Manual,
    ];
    for strategy in kinds {
        if only.as_deref().is_some_and(|o| o != strategy.to_string()) {
            continue;
        }
        let mut all = Vec::new();
        for i in 1..=runs {
            let mut attempt = 1;
            let run = loop {
                match rt.block_on(one_run(strategy, major, rate)) {
                    Ok(run) => break run,
                    Err(e) if attempt < 3 => {
                        eprintln!("{strategy:<8} run {i:>2}/{runs}: setup failed, again: {e}");
                        attempt += 1;
                    }
                    Err(e) => panic!("setup failed three times: {e}"),
                }
            };
            eprintln!(
                "{strategy:<8} run {i:>2}/{runs}: client window {:7.1} ms, engine window {:5} ms ({}); {} commits on the source, {} on the destination, none lost",
                run.client_ms,
                run.engine_ms,
                run.steps
                    .iter()
                    .map(|(s, ms)| format!("{s} {ms}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                run.source_acks,
                run.dest_acks
            );
            all.push(run);
        }
        results.push((strategy, all));
    }
    println!();
    println!(
        "PostgreSQL {major}, {runs} switchovers per strategy, pgbench at {rate} TPS on the source"
    );
    println!(
        "| strategy | client window median | min | max | ÷ manual | engine window median | fence / stop | catch-up | promote | unfence | verify |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let client_median = |all: &[Run]| median(&all.iter().map(|r| r.client_ms).collect::<Vec<_>>());
    let baseline = results
        .iter()
        .find(|(k, _)| *k == Kind::Manual)
        .map(|(_, all)| client_median(all));
    for (strategy, all) in &results {
        let client: Vec<f64> = all.iter().map(|r| r.client_ms).collect();
        let engine: Vec<f64> = all.iter().map(|r| r.engine_ms as f64).collect();
        let step = |name: &str| {
            median(
                &all.iter()
                    .map(|r| {
                        r.steps
                            .iter()
                            .find(|(s, _)| s == name)
                            .map(|(_, ms)| *ms as f64)
                            .unwrap_or(0.0)
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let ratio = baseline
            .map(|b| format!("{:.2}", median(&client) / b))
            .unwrap_or_else(|| "-".into());
        println!(
            "| {strategy} | {:.0} ms | {:.0} ms | {:.0} ms | {ratio} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms |",
            median(&client),
            client.iter().cloned().fold(f64::INFINITY, f64::min),
            client.iter().cloned().fold(0.0, f64::max),
            median(&engine),
            step("fence").max(step("stop")),
            step("catchup"),
            step("promote"),
            step("unfence"),
            step("verify"),
        );
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A rate-limited pgbench on the source until killed (it stops by itself when the fence
/// ends its sessions).
struct Load(Child);

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pgbench(params: &ConnParams) -> Command {
    let bin = Installation::debian(DEBIAN_MAJOR)
        .expect("Debian's PostgreSQL 15 client tools (pgbench)")
        .bin("pgbench");
    let mut cmd = Command::new(bin);
    cmd.args(["-h", &params.host, "-p", &params.port.to_string()])
        .args(["-U", &params.user])
        .env("PGPASSWORD", params.password.as_deref().unwrap_or(""))
        .env("PGDATABASE", &params.dbname)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

async fn one_run(kind: Kind, major: u32, rate: u32) -> Result<Run, String> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("pgrelocate-switchover-bench-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let keyring: Arc<dyn CredentialStore> = Arc::new(Keyring::in_memory());
    let instances = Arc::new(Instances::with_credentials(dir.path(), Ok(keyring)).unwrap());
    let tasks = Tasks::with_settings(
        instances.clone(),
        TaskSettings {
            sample_interval: Duration::from_millis(500),
            ..TaskSettings::default()
        },
    );
    let bin: PathBuf = tokio::task::spawn_blocking(move || {
        Installation::embedded(major)
            .unwrap()
            .bin_dir()
            .to_path_buf()
    })
    .await
    .unwrap();
    let _servers = StopManaged(instances.clone());

    // The source: remote for the sql fence, managed for the shutdown fence.
    let mut cluster = None;
    let source = match kind {
        Kind::Engine(FenceStrategy::Sql) => {
            let c = Cluster::builder(major)
                .superuser_password(PASSWORD)
                .start()
                .await
                .unwrap();
            let endpoint =
                Endpoint::new(c.host(), c.port(), c.superuser(), None, SslMode::Disable).unwrap();
            instances
                .register(RegisterRequest {
                    name: "src".into(),
                    endpoint,
                    password: Some(Password::new(PASSWORD)),
                    test: false,
                })
                .await
                .unwrap();
            let params = c.params();
            cluster = Some(c);
            params
        }
        Kind::Engine(FenceStrategy::Shutdown) | Kind::Manual => {
            let r = instances
                .create(CreateRequest {
                    name: "src".into(),
                    major,
                    bin_dir: Some(bin.clone()),
                    password: Some(Password::new(PASSWORD)),
                    ..Default::default()
                })
                .await
                .unwrap();
            ConnParams {
                host: r.endpoint.host.clone(),
                port: r.endpoint.port,
                user: r.endpoint.user.clone(),
                password: Some(PASSWORD.into()),
                dbname: "postgres".into(),
            }
        }
    };
    let dest_record = instances
        .create(CreateRequest {
            name: "dst".into(),
            major,
            bin_dir: Some(bin),
            ..Default::default()
        })
        .await
        .unwrap();
    let out = pgbench(&source)
        .args(["-i", "-q", "-s", "1"])
        .status()
        .unwrap();
    assert!(out.success(), "pgbench -i failed");
    Writer::prepare(&source).await.unwrap();
    let report = assess::assess(
        &instances,
        AssessRequest {
            source: "src".into(),
            dest: "dst".into(),
            mode: Mode::Migration,
            options: assess::Options {
                connect_timeout: Duration::from_secs(3),
                wal_sample: Duration::from_millis(300),
                ..assess::Options::default()
            },
        },
        &|_| {},
    )
    .await
    .unwrap();
    assert_ne!(
        report.verdict,
        Verdict::Error,
        "the assessment found errors"
    );
    let task = tasks
        .create(TaskRequest {
            source: "src".into(),
            dest: "dst".into(),
            mode: Mode::Migration,
            report_id: None,
            options: CopyOptions {
                sync: false,
                ..CopyOptions::default()
            },
        })
        .await
        .unwrap();
    tasks
        .wait_until(&task.id, "streaming", Duration::from_secs(240), |t| {
            t.replication == ReplicationState::Streaming
        })
        .await
        .unwrap();
    let streaming = tasks.get(task.id.as_str()).unwrap();
    if streaming.replication != ReplicationState::Streaming {
        // Not a switchover measurement: the caller runs the setup again.
        tasks.shutdown().await;
        return Err(format!(
            "the task did not reach streaming ({}): {}",
            streaming.phase,
            streaming.error.unwrap_or_default()
        ));
    }

    let dest = ConnParams {
        host: dest_record.endpoint.host.clone(),
        port: dest_record.endpoint.port,
        ..source.clone()
    };
    let load = Load(
        pgbench(&source)
            .args([
                "-n",
                "-c",
                "2",
                "-j",
                "2",
                "-T",
                "600",
                "-R",
                &rate.to_string(),
            ])
            .spawn()
            .unwrap(),
    );
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(
        writer
            .wait_for_target(0, 200, Duration::from_secs(60))
            .await
    );
    let (engine_ms, steps) = match kind {
        Kind::Engine(strategy) => {
            let report = engine_switchover(&tasks, task.id.as_str(), strategy).await;
            (
                report.window.write_unavailable_ms,
                report
                    .window
                    .steps
                    .iter()
                    .map(|s| (s.step.clone(), s.ms))
                    .collect(),
            )
        }
        Kind::Manual => {
            // The textbook procedure; nothing of pgrelocate's but the managed details.
            tasks.detach(&task.id).await;
            let src = instances.store().instance_by_name("src").unwrap();
            let m = src.managed.unwrap();
            let user = OsUser::for_servers(m.os_user.as_deref()).unwrap();
            let d = dest_record.managed.clone().unwrap();
            let started = std::time::Instant::now();
            control::stop(&m.bin_dir, &m.data_dir, user.as_ref())
                .await
                .unwrap();
            let stop_ms = started.elapsed().as_millis() as u64;
            control::promote(&d.bin_dir, &d.data_dir, user.as_ref(), true)
                .await
                .unwrap();
            let total = started.elapsed().as_millis() as u64;
            (
                total,
                vec![
                    ("stop".into(), stop_ms),
                    ("promote".into(), total - stop_ms),
                ],
            )
        }
    };
    assert!(writer.wait_for_target(1, 50, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    drop(load);
    let missing = log
        .missing_on(&dest.connect().await.unwrap())
        .await
        .unwrap();
    assert!(missing.is_empty(), "acknowledged commits lost: {missing:?}");
    tasks.shutdown().await;
    drop(cluster);
    Ok(Run {
        client_ms: log.window(0, 1).unwrap().as_secs_f64() * 1000.0,
        engine_ms,
        steps,
        source_acks: log.acked_by(0),
        dest_acks: log.acked_by(1),
    })
}

/// Runs pgrelocate's switchover; prints its steps with `PGRELOCATE_BENCH_STEPS`.
async fn engine_switchover(tasks: &Tasks, id: &str, strategy: FenceStrategy) -> SwitchoverReport {
    let started = std::time::Instant::now();
    let steps = std::sync::Mutex::new(Vec::new());
    let record = |p: &Progress| {
        if let Some(line) = describe(p) {
            steps.lock().unwrap().push(format!(
                "{:8.1} ms {line}",
                started.elapsed().as_secs_f64() * 1000.0
            ));
        }
    };
    let report = tasks
        .switchover(
            id,
            &Options {
                catchup_timeout: Duration::from_secs(60),
                ..Options::default()
            },
            &record,
        )
        .await
        .unwrap_or_else(|e| panic!("switchover failed: {e}"));
    if std::env::var_os("PGRELOCATE_BENCH_STEPS").is_some() {
        for line in steps.lock().unwrap().iter() {
            eprintln!("    {line}");
        }
    }
    assert_eq!(report.strategy, strategy);
    report
}

/// Stops every managed server of the state directory at the end of a run.
struct StopManaged(Arc<Instances>);

impl Drop for StopManaged {
    fn drop(&mut self) {
        use std::os::unix::process::CommandExt;
        let Ok(records) = self.0.store().list_instances() else {
            return;
        };
        for m in records.iter().filter_map(|r| r.managed.as_ref()) {
            if !m.data_dir.join("postmaster.pid").exists() {
                continue;
            }
            let mut cmd = Command::new(m.bin_dir.join("pg_ctl"));
            cmd.args(["stop", "-w", "-m", "immediate", "-D"])
                .arg(&m.data_dir)
                .current_dir("/")
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Ok(Some(user)) = OsUser::for_servers(m.os_user.as_deref()) {
                cmd.uid(user.uid).gid(user.gid);
            }
            let _ = cmd.status();
        }
    }
}
