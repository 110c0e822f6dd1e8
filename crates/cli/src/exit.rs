//! Exit codes of the CLI contract: 0 success, 1 operational failure, 2 usage error,
//! 3 assessment found blocking errors. The engine decides what a failure is (its
//! [`ErrorCode`]); this module only maps a code to an exit status.

use pgrelocate_engine::{Coded, ErrorCode};
use serde::Serialize;

/// An error that ends the command, with the exit code the contract gives it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A failure the engine reported, with its code.
    #[error("{message}")]
    Engine {
        /// What it is.
        code: ErrorCode,
        /// For people (the engine's message, sometimes with what to do next).
        message: String,
    },
    /// The command line asked for something impossible (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The terminal or stdout failed.
    #[error("{what}: {source}")]
    Io {
        /// What could not be done.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The assessment found blocking errors (exit 3); the report was already printed.
    #[error("the assessment found blocking errors")]
    AssessmentFailed,
}

impl CliError {
    /// An engine error, keeping its code and message.
    pub fn engine(e: impl Coded) -> CliError {
        CliError::Engine {
            code: e.code(),
            message: e.to_string(),
        }
    }

    /// The same failure with a sentence of what to do next.
    pub fn with_advice(self, advice: &str) -> CliError {
        match self {
            CliError::Engine { code, message } => CliError::Engine {
                code,
                message: format!("{message}: {advice}"),
            },
            other => other,
        }
    }

    /// The failure's code, as `--json` prints it.
    pub fn code(&self) -> ErrorCode {
        match self {
            CliError::Engine { code, .. } => *code,
            CliError::Usage(_) => ErrorCode::Usage,
            CliError::Io { .. } => ErrorCode::Io,
            CliError::AssessmentFailed => ErrorCode::ReportHasErrors,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        exit_status(self.code())
    }

    /// The document `--json` prints for this error (`{code, message}`, as the desktop
    /// app's IPC carries it).
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
        }
    }
}

/// A failure as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// The engine's code.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

/// The exit status for a failure: 2 when the command line named something that is not
/// there or cannot be, 3 when an assessment report has blocking errors, else 1.
pub fn exit_status(code: ErrorCode) -> i32 {
    use ErrorCode::*;
    match code {
        Usage
        | InvalidName
        | InvalidEndpoint
        | InvalidHost
        | UnknownHost
        | UnsupportedVersion
        | InvalidOption
        | ReportNotFound
        | TaskNotFound
        | AmbiguousId
        | IdTooShort
        | SameInstance
        | DestinationNotManaged
        | WrongPhase
        | NotACluster
        | ConfirmationMismatch => 2,
        ReportHasErrors => 3,
        _ => 1,
    }
}

macro_rules! from_engine {
    ($($error:ty),* $(,)?) => {
        $(impl From<$error> for CliError {
            fn from(e: $error) -> Self {
                CliError::engine(e)
            }
        })*
    };
}

from_engine!(
    pgrelocate_engine::instances::InstanceError,
    pgrelocate_engine::task::TaskError,
    pgrelocate_engine::store::reports::ReportError,
    pgrelocate_engine::assess::AssessError,
    pgrelocate_engine::assess::export::ExportError,
    pgrelocate_engine::backup::BackupError,
    pgrelocate_engine::backup::OptionError,
    pgrelocate_engine::home::HomeError,
    pgrelocate_engine::store::StoreError,
    pgrelocate_engine::server::ServerError,
    pgrelocate_engine::endpoint::EndpointError,
    pgrelocate_engine::host::HostError,
    pgrelocate_engine::access::AccessError,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_follow_the_contract() {
        assert_eq!(exit_status(ErrorCode::NotFound), 1);
        assert_eq!(exit_status(ErrorCode::ReportNotFound), 2);
        assert_eq!(exit_status(ErrorCode::InvalidEndpoint), 2);
        assert_eq!(exit_status(ErrorCode::ReportHasErrors), 3);
        assert_eq!(exit_status(ErrorCode::RolledBack), 1);
        assert_eq!(exit_status(ErrorCode::AuthFailed), 1);
    }
}
