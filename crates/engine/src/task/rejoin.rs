//! The old primary's side of the way back: what a reverse task does to the data directory
//! of a switched- or failed-over task's old source before it starts as a standby of the new
//! primary. Every step here works on a stopped cluster of this machine.
//!
//! - Whether `pg_rewind` can be used: data checksums (the new primary is a physical copy,
//!   so its `data_checksums` is the old source's) or `wal_log_hints` (the old source's own
//!   configuration, read with `postgres -C`), and a `pg_rewind` of the same major — in the
//!   instance's folder of binaries, else in an installation found on this machine.
//! - A cluster that was not shut down cleanly (a failover with the source stopped
//!   `-m immediate`) finishes its crash recovery first, in single-user mode: pg_rewind only
//!   takes a cleanly shut-down target (and before 13 cannot do that itself).
//! - pg_rewind copies the new primary's configuration files too: the old source's own
//!   `postgresql.conf`, `pg_hba.conf`, `pg_ident.conf` and `postgresql.auto.conf` are put
//!   back afterwards.
//! - The `sql` fence's `ALTER SYSTEM SET default_transaction_read_only = on` is lifted, so
//!   after a switch-back the node takes writes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::server::{self, OsUser, ServerError};
use crate::version::ServerVersion;

/// Files of the old source that stay its own through a rewind.
pub const OWN_FILES: [&str; 4] = [
    "postgresql.conf",
    "pg_hba.conf",
    "pg_ident.conf",
    "postgresql.auto.conf",
];

/// The old source's cluster on this machine.
#[derive(Debug, Clone)]
pub(crate) struct OldPrimary {
    pub data_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub major: u32,
    pub user: Option<OsUser>,
}

/// Why a rewind cannot be done, or what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindSupport {
    /// `data_checksums` is on.
    pub checksums: bool,
    /// The old source's `wal_log_hints` is on.
    pub wal_log_hints: bool,
    /// The folder of the `pg_rewind` of its major, if any.
    pub binary: Option<PathBuf>,
}

