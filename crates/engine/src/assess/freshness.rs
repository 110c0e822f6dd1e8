//! Whether an assessment still describes its source: a task started from an old report, or
//! from one made when the source was much smaller, copies (and needs room for) more than
//! the report said. The task dialog and `pgrelocate migrate` both say so and offer a re-run.

use std::time::Duration;

use serde::Serialize;

use super::context::ServerFacts;
use super::Report;
use crate::instances::Instances;
use crate::sql;
use crate::store::reports::{self, ReportError};

/// A report older than this is worth re-running before a task starts from it.
pub const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// A change in the source's size (either way) above this share of the assessed size
/// makes the report's storage and WAL figures out of date.
pub const SIZE_CHANGE: f64 = 0.10;

/// How current a report is, measured against the source now.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Freshness {
    /// The report.
    pub report_id: String,
    /// When it was made (RFC 3339, UTC).
    pub assessed_at: String,
    /// Its age in seconds.
    pub age_secs: u64,
    /// The source's size the report recorded (databases + WAL), when it could read it.
    pub assessed_bytes: Option<u64>,
    /// The source's size now, measured the same way, when it could be read.
    pub current_bytes: Option<u64>,
    /// Why the size could not be measured now (the source is down, say).
    pub measure_error: Option<String>,
    /// Older than [`MAX_AGE`].
    pub old: bool,
    /// The size moved by more than [`SIZE_CHANGE`] of the assessed size.
    pub size_changed: bool,
}

impl Freshness {
    /// Either reason to re-run the assessment holds.
    pub fn stale(&self) -> bool {
        self.old || self.size_changed
    }

    /// One sentence for the CLI (the app words it from the fields).
    pub fn describe(&self) -> Option<String> {
        if !self.stale() {
            return None;
        }
        let mut parts = Vec::new();
        if self.old {
            parts.push(format!("is {} old", age_words(self.age_secs)));
        }
        if let (true, Some(then), Some(now)) =
            (self.size_changed, self.assessed_bytes, self.current_bytes)
        {
            parts.push(format!(
                "measured the source at {}; it is {} now",
                super::export::human_bytes(then),
                super::export::human_bytes(now)
            ));
        }
        Some(format!(
            "assessment {} {}",
            self.report_id,
            parts.join(" and ")
        ))
    }
}

fn age_words(secs: u64) -> String {
    match secs {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 3600 => format!("{} h", s / 3600),
        s => format!("{} min", s / 60),
    }
}

/// The decision, from the figures (kept apart from the measuring so it is testable alone).
pub fn judge(
    report: &Report,
    age_secs: u64,
    current_bytes: Option<u64>,
    measure_error: Option<String>,
) -> Freshness {
    let assessed_bytes = report.source.size_bytes;
    let size_changed = match (assessed_bytes, current_bytes) {
        (Some(then), Some(now)) => {
            let then_f = then.max(1) as f64;
            (now as f64 - then as f64).abs() / then_f > SIZE_CHANGE
        }
        _ => false,
    };
    Freshness {
        report_id: report.id.clone(),
        assessed_at: report.created_at.clone(),
        age_secs,
        assessed_bytes,
        current_bytes,
        measure_error,
        old: age_secs > MAX_AGE.as_secs(),
        size_changed,
    }
}

/// Measures the report's source now and judges the report. A source that cannot be read
/// is no error: the age still counts, and `measure_error` says why the size is missing.
pub async fn freshness(instances: &Instances, report_id: &str) -> Result<Freshness, ReportError> {
    let report = reports::get(instances.store(), report_id)?;
    let age_secs = report
        .created_at
        .parse::<jiff::Timestamp>()
        .map(|at| jiff::Timestamp::now().duration_since(at).as_secs().max(0) as u64)
        .unwrap_or(0);
    let (current, error) = match current_size(instances, &report.source.name).await {
        Ok(Some(bytes)) => (Some(bytes), None),
        Ok(None) => (
            None,
            Some("the source's size could not be read (pg_database_size needs CONNECT on every database)".into()),
        ),
        Err(e) => (None, Some(e)),
    };
    Ok(judge(&report, age_secs, current, error))
}

/// The source's size as the assessment measures it ([`ServerFacts::size_bytes`]).
async fn current_size(instances: &Instances, name: &str) -> Result<Option<u64>, String> {
    let record = instances
        .store()
        .instance_by_name(name)
        .map_err(|e| e.to_string())?;
    let password = instances
        .password_for(&record)
        .await
        .map_err(|e| e.to_string())?;
    let client = sql::connect(
        &record.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .map_err(|e| e.to_string())?;
    let facts = ServerFacts::read(&client)
        .await
        .map_err(|e| super::context::describe_pg_error(&e))?;
    Ok(facts.size_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::model::{DestinationSummary, SourceSummary};
    use crate::assess::{Mode, Verdict};

    fn report(size: Option<u64>) -> Report {
        Report {
            schema_version: 1,
            id: "r1".into(),
            created_at: "2026-11-24T08:00:00Z".into(),
            mode: Mode::Migration,
            duration_ms: 1,
            source: SourceSummary {
                name: "src".into(),
                size_bytes: size,
                ..Default::default()
            },
            destination: DestinationSummary::default(),
            verdict: Verdict::Success,
            groups: Vec::new(),
        }
    }

    #[test]
    fn a_recent_report_of_a_source_of_the_same_size_is_fresh() {
        let f = judge(&report(Some(1000)), 60, Some(1050), None);
        assert!(!f.stale(), "{f:?}");
        assert_eq!(f.describe(), None);
    }

    #[test]
    fn a_day_old_report_or_a_grown_source_is_stale_and_says_by_how_much() {
        let old = judge(&report(Some(1000)), 3 * 86_400, Some(1000), None);
        assert!(old.old && !old.size_changed);
        assert_eq!(old.describe().unwrap(), "assessment r1 is 3 days old");

        let grown = judge(&report(Some(100 << 20)), 600, Some(250 << 20), None);
        assert!(grown.size_changed && !grown.old);
        assert_eq!(
            grown.describe().unwrap(),
            "assessment r1 measured the source at 100.0 MiB; it is 250.0 MiB now"
        );
        // Shrunk as much counts too: the WAL and storage figures are off either way.
        assert!(judge(&report(Some(1000)), 0, Some(800), None).size_changed);
    }

    #[test]
    fn an_unmeasured_size_judges_by_age_alone() {
        let f = judge(
            &report(Some(1000)),
            60,
            None,
            Some("connection refused".into()),
        );
        assert!(!f.stale());
        assert_eq!(f.measure_error.as_deref(), Some("connection refused"));
    }
}
