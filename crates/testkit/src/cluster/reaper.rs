//! Cleaning up after test processes that died without dropping their clusters (SIGKILL, a
//! nextest timeout): their servers would otherwise run, and their directories stay, forever.
//!
//! Each cluster directory records the pid of the process that owns it. The first cluster a
//! process creates stops and removes the directories whose owner is gone.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::server_user::{process_exists, wait_for_exit, ServerUser};

/// Prefix of every cluster directory's name.
pub(super) const DIR_PREFIX: &str = "pgrelocate-cluster-";
const OWNER_FILE: &str = "testkit-owner";
/// Marks a directory left on purpose (`PGRELOCATE_KEEP_CLUSTERS`): never reaped.
pub(super) const KEPT_FILE: &str = "kept";

/// Records that this process owns the cluster in `root`, run with binaries from `bin_dir`.
pub(super) fn write_owner(root: &Path, bin_dir: &Path) -> Result<()> {
    let path = root.join(OWNER_FILE);
    let text = format!("{}\n{}\n", std::process::id(), bin_dir.display());
    fs::write(&path, text).map_err(Error::io("write", &path))
}

/// Reaps abandoned clusters under `base`, once per process, ignoring failures.
pub(super) fn reap_abandoned_once(base: &Path, user: &ServerUser) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        reap_abandoned_in(base, user);
    });
}

/// Stops and removes every cluster whose owning process is gone; returns their directories.
/// Failures are ignored: a directory that cannot be removed is simply left.
pub fn reap_abandoned() -> Result<Vec<PathBuf>> {
    Ok(reap_abandoned_in(
        &super::clusters_dir(),
        ServerUser::get()?,
    ))
}

fn reap_abandoned_in(base: &Path, user: &ServerUser) -> Vec<PathBuf> {
    let mut reaped = Vec::new();
    let Ok(entries) = fs::read_dir(base) else {
        return reaped;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        let root = entry.path();
        let Some((pid, bin_dir)) = owner(&root) else {
            // Being created right now, or not ours.
            continue;
        };
        if process_exists(pid) || root.join(KEPT_FILE).exists() {
            continue;
        }
        let data = root.join("data");
        let postmaster = fs::read_to_string(data.join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok());
        if let Some(pid) = postmaster {
            let mut cmd = Command::new(bin_dir.join("pg_ctl"));
            cmd.args(["stop", "-m", "immediate", "-w", "-t", "30", "-D"])
                .arg(&data)
                .current_dir("/")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            user.apply_std(&mut cmd);
            let _ = cmd.status();
            wait_for_exit(pid, Duration::from_secs(10));
        }
        if fs::remove_dir_all(&root).is_ok() {
            reaped.push(root);
        }
    }
    reaped
}

fn owner(root: &Path) -> Option<(u32, PathBuf)> {
    let text = fs::read_to_string(root.join(OWNER_FILE)).ok()?;
    let mut lines = text.lines();
    let pid = lines.next()?.parse().ok()?;
    let bin_dir = PathBuf::from(lines.next()?);
    Some((pid, bin_dir))
}
