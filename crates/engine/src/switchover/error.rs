//! Why a switchover or failover did not succeed, with the cause kept as a type (never a
//! sentence composed early), and the operation's [`Outcome`] as scripts and the UI see it.

use serde::{Deserialize, Serialize};

use super::catchup::CatchupError;
use super::fence::FenceStrategy;
use super::fence::{manual_undo, FenceError, FenceRecord, UndoError};
use super::guardrails::{Finding, Guardrail, GuardrailStatus};
use super::promote::PromoteError;
use crate::sql::SqlError;
use crate::{Coded, ErrorCode};

/// How a switchover or failover ended: `outcome` in the CLI's `--json` and the task's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The destination is the primary and every step after promotion worked.
    Success,
    /// A guardrail (or a failover check) forbade it; nothing was touched.
    Refused,
    /// It failed before promotion and the fence was undone: the source takes writes again.
    RolledBack,
    /// It failed before promotion and the fence could not be fully undone.
    RollbackIncomplete,
    /// Promotion was requested and its outcome is unknown; the source stays fenced.
    PromotionUnknown,
    /// The destination was promoted, but a step after promotion failed.
    AfterPromotion,
    /// The failover failed before promotion; the destination is still a standby.
    FailoverFailed,
    /// It could not run at all (the task, the store, an unreachable destination before
    /// anything was changed).
    Failed,
}

impl Outcome {
    /// How an operation that failed with `code` ended: the code of a [`SwitchoverError`]
    /// names its outcome, so a failure reported by a task's host keeps it.
    pub fn of_code(code: ErrorCode) -> Outcome {
        match code {
            ErrorCode::GuardrailFailed
            | ErrorCode::FailoverRefused
            | ErrorCode::SourceAnswers
            | ErrorCode::FenceUnavailable => Outcome::Refused,
            ErrorCode::RolledBack => Outcome::RolledBack,
            ErrorCode::RollbackIncomplete => Outcome::RollbackIncomplete,
            ErrorCode::PromotionUnknown => Outcome::PromotionUnknown,
            ErrorCode::AfterPromotion => Outcome::AfterPromotion,
            ErrorCode::FailoverFailed => Outcome::FailoverFailed,
            _ => Outcome::Failed,
        }
    }

    /// The outcome as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::RolledBack => "rolled_back",
            Outcome::RollbackIncomplete => "rollback_incomplete",
            Outcome::PromotionUnknown => "promotion_unknown",
            Outcome::AfterPromotion => "after_promotion",
            Outcome::FailoverFailed => "failover_failed",
            Outcome::Failed => "failed",
        }
    }
}

