//! Benchmark (not a test): pgrelocate's base backup against `pg_basebackup -X none -c fast`
//! on the same pgbench source in one run, alternating, with and without fsync. Prints each
//! median, the ratio (pgrelocate / pg_basebackup; below 1.0 is faster) and peak memory.
//!
//!   cargo bench -p pgrelocate-engine --bench base_backup
//!
//! Environment: `PGRELOCATE_BENCH_SCALE` (pgbench scale, default 130 ≈ 2 GB),
//! `PGRELOCATE_BENCH_RUNS` (runs per tool and mode, default 3). Needs Debian's PostgreSQL 15
//! (server, pgbench, pg_basebackup). Each backup runs in a child process so its peak RSS
//! can be read from wait4().

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pgrelocate_engine::backup::{self, progress, BackupOptions, Owner};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::{Cluster, Flavour, DEBIAN_MAJOR};
use tokio_util::sync::CancellationToken;

const WORKER_ENV: &str = "PGRELOCATE_BENCH_WORKER";

fn main() {
    // Test runners list every target (`cargo test --all-targets`, nextest): a benchmark has
    // no tests to list and must not start measuring then.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        worker(&spec);
        return;
    }
    // cargo bench passes `--bench`; a filter argument would be meaningless here.
    let scale: u32 = env_or("PGRELOCATE_BENCH_SCALE", 130);
    let runs: usize = env_or("PGRELOCATE_BENCH_RUNS", 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let source = rt.block_on(async {
        Cluster::builder(DEBIAN_MAJOR)
            .flavour(Flavour::Debian)
            .setting("max_wal_size", "4GB")
            .setting("checkpoint_timeout", "30min")
            .start()
            .await
            .expect("cannot start the source cluster")
    });
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{DEBIAN_MAJOR}/bin"));
    let password = source.superuser_password().unwrap().to_string();
    let port = source.port().to_string();

    eprintln!("loading pgbench scale {scale} …");
    let started = Instant::now();
    let status = Command::new(bin.join("pgbench"))
        .args([
            "-i",
            "-q",
            "-s",
            &scale.to_string(),
            "-h",
            "127.0.0.1",
            "-p",
            &port,
        ])
        .args(["-U", source.superuser(), "postgres"])
        .env("PGPASSWORD", &password)
        .status()
        .unwrap();
    assert!(status.success(), "pgbench -i failed");
    rt.block_on(source.sql("CHECKPOINT")).unwrap();
    let size: i64 = rt
        .block_on(source.query_scalar("SELECT sum(pg_database_size(oid))::bigint FROM pg_database"))
        .unwrap();
    eprintln!(
        "source ready: {:.2} GiB in {:.0} s",
        size as f64 / (1u64 << 30) as f64,
        started.elapsed().as_secs_f64()
    );

    let work = tempfile::Builder::new()
        .prefix("pgrelocate-bench-")
        .tempdir_in("/tmp")
        .unwrap();
    let owner = source.server_user();
    let mut rows = Vec::new();
    for sync in [true, false] {
        let mut times = [Vec::new(), Vec::new()];
        let mut rss = [0u64, 0u64];
        for run in 0..runs {
            // Alternate which tool goes first, so neither always meets a warmer cache.
            let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
            for tool in order {
                let target = work.path().join(format!("copy-{tool}-{run}"));
                let mut cmd = if tool == 0 {
                    let mut c = Command::new(bin.join("pg_basebackup"));
                    c.args(["-X", "none", "-c", "fast", "-h", "127.0.0.1", "-p", &port])
                        .args(["-U", source.superuser(), "-D"])
                        .arg(&target)
                        .env("PGPASSWORD", &password);
                    if !sync {
                        c.arg("--no-sync");
                    }
                    c
                } else {
                    let mut c = Command::new(std::env::current_exe().unwrap());
                    let spec = serde_json::json!({
                        "port": source.port(),
                        "user": source.superuser(),
                        "password": password,
                        "target": target,
                        "sync": sync,
                        "uid": owner.switches.then_some(owner.uid),
                        "gid": owner.switches.then_some(owner.gid),
                    });
                    c.env(WORKER_ENV, spec.to_string());
                    c
                };
                let (elapsed, max_rss, cpu) = timed(&mut cmd);
                times[tool].push(elapsed);
                rss[tool] = rss[tool].max(max_rss);
                eprintln!(
                    "  {} {:<13} run {}: {:.2} s, CPU {:.2} s, peak RSS {} MiB",
                    if sync { "fsync   " } else { "no fsync" },
                    ["pg_basebackup", "pgrelocate"][tool],
                    run + 1,
                    elapsed.as_secs_f64(),
                    cpu.as_secs_f64(),
                    max_rss >> 20
                );
                std::fs::remove_dir_all(&target).unwrap();
            }
        }
        let base = median(&mut times[0]);
        let ours = median(&mut times[1]);
        rows.push((sync, base, ours, rss));
    }

    println!();
    println!(
        "base backup of a {:.2} GiB pgbench source (scale {scale}), PostgreSQL {DEBIAN_MAJOR}, {runs} runs each, medians:",
        size as f64 / (1u64 << 30) as f64
    );
    println!(
        "{:<9} {:>15} {:>12} {:>7} {:>12} {:>22}",
        "mode", "pg_basebackup", "pgrelocate", "ratio", "pgrelocate", "peak RSS (pgr / pgbb)"
    );
    for (sync, base, ours, rss) in rows {
        println!(
            "{:<9} {:>13.2} s {:>10.2} s {:>7.3} {:>7.0} MB/s {:>11} / {} MiB",
            if sync { "fsync" } else { "no fsync" },
            base.as_secs_f64(),
            ours.as_secs_f64(),
            ours.as_secs_f64() / base.as_secs_f64(),
            size as f64 / 1e6 / ours.as_secs_f64(),
            rss[1] >> 20,
            rss[0] >> 20,
        );
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `cmd` to completion; returns wall time, the child's peak RSS in bytes and its CPU
/// time (user + system).
// The child is reaped by wait4 (which std's wait() cannot give the rusage of).
#[allow(clippy::zombie_processes)]
fn timed(cmd: &mut Command) -> (Duration, u64, Duration) {
    let started = Instant::now();
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data filled by wait4 for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert!(
        pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "backup failed"
    );
    let cpu = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = cpu(usage.ru_utime) + cpu(usage.ru_stime);
    (elapsed, usage.ru_maxrss as u64 * 1024, cpu)
}

/// Child mode: one pgrelocate backup as described by the JSON spec.
fn worker(spec: &str) {
    let spec: serde_json::Value = serde_json::from_str(spec).unwrap();
    let endpoint = Endpoint::new(
        "127.0.0.1",
        spec["port"].as_u64().unwrap() as u16,
        spec["user"].as_str().unwrap(),
        None,
        SslMode::Disable,
    )
    .unwrap();
    let password = Password::new(spec["password"].as_str().unwrap());
    let mut options = BackupOptions::new(Path::new(spec["target"].as_str().unwrap()));
    options.sync = spec["sync"].as_bool().unwrap();
    if let (Some(uid), Some(gid)) = (spec["uid"].as_u64(), spec["gid"].as_u64()) {
        options.owner = Some(Owner {
            uid: uid as u32,
            gid: gid as u32,
        });
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        backup::run(
            &endpoint,
            Some(&password),
            &options,
            progress::channel().0,
            CancellationToken::new(),
        )
        .await
        .unwrap_or_else(|e| panic!("pgrelocate backup failed: {e}"));
    });
}
