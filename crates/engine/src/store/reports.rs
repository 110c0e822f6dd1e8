//! Stored assessment reports: saved whole (the JSON form) with the columns a list shows,
//! found again by id or by an unambiguous id prefix, and deleted on request.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{Store, StoreError};
use crate::assess::model::{Counts, Mode, Report, Verdict};

/// Shortest id prefix `get` accepts, so a typo cannot silently pick some report.
pub const MIN_PREFIX: usize = 4;

/// Why a report could not be stored or found.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no report {0:?} (see `pgrelocate report list`)")]
    NotFound(String),
    #[error(
        "report id {prefix:?} is ambiguous: it starts {count} report ids; give more characters"
    )]
    Ambiguous { prefix: String, count: usize },
    #[error("report id {0:?} is too short: give at least {MIN_PREFIX} characters")]
    PrefixTooShort(String),
    #[error("stored report {id} is unreadable: {reason}")]
    Corrupt { id: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ReportError {
    fn from(e: rusqlite::Error) -> Self {
        ReportError::Store(StoreError::Sql(e))
    }
}

/// One line of `report list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSummary {
    /// Report id.
    pub id: String,
    /// When the assessment ran (RFC 3339, UTC).
    pub created_at: String,
    /// Source instance name.
    pub source: String,
    /// Destination instance name.
    pub destination: String,
    /// Scenario.
    pub mode: Mode,
    /// Overall result.
    pub verdict: Verdict,
    /// Checks by status.
    pub counts: Counts,
    /// Wall time of the assessment.
    pub duration_ms: u64,
}

fn word<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Saves a report (replacing one with the same id).
pub fn save(store: &Store, report: &Report) -> Result<(), ReportError> {
    let body = serde_json::to_string(report).expect("a report always serialises");
    let c = report.counts();
    store.conn().execute(
        "INSERT OR REPLACE INTO reports (id, created_at, source_name, dest_name, mode, verdict, \
         errors, warnings, skipped, passed, duration_ms, body) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            report.id,
            report.created_at,
            report.source.name,
            report.destination.name,
            word(report.mode),
            word(report.verdict),
            c.errors as i64,
            c.warnings as i64,
            c.skipped as i64,
            c.passed as i64,
            report.duration_ms as i64,
            body
        ],
    )?;
    Ok(())
}

/// The report with this id, or the only one whose id starts with it.
pub fn get(store: &Store, id: &str) -> Result<Report, ReportError> {
    let conn = store.conn();
    let exact: Option<String> = conn
        .query_row("SELECT body FROM reports WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    let (id, body) = match exact {
        Some(body) => (id.to_string(), body),
        None => {
            if id.chars().count() < MIN_PREFIX {
                return Err(ReportError::PrefixTooShort(id.to_string()));
            }
            let mut stmt = conn.prepare(
                "SELECT id, body FROM reports WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
            )?;
            let found: Vec<(String, String)> = stmt
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            match found.len() {
                0 => return Err(ReportError::NotFound(id.to_string())),
                1 => found.into_iter().next().expect("one row"),
                _ => {
                    let count: usize = conn.query_row(
                        "SELECT count(*) FROM reports WHERE substr(id, 1, length(?1)) = ?1",
                        [id],
                        |r| r.get::<_, i64>(0),
                    )? as usize;
                    return Err(ReportError::Ambiguous {
                        prefix: id.to_string(),
                        count,
                    });
                }
            }
        }
    };
    serde_json::from_str(&body).map_err(|e| ReportError::Corrupt {
        id,
        reason: e.to_string(),
    })
}

/// Every stored report, newest first.
pub fn list(store: &Store) -> Result<Vec<ReportSummary>, ReportError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT id, created_at, source_name, dest_name, mode, verdict, errors, warnings, \
         skipped, passed, duration_ms FROM reports ORDER BY created_at DESC, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            [
                r.get::<_, i64>(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ],
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, created_at, source, destination, mode, verdict, n) = row?;
        let parse = |what: &str, text: &str| ReportError::Corrupt {
            id: id.clone(),
            reason: format!("unknown {what} {text:?}"),
        };
        let mode: Mode = serde_json::from_value(serde_json::Value::String(mode.clone()))
            .map_err(|_| parse("mode", &mode))?;
        let verdict: Verdict = serde_json::from_value(serde_json::Value::String(verdict.clone()))
            .map_err(|_| parse("verdict", &verdict))?;
        out.push(ReportSummary {
            id,
            created_at,
            source,
            destination,
            mode,
            verdict,
            counts: Counts {
                errors: n[0] as usize,
                warnings: n[1] as usize,
                skipped: n[2] as usize,
                passed: n[3] as usize,
            },
            duration_ms: n[4] as u64,
        });
    }
    Ok(out)
}

/// Deletes a report; `false` when there was none with that exact id.
pub fn delete(store: &Store, id: &str) -> Result<bool, ReportError> {
    Ok(store
        .conn()
        .execute("DELETE FROM reports WHERE id = ?1", [id])?
        > 0)
}

impl crate::Coded for ReportError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            ReportError::NotFound(_) => ErrorCode::ReportNotFound,
            ReportError::Ambiguous { .. } => ErrorCode::AmbiguousId,
            ReportError::PrefixTooShort(_) => ErrorCode::IdTooShort,
            ReportError::Corrupt { .. } => ErrorCode::Store,
            ReportError::Store(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::export::sample;

    #[test]
    fn a_saved_report_comes_back_whole_by_id_or_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut a = sample::report();
        a.id = "a1b2c3d4e5f6".into();
        let mut b = sample::report();
        b.id = "a1b2ffffffff".into();
        b.created_at = "2026-11-25T08:00:00Z".into();
        save(&store, &a).unwrap();
        save(&store, &b).unwrap();
        assert_eq!(get(&store, "a1b2c3d4e5f6").unwrap(), a);
        assert_eq!(get(&store, "a1b2c3").unwrap(), a);
        assert!(matches!(
            get(&store, "a1b2"),
            Err(ReportError::Ambiguous { count: 2, .. })
        ));
        assert!(matches!(
            get(&store, "a1"),
            Err(ReportError::PrefixTooShort(_))
        ));
        assert!(matches!(get(&store, "ffff"), Err(ReportError::NotFound(_))));
        let listed = list(&store).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].id, b.id, "newest first");
        assert_eq!(listed[1].verdict, Verdict::Error);
        assert_eq!(listed[1].counts, a.counts());
        assert!(delete(&store, &a.id).unwrap());
        assert!(!delete(&store, &a.id).unwrap());
        assert_eq!(list(&store).unwrap().len(), 1);
    }
}
