//! The system's OpenSSH client, so the DBA's `~/.ssh/config`, known_hosts, ssh-agent,
//! ProxyJump and hardware keys work unchanged. Every call is non-interactive (`BatchMode`:
//! no password or passphrase prompt, no host key question), checks host keys strictly
//! against the user's known_hosts files plus pgrelocate's own (where keys accepted in
//! pgrelocate go), and shares one multiplexed connection per host (`ControlMaster`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::store::HostRecord;

/// Environment variable naming an ssh_config file to use instead of `~/.ssh/config`
/// (`ssh -F`); the tests use it to keep the machine's files out.
pub const SSH_CONFIG_ENV: &str = "PGRELOCATE_SSH_CONFIG";

/// How long an idle multiplexed connection stays up.
const CONTROL_PERSIST_SECS: u32 = 120;
/// A Unix socket path must fit in `sun_path` (108 bytes on Linux), with ssh's suffix.
const MAX_CONTROL_PATH: usize = 90;

/// Why an ssh call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SshError {
    #[error("the OpenSSH client (ssh) is not installed: {0}")]
    NoClient(String),
    #[error("cannot run ssh: {0}")]
    Spawn(String),
    #[error("the SSH host key of {host} is not known")]
    KeyUnknown { host: String },
    #[error(
        "the SSH host key of {host} has CHANGED (it now offers {}): refused; if the host was \
         reinstalled, remove its old key from the known_hosts file and add the host again",
        .offered.as_deref().unwrap_or("an unknown key")
    )]
    KeyChanged {
        host: String,
        offered: Option<String>,
    },
    #[error(
        "SSH refused the login to {host}: pgrelocate logs in with a key or an ssh-agent only, \
         never a password (add your key to the host's authorized_keys, or give --identity)"
    )]
    Auth { host: String },
    #[error("the host name of {host} does not resolve")]
    NotFound { host: String },
    #[error("nothing listens for SSH at {host} (connection refused)")]
    Refused { host: String },
    #[error("no answer from {host} within the connect timeout")]
    Timeout { host: String },
    #[error("no route to {host}")]
    Unreachable { host: String },
    #[error("ssh to {host} failed: {stderr}")]
    Failed { host: String, stderr: String },
    #[error("a command on {host} failed (exit status {status}): {stderr}")]
    Remote {
        host: String,
        status: i32,
        stderr: String,
    },
}

impl crate::Coded for SshError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            SshError::NoClient(_) | SshError::Spawn(_) | SshError::Failed { .. } => ErrorCode::Ssh,
            SshError::KeyUnknown { .. } => ErrorCode::HostKeyUnknown,
            SshError::KeyChanged { .. } => ErrorCode::HostKeyChanged,
            SshError::Auth { .. } => ErrorCode::SshAuthFailed,
            SshError::NotFound { .. } => ErrorCode::HostNotFound,
            SshError::Refused { .. } => ErrorCode::ConnectionRefused,
            SshError::Timeout { .. } => ErrorCode::ConnectTimeout,
            SshError::Unreachable { .. } => ErrorCode::HostUnreachable,
            SshError::Remote { .. } => ErrorCode::Ssh,
        }
    }
}

/// Reads what ssh said on stderr when it exited with 255 (its own failure).
pub fn classify(host: &str, stderr: &str) -> SshError {
    let host = host.to_string();
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("has changed and you have requested strict checking")
    {
        let offered = stderr
            .split_whitespace()
            .find(|w| w.starts_with("SHA256:"))
            .map(|w| w.trim_end_matches('.').to_string());
        return SshError::KeyChanged { host, offered };
    }
    if stderr.contains("host key is known for") || stderr.contains("Host key verification failed") {
        return SshError::KeyUnknown { host };
    }
    if stderr.contains("Permission denied (") {
        return SshError::Auth { host };
    }
    if stderr.contains("Could not resolve hostname") {
        return SshError::NotFound { host };
    }
    if stderr.contains("Connection refused") {
        return SshError::Refused { host };
    }
    if stderr.contains("timed out") {
        return SshError::Timeout { host };
    }
    if stderr.contains("No route to host") || stderr.contains("Network is unreachable") {
        return SshError::Unreachable { host };
    }
    SshError::Failed {
        host,
        stderr: stderr.trim().to_string(),
    }
}

