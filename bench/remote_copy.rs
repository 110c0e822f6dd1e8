//! Benchmark (not a test): the full copy of a migration into a managed instance on a host
//! (driven there by the agent, over the test kit's real sshd on loopback) against the same
//! copy into a local managed instance, from the same pgbench source in one run, alternating.
//! Each run is timed from `pgrelocate migrate --no-sync` starting to `task status` saying
//! `increment` / `streaming`; the assessment it needs runs before, untimed, for both.
//! Prints each median and two ratios remote / local: of the copy itself (the `basebackup`
//! phase, timed by the driver's own phase events) — target ≤ 1.05: the host adds no cost to
//! the copy — and of the whole command, which adds the session that starts it (SSH, the
//! agent, the driver's start on the host).
//!
//! The real `pgrelocate` binary runs, so it needs the Secret Service:
//!
//!   xvfb-run -a dbus-run-session -- bash scripts/with-keyring.sh \
//!       cargo bench -p pgrelocate-cli --bench remote_copy
//!
//! (`cargo bench --profile dev …` skips the optimised build; both sides then run the same
//! debug binary, which is how the figures in docs/architecture.md were taken.)
//!
//! Environment: `PGRELOCATE_BENCH_SCALE` (pgbench scale, default 30 ≈ 450 MB),
//! `PGRELOCATE_BENCH_RUNS` (runs per destination, default 3). Needs Debian's PostgreSQL 15
//! (server, pgbench) and OpenSSH's sshd. Between runs the local task is cancelled and its
//! destination removed; the host's driver is killed and its destination removed (and the
//! source's slot it left dropped); every run gets a fresh destination.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pgrelocate_testkit::{Cluster, Flavour, PortBlock, SshServer, DEBIAN_MAJOR};
use serde_json::Value;

const HOST: &str = "b";
/// How long one copy (or a wait for a state) may take before the bench gives up.
const LIMIT: Duration = Duration::from_secs(1800);

