//! The error every command returns, serialised for the webview as `{code, message}`.
//!
//! `code` is stable for the UI to branch on; `message` is for people. Neither carries a
//! secret: every message is written here or in the engine, whose errors never hold one.

use pgrelocate_engine::assess::export::ExportError;
use pgrelocate_engine::assess::AssessError;
use pgrelocate_engine::home::HomeError;
use pgrelocate_engine::instances::InstanceError;
use pgrelocate_engine::inventory::StoreError;
use pgrelocate_engine::reports::ReportError;
use pgrelocate_engine::secrets::SecretError;
use pgrelocate_engine::sql::SqlError;
use pgrelocate_engine::switchover::SwitchoverError;
use pgrelocate_engine::task::{TaskError, TaskStoreError};
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
    /// The stable, machine-readable code the UI branches on.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::StateDir(_) => "state_dir_unavailable",
            CommandError::EngineUnavailable(_) => "engine_unavailable",
            CommandError::Instance(e) => instance_code(e),
            CommandError::Assess(AssessError::Instance(e)) => instance_code(e),
            CommandError::Assess(_) => "assessment_failed",
            CommandError::Report(ReportError::NotFound(_)) => "not_found",
            CommandError::Report(_) => "report",
            CommandError::Export(_) => "export_failed",
            CommandError::Task(e) => task_code(e),
            CommandError::Dialog(_) => "dialog_failed",
            CommandError::NoSuchJob(_) => "not_found",
            CommandError::Invalid(_) => "invalid_request",
            CommandError::Internal(_) => "internal",
            CommandError::Busy(_) => "busy",
        }
    }

    /// The `{code, message}` pair, for events that carry a failure.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code().to_string(),
            message: self.to_string(),
        }
    }
}

fn task_code(e: &TaskError) -> &'static str {
    match e {
        TaskError::Store(TaskStoreError::NotFound(_)) => "not_found",
        TaskError::Store(_) => "store",
        TaskError::Instance(e) => instance_code(e),
        TaskError::Sql(e) => sql_code(e),
        TaskError::NoReport { .. } => "no_report",
        TaskError::ReportHasErrors { .. } => "report_has_errors",
        TaskError::ReportMismatch { .. } => "report_mismatch",
        TaskError::DestinationNotManaged(_) => "not_managed",
        TaskError::DestinationBusy { .. } => "destination_busy",
        TaskError::Transition(_) => "wrong_phase",
        TaskError::Busy(_) => "task_busy",
        TaskError::Switchover(e) => match e {
            SwitchoverError::Guardrails { .. } => "guardrail_failed",
            SwitchoverError::RolledBack { .. } => "rolled_back",
            SwitchoverError::RollbackIncomplete { .. } => "rollback_incomplete",
            SwitchoverError::PromotionUnknown(_) => "promotion_unknown",
            SwitchoverError::AfterPromotion(_) => "after_promotion",
            SwitchoverError::Destination(_) => "unreachable",
            SwitchoverError::FailoverRefused { .. } => "failover_refused",
            SwitchoverError::FailoverFailed(_) => "failover_failed",
        },
        _ => "task_failed",
    }
}

fn instance_code(e: &InstanceError) -> &'static str {
    match e {
        InstanceError::Name(_) => "invalid_name",
        InstanceError::Endpoint(_) => "invalid_endpoint",
        InstanceError::Home(_) => "state_dir_unavailable",
        InstanceError::Store(StoreError::DuplicateName(_)) => "duplicate_name",
        InstanceError::Store(StoreError::NoSuchInstance(_)) => "not_found",
        InstanceError::Store(_) => "store",
        InstanceError::Secret(SecretError::NoKeyring { .. }) | InstanceError::KeyringNeeded(_) => {
            "no_keyring"
        }
        InstanceError::Secret(SecretError::Locked(_)) => "keyring_locked",
        InstanceError::Secret(_) => "keyring",
        InstanceError::Sql(e) => sql_code(e),
        InstanceError::Server(_) => "server",
        InstanceError::NotManaged(_) => "not_managed",
        InstanceError::UnsupportedMajor(_) => "unsupported_version",
        InstanceError::NoInstallation { .. }
        | InstanceError::NotAnInstallation(_)
        | InstanceError::WrongMajor { .. }
        | InstanceError::CannotRunServers { .. } => "no_installation",
        InstanceError::DataDirNotEmpty(_) | InstanceError::InstanceDirExists(_) => {
            "data_dir_in_use"
        }
        InstanceError::PortInUse(_) | InstanceError::NoFreePort(_) => "port_in_use",
        InstanceError::Ports(_) => "invalid_configuration",
        InstanceError::SandboxExists(_) => "sandbox_exists",
        InstanceError::Join(_) => "internal",
    }
}

fn sql_code(e: &SqlError) -> &'static str {
    match e {
        SqlError::AuthFailed { .. } => "auth_failed",
        SqlError::PasswordMissing { .. } => "password_missing",
        SqlError::Unreachable { .. } | SqlError::Timeout { .. } => "unreachable",
        SqlError::TlsRefused { .. }
        | SqlError::CertificateRejected { .. }
        | SqlError::Tls { .. }
        | SqlError::TlsSettings(_) => "tls",
        _ => "sql",
    }
}

impl Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CommandError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

/// A failure carried inside an event (the same shape as a rejected command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// Stable code.
    pub code: String,
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
