//! Why a base backup failed. Whatever the cause, the target is left as it was found.

use std::path::PathBuf;

use super::manifest::ManifestError;
use crate::wire::{ServerError, WireError};

/// A base backup failure.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Option(String),
    #[error("target directory {0} is not empty: choose an empty or new directory")]
    TargetNotEmpty(PathBuf),
    #[error("target {0} exists and is not a directory")]
    TargetNotDirectory(PathBuf),
    #[error(
        "tablespace {oid} lives in {location}, which already exists on this host: an existing \
         directory is used only when mapped; map it elsewhere with --tablespace-mapping \
         {location}=NEW_DIR (or {location}={location} to use that directory)"
    )]
    TablespaceExists { oid: u32, location: String },
    #[error("refused tablespace {oid} at {location:?} sent by the source: {why}")]
    UnsafeTablespace {
        oid: u32,
        location: String,
        why: &'static str,
    },
    #[error(
        "tablespace {oid} would be written to {dir}, which overlaps {other}: map it to a \
         separate directory"
    )]
    TablespaceOverlaps {
        oid: u32,
        dir: PathBuf,
        other: PathBuf,
    },
    #[error("tablespace {oid} target {target} is not empty: choose an empty or new directory")]
    TablespaceTargetNotEmpty { oid: u32, target: PathBuf },
    #[error("tablespace mapping {0} matches no tablespace of the source")]
    UnusedMapping(PathBuf),
    #[error("server-side compression needs a PostgreSQL 15 or later source (this one is {0})")]
    CompressionUnsupported(String),
    #[error("PostgreSQL {0} is not supported (10 to 18 are)")]
    UnsupportedVersion(String),
    #[error(transparent)]
    Wire(Box<WireError>),
    #[error("the source reported a data checksum failure; the copy is not valid: {0}")]
    DataCorruption(Box<ServerError>),
    #[error("the source stopped the backup: {0}")]
    Server(Box<ServerError>),
    #[error("unexpected reply to BASE_BACKUP: {0}")]
    Protocol(String),
    #[error("refused entry {path:?} of {archive}: {why}")]
    UnsafeEntry {
        archive: String,
        path: String,
        why: &'static str,
    },
    #[error("archive {archive} is not a valid tar stream: {message}")]
    Archive { archive: String, message: String },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("backup manifest: {0}")]
    Manifest(#[from] ManifestError),
    #[error("the backup was cancelled")]
    Cancelled,
    #[error("the extraction thread stopped unexpectedly: {0}")]
    Writer(String),
    /// The writer's view when the receiver stopped first: the receiver's error is the cause.
    #[error("the stream from the source stopped")]
    StreamStopped,
}

impl From<WireError> for BackupError {
    fn from(e: WireError) -> Self {
        BackupError::Wire(Box::new(e))
    }
}

impl BackupError {
    /// An I/O error on `path`.
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| BackupError::Io { op, path, source }
    }
}

impl crate::Coded for BackupError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            BackupError::Option(_) | BackupError::UnusedMapping(_) => ErrorCode::InvalidOption,
            BackupError::TargetNotEmpty(_)
            | BackupError::TargetNotDirectory(_)
            | BackupError::TablespaceExists { .. }
            | BackupError::TablespaceTargetNotEmpty { .. } => ErrorCode::TargetNotEmpty,
            BackupError::TablespaceOverlaps { .. } => ErrorCode::InvalidOption,
            BackupError::CompressionUnsupported(_) | BackupError::UnsupportedVersion(_) => {
                ErrorCode::SourceUnsupported
            }
            BackupError::Wire(e) => e.code(),
            BackupError::DataCorruption(_) => ErrorCode::DataCorruption,
            BackupError::Manifest(e) => e.code(),
            BackupError::Cancelled => ErrorCode::Cancelled,
            BackupError::Io { .. } => ErrorCode::Io,
            BackupError::Server(_)
            | BackupError::Protocol(_)
            | BackupError::UnsafeEntry { .. }
            | BackupError::UnsafeTablespace { .. }
            | BackupError::Archive { .. }
            | BackupError::StreamStopped
            | BackupError::Writer(_) => ErrorCode::BackupFailed,
        }
    }
}
