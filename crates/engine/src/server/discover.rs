//! Finding PostgreSQL installations on this host: `PATH`, `/usr/lib/postgresql/*/bin`
//! (Debian, Ubuntu), `/usr/pgsql-*/bin` (PGDG RPMs), Homebrew's `postgresql@*` folders,
//! Postgres.app, and folders the user added (`PGRELOCATE_BIN_DIRS`, `--bin-dir`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ServerError;
use crate::version::ServerVersion;

/// Binaries a managed instance needs.
pub const REQUIRED: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Other binaries worth reporting (never required by the engine).
pub const OPTIONAL: [&str; 7] = [
    "psql",
    "pg_basebackup",
    "pg_verifybackup",
    "pg_controldata",
    "pg_dump",
    "pgbench",
    "pg_config",
];

/// Environment variable with extra folders to search (`:`-separated, like `PATH`).
pub const BIN_DIRS_ENV: &str = "PGRELOCATE_BIN_DIRS";

/// One folder of PostgreSQL binaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Installation {
    /// The folder.
    pub bin_dir: PathBuf,
    /// Version of its binaries.
    pub version: ServerVersion,
    /// The version line as printed, e.g. `postgres (PostgreSQL) 15.14 (Debian …)`.
    pub version_text: String,
    /// Which of [`REQUIRED`] and [`OPTIONAL`] are present.
    pub binaries: Vec<String>,
    /// Whether `initdb`, `pg_ctl` and `postgres` are all there.
    pub can_run_servers: bool,
}

impl Installation {
    /// Path of `program` in this installation.
    pub fn bin(&self, program: &str) -> PathBuf {
        self.bin_dir.join(exe(program))
    }

    /// Whether `program` is present.
    pub fn has(&self, program: &str) -> bool {
        self.binaries.iter().any(|b| b == program)
    }

    /// Inspects one folder; `Ok(None)` when it holds no PostgreSQL server binary.
    pub async fn inspect(bin_dir: &Path) -> Result<Option<Installation>, ServerError> {
        let present: Vec<String> = REQUIRED
            .iter()
            .chain(OPTIONAL.iter())
            .filter(|p| bin_dir.join(exe(p)).is_file())
            .map(|p| p.to_string())
            .collect();
        let Some(probe) = REQUIRED.iter().find(|p| present.iter().any(|q| q == *p)) else {
            return Ok(None);
        };
        let program = bin_dir.join(exe(probe));
        // `--version` is answered before PostgreSQL's refusal to run as root.
        let out = tokio::process::Command::new(&program)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(|source| ServerError::Spawn {
                program: program.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let version = text
            .split_once("(PostgreSQL)")
            .and_then(|(_, v)| ServerVersion::parse(v.trim()).ok())
            .ok_or_else(|| ServerError::UnknownVersion(program.clone()))?;
        Ok(Some(Installation {
            bin_dir: bin_dir.to_path_buf(),
            version,
            version_text: text,
            can_run_servers: REQUIRED.iter().all(|r| present.iter().any(|p| p == r)),
            binaries: present,
        }))
    }
}

fn exe(program: &str) -> String {
    format!("{program}{}", std::env::consts::EXE_SUFFIX)
}

/// Folders to search, in order, without duplicates: `extra` (user-added) first.
pub fn candidate_dirs(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    if let Some(env) = std::env::var_os(BIN_DIRS_ENV) {
        dirs.extend(std::env::split_paths(&env));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let globs: [(&str, &str, &str); 6] = [
        ("/usr/lib/postgresql", "", "bin"),
        ("/usr", "pgsql-", "bin"),
        ("/opt/homebrew/opt", "postgresql", "bin"),
        ("/usr/local/opt", "postgresql", "bin"),
        ("/Applications/Postgres.app/Contents/Versions", "", "bin"),
        ("C:\\Program Files\\PostgreSQL", "", "bin"),
    ];
    for (parent, prefix, sub) in globs {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path().join(sub))
            .collect();
        found.sort();
        found.reverse(); // newest major first
        dirs.extend(found);
    }
    let mut seen = HashSet::new();
    dirs.into_iter()
        .filter(|d| d.is_dir())
        .map(|d| real_dir(&d))
        .filter(|d| seen.insert(d.clone()))
        .collect()
}

/// The folder an installation really lives in. A folder on `PATH` often holds only links
/// to the server binaries (`/usr/local/bin/postgres` → `/usr/lib/postgresql/15/bin`): the
/// installation is the folder they point into, which also has the client tools, and is
/// listed once.
fn real_dir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir.join(exe("postgres")))
        .ok()
        .and_then(|postgres| postgres.parent().map(Path::to_path_buf))
        .or_else(|| std::fs::canonicalize(dir).ok())
        .unwrap_or_else(|| dir.to_path_buf())
}

/// Every installation found, newest version first.
pub async fn discover(extra: &[PathBuf]) -> Vec<Installation> {
    let mut found = Vec::new();
    for dir in candidate_dirs(extra) {
        match Installation::inspect(&dir).await {
            Ok(Some(i)) => found.push(i),
            Ok(None) => {}
            Err(e) => tracing::debug!(dir = %dir.display(), error = %e, "skipped"),
        }
    }
    found.sort_by_key(|i| std::cmp::Reverse(i.version));
    found
}

/// The newest installation of `major` able to run servers.
pub async fn find_major(major: u32, extra: &[PathBuf]) -> Option<Installation> {
    discover(extra)
        .await
        .into_iter()
        .find(|i| i.version.major == major && i.can_run_servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finds_debians_postgresql_with_its_binaries() {
        let debian = Path::new("/usr/lib/postgresql/15/bin");
        if !debian.join("postgres").exists() {
            panic!(
                "this test expects Debian's postgresql-15 in {}",
                debian.display()
            );
        }
        let all = discover(&[]).await;
        let i = all
            .iter()
            .find(|i| i.bin_dir == debian)
            .unwrap_or_else(|| panic!("not found among {all:?}"));
        assert_eq!(i.version.major, 15);
        assert!(i.can_run_servers && i.has("pg_basebackup") && i.has("psql"));
        assert_eq!(find_major(15, &[]).await.unwrap().version.major, 15);
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_of_links_to_the_server_binaries_is_the_folder_they_point_into() {
        let debian = Path::new("/usr/lib/postgresql/15/bin");
        let links = tempfile::tempdir().unwrap();
        for program in REQUIRED {
            std::os::unix::fs::symlink(debian.join(program), links.path().join(program)).unwrap();
        }
        let dirs = candidate_dirs(&[links.path().to_path_buf()]);
        assert_eq!(dirs[0], debian, "{dirs:?}");
        assert_eq!(dirs.iter().filter(|d| *d == debian).count(), 1, "{dirs:?}");
        assert!(!dirs.iter().any(|d| d == links.path()), "{dirs:?}");
    }

    #[tokio::test]
    async fn a_folder_without_server_binaries_is_not_an_installation() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Installation::inspect(dir.path()).await.unwrap(), None);
    }
}