/// The failure before promotion that made a switchover roll back.
#[derive(Debug, thiserror::Error)]
pub enum AbortCause {
    /// The fence's preparation (a control connection, a checkpoint) failed.
    #[error("the fence could not be prepared (nothing was changed): {0}")]
    Prepare(#[source] FenceError),
    /// The fence itself failed.
    #[error("the fence failed: {0}")]
    Fence(#[source] FenceError),
    /// The source's final position could not be read once fenced.
    #[error("the source's final position could not be read: {0}")]
    Target(#[source] FenceError),
    /// The destination did not catch up.
    #[error(transparent)]
    Catchup(CatchupError),
    /// The promotion request failed and the destination is still in recovery.
    #[error("promotion failed: {0}")]
    Promotion(#[source] PromoteError),
    /// The endpoint hook before promotion failed, timed out or did not start.
    #[error(transparent)]
    Hook(super::hook::HookError),
}

impl Coded for AbortCause {
    fn code(&self) -> ErrorCode {
        match self {
            AbortCause::Prepare(e) | AbortCause::Fence(e) | AbortCause::Target(e) => e.code(),
            AbortCause::Catchup(e) => e.code(),
            AbortCause::Promotion(e) => e.code(),
            AbortCause::Hook(e) => e.code(),
        }
    }
}

/// Why the outcome of a promotion request is unknown.
#[derive(Debug, thiserror::Error)]
pub enum UnknownPromotion {
    /// The request failed, and asking the destination whether it left recovery failed too.
    #[error("{request}; then {check}")]
    Unconfirmed {
        /// The promotion request's failure.
        request: PromoteError,
        /// The failure to ask `pg_is_in_recovery()`.
        #[source]
        check: SqlError,
    },
    /// Waiting for the destination to leave recovery failed.
    #[error(transparent)]
    Wait(PromoteError),
}

/// What failed after the destination was promoted (it is the primary all the same).
#[derive(Debug, thiserror::Error)]
pub enum AfterPromotionError {
    /// The fence's blocked logins arrived through the WAL and could not be lifted there.
    #[error(
        "logins could not be allowed again on it ({source}); the fence arrived there through \
         the WAL: {}",
        manual_undo(record)
    )]
    Unfence {
        /// Why.
        source: SqlError,
        /// What is in force on the destination (`read_only` is the source's alone).
        record: FenceRecord,
    },
    /// A fresh connection could not commit on the new primary.
    #[error(transparent)]
    Writes(PromoteError),
}

/// Why a failover failed before promotion.
#[derive(Debug, thiserror::Error)]
pub enum FailoverCause {
    /// The destination's version could not be read.
    #[error(transparent)]
    Version(SqlError),
    /// The promotion request failed and the destination did not leave recovery.
    #[error(transparent)]
    Promote(PromoteError),
}

/// Why a switchover or failover did not succeed. Messages never contain a password.
#[derive(Debug, thiserror::Error)]
pub enum SwitchoverError {
    /// A guardrail forbids the switchover; nothing was touched.
    #[error("the switchover did not start: {}", failed_guardrails(checks))]
    Guardrails {
        /// The guardrails as evaluated.
        checks: Vec<Guardrail>,
    },
    /// The fence asked for cannot be used on this source; nothing was touched.
    #[error("the switchover did not start: the {strategy} fence cannot be used ({finding})")]
    FenceUnavailable {
        /// The fence asked for.
        strategy: FenceStrategy,
        /// Why it cannot be used.
        finding: Finding,
        /// The guardrails as evaluated.
        checks: Vec<Guardrail>,
    },
    /// Rolled back before promotion: the source takes writes again.
    #[error("the switchover was rolled back: {reason}. Nothing was lost and the source accepts writes again")]
    RolledBack {
        /// The failure that made it roll back.
        #[source]
        reason: Box<AbortCause>,
    },
    /// The rollback could not undo everything.
    #[error(
        "the switchover failed ({reason}) and could not be fully rolled back: {}. The destination \
         was not promoted",
        join(problems)
    )]
    RollbackIncomplete {
        /// The failure that made it roll back.
        #[source]
        reason: Box<AbortCause>,
        /// What could not be undone, each with what to do by hand.
        problems: Vec<UndoError>,
    },
    /// Promotion was requested and its outcome is unknown.
    #[error(
        "promotion was requested but its outcome is unknown ({0}); the source stays fenced. \
         Check the destination (SELECT pg_is_in_recovery()) before anything else"
    )]
    PromotionUnknown(#[source] Box<UnknownPromotion>),
    /// The destination was promoted, but a step after promotion failed.
    #[error("the destination was promoted, but {0}")]
    AfterPromotion(#[source] Box<AfterPromotionError>),
    /// The destination could not be reached before anything was changed.
    #[error("the destination cannot be reached: {0}")]
    Destination(#[source] SqlError),
    /// A failover check forbids the failover.
    #[error("failover refused: {}", failed_guardrails(checks))]
    FailoverRefused {
        /// The checks as evaluated.
        checks: Vec<Guardrail>,
    },
    /// The failover failed before promotion.
    #[error("failover failed before promotion: {0}; the destination is still a standby")]
    FailoverFailed(#[source] Box<FailoverCause>),
}

impl SwitchoverError {
    /// How the operation ended.
    pub fn outcome(&self) -> Outcome {
        match self {
            SwitchoverError::Guardrails { .. }
            | SwitchoverError::FenceUnavailable { .. }
            | SwitchoverError::FailoverRefused { .. } => Outcome::Refused,
            SwitchoverError::RolledBack { .. } => Outcome::RolledBack,
            SwitchoverError::RollbackIncomplete { .. } => Outcome::RollbackIncomplete,
            SwitchoverError::PromotionUnknown(_) => Outcome::PromotionUnknown,
            SwitchoverError::AfterPromotion(_) => Outcome::AfterPromotion,
            SwitchoverError::FailoverFailed(_) => Outcome::FailoverFailed,
            SwitchoverError::Destination(_) => Outcome::Failed,
        }
    }
}

impl Coded for SwitchoverError {
    fn code(&self) -> ErrorCode {
        match self {
            SwitchoverError::Guardrails { .. } => ErrorCode::GuardrailFailed,
            SwitchoverError::FenceUnavailable { .. } => ErrorCode::FenceUnavailable,
            SwitchoverError::RolledBack { .. } => ErrorCode::RolledBack,
            SwitchoverError::RollbackIncomplete { .. } => ErrorCode::RollbackIncomplete,
            SwitchoverError::PromotionUnknown(_) => ErrorCode::PromotionUnknown,
            SwitchoverError::AfterPromotion(_) => ErrorCode::AfterPromotion,
            SwitchoverError::Destination(e) => e.code(),
            // A migration task whose source answers: the DBA wants a switchover.
            SwitchoverError::FailoverRefused { checks }
                if checks
                    .iter()
                    .any(|c| c.id == "source.lost" && c.status == GuardrailStatus::Error) =>
            {
                ErrorCode::SourceAnswers
            }
            SwitchoverError::FailoverRefused { .. } => ErrorCode::FailoverRefused,
            SwitchoverError::FailoverFailed(_) => ErrorCode::FailoverFailed,
        }
    }
}

impl Coded for UndoError {
    fn code(&self) -> ErrorCode {
        ErrorCode::UndoFailed
    }
}

fn join(problems: &[UndoError]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

fn failed_guardrails(checks: &[Guardrail]) -> String {
    checks
        .iter()
        .filter(|c| c.status == GuardrailStatus::Error)
        .map(|c| format!("{} ({})", c.title(), c.finding))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_is_written_in_json_as_its_string() {
        for o in [
            Outcome::Success,
            Outcome::Refused,
            Outcome::RolledBack,
            Outcome::RollbackIncomplete,
            Outcome::PromotionUnknown,
            Outcome::AfterPromotion,
            Outcome::FailoverFailed,
            Outcome::Failed,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }

    #[test]
    fn a_failed_failover_is_failover_failed_in_code_and_outcome() {
        let e = SwitchoverError::FailoverFailed(Box::new(FailoverCause::Promote(
            PromoteError::NotPromoted,
        )));
        assert_eq!(e.code(), ErrorCode::FailoverFailed);
        assert_eq!(e.outcome(), Outcome::FailoverFailed);
        assert!(e.to_string().contains("the destination is still a standby"));
        assert_eq!(Outcome::of_code(e.code()), e.outcome());
    }

    #[test]
    fn a_failure_reported_by_its_code_keeps_its_outcome() {
        for e in [
            SwitchoverError::Guardrails { checks: vec![] },
            SwitchoverError::FenceUnavailable {
                strategy: FenceStrategy::Shutdown,
                finding: Finding::ShutdownNotManaged,
                checks: vec![],
            },
            SwitchoverError::FailoverRefused { checks: vec![] },
            SwitchoverError::FailoverFailed(Box::new(FailoverCause::Promote(
                PromoteError::NotPromoted,
            ))),
        ] {
            assert_eq!(Outcome::of_code(e.code()), e.outcome(), "{e}");
        }
        for (code, outcome) in [
            (ErrorCode::RolledBack, Outcome::RolledBack),
            (ErrorCode::RollbackIncomplete, Outcome::RollbackIncomplete),
            (ErrorCode::PromotionUnknown, Outcome::PromotionUnknown),
            (ErrorCode::AfterPromotion, Outcome::AfterPromotion),
            (ErrorCode::CatchupTimeout, Outcome::Failed),
            (ErrorCode::Agent, Outcome::Failed),
        ] {
            assert_eq!(Outcome::of_code(code), outcome, "{code:?}");
        }
    }
}
