//! Putting the agent on a host: one probe says what the host is and what it has; a
//! pgrelocate of the same version on its PATH is used as is, else the workstation's own
//! binary, cached per user under `${XDG_CACHE_HOME:-~/.cache}/pgrelocate/agent/<sha256>/`
//! (uploaded once, checked by checksum on arrival, renamed into place so parallel uploads
//! are safe, then run once; a `verified` mark beside it lets later calls use it directly).

use std::process::Stdio;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ssh::{spawn_error, Ssh, SshError};
use super::{HostError, HostProgress};
use crate::agent::binary::LocalAgent;
use crate::quote::shell::word;

/// Where the agent on a host comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum AgentPlacement {
    /// A pgrelocate of the same version installed on the host.
    Installed { path: String },
    /// The workstation's binary, uploaded before and found intact.
    Cached { path: String },
    /// The workstation's binary, uploaded now.
    Uploaded { path: String, bytes: u64 },
}

impl AgentPlacement {
    /// The agent's path on the host.
    pub fn path(&self) -> &str {
        match self {
            AgentPlacement::Installed { path }
            | AgentPlacement::Cached { path }
            | AgentPlacement::Uploaded { path, .. } => path,
        }
    }
}

/// What the probe read.
#[derive(Debug, Default)]
struct Probe {
    os: String,
    arch: String,
    cache: String,
    path_bin: Option<String>,
    path_version: Option<String>,
    /// An upload of this very binary (by checksum) that ran once already.
    cached: bool,
}

fn probe_script(sha: &str) -> String {
    format!(
        r#"c="${{XDG_CACHE_HOME:-$HOME/.cache}}/pgrelocate/agent"
echo "os=$(uname -s)"
echo "arch=$(uname -m)"
echo "cache=$c"
if p=$(command -v pgrelocate 2>/dev/null); then
  echo "path_bin=$p"
  echo "path_version=$("$p" --version 2>/dev/null | head -n 1)"
fi
if [ -x "$c/{sha}/pgrelocate" ] && [ -f "$c/{sha}/verified" ]; then echo "cached=1"; fi
"#
    )
}

async fn probe(ssh: &Ssh, sha: &str) -> Result<Probe, SshError> {
    let out = ssh
        .run(&format!("sh -c {}", word(&probe_script(sha))))
        .await?;
    let mut p = Probe::default();
    for line in out.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "os" => p.os = value,
            "arch" => p.arch = value,
            "cache" => p.cache = value,
            "path_bin" => p.path_bin = Some(value),
            "path_version" => p.path_version = Some(value),
            "cached" => p.cached = value == "1",
            _ => {}
        }
    }
    Ok(p)
}

/// The architecture names `uname -m` uses for ours.
fn same_arch(uname_m: &str) -> bool {
    let ours = std::env::consts::ARCH;
    uname_m == ours || (ours == "aarch64" && uname_m == "arm64")
}

/// Makes sure a runnable agent of our version is on the host; returns where.
pub async fn ensure(
    ssh: &Ssh,
    local: &LocalAgent,
    progress: &(dyn Fn(HostProgress) + Send + Sync),
) -> Result<AgentPlacement, HostError> {
    progress(HostProgress::Probing);
    let p = probe(ssh, &local.sha256).await?;
    let host = ssh.label().to_string();
    if !p.os.eq_ignore_ascii_case(std::env::consts::OS) || !same_arch(&p.arch) {
        return Err(HostError::Incompatible {
            host,
            detail: format!(
                "it runs {} on {}, this pgrelocate is built for {} on {}",
                p.os,
                p.arch,
                std::env::consts::OS,
                std::env::consts::ARCH
            ),
        });
    }
    let ours = format!("pgrelocate {}", crate::VERSION);
    if let (Some(path), Some(version)) = (&p.path_bin, &p.path_version) {
        if *version == ours {
            return Ok(AgentPlacement::Installed { path: path.clone() });
        }
    }
    let dir = format!("{}/{}", p.cache, local.sha256);
    let path = format!("{dir}/pgrelocate");
    if p.cached {
        return Ok(AgentPlacement::Cached { path });
    }
    let placement = {
        upload(ssh, local, &dir, progress).await?;
        AgentPlacement::Uploaded {
            path: path.clone(),
            bytes: local.size,
        }
    };
    progress(HostProgress::Verifying);
    // Running it proves the host can (libc, loader); a too-old glibc fails here. The mark
    // lets later calls skip the checksum and this run.
    let verify = format!(
        "{} --version && touch {}",
        word(&path),
        word(&format!("{dir}/verified"))
    );
    match ssh.run(&verify).await {
        Ok(out) if out.trim() == ours => Ok(placement),
        Ok(out) => Err(HostError::Incompatible {
            host,
            detail: format!("the uploaded agent printed {:?}, not {ours:?}", out.trim()),
        }),
        Err(SshError::Remote { stderr, .. }) => Err(HostError::Incompatible {
            host,
            detail: format!("the agent does not run there: {stderr}"),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Streams the binary into `dir` on the host, checks its checksum there, renames it in.
async fn upload(
    ssh: &Ssh,
    local: &LocalAgent,
    dir: &str,
    progress: &(dyn Fn(HostProgress) + Send + Sync),
) -> Result<(), HostError> {
    let script = format!(
        r#"set -e
umask 077
d={dir}
mkdir -p "$d"
t="$d/.upload.$$"
trap 'rm -f "$t"' EXIT
cat > "$t"
s=$(sha256sum "$t" | cut -d' ' -f1)
if [ "$s" != {sha} ]; then echo "checksum mismatch: got $s" >&2; exit 97; fi
chmod 700 "$t"
mv -f "$t" "$d/pgrelocate"
trap - EXIT
"#,
        dir = word(dir),
        sha = word(&local.sha256),
    );
    let mut cmd = ssh.command(&format!("sh -c {}", word(&script))).await;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| spawn_error(&e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut file = tokio::fs::File::open(&local.path).await.map_err(|source| {
        HostError::Binary(crate::agent::binary::BinaryError::Read {
            path: local.path.clone(),
            source,
        })
    })?;
    let mut buf = vec![0u8; 1 << 20];
    let mut sent = 0u64;
    let mut last_report = 0u64;
    progress(HostProgress::Uploading {
        sent: 0,
        total: local.size,
    });
    loop {
        let n = file.read(&mut buf).await.map_err(|source| {
            HostError::Binary(crate::agent::binary::BinaryError::Read {
                path: local.path.clone(),
                source,
            })
        })?;
        if n == 0 {
            break;
        }
        if stdin.write_all(&buf[..n]).await.is_err() {
            break; // ssh ended; its exit status says why
        }
        sent += n as u64;
        if sent - last_report >= 8 << 20 {
            last_report = sent;
            progress(HostProgress::Uploading {
                sent,
                total: local.size,
            });
        }
    }
    drop(stdin);
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| spawn_error(&e))?;
    match ssh.finish(out.status, &out.stdout, &out.stderr) {
        Ok(_) => {
            progress(HostProgress::Uploading {
                sent,
                total: local.size,
            });
            Ok(())
        }
        Err(SshError::Remote { stderr, status, .. }) => Err(HostError::Upload {
            host: ssh.label().to_string(),
            detail: if status == 97 {
                format!("the copy arrived damaged ({stderr})")
            } else {
                stderr
            },
        }),
        Err(e) => Err(e.into()),
    }
}
