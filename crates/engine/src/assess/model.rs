//! The report a DBA reads: groups of checks, each with its evidence, impact and remedy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Version of the report's JSON form; bump it when a field changes meaning or goes away.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The scenario an assessment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Migrate, then switch over.
    Migration,
    /// Keep the destination as a disaster-recovery standby.
    Dr,
}

impl Mode {
    /// The lowercase name used in the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Migration => "migration",
            Mode::Dr => "dr",
        }
    }
}

/// What a failed check means for the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Blocks the migration.
    Error,
    /// A risk the DBA accepts knowingly.
    Warning,
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "CheckStatus")]
pub enum Status {
    /// The rule holds.
    Success,
    /// The rule does not hold; a risk.
    Warning,
    /// The rule does not hold; the migration cannot proceed.
    Error,
    /// The check could not run (a prerequisite failed); never counted as passed.
    Skipped,
}

impl From<Level> for Status {
    fn from(level: Level) -> Self {
        match level {
            Level::Error => Status::Error,
            Level::Warning => Status::Warning,
        }
    }
}

/// The overall result of an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every check passed.
    Success,
    /// No error, at least one warning.
    Warning,
    /// At least one error: the migration cannot start.
    Error,
}

impl Verdict {
    /// The console's wording: Successful / Successful with warnings / Failed.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Success => "Successful",
            Verdict::Warning => "Successful with warnings",
            Verdict::Error => "Failed",
        }
    }
}

/// One check's result as shown in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct CheckResult {
    /// Stable id, e.g. `src.wal_level`.
    pub id: String,
    /// Human title, e.g. "Check wal_level".
    pub title: String,
    /// Outcome.
    pub status: Status,
    /// What was found, in one sentence.
    pub message: String,
    /// What happens if the DBA ignores it (empty on success).
    #[serde(default)]
    pub impact: String,
    /// What to do: SQL, a pg_hba line, a command (empty on success).
    #[serde(default)]
    pub remedy: String,
    /// The measured facts behind the status.
    #[serde(default)]
    pub evidence: BTreeMap<String, serde_json::Value>,
    /// How long the check took.
    #[serde(default)]
    pub duration_ms: u64,
}

/// A titled group of checks, e.g. "Source connectivity".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Group {
    /// Group title.
    pub name: String,
    /// Checks in catalogue order.
    pub checks: Vec<CheckResult>,
}

/// The source as seen during the assessment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SourceSummary {
    /// Registered name.
    pub name: String,
    /// `host:port`.
    pub endpoint: String,
    /// Server version, when it could be read.
    pub version: Option<String>,
    /// Database system identifier, when it could be read.
    pub system_id: Option<String>,
    /// Size of all databases + tablespaces + WAL, when it could be read.
    pub size_bytes: Option<u64>,
}

/// The destination as seen during the assessment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct DestinationSummary {
    /// Registered name.
    pub name: String,
    /// `host:port`.
    pub endpoint: String,
    /// Server version, when it could be read.
    pub version: Option<String>,
    /// Data directory on this host.
    pub data_dir: Option<String>,
    /// Free bytes on the data directory's filesystem.
    pub free_bytes: Option<u64>,
}

/// Counts of non-successful checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Counts {
    /// Checks that ended in error.
    pub errors: usize,
    /// Checks that ended in warning.
    pub warnings: usize,
    /// Checks that could not run.
    pub skipped: usize,
    /// Checks that passed.
    pub passed: usize,
}

/// A complete feasibility assessment report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Report {
    /// Version of this JSON form.
    pub schema_version: u32,
    /// Report id.
    pub id: String,
    /// When the assessment started (RFC 3339, UTC).
    pub created_at: String,
    /// Scenario.
    pub mode: Mode,
    /// Wall time of the whole assessment.
    pub duration_ms: u64,
    /// Source summary.
    pub source: SourceSummary,
    /// Destination summary.
    pub destination: DestinationSummary,
    /// Overall result.
    pub verdict: Verdict,
    /// Checks by group.
    pub groups: Vec<Group>,
}

impl Report {
    /// The verdict the checks imply: error if any error, warning if any warning, else success.
    /// Skipped checks never pass silently: they only occur when something else failed.
    pub fn verdict_of(groups: &[Group]) -> Verdict {
        let statuses = || {
            groups
                .iter()
                .flat_map(|g| g.checks.iter().map(|c| c.status))
        };
        if statuses().any(|s| s == Status::Error) {
            Verdict::Error
        } else if statuses().any(|s| s == Status::Warning) {
            Verdict::Warning
        } else {
            Verdict::Success
        }
    }

    /// Counts by status.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for check in self.groups.iter().flat_map(|g| &g.checks) {
            match check.status {
                Status::Error => c.errors += 1,
                Status::Warning => c.warnings += 1,
                Status::Skipped => c.skipped += 1,
                Status::Success => c.passed += 1,
            }
        }
        c
    }

    /// Every check, in report order.
    pub fn checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.groups.iter().flat_map(|g| &g.checks)
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks().find(|c| c.id == id)
    }

    /// The closing line of a report, e.g. `Migration check failed: 1 error, 2 warnings`.
    pub fn summary_line(&self) -> String {
        let c = self.counts();
        let what = match self.mode {
            Mode::Migration => "Migration check",
            Mode::Dr => "DR check",
        };
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        match self.verdict {
            Verdict::Success => format!("{what} passed"),
            Verdict::Warning => format!("{what} passed with {}", plural(c.warnings, "warning")),
            Verdict::Error => format!(
                "{what} failed: {}, {}",
                plural(c.errors, "error"),
                plural(c.warnings, "warning")
            ),
        }
    }
}
