//! Exit codes of the CLI contract: 0 success, 1 operational failure, 2 usage error,
//! 3 assessment found blocking errors.

/// An error that ends the command, with the exit code the contract gives it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Something failed while doing the work (exit 1).
    #[error("{0}")]
    Operational(String),
    /// The command line asked for something impossible (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The assessment found blocking errors (exit 3); the report was already printed.
    #[error("the assessment found blocking errors")]
    AssessmentFailed,
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Operational(_) => 1,
            CliError::Usage(_) => 2,
            CliError::AssessmentFailed => 3,
        }
    }
}