fn main() {
    // Test runners list every target (`cargo test --all-targets`, nextest): a benchmark has
    // no tests to list and must not start measuring then.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        eprintln!(
            "no D-Bus session: run under `xvfb-run -a dbus-run-session -- bash scripts/with-keyring.sh cargo bench -p pgrelocate-cli --bench remote_copy`"
        );
        std::process::exit(2);
    }
    let scale: u32 = env_or("PGRELOCATE_BENCH_SCALE", 30);
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
    let password = source.superuser_password().unwrap().to_string();
    let bin = PathBuf::from(format!("/usr/lib/postgresql/{DEBIAN_MAJOR}/bin"));
    eprintln!("loading pgbench scale {scale} …");
    let status = Command::new(bin.join("pgbench"))
        .args([
            "-i",
            "-q",
            "-s",
            &scale.to_string(),
            "-h",
            "127.0.0.1",
            "-p",
        ])
        .arg(source.port().to_string())
        .args(["-U", source.superuser(), "postgres"])
        .env("PGPASSWORD", &password)
        .status()
        .unwrap();
    assert!(status.success(), "pgbench -i failed");
    rt.block_on(source.sql("CHECKPOINT")).unwrap();
    let size: i64 = rt
        .block_on(source.query_scalar("SELECT sum(pg_database_size(oid))::bigint FROM pg_database"))
        .unwrap();
    eprintln!("source ready: {:.0} MB", size as f64 / 1e6);

    let ssh = rt
        .block_on(SshServer::start())
        .expect("cannot start sshd (apt-get install openssh-server)");
    let cli = Cli::new(&ssh);
    cli.ok(
        &[
            "instance",
            "register",
            "src",
            "--host",
            "127.0.0.1",
            "--port",
            &source.port().to_string(),
            "--user",
            source.superuser(),
            "--password-stdin",
        ],
        &password,
    );
    cli.ok(
        &[
            "host",
            "add",
            HOST,
            "--ssh",
            &ssh.destination(),
            "--port",
            &ssh.port().to_string(),
            "--identity",
            &ssh.user_key().display().to_string(),
            "--accept-host-key",
            &ssh.host_key_fingerprint().unwrap(),
        ],
        "",
    );

    // [local, remote]
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    // From `migrate` starting to its first copy event with bytes done.
    let mut starts: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    // The `basebackup` phase, from the driver's phase events.
    let mut copies: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let mut port = cli.ports.first;
    for run in 0..runs {
        // Alternate which goes first, so neither always meets a warmer cache.
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let remote = which == 1;
            let name = format!("{}{}", ["local", "remote"][which], run + 1);
            // A fresh port each time: nothing of the previous destination lingers on it.
            if port > cli.ports.last {
                port = cli.ports.first;
            }
            let this_port = port.to_string();
            port += 1;
            let mut create = vec![
                "instance", "create", &name, "--major", "15", "--port", &this_port,
            ];
            let bin_dir = bin.display().to_string();
            if remote {
                create.extend(["--host", HOST]);
            } else {
                // The same Debian binaries the host's agent finds.
                create.extend(["--bin-dir", &bin_dir]);
            }
            cli.ok(&create, "");
            cli.ok(
                &["assess", "--source", "src", "--dest", &name, "--json"],
                "",
            );

            let started = Instant::now();
            let (task_id, first_byte, copy) = cli.migrate(&name);
            let status = cli.wait_status(&task_id, |s| {
                s["phase"] == "increment" && s["replication"] == "streaming"
            });
            let elapsed = started.elapsed();
            let first_byte = first_byte.unwrap_or(elapsed);
            let copy = copy.expect("no basebackup phase in the task's events");
            times[which].push(elapsed);
            starts[which].push(first_byte);
            copies[which].push(copy);
            eprintln!(
                "  {:<6} run {}: {:.2} s in all; the copy {:.2} s ({:.0} MB/s); first byte copied after {:.2} s",
                ["local", "remote"][which],
                run + 1,
                elapsed.as_secs_f64(),
                copy.as_secs_f64(),
                size as f64 / 1e6 / copy.as_secs_f64(),
                first_byte.as_secs_f64()
            );

            if remote {
                let slot = status["layout"]["slot_name"].as_str().map(str::to_string);
                if let Some(pid) = status["driver"]["pid"].as_i64() {
                    // SAFETY: kill has no memory effects.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                }
                cli.ok(&["instance", "remove", &name, "--yes"], "");
                // A driver the status did not name (its lease not yet mirrored) goes too.
                kill_matching(|cmd| {
                    cmd.contains(&ssh.remote_cache_dir().display().to_string())
                        && cmd.contains("--drive")
                });
                if let Some(slot) = slot {
                    rt.block_on(drop_slot(&source, &slot));
                }
            } else {
                cli.ok(&["task", "cancel", &task_id, "--yes"], "");
                cli.ok(&["instance", "remove", &name, "--yes"], "");
            }
        }
    }

    println!();
    println!(
        "copy of a {:.0} MB pgbench source (scale {scale}), PostgreSQL {DEBIAN_MAJOR}, {runs} runs each, medians:",
        size as f64 / 1e6
    );
    println!(
        "{:<8} {:>10} {:>11} {:>14} {:>17}",
        "", "the copy", "throughput", "migrate→streaming", "to first byte"
    );
    for (which, label) in ["local", "remote"].into_iter().enumerate() {
        let c = median(&mut copies[which]);
        println!(
            "{label:<8} {:>8.2} s {:>6.0} MB/s {:>15.2} s {:>15.2} s",
            c.as_secs_f64(),
            size as f64 / 1e6 / c.as_secs_f64(),
            median(&mut times[which]).as_secs_f64(),
            median(&mut starts[which]).as_secs_f64()
        );
    }
    // What the runs left behind: the agent's processes on the host, this state
    // directory's ssh connection master.
    kill_matching(|cmd| {
        cmd.contains(&ssh.remote_cache_dir().display().to_string())
            || cmd.contains(&cli.home.path().display().to_string())
    });
    let ratio = median(&mut copies[1]).as_secs_f64() / median(&mut copies[0]).as_secs_f64();
    println!(
        "ratio remote / local, the copy: {ratio:.3} (target ≤ 1.05: {})",
        if ratio <= 1.05 { "met" } else { "not met" }
    );
    let whole = median(&mut times[1]).as_secs_f64() / median(&mut times[0]).as_secs_f64();
    println!("ratio remote / local, migrate start → streaming: {whole:.3}");
}

