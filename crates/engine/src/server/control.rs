//! Starting, stopping and checking a managed cluster with `pg_ctl`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::{run, tail, OsUser, ServerError};

/// How long `pg_ctl` waits for a start or stop.
pub const WAIT: Duration = Duration::from_secs(120);

/// What `pg_ctl status` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// A postmaster is running on the data directory.
    Running,
    /// No server is running.
    Stopped,
    /// The data directory is missing or not a cluster.
    Missing,
}

impl RunState {
    /// `running` / `stopped` / `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Stopped => "stopped",
            RunState::Missing => "missing",
        }
    }
}

/// The server log pgrelocate's `pg_ctl start` writes to.
pub fn log_file(data_dir: &Path) -> PathBuf {
    data_dir.join("log").join("server.log")
}

/// The cluster's state.
pub async fn status(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
) -> Result<RunState, ServerError> {
    if !data_dir.join("PG_VERSION").is_file() {
        return Ok(RunState::Missing);
    }
    let args = [OsStr::new("status"), OsStr::new("-D"), data_dir.as_os_str()];
    let (status, output) = run(bin_dir, "pg_ctl", &args, os_user).await?;
    match status.code() {
        Some(0) => Ok(RunState::Running),
        Some(3) => Ok(RunState::Stopped),
        Some(4) => Ok(RunState::Missing),
        _ => Err(ServerError::Failed {
            program: "pg_ctl",
            status: status.to_string(),
            output: tail(&output, 10),
        }),
    }
}

/// Starts the cluster and waits until it accepts connections. Already running: no-op.
pub async fn start(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
) -> Result<(), ServerError> {
    if status(bin_dir, data_dir, os_user).await? == RunState::Running {
        return Ok(());
    }
    let log = log_file(data_dir);
    if let Some(dir) = log.parent().filter(|d| !d.exists()) {
        super::os_user::create_private_dir(dir, os_user)?;
    }
    let wait = WAIT.as_secs().to_string();
    let args = [
        OsStr::new("start"),
        OsStr::new("-w"),
        OsStr::new("-t"),
        OsStr::new(&wait),
        OsStr::new("-D"),
        data_dir.as_os_str(),
        OsStr::new("-l"),
        log.as_os_str(),
    ];
    let (status, output) = run(bin_dir, "pg_ctl", &args, os_user).await?;
    if !status.success() {
        let server_log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(ServerError::StartFailed {
            log: format!("{}\n{}", tail(&output, 5), tail(&server_log, 15))
                .trim()
                .to_string(),
        });
    }
    Ok(())
}

/// Stops the cluster with a fast shutdown (clients disconnected, clean checkpoint).
/// Already stopped: no-op.
pub async fn stop(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
) -> Result<(), ServerError> {
    stop_in(bin_dir, data_dir, os_user, "fast").await
}

/// Stops the cluster without a checkpoint (`-m immediate`): its WAL stays as it is, for a
/// `pg_rewind` that must read back to where its timeline forked. Already stopped: no-op.
pub async fn stop_immediately(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
) -> Result<(), ServerError> {
    stop_in(bin_dir, data_dir, os_user, "immediate").await
}

async fn stop_in(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
    mode: &str,
) -> Result<(), ServerError> {
    if status(bin_dir, data_dir, os_user).await? != RunState::Running {
        return Ok(());
    }
    let wait = WAIT.as_secs().to_string();
    let args = [
        OsStr::new("stop"),
        OsStr::new("-m"),
        OsStr::new(mode),
        OsStr::new("-w"),
        OsStr::new("-t"),
        OsStr::new(&wait),
        OsStr::new("-D"),
        data_dir.as_os_str(),
    ];
    let (status, output) = run(bin_dir, "pg_ctl", &args, os_user).await?;
    if !status.success() {
        return Err(ServerError::Failed {
            program: "pg_ctl",
            status: status.to_string(),
            output: tail(&output, 10),
        });
    }
    Ok(())
}

/// Promotes a standby with `pg_ctl promote` (every version). With `wait`, returns once it
/// accepts writes (pg_ctl checks every 100 ms, for at most [`WAIT`]); without, as soon as
/// the server was signalled.
pub async fn promote(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
    wait: bool,
) -> Result<(), ServerError> {
    let seconds = WAIT.as_secs().to_string();
    let mut args = vec![OsStr::new("promote")];
    if wait {
        args.extend([OsStr::new("-w"), OsStr::new("-t"), OsStr::new(&seconds)]);
    } else {
        args.push(OsStr::new("-W"));
    }
    args.extend([OsStr::new("-D"), data_dir.as_os_str()]);
    let (status, output) = run(bin_dir, "pg_ctl", &args, os_user).await?;
    if !status.success() {
        return Err(ServerError::Failed {
            program: "pg_ctl",
            status: status.to_string(),
            output: tail(&output, 10),
        });
    }
    Ok(())
}

/// Asks for a fast shutdown and returns at once (`pg_ctl stop -m fast -W`); the caller
/// watches for the end (the postmaster removes `postmaster.pid` last), more often than
/// `pg_ctl -w` would (every 100 ms).
pub async fn request_fast_stop(
    bin_dir: &Path,
    data_dir: &Path,
    os_user: Option<&OsUser>,
) -> Result<(), ServerError> {
    let args = [
        OsStr::new("stop"),
        OsStr::new("-m"),
        OsStr::new("fast"),
        OsStr::new("-W"),
        OsStr::new("-D"),
        data_dir.as_os_str(),
    ];
    let (status, output) = run(bin_dir, "pg_ctl", &args, os_user).await?;
    if !status.success() {
        return Err(ServerError::Failed {
            program: "pg_ctl",
            status: status.to_string(),
            output: tail(&output, 10),
        });
    }
    Ok(())
}
