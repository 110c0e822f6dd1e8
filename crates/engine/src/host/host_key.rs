//! Host keys: what a host offers (with its fingerprint, to show the DBA) and accepting one
//! into pgrelocate's own known_hosts file. The user's known_hosts files are never written.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ssh::{Ssh, SshError};

/// A key a host offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct HostKey {
    /// Key type as ssh-keygen names it (`ED25519`, `ECDSA`, `RSA`).
    pub kind: String,
    /// `SHA256:…`, as `ssh-keygen -l` and ssh's own prompts show it.
    pub fingerprint: String,
    /// The known_hosts line.
    #[serde(skip)]
    #[ts(skip)]
    pub line: String,
}

/// The keys `ssh` is offered by the host (normally one: the type ssh negotiates).
pub async fn offered(ssh: &Ssh) -> Result<Vec<HostKey>, SshError> {
    let scratch = tempfile::tempdir().map_err(|e| SshError::Spawn(e.to_string()))?;
    let file = scratch.path().join("known_hosts");
    let lines = ssh.offered_key_lines(&file).await?;
    let out = tokio::process::Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(&file)
        .output()
        .await
        .map_err(|e| super::ssh::spawn_error(&e))?;
    let listed = String::from_utf8_lossy(&out.stdout);
    let mut keys = Vec::new();
    // ssh-keygen lists the file's lines in order: `256 SHA256:… host (ED25519)`.
    for (line, listing) in lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .zip(listed.lines())
    {
        let fingerprint = listing.split_whitespace().nth(1).unwrap_or_default();
        let kind = listing
            .rsplit_once('(')
            .map(|(_, k)| k.trim_end_matches(')'))
            .unwrap_or_default();
        keys.push(HostKey {
            kind: kind.to_string(),
            fingerprint: fingerprint.to_string(),
            line: line.to_string(),
        });
    }
    if keys.is_empty() {
        return Err(SshError::Failed {
            host: ssh.label().to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(keys)
}

/// Whether `given` names `key`'s fingerprint (with or without the `SHA256:` prefix).
pub fn matches(key: &HostKey, given: &str) -> bool {
    let given = given.trim();
    let bare = |s: &str| s.strip_prefix("SHA256:").unwrap_or(s).to_string();
    !given.is_empty() && bare(&key.fingerprint) == bare(given)
}

/// Appends `keys` to the known_hosts `file` (0600, created when missing).
pub fn append(file: &Path, keys: &[HostKey]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(file)?;
    for key in keys {
        writeln!(f, "{}", key.line)?;
    }
    f.sync_all()
}
