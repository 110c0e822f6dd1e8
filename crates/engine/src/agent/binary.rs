//! Which local file is the agent: the `pgrelocate` CLI binary (the desktop app ships it
//! beside itself), or `PGRELOCATE_AGENT_BINARY` when set.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Environment variable naming the binary to upload as the agent.
pub const AGENT_BINARY_ENV: &str = "PGRELOCATE_AGENT_BINARY";

/// The CLI binary's file name.
const CLI_NAME: &str = "pgrelocate";

/// The local agent binary and its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAgent {
    /// The file.
    pub path: PathBuf,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Why no agent binary could be found or read.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error("no pgrelocate binary to run on the host: none beside {exe} (set {AGENT_BINARY_ENV})")]
    NotFound { exe: PathBuf },
    #[error("cannot read the agent binary {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl crate::Coded for BinaryError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::Agent
    }
}

/// Finds the agent binary: the override, this process when it is the CLI, else the CLI
/// beside this process (the desktop app).
pub fn locate() -> Result<PathBuf, BinaryError> {
    if let Some(path) = std::env::var_os(AGENT_BINARY_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|source| BinaryError::Read {
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    if exe.file_name().and_then(|n| n.to_str()) == Some(CLI_NAME) {
        return Ok(exe);
    }
    let beside = exe.with_file_name(CLI_NAME);
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(BinaryError::NotFound { exe })
    }
}

/// The binary's checksum and size, read once per process for a file that has not changed
/// since (hashing a debug build takes a while, and every agent start needs it).
pub async fn describe(path: &Path) -> Result<LocalAgent, BinaryError> {
    use std::sync::{LazyLock, Mutex};
    type Stamp = (PathBuf, u64, Option<std::time::SystemTime>);
    static KNOWN: LazyLock<Mutex<Option<(Stamp, LocalAgent)>>> = LazyLock::new(|| Mutex::new(None));
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|source| BinaryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let stamp: Stamp = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some((known, agent)) = &*KNOWN.lock().unwrap_or_else(|e| e.into_inner()) {
        if *known == stamp {
            return Ok(agent.clone());
        }
    }
    let agent = hash(path).await?;
    *KNOWN.lock().unwrap_or_else(|e| e.into_inner()) = Some((stamp, agent.clone()));
    Ok(agent)
}

async fn hash(path: &Path) -> Result<LocalAgent, BinaryError> {
    let read_err = |source| BinaryError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).await.map_err(read_err)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(LocalAgent {
        path: path.to_path_buf(),
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}
