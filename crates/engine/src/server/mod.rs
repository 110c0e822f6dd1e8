//! Managed local clusters: find PostgreSQL binaries, initdb, configure, start and stop, and
//! run all of it as the server's OS user when pgrelocate runs as root.
//!
//! Only `initdb`, `pg_ctl` and `postgres` are used; the engine never needs `psql` or
//! `pg_basebackup`.

pub mod config;
pub mod control;
pub mod discover;
pub mod initdb;
pub mod os_user;

use std::path::PathBuf;

pub use control::RunState;
pub use discover::Installation;
pub use os_user::OsUser;

/// Why a server operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{program} not found in {dir}")]
    MissingBinary { program: &'static str, dir: PathBuf },
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the version of {0}: its --version output is not understood")]
    UnknownVersion(PathBuf),
    #[error("{program} failed ({status}):\n{output}")]
    Failed {
        program: &'static str,
        status: String,
        output: String,
    },
    #[error("the server did not start:\n{log}")]
    StartFailed { log: String },
    #[error("OS user {0:?} does not exist; create it (e.g. `useradd --system postgres`) or set PGRELOCATE_SERVER_USER")]
    NoSuchOsUser(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot edit {path}: {message}")]
    Config { path: PathBuf, message: String },
}

impl ServerError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ServerError {
        let path = path.into();
        move |source| ServerError::Io { path, source }
    }
}

/// The last `lines` lines of a text, for error messages built from tool output and logs.
pub(crate) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs one server binary (as `os_user` when given) with stdin closed, and returns its exit
/// status and combined output. The environment's PG* variables are removed so a user's
/// `PGDATA` or `PGPORT` cannot redirect the command.
pub(crate) async fn run(
    bin_dir: &std::path::Path,
    program: &'static str,
    args: &[&std::ffi::OsStr],
    os_user: Option<&OsUser>,
) -> Result<(std::process::ExitStatus, String), ServerError> {
    let path = bin_dir.join(format!("{program}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        return Err(ServerError::MissingBinary {
            program,
            dir: bin_dir.to_path_buf(),
        });
    }
    let mut cmd = tokio::process::Command::new(&path);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(false);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    if let Some(user) = os_user {
        user.apply(&mut cmd);
    }
    tracing::debug!(
        program,
        ?args,
        user = os_user.map(|u| u.name.as_str()),
        "running"
    );
    let out = cmd.output().await.map_err(|source| ServerError::Spawn {
        program: path.clone(),
        source,
    })?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok((out.status, text))
}

impl crate::Coded for ServerError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::Server
    }
}
