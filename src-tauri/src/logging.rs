//! Tracing to stderr and to a daily rolling file, filtered by `RUST_LOG` (default `info`).
//!
//! The file lives in the platform log directory (`~/.local/share/dev.pgrelocate.app/logs`
//! on Linux), or in `$PGRELOCATE_HOME/logs` when the state directory is overridden, so a
//! test run or a portable setup keeps everything in one folder.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// File name prefix of the log files (`pgrelocate-desktop.log.2026-11-24`).
pub const FILE_PREFIX: &str = "pgrelocate-desktop.log";

/// Days of log files kept.
const KEEP_FILES: usize = 14;

/// Keeps the file writer's background thread alive for the life of the process.
static GUARD: OnceLock<WorkerGuard> = OnceLock::new();

/// Where the log files go: `$PGRELOCATE_HOME/logs` when set, else the platform's.
pub fn log_dir(platform_dir: Option<PathBuf>) -> Option<PathBuf> {
    match std::env::var_os(pgrelocate_engine::home::HOME_ENV) {
        Some(home) if !home.is_empty() => Some(Path::new(&home).join("logs")),
        _ => platform_dir,
    }
}

/// Installs the global subscriber: stderr always, the rolling file when `dir` can be
/// created. A second call (e.g. from a test) is a no-op. Returns the folder in use.
pub fn init(dir: Option<PathBuf>) -> Option<PathBuf> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let file = dir.and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
        let appender = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix(FILE_PREFIX)
            .max_log_files(KEEP_FILES)
            .build(&dir)
            .ok()?;
        Some((dir, appender))
    });
    let stderr = fmt::layer().with_writer(std::io::stderr);
    match file {
        Some((dir, appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file_layer = fmt::layer().with_ansi(false).with_writer(writer);
            let installed = tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .with(file_layer)
                .try_init()
                .is_ok();
            if installed {
                let _ = GUARD.set(guard);
            }
            Some(dir)
        }
        None => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .try_init();
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // nextest runs each test in its own process, so setting the variable is safe here.
    #[test]
    fn an_overridden_state_directory_keeps_the_logs_beside_it() {
        std::env::set_var(pgrelocate_engine::home::HOME_ENV, "/tmp/pgr-state");
        assert_eq!(
            log_dir(Some(PathBuf::from(
                "/home/dba/.local/share/dev.pgrelocate.app/logs"
            ))),
            Some(PathBuf::from("/tmp/pgr-state/logs"))
        );
        std::env::remove_var(pgrelocate_engine::home::HOME_ENV);
        assert_eq!(
            log_dir(Some(PathBuf::from("/platform/logs"))),
            Some(PathBuf::from("/platform/logs"))
        );
    }
}
