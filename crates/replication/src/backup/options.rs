//! What a DBA chooses for a base backup: target, tablespace mapping, compression, rate,
//! owner, fsync.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::BackupError;

/// An option value that cannot be used (bad mapping, rate, compression name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionError(pub String);

impl From<OptionError> for BackupError {
    fn from(e: OptionError) -> Self {
        BackupError::Option(e.0)
    }
}

/// Server-side compression of the archives (PostgreSQL 15+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Plain tar.
    #[default]
    None,
    /// LZ4 frames: cheap for the server, roughly halves the bytes on the wire.
    Lz4,
    /// Zstandard: more CPU on the source, fewer bytes on the wire.
    Zstd,
    /// gzip: slow; there for sources built without lz4/zstd.
    Gzip,
}

impl Compression {
    /// The name BASE_BACKUP's COMPRESSION option takes, `None` for no compression.
    pub fn server_method(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Lz4 => Some("lz4"),
            Compression::Zstd => Some("zstd"),
            Compression::Gzip => Some("gzip"),
        }
    }
}

impl FromStr for Compression {
    type Err = OptionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Compression::None),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd),
            "gzip" => Ok(Compression::Gzip),
            other => Err(OptionError(format!(
                "unknown compression {other:?}: use none, lz4, zstd or gzip"
            ))),
        }
    }
}

/// `OLD=NEW`: extract the tablespace whose source location is OLD into NEW.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct TablespaceMapping {
    /// The tablespace's location on the source (absolute).
    pub old: PathBuf,
    /// Where it goes on this host (absolute).
    pub new: PathBuf,
}

impl FromStr for TablespaceMapping {
    type Err = OptionError;

    /// Parses `OLD=NEW`; `\=` stands for a literal `=` (as in pg_basebackup).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| OptionError(format!("tablespace mapping {s:?}: {why}"));
        let mut parts = vec![String::new()];
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('=') => parts.last_mut().unwrap().push('='),
                    Some(other) => {
                        let current = parts.last_mut().unwrap();
                        current.push('\\');
                        current.push(other);
                    }
                    None => parts.last_mut().unwrap().push('\\'),
                },
                '=' => parts.push(String::new()),
                c => parts.last_mut().unwrap().push(c),
            }
        }
        if parts.len() > 2 {
            return Err(bad("more than one '=' (write \\= for a literal one)"));
        }
        let new = parts.pop().filter(|_| !parts.is_empty());
        let old = parts.pop().unwrap_or_default();
        let new = new.ok_or_else(|| bad("expected OLD=NEW"))?;
        let (old, new) = (PathBuf::from(old), PathBuf::from(new));
        if !old.is_absolute() || !new.is_absolute() {
            return Err(bad("both directories must be absolute paths"));
        }
        let (old, new) = (normalize(&old), normalize(&new));
        if !super::placement::is_canonical(&old) || !super::placement::is_canonical(&new) {
            return Err(bad("'..' is not allowed in either directory"));
        }
        Ok(TablespaceMapping { old, new })
    }
}

/// The path without trailing slashes or `.` components, so `/a/b/` matches `/a/b`.
pub fn normalize(p: &Path) -> PathBuf {
    p.components().collect()
}

/// A throttle in bytes per second, e.g. `50M`; the server takes kB/s within 32 kB/s..1 GB/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MaxRate {
    kb_per_sec: u32,
}

impl MaxRate {
    /// A rate in kB/s, checked against the server's limits.
    pub fn from_kb_per_sec(kb: u64) -> Result<Self, OptionError> {
        if !(32..=1_048_576).contains(&kb) {
            return Err(OptionError(format!(
                "transfer rate {kb} kB/s is outside 32 kB/s..1 GB/s"
            )));
        }
        Ok(MaxRate {
            kb_per_sec: kb as u32,
        })
    }

    /// The rate in kB/s, as BASE_BACKUP's MAX_RATE takes it.
    pub fn kb_per_sec(self) -> u32 {
        self.kb_per_sec
    }
}

impl FromStr for MaxRate {
    type Err = OptionError;

    /// Bytes per second with an optional `k`, `M` or `G` suffix (`500k`, `50M`, `1G`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || OptionError(format!("{s:?} is not a rate (e.g. 500k, 50M, 1G)"));
        let (number, scale) = match t.char_indices().last() {
            Some((i, 'k' | 'K')) => (&t[..i], 1u64 << 10),
            Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
            Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
            _ => (t, 1),
        };
        let value: u64 = number.trim().parse().map_err(|_| bad())?;
        let bytes = value.checked_mul(scale).ok_or_else(bad)?;
        Self::from_kb_per_sec(bytes / 1024)
    }
}

/// OS user and group that will own the extracted files (the server's account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// Everything a base backup needs besides the source connection.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// The new data directory: must be absent or empty.
    pub target_dir: PathBuf,
    /// Tablespace relocations.
    pub tablespace_mappings: Vec<TablespaceMapping>,
    /// Server-side compression (15+).
    pub compression: Compression,
    /// Throttle on the source.
    pub max_rate: Option<MaxRate>,
    /// Owner of every extracted file (set it when running as root).
    pub owner: Option<Owner>,
    /// fsync files and directories at the end (turn off only in tests).
    pub sync: bool,
    /// `application_name` of the replication connection.
    pub application_name: String,
}

impl BackupOptions {
    /// Defaults: no mapping, no compression, no throttle, current owner, fsync on.
    pub fn new(target_dir: impl Into<PathBuf>) -> Self {
        BackupOptions {
            target_dir: target_dir.into(),
            tablespace_mappings: Vec::new(),
            compression: Compression::None,
            max_rate: None,
            owner: None,
            sync: true,
            application_name: "pgrelocate_backup".into(),
        }
    }
}

impl crate::Coded for OptionError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidOption
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mappings_like_pg_basebackup() {
        let m: TablespaceMapping = "/srv/ts/=/data/ts".parse().unwrap();
        assert_eq!(m.old, PathBuf::from("/srv/ts"));
        assert_eq!(m.new, PathBuf::from("/data/ts"));
        let m: TablespaceMapping = r"/a\=b=/c".parse().unwrap();
        assert_eq!(m.old, PathBuf::from("/a=b"));
        for bad in [
            "/a",
            "rel=/b",
            "/a=rel",
            "/a=/b=/c",
            "/a/../b=/c",
            "/a=/c/..",
        ] {
            assert!(bad.parse::<TablespaceMapping>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_rates_with_suffixes() {
        assert_eq!("50M".parse::<MaxRate>().unwrap().kb_per_sec(), 50 * 1024);
        assert_eq!("32k".parse::<MaxRate>().unwrap().kb_per_sec(), 32);
        assert_eq!("1G".parse::<MaxRate>().unwrap().kb_per_sec(), 1_048_576);
        for bad in ["", "fast", "1k", "2G", "-5M", "99999999999999999999G"] {
            assert!(bad.parse::<MaxRate>().is_err(), "{bad}");
        }
    }
}