/// How one host is reached.
#[derive(Debug, Clone)]
pub struct Ssh {
    /// `[user@]host`.
    destination: String,
    /// The registered name (messages).
    label: String,
    port: Option<u16>,
    identity: Option<PathBuf>,
    /// pgrelocate's ssh folder: its known_hosts, the control sockets.
    dir: PathBuf,
    /// Keys being accepted by a `host add` that has not finished (kept apart until it has).
    pending_known_hosts: Option<PathBuf>,
    config: Option<PathBuf>,
}

impl Ssh {
    /// The ssh settings of `host`, with pgrelocate's files in `dir`.
    pub fn new(host: &HostRecord, dir: &Path) -> Ssh {
        Ssh {
            destination: host.destination(),
            label: host.name.clone(),
            port: host.ssh_port,
            identity: host.identity.clone(),
            dir: dir.to_path_buf(),
            pending_known_hosts: None,
            config: std::env::var_os(SSH_CONFIG_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Also trusts the keys in `file` (a `host add` accepting a key).
    pub fn with_pending_known_hosts(mut self, file: PathBuf) -> Ssh {
        self.pending_known_hosts = Some(file);
        self
    }

    /// The host's registered name.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// pgrelocate's own known_hosts file.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    fn base(&self) -> Command {
        let mut cmd = Command::new("ssh");
        if let Some(config) = &self.config {
            cmd.arg("-F").arg(config);
        }
        if let Some(port) = self.port {
            cmd.arg("-p").arg(port.to_string());
        }
        if let Some(identity) = &self.identity {
            cmd.arg("-i").arg(identity);
        }
        cmd.args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]);
        cmd.args([
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=4",
        ]);
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    /// What ssh's own configuration says for this destination (`ssh -G`).
    async fn effective(&self, key: &str) -> Vec<String> {
        let mut cmd = self.base();
        cmd.arg("-G").arg("--").arg(&self.destination);
        let Ok(out) = cmd.output().await else {
            return Vec::new();
        };
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')))
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The known_hosts files to check: the user's (as their config says) and ours.
    async fn known_hosts_option(&self) -> OsString {
        let mut files = self.effective("userknownhostsfile").await;
        files.push(self.known_hosts().to_string_lossy().into_owned());
        if let Some(pending) = &self.pending_known_hosts {
            files.push(pending.to_string_lossy().into_owned());
        }
        let quoted: Vec<String> = files.iter().map(|f| format!("\"{f}\"")).collect();
        format!("UserKnownHostsFile={}", quoted.join(" ")).into()
    }

    fn control_options(&self, cmd: &mut Command) {
        let path = self.dir.join("cm").join("%C");
        if path.as_os_str().len() + 40 <= MAX_CONTROL_PATH {
            let _ = std::fs::create_dir_all(self.dir.join("cm"));
            cmd.arg("-o").arg("ControlMaster=auto");
            cmd.arg("-o").arg(format!("ControlPath={}", path.display()));
            cmd.arg("-o")
                .arg(format!("ControlPersist={CONTROL_PERSIST_SECS}"));
        } else {
            tracing::debug!(dir = %self.dir.display(), "state folder too deep for a control socket: no multiplexing");
        }
    }

    /// `ssh … -- DESTINATION REMOTE`, strict about host keys and multiplexed. `remote` is
    /// one shell command line for the login shell on the host (quote its words).
    pub async fn command(&self, remote: &str) -> Command {
        let mut cmd = self.base();
        cmd.arg("-o").arg("StrictHostKeyChecking=yes");
        cmd.arg("-o").arg(self.known_hosts_option().await);
        self.control_options(&mut cmd);
        cmd.arg("--").arg(&self.destination).arg(remote);
        cmd
    }

    /// Runs `remote` and returns its stdout.
    pub async fn run(&self, remote: &str) -> Result<String, SshError> {
        match self.run_once(remote).await {
            // A multiplexed connection whose server went away fails silently until the
            // master notices; end it and connect afresh, once.
            Err(SshError::Failed { stderr, .. })
                if stderr.is_empty() || stderr.contains("mux_client") =>
            {
                tracing::debug!(host = %self.label, "stale multiplexed connection: reconnecting");
                self.close().await;
                self.run_once(remote).await
            }
            other => other,
        }
    }

    async fn run_once(&self, remote: &str) -> Result<String, SshError> {
        let mut cmd = self.command(remote).await;
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = cmd.output().await.map_err(|e| spawn_error(&e))?;
        self.finish(out.status, &out.stdout, &out.stderr)
    }

    /// Reads the exit status of an ssh run: 255 is ssh's own failure.
    pub fn finish(
        &self,
        status: std::process::ExitStatus,
        stdout: &[u8],
        stderr: &[u8],
    ) -> Result<String, SshError> {
        let stderr = String::from_utf8_lossy(stderr);
        match status.code() {
            Some(0) => Ok(String::from_utf8_lossy(stdout).into_owned()),
            Some(255) | None => Err(classify(&self.label, &stderr)),
            Some(status) => Err(SshError::Remote {
                host: self.label.clone(),
                status,
                stderr: stderr.trim().to_string(),
            }),
        }
    }

    /// Reads the key the host offers without trusting it: ssh records it into a throwaway
    /// known_hosts file and then tries no authentication at all (`none`), so nothing of
    /// ours is offered to an unverified host. Works through ProxyJump and config aliases.
    pub async fn offered_key_lines(&self, scratch: &Path) -> Result<String, SshError> {
        let mut cmd = self.base();
        cmd.arg("-o").arg("StrictHostKeyChecking=accept-new");
        cmd.arg("-o")
            .arg(format!("UserKnownHostsFile=\"{}\"", scratch.display()));
        cmd.args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "HashKnownHosts=no",
        ]);
        cmd.args([
            "-o",
            "PreferredAuthentications=none",
            "-o",
            "ControlMaster=no",
        ]);
        cmd.args(["-o", "ControlPath=none"]);
        cmd.arg("--").arg(&self.destination).arg("true");
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let out = cmd.output().await.map_err(|e| spawn_error(&e))?;
        let lines = std::fs::read_to_string(scratch).unwrap_or_default();
        if lines.trim().is_empty() {
            return Err(classify(&self.label, &String::from_utf8_lossy(&out.stderr)));
        }
        Ok(lines)
    }