impl RewindSupport {
    /// Why pg_rewind cannot be used, if it cannot.
    pub fn missing(&self, major: u32) -> Option<String> {
        let mut why = Vec::new();
        if !self.checksums && !self.wal_log_hints {
            why.push(
                "the cluster has neither data checksums nor wal_log_hints (pg_rewind needs \
                 one of them to know which pages changed)"
                    .to_string(),
            );
        }
        if self.binary.is_none() {
            why.push(format!(
                "no pg_rewind of PostgreSQL {major} was found (neither beside the instance's \
                 server binaries nor in an installation on this machine)"
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// The folder holding a `pg_rewind` of `major`: `bin_dir` first, then the installations
/// found on this machine (see [`server::discover::candidate_dirs`]).
pub async fn rewind_binary(major: u32, bin_dir: &Path) -> Option<PathBuf> {
    if bin_dir.join("pg_rewind").is_file() {
        return Some(bin_dir.to_path_buf());
    }
    for dir in server::discover::candidate_dirs(&[]) {
        if !dir.join("pg_rewind").is_file() {
            continue;
        }
        if let Ok(Some(i)) = server::Installation::inspect(&dir).await {
            if i.version.major == major {
                return Some(dir);
            }
        }
    }
    None
}

/// A setting as the stopped (or running) cluster's configuration files give it
/// (`postgres -C`).
pub(crate) async fn setting(old: &OldPrimary, name: &str) -> Result<String, ServerError> {
    let args = [
        OsStr::new("-D"),
        old.data_dir.as_os_str(),
        OsStr::new("-C"),
        OsStr::new(name),
    ];
    let (status, output) = server::run(&old.bin_dir, "postgres", &args, old.user.as_ref()).await?;
    if !status.success() {
        return Err(ServerError::Failed {
            program: "postgres",
            status: status.to_string(),
            output: server::tail(&output, 5),
        });
    }
    Ok(output.trim().to_string())
}

/// Runs the crash recovery of a cluster that was not shut down cleanly, in single-user
/// mode (`postgres --single -D … template1` with no input): it replays its WAL, writes the
/// end-of-recovery checkpoint and shuts down cleanly. Standby signals are removed first
/// (single-user mode refuses standby mode); the caller writes its own afterwards.
pub(crate) async fn crash_recovery(old: &OldPrimary) -> Result<String, ServerError> {
    crate::retirement::remove_recovery_signal(&old.data_dir, old.major)?;
    for name in ["standby.signal", "recovery.signal"] {
        match std::fs::remove_file(old.data_dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ServerError::io(old.data_dir.join(name))(e)),
        }
    }
    // The end-of-recovery checkpoint must not recycle the WAL back to the fork, which
    // pg_rewind reads next: keep it all (the rewound standby recycles it later).
    let keep = if old.major >= 13 {
        "wal_keep_size=1TB"
    } else {
        "wal_keep_segments=65536"
    };
    let args = [
        OsStr::new("--single"),
        OsStr::new("-c"),
        OsStr::new(keep),
        OsStr::new("-D"),
        old.data_dir.as_os_str(),
        OsStr::new("template1"),
    ];
    let (status, output) = server::run(&old.bin_dir, "postgres", &args, old.user.as_ref()).await?;
    if !status.success() {
        return Err(ServerError::Failed {
            program: "postgres",
            status: status.to_string(),
            output: server::tail(&output, 15),
        });
    }
    Ok(output)
}

/// pg_rewind's outcome.
#[derive(Debug, Clone)]
pub(crate) struct Rewound {
    /// Bytes it copied (its own count, `--progress`).
    pub bytes: u64,
    /// Its output.
    pub output: String,
}

/// Runs `pg_rewind` from `rewind_dir` on the stopped old source against the new primary
/// (`conninfo`, no password inside: a `passfile=` when one is needed). `Err` carries the
/// exit status and the output's tail.
pub(crate) async fn rewind(
    old: &OldPrimary,
    rewind_dir: &Path,
    conninfo: &str,
) -> Result<Rewound, (String, String)> {
    let target = format!("--target-pgdata={}", old.data_dir.display());
    let source = format!("--source-server={conninfo}");
    let args = [
        OsStr::new(&target),
        OsStr::new(&source),
        OsStr::new("--progress"),
    ];
    match server::run(rewind_dir, "pg_rewind", &args, old.user.as_ref()).await {
        Ok((status, output)) if status.success() => Ok(Rewound {
            bytes: copied_bytes(&output).unwrap_or(0),
            output,
        }),
        Ok((status, output)) => Err((status.to_string(), server::tail(&output, 15))),
        Err(e) => Err(("not started".into(), e.to_string())),
    }
}

/// The bytes pg_rewind says it copied: the last `N/M kB (P%) copied` of its progress
/// (10–18 print the same), in bytes.
pub fn copied_bytes(output: &str) -> Option<u64> {
    output
        .rsplit(['\r', '\n'])
        .find_map(|line| {
            let line = line.trim();
            let rest = line.strip_suffix("copied")?.trim_end();
            let (figures, _) = rest.split_once(" kB")?;
            let (done, _) = figures.split_once('/')?;
            done.trim().parse::<u64>().ok()
        })
        .map(|kb| kb * 1024)
}

/// The old source's own configuration files, kept in memory through a rewind.
/// A file's path and, when it existed, its bytes and mode.
type Kept = (PathBuf, Option<(Vec<u8>, u32)>);

#[derive(Debug, Default)]
pub(crate) struct OwnFiles(Vec<Kept>);

impl OwnFiles {
    /// Reads [`OWN_FILES`] of `data_dir` (absent ones are recorded as absent).
    pub fn save(data_dir: &Path) -> std::io::Result<OwnFiles> {
        use std::os::unix::fs::PermissionsExt;
        let mut files = Vec::new();
        for name in OWN_FILES {
            let path = data_dir.join(name);
            let kept = match std::fs::read(&path) {
                Ok(bytes) => {
                    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
                    Some((bytes, mode))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            files.push((path, kept));
        }
        Ok(OwnFiles(files))
    }

    /// Writes them back as they were (removing one that was absent).
    pub fn restore(&self, owner: Option<&OsUser>) -> std::io::Result<()> {
        for (path, kept) in &self.0 {
            match kept {
                Some((bytes, mode)) => super::standby::write_owned(path, bytes, *mode, owner)?,
                None => match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(())
    }
}

/// The configuration text without any line setting `name`.
pub fn without_setting(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let key = line
            .split(['=', ' ', '\t'])
            .find(|s| !s.is_empty())
            .unwrap_or("");
        if key != name {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Removes the `sql` fence's `default_transaction_read_only` from the old source's
/// `postgresql.auto.conf` (where ALTER SYSTEM wrote it). Returns whether it was there.
pub(crate) fn lift_read_only(data_dir: &Path, owner: Option<&OsUser>) -> std::io::Result<bool> {
    let path = data_dir.join("postgresql.auto.conf");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let kept = without_setting(&text, "default_transaction_read_only");
    if kept == text {
        return Ok(false);
    }
    super::standby::write_owned(&path, kept.as_bytes(), 0o600, owner)?;
    Ok(true)
}

/// Removes a replication slot from a stopped cluster (its folder under `pg_replslot`): the
/// forward task's slot, kept on a source stopped by the `shutdown` fence, would hold WAL on
/// the standby it becomes. Returns whether it was there.
pub(crate) fn remove_slot(data_dir: &Path, slot: &str) -> std::io::Result<bool> {
    let dir = data_dir.join("pg_replslot").join(slot);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Bytes under `dir` (files only, links not followed): the data size a rejoin is compared
/// with.
pub fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

pub use crate::assess::export::human_bytes;

/// The version the standby configuration is written for.
pub(crate) fn version(major: u32) -> ServerVersion {
    ServerVersion::new(major, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copied_bytes_are_the_last_progress_figure() {
        let out = "pg_rewind: servers diverged at WAL location 0/3000060 on timeline 1\n\
                   pg_rewind: rewinding from last common checkpoint at 0/2000060 on timeline 1\n\
                   pg_rewind: reading source file list\n\
                   \r    0/52345 kB (0%) copied\r51234/52345 kB (97%) copied\r52345/52345 kB (100%) copied\n\
                   pg_rewind: syncing target data directory\npg_rewind: Done!\n";
        assert_eq!(copied_bytes(out), Some(52345 * 1024));
        assert_eq!(copied_bytes("pg_rewind: no rewind required\n"), None);
    }

    #[test]
    fn a_setting_is_removed_wherever_it_is_written() {
        let text = "# Do not edit this file manually!\nwork_mem = '64MB'\n\
                    default_transaction_read_only = 'on'\nport = 5433\n";
        assert_eq!(
            without_setting(text, "default_transaction_read_only"),
            "# Do not edit this file manually!\nwork_mem = '64MB'\nport = 5433\n"
        );
    }

    #[test]
    fn what_is_missing_for_a_rewind_is_said() {
        let all = RewindSupport {
            checksums: true,
            wal_log_hints: false,
            binary: Some("/usr/bin".into()),
        };
        assert_eq!(all.missing(15), None);
        let none = RewindSupport {
            checksums: false,
            wal_log_hints: false,
            binary: None,
        };
        let why = none.missing(15).unwrap();
        assert!(why.contains("wal_log_hints") && why.contains("pg_rewind of PostgreSQL 15"));
    }

    #[test]
    fn own_files_come_back_after_a_rewind_overwrote_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("postgresql.conf"), "port = 1\n").unwrap();
        let kept = OwnFiles::save(dir.path()).unwrap();
        std::fs::write(dir.path().join("postgresql.conf"), "port = 2\n").unwrap();
        std::fs::write(dir.path().join("pg_hba.conf"), "from the source\n").unwrap();
        kept.restore(None).unwrap();
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).ok();
        assert_eq!(read("postgresql.conf").as_deref(), Some("port = 1\n"));
        assert_eq!(read("pg_hba.conf"), None);
    }
}
