//! The few fields of a stopped cluster's `global/pg_control` the `shutdown` fence needs:
//! whether the last shutdown was clean, and where its shutdown checkpoint record starts.
//!
//! `ControlFileData` begins the same way in 10 through 18: `system_identifier` (u64),
//! `pg_control_version` (u32), `catalog_version_no` (u32), `state` (enum, 4 bytes, then
//! padding), `time` (i64), `checkPoint` (u64). Integers are in the server's byte order,
//! which is this host's (the server runs here).

use std::path::Path;

use crate::wire::Lsn;

const STATE_OFFSET: usize = 16;
const CHECKPOINT_OFFSET: usize = 32;
/// `pg_control_version` of 10 (1002) through 18 (1800); anything else is not understood.
const KNOWN_VERSIONS: std::ops::RangeInclusive<u32> = 1002..=1899;

/// `DBState` as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterState {
    /// `shut down`: a clean shutdown of a primary.
    ShutDown,
    /// `shut down in recovery`: a clean shutdown of a standby.
    ShutDownInRecovery,
    /// Anything else (starting, shutting down, crashed, in production).
    Other(u32),
}

/// What the control file says (also the answer of a source's host to a remote `shutdown`
/// fence, read there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ControlFile {
    /// The cluster's state.
    pub state: ClusterState,
    /// Start of the latest checkpoint record (the shutdown checkpoint after a clean stop).
    pub checkpoint: Lsn,
}

/// Why the control file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ControlFileError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a pg_control file of PostgreSQL 10-18 (version {version})")]
    Unknown {
        path: std::path::PathBuf,
        version: u32,
    },
}

/// Reads `data_dir/global/pg_control`.
pub fn read(data_dir: &Path) -> Result<ControlFile, ControlFileError> {
    let path = data_dir.join("global").join("pg_control");
    let bytes = std::fs::read(&path).map_err(|source| ControlFileError::Io {
        path: path.clone(),
        source,
    })?;
    parse(&bytes).ok_or_else(|| ControlFileError::Unknown {
        version: u32_at(&bytes, 8).unwrap_or(0),
        path,
    })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn parse(bytes: &[u8]) -> Option<ControlFile> {
    let version = u32_at(bytes, 8)?;
    if !KNOWN_VERSIONS.contains(&version) {
        return None;
    }
    let state = match u32_at(bytes, STATE_OFFSET)? {
        1 => ClusterState::ShutDown,
        2 => ClusterState::ShutDownInRecovery,
        other => ClusterState::Other(other),
    };
    let checkpoint = u64::from_ne_bytes(
        bytes
            .get(CHECKPOINT_OFFSET..CHECKPOINT_OFFSET + 8)?
            .try_into()
            .ok()?,
    );
    Some(ControlFile {
        state,
        checkpoint: Lsn(checkpoint),
    })
}

impl crate::Coded for ControlFileError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::FenceFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: u32, state: u32, checkpoint: u64) -> Vec<u8> {
        let mut b = vec![0u8; 8192];
        b[8..12].copy_from_slice(&version.to_ne_bytes());
        b[16..20].copy_from_slice(&state.to_ne_bytes());
        b[32..40].copy_from_slice(&checkpoint.to_ne_bytes());
        b
    }

    #[test]
    fn reads_state_and_checkpoint() {
        let c = parse(&file(1300, 1, 0x1_0000_0028)).unwrap();
        assert_eq!(c.state, ClusterState::ShutDown);
        assert_eq!(c.checkpoint, Lsn(0x1_0000_0028));
        assert_eq!(
            parse(&file(1800, 6, 5)).unwrap().state,
            ClusterState::Other(6)
        );
    }

    #[test]
    fn refuses_unknown_layouts() {
        assert!(parse(&file(942, 1, 1)).is_none(), "9.6");
        assert!(parse(&[0u8; 20]).is_none(), "short");
    }
}