    /// Closes the multiplexed connection, if one is up.
    pub async fn close(&self) {
        let mut cmd = self.base();
        self.control_options(&mut cmd);
        cmd.args(["-O", "exit", "--"]).arg(&self.destination);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let _ = cmd.status().await;
    }
}

pub(crate) fn spawn_error(e: &std::io::Error) -> SshError {
    if e.kind() == std::io::ErrorKind::NotFound {
        SshError::NoClient(e.to_string())
    } else {
        SshError::Spawn(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_failures_are_named() {
        let changed = "@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
            The fingerprint for the ED25519 key sent by the remote host is\n\
            SHA256:qNdSClfMMFw0zuRyFmHwODfV7Nx8Ubdk8ztp+ezd4hE.\nPlease contact";
        assert!(matches!(
            classify("b", changed),
            SshError::KeyChanged { offered: Some(fp), .. }
                if fp == "SHA256:qNdSClfMMFw0zuRyFmHwODfV7Nx8Ubdk8ztp+ezd4hE"
        ));
        let unknown = "No ED25519 host key is known for [127.0.0.1]:22991 and you have \
            requested strict checking.\nHost key verification failed.";
        assert!(matches!(
            classify("b", unknown),
            SshError::KeyUnknown { .. }
        ));
        assert!(matches!(
            classify("b", "postgres@127.0.0.1: Permission denied (publickey)."),
            SshError::Auth { .. }
        ));
        assert!(matches!(
            classify(
                "b",
                "ssh: connect to host 127.0.0.1 port 22992: Connection refused"
            ),
            SshError::Refused { .. }
        ));
        assert!(matches!(
            classify(
                "b",
                "ssh: Could not resolve hostname x.invalid: Name or service not known"
            ),
            SshError::NotFound { .. }
        ));
        assert!(matches!(
            classify(
                "b",
                "ssh: connect to host 10.0.0.1 port 22: Connection timed out"
            ),
            SshError::Timeout { .. }
        ));
    }
}
