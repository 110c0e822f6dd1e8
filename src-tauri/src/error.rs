//! The error every command returns, serialised for the webview as `{code, message}`.
//!
//! `code` is stable for the UI to branch on; `message` is for people. Neither carries a
//! secret: every message is written here or in the engine, whose errors never hold one.

use pgrelocate_engine::access::AccessError;
use pgrelocate_engine::assess::export::ExportError;
use pgrelocate_engine::assess::AssessError;
use pgrelocate_engine::home::HomeError;
use pgrelocate_engine::host::HostError;
use pgrelocate_engine::instances::InstanceError;
use pgrelocate_engine::sql::SqlError;
use pgrelocate_engine::store::reports::ReportError;
use pgrelocate_engine::store::StoreError;
use pgrelocate_engine::task::TaskError;
use pgrelocate_engine::{Coded, ErrorCode};
use serde::ser::SerializeStruct;
use serde::Serialize;

/// A command failure as the webview sees it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The state directory could not be determined.
    #[error(transparent)]
    StateDir(#[from] HomeError),
    /// The engine could not open the state directory at start-up.
    #[error("the state store could not be opened: {0}")]
    EngineUnavailable(String),
    /// An instance operation failed.
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// An assessment could not run.
    #[error(transparent)]
    Assess(#[from] AssessError),
    /// A stored report could not be read.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A report could not be written.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A task operation failed.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// A remote host operation failed.
    #[error(transparent)]
    Host(#[from] HostError),
    /// Showing, applying or undoing a task's access rules failed.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The save dialog failed.
    #[error("the save dialog failed: {0}")]
    Dialog(String),
    /// A long-running job the page asked about is not known (any more).
    #[error("no running job {0:?}; it may have finished before the app restarted")]
    NoSuchJob(String),
    /// The request itself is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The same operation is already running.
    #[error("{0}")]
    Busy(String),
    /// A background step of the app itself failed (a bug, not the DBA's doing).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<tauri::Error> for CommandError {
    fn from(e: tauri::Error) -> Self {
        CommandError::Internal(e.to_string())
    }
}

impl From<SqlError> for CommandError {
    fn from(e: SqlError) -> Self {
        CommandError::Instance(InstanceError::Sql(e))
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError::Instance(InstanceError::Store(e))
    }
}

impl CommandError {
    /// The stable, machine-readable code the UI branches on: the engine's, for an engine
    /// failure (the CLI's `--json` carries the same one).
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::StateDir(e) => e.code(),
            CommandError::EngineUnavailable(_) => ErrorCode::EngineUnavailable,
            CommandError::Instance(e) => e.code(),
            CommandError::Assess(e) => e.code(),
            CommandError::Report(e) => e.code(),
            CommandError::Export(e) => e.code(),
            CommandError::Task(e) => e.code(),
            CommandError::Host(e) => e.code(),
            CommandError::Access(e) => e.code(),
            CommandError::Dialog(_) => ErrorCode::DialogFailed,
            CommandError::NoSuchJob(_) => ErrorCode::NotFound,
            CommandError::Invalid(_) => ErrorCode::InvalidRequest,
            CommandError::Internal(_) => ErrorCode::Internal,
            CommandError::Busy(_) => ErrorCode::Busy,
        }
    }

    /// The `{code, message}` pair, for events that carry a failure.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CommandError", 2)?;
        s.serialize_field("code", &self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// A failure carried inside an event (the same shape as a rejected command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "CommandError")]
pub struct ErrorBody {
    /// Stable code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_error_crosses_ipc_as_code_and_message() {
        let err = CommandError::from(HomeError::EmptyOverride);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "state_dir_unavailable",
                "message": "PGRELOCATE_HOME is set but empty",
            })
        );
    }

    #[test]
    fn a_refused_login_is_auth_failed_with_the_servers_reason_and_no_password() {
        let err = CommandError::from(SqlError::AuthFailed {
            user: "migrator".into(),
            address: "db1:5432".into(),
            message: "password authentication failed for user \"migrator\"".into(),
        });
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["code"], "auth_failed");
        assert_eq!(
            json["message"],
            "authentication failed for user \"migrator\" at db1:5432: password authentication \
             failed for user \"migrator\""
        );
    }

    #[test]
    fn a_duplicate_name_and_a_missing_instance_have_their_own_codes() {
        let dup = CommandError::from(StoreError::DuplicateName("a".into()));
        assert_eq!(dup.code(), "duplicate_name");
        let missing = CommandError::from(StoreError::NoSuchInstance("a".into()));
        assert_eq!(missing.body().code, "not_found");
        assert_eq!(missing.body().message, "no instance named \"a\"");
    }
}