/// SIGKILLs every process (but this one) whose command line `pick` chooses; the bench's
/// own children only, picked by the throwaway folders in their command lines.
fn kill_matching(pick: impl Fn(&str) -> bool) {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if pick(&cmd) {
            // SAFETY: kill has no memory effects.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

/// Drops the slot a removed destination on the host left on the source, once its
/// walreceiver is gone (the slot turns inactive).
async fn drop_slot(source: &Cluster, slot: &str) {
    let started = Instant::now();
    let sql = format!(
        "SELECT count(*) FROM (SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
         WHERE slot_name = '{}' AND NOT active) d",
        slot.replace('\'', "''")
    );
    let left = format!(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{}'",
        slot.replace('\'', "''")
    );
    loop {
        let _ = source.query_scalar::<i64>(&sql).await;
        if source.query_scalar::<i64>(&left).await.unwrap_or(1) == 0 {
            return;
        }
        if started.elapsed() > Duration::from_secs(60) {
            eprintln!("  (slot {slot} is still active on the source; left in place)");
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `pgrelocate` in a state directory of its own, with a port block no test uses and the
/// test sshd's client config.
struct Cli {
    home: tempfile::TempDir,
    ports: PortBlock,
    ssh_config: PathBuf,
}

impl Cli {
    fn new(ssh: &SshServer) -> Cli {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::Builder::new()
            .prefix("pgrelocate-bench-")
            .tempdir_in("/tmp")
            .unwrap();
        // The server user traverses it to the local destinations' data directories.
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        Cli {
            home,
            ports: PortBlock::reserve(),
            ssh_config: ssh.client_config(),
        }
    }

    /// `pgrelocate` with this state directory, port block and ssh config.
    fn command(&self) -> Command {
        let mut command = Command::new(binary());
        command
            .env("PGRELOCATE_HOME", self.home.path())
            .env("PGRELOCATE_PORTS", self.ports.env_value())
            .env("PGRELOCATE_SSH_CONFIG", &self.ssh_config);
        command
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "pgrelocate {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `migrate --no-sync --json` into `dest` to its end (the destination streams);
    /// returns the task id, when after the start its first copied byte was reported, and
    /// how long its `basebackup` phase took by the driver's own clock.
    fn migrate(&self, dest: &str) -> (String, Option<Duration>, Option<Duration>) {
        use std::io::BufRead;
        let started = Instant::now();
        let mut child = self
            .command()
            .args([
                "migrate",
                "--source",
                "src",
                "--dest",
                dest,
                "--no-sync",
                "--json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut task_id = None;
        let mut first_byte = None;
        let mut copy_started = None;
        let mut copy = None;
        let phase_at = |event: &Value, to: &str| {
            (event["event"] == "phase" && event["to"] == to)
                .then(|| event["at"].as_str()?.parse::<jiff::Timestamp>().ok())
                .flatten()
        };
        for line in stdout.lines() {
            let Ok(event) = serde_json::from_str::<Value>(&line.unwrap()) else {
                continue;
            };
            task_id = task_id.or(event["task_id"].as_str().map(str::to_string));
            if first_byte.is_none()
                && event["event"] == "copy"
                && event["bytes_done"].as_u64().unwrap_or(0) > 0
            {
                first_byte = Some(started.elapsed());
            }
            copy_started = copy_started.or(phase_at(&event, "basebackup"));
            if let (Some(from), Some(to)) = (copy_started, phase_at(&event, "startup")) {
                copy = copy.or(Some(to.duration_since(from).unsigned_abs()));
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "pgrelocate migrate into {dest} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            task_id.expect("migrate printed no task id"),
            first_byte,
            copy,
        )
    }

    /// Polls `task status` until `done` holds.
    fn wait_status(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let out = self.run(&["task", "status", id, "--json"], "");
            if out.status.success() {
                let status: Value = serde_json::from_slice(&out.stdout).unwrap();
                if done(&status) {
                    return status;
                }
                assert_ne!(status["phase"], "failed", "{status:#}");
                assert!(started.elapsed() < LIMIT, "still {status:#}");
            } else {
                assert!(
                    started.elapsed() < LIMIT,
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The CLI binary cargo built for this bench.
fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_pgrelocate"))
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
