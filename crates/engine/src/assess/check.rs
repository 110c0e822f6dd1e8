//! What a check is: a declared id, group, title, failure level and prerequisites, plus the
//! async function that measures its evidence.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::Serialize;

use super::model::{Level, Status};

/// The declaration of one check, as listed in the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSpec {
    /// Stable id, e.g. `src.wal_level`.
    pub id: &'static str,
    /// Group title, e.g. "Source configuration".
    pub group: &'static str,
    /// Human title.
    pub title: &'static str,
    /// What a failure means.
    pub fails_as: Level,
    /// Checks that must pass (success or warning) before this one can run.
    pub depends_on: &'static [&'static str],
}

/// A check bound to the context `C` it reads its evidence from.
pub struct Check<C> {
    /// Its declaration.
    pub spec: CheckSpec,
    /// Measures and judges.
    pub run: for<'a> fn(&'a C) -> BoxFuture<'a, Outcome>,
}

impl<C> Clone for Check<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Check<C> {}

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `None` means "failed at the spec's level"; otherwise an explicit status.
    pub status: OutcomeStatus,
    /// One sentence on what was found.
    pub message: String,
    /// What happens if ignored.
    pub impact: String,
    /// What to do.
    pub remedy: String,
    /// Measured facts.
    pub evidence: BTreeMap<String, serde_json::Value>,
}

/// How an [`Outcome`] ended, before the spec's level is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeStatus {
    /// The rule holds.
    Pass,
    /// The rule does not hold: report at the spec's `fails_as` level.
    Fail,
    /// The rule does not hold, but only as a warning (checks with two tiers).
    Warn,
    /// The check could not measure (e.g. a prerequisite it discovered itself is missing).
    Skip,
}

impl Outcome {
    fn new(status: OutcomeStatus, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            impact: String::new(),
            remedy: String::new(),
            evidence: BTreeMap::new(),
        }
    }

    /// The rule holds.
    pub fn pass(message: impl Into<String>) -> Self {
        Outcome::new(OutcomeStatus::Pass, message)
    }

    /// The rule does not hold (reported at the check's declared level).
    pub fn fail(message: impl Into<String>) -> Self {
        Outcome::new(OutcomeStatus::Fail, message)
    }

    /// A risk, whatever the check's declared level.
    pub fn warn(message: impl Into<String>) -> Self {
        Outcome::new(OutcomeStatus::Warn, message)
    }

    /// The check could not run.
    pub fn skip(message: impl Into<String>) -> Self {
        Outcome::new(OutcomeStatus::Skip, message)
    }

    /// Adds the impact text.
    pub fn impact(mut self, impact: impl Into<String>) -> Self {
        self.impact = impact.into();
        self
    }

    /// Adds the remedy text (copyable by the DBA).
    pub fn remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = remedy.into();
        self
    }

    /// Records one piece of evidence.
    pub fn evidence(mut self, key: &str, value: impl Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.evidence.insert(key.to_string(), value);
        self
    }

    /// The status this outcome has under `spec`.
    pub fn status_under(&self, spec: &CheckSpec) -> Status {
        match self.status {
            OutcomeStatus::Pass => Status::Success,
            OutcomeStatus::Fail => spec.fails_as.into(),
            OutcomeStatus::Warn => Status::Warning,
            OutcomeStatus::Skip => Status::Skipped,
        }
    }
}
