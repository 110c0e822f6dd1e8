//! `pgrelocate backup`: a raw base backup of a registered instance into a directory, with a
//! progress bar (or JSON lines with `--json`). Ctrl-C cancels and removes the partial copy.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pgrelocate_engine::backup::{
    self, progress, BackupError, BackupOptions, BackupOutcome, BackupProgress, Compression,
    MaxRate, Owner, Phase, TablespaceMapping,
};
use pgrelocate_engine::server::os_user::OsUser;
use pgrelocate_engine::wire::WireError;
use pgrelocate_engine::Coded;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::args::{self, BackupArgs};
use crate::exit::CliError;
use crate::state::open;

/// Runs `pgrelocate backup`.
pub async fn run(args: BackupArgs) -> Result<i32, CliError> {
    let options = options(&args)?;
    let instances = open()?;
    let record = instances
        .store()
        .instance_by_name(&args.source)
        .map_err(CliError::from)?;
    // Without a reachable keyring, try anyway: trust or a server that needs no password
    // still works; the keyring's explanation is shown if the server does ask for one.
    let (password, keyring_problem) = match instances.password_for(&record).await {
        Ok(p) => (p, None),
        Err(e) => (None, Some(CliError::from(e))),
    };

    let (tx, rx) = progress::channel();
    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let reporter = tokio::spawn(report_progress(rx, args.json));
    let result = backup::run(&record.endpoint, password.as_ref(), &options, tx, cancel).await;
    // The sender is gone once `run` returns, which ends the reporter.
    let _ = reporter.await;
    let outcome = result.map_err(|e| match (e, keyring_problem) {
        (BackupError::Wire(w), Some(problem)) if matches!(*w, WireError::PasswordRequired) => {
            problem
        }
        (e, _) => cli_error(e),
    })?;
    if args.json {
        print_line(&Event::Done(&outcome));
    } else {
        print_summary(&outcome, &options);
    }
    Ok(0)
}

fn options(args: &BackupArgs) -> Result<BackupOptions, CliError> {
    let mut options = BackupOptions::new(&args.target_dir);
    options.tablespace_mappings = args
        .tablespace_mappings
        .iter()
        .map(|m| m.parse::<TablespaceMapping>())
        .collect::<Result<_, _>>()
        .map_err(CliError::from)?;
    options.compression = match args.compress {
        args::Compression::None => Compression::None,
        args::Compression::Lz4 => Compression::Lz4,
        args::Compression::Zstd => Compression::Zstd,
    };
    options.max_rate = args
        .max_rate
        .as_deref()
        .map(str::parse::<MaxRate>)
        .transpose()
        .map_err(CliError::from)?;
    options.sync = !args.no_sync;
    // As root, the copy belongs to the account the destination server will run as.
    options.owner = OsUser::for_servers(None)
        .map_err(CliError::from)?
        .map(|u| Owner {
            uid: u.uid,
            gid: u.gid,
        });
    Ok(options)
}

fn cli_error(e: BackupError) -> CliError {
    match e {
        BackupError::Cancelled => CliError::Engine {
            code: e.code(),
            message: "cancelled; the partial copy was removed".into(),
        },
        other => other.into(),
    }
}

/// One JSON line of `--json` output.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event<'a> {
    Progress(&'a BackupProgress),
    Done(&'a BackupOutcome),
}

fn print_line(event: &Event<'_>) {
    if let Ok(line) = serde_json::to_string(event) {
        println!("{line}");
    }
}

async fn report_progress(mut rx: tokio::sync::watch::Receiver<BackupProgress>, json: bool) {
    let bar = (!json).then(|| {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:<28} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut last_phase = None;
    while rx.changed().await.is_ok() {
        let p = rx.borrow_and_update().clone();
        if json {
            print_line(&Event::Progress(&p));
            continue;
        }
        let Some(bar) = &bar else { continue };
        if let Some(total) = p.bytes_total {
            bar.set_length(total);
        }
        bar.set_position(p.bytes_done);
        bar.set_message(describe(&p));
        if last_phase != Some(p.phase) && !std::io::stderr().is_terminal() {
            eprintln!("{}", describe(&p));
        }
        last_phase = Some(p.phase);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn describe(p: &BackupProgress) -> String {
    match p.phase {
        Phase::Connecting => "connecting".into(),
        Phase::Checkpoint => "waiting for the checkpoint".into(),
        Phase::Copying => format!("copying {}", p.archive.as_deref().unwrap_or("")),
        Phase::Verifying => "checking the manifest".into(),
        Phase::Syncing => "flushing to disk".into(),
        Phase::Done => "done".into(),
    }
}

fn print_summary(o: &BackupOutcome, options: &BackupOptions) {
    println!(
        "copied PostgreSQL {} into {}: {} files, {:.1} MiB in {:.1} s",
        o.server_version,
        options.target_dir.display(),
        o.files,
        o.bytes as f64 / (1 << 20) as f64,
        o.elapsed_secs
    );
    println!(
        "  WAL from {} to {} on timeline {} (system identifier {})",
        o.start_lsn, o.end_lsn, o.timeline, o.system_id
    );
    for t in &o.tablespaces {
        println!(
            "  tablespace {}: {} -> {}",
            t.oid,
            t.source_location,
            t.target.display()
        );
    }
    match o.manifest_files_verified {
        Some(n) => println!("  backup manifest: {n} files verified"),
        None => println!("  no backup manifest (PostgreSQL 12 and older)"),
    }
    if !options.sync {
        println!("  not flushed to disk (--no-sync)");
    }
}
