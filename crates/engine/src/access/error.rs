//! Why showing, applying or undoing the access rules failed, with a stable code each.

use std::path::PathBuf;

use super::block::BlockError;
use crate::error_code::{Coded, ErrorCode};
use crate::sql::SqlError;
use crate::task::TaskError;

/// An access-rules failure. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The task, its instances or the store.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// Connecting to a server (or a query on it) failed.
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// No source rules could be read: neither `pg_hba_file_rules` on the source nor the
    /// copy's `pg_hba.conf.from-source`.
    #[error("the source's client rules cannot be read: {live}; and {file}")]
    SourceUnreadable {
        /// Why the live view failed.
        live: String,
        /// Why the copy's file failed.
        file: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Unreadable {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `pg_hba_file_rules` of the destination could not be read.
    #[error("cannot check the destination's pg_hba.conf with pg_hba_file_rules: {0} (the task account needs superuser, or SELECT on pg_hba_file_rules)")]
    CheckUnreadable(String),
    /// The marked block cannot be used (edited by hand, malformed).
    #[error(transparent)]
    Block(#[from] BlockError),
    /// The server refused the rules written; the previous file was restored and reloaded.
    #[error("the destination refused the new pg_hba.conf, which was rolled back (the previous file is in force again): {}", .errors.join("; "))]
    Invalid {
        /// The error lines of `pg_hba_file_rules`.
        errors: Vec<String>,
    },
    /// The destination's file already has error lines (it cannot be reloaded as it is).
    #[error("the destination's pg_hba.conf already has errors, so it cannot be reloaded; fix them first: {}", .errors.join("; "))]
    AlreadyInvalid {
        /// The error lines of `pg_hba_file_rules`.
        errors: Vec<String>,
    },
    /// Writing the file failed; the previous file is unchanged.
    #[error("cannot write {}: {source} (the previous file is unchanged)", .path.display())]
    WriteFailed {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Restoring the previous file after a refused one failed.
    #[error("the destination refused the new pg_hba.conf ({}), and restoring the previous one failed: {restore}; restore {} by hand", .errors.join("; "), .path.display())]
    RestoreFailed {
        /// The refused file.
        path: PathBuf,
        /// The error lines of `pg_hba_file_rules`.
        errors: Vec<String>,
        /// Why restoring failed.
        restore: String,
    },
    /// The destination runs on a registered remote host.
    #[error("task {task}'s destination runs on host {host}: carrying access rules there is not supported yet; add the lines `pgrelocate access show {task}` prints at the top of its pg_hba.conf by hand and reload it")]
    RemoteUnsupported {
        /// The task.
        task: String,
        /// The host.
        host: String,
    },
}

impl Coded for AccessError {
    fn code(&self) -> ErrorCode {
        match self {
            AccessError::Task(e) => e.code(),
            AccessError::Sql(e) => e.code(),
            AccessError::SourceUnreadable { .. }
            | AccessError::Unreadable { .. }
            | AccessError::CheckUnreadable(_) => ErrorCode::AccessRulesUnreadable,
            AccessError::Block(_)
            | AccessError::Invalid { .. }
            | AccessError::AlreadyInvalid { .. } => ErrorCode::AccessRulesInvalid,
            AccessError::WriteFailed { .. } | AccessError::RestoreFailed { .. } => {
                ErrorCode::AccessRulesWriteFailed
            }
            AccessError::RemoteUnsupported { .. } => ErrorCode::AccessRemoteUnsupported,
        }
    }
}
