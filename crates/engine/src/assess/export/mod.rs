//! Report exports: JSON (versioned schema), a self-contained printable HTML page, Markdown,
//! and the console text form. Files are written atomically.

mod html;
mod markdown;
mod text;

use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::model::Report;

pub use html::human_bytes;
pub use text::render as text;

/// The JSON Schema every JSON export validates against.
pub const REPORT_JSON_SCHEMA: &str = include_str!("../report.schema.json");

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename = "ExportFormat")]
pub enum Format {
    /// Versioned JSON document.
    Json,
    /// Self-contained printable HTML page.
    Html,
    /// Markdown.
    Md,
    /// The console text form.
    Text,
}

impl Format {
    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Html => "html",
            Format::Md => "md",
            Format::Text => "txt",
        }
    }

    /// The format a file name's extension implies.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "html" | "htm" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Md),
            "txt" | "text" => Some(Format::Text),
            _ => None,
        }
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Md),
            "text" | "txt" => Ok(Format::Text),
            other => Err(ExportError::UnknownFormat(other.to_string())),
        }
    }
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("unknown report format {0:?}: use json, html, md or text")]
    UnknownFormat(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// The report rendered in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
            s.push('\n');
            s
        }
        Format::Html => html::render(report),
        Format::Md => markdown::render(report),
        Format::Text => text::render(report, false),
    }
}

/// Writes the report to `path` atomically: a temporary file in the same folder, flushed to
/// disk, then renamed over the target, so a reader never sees half a report.
pub fn write_file(report: &Report, format: Format, path: &Path) -> Result<(), ExportError> {
    let write_err = |source| ExportError::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pgrelocate-report-")
        .tempfile_in(dir)
        .map_err(write_err)?;
    tmp.write_all(render(report, format).as_bytes())
        .map_err(write_err)?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(path).map_err(|e| write_err(e.error))?;
    Ok(())
}

impl crate::Coded for ExportError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::ExportFailed
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use std::collections::BTreeMap;

    use crate::assess::model::*;

    /// A report with every status and characters that need escaping.
    pub fn report() -> Report {
        let check = |id: &str, status, message: &str, remedy: &str| CheckResult {
            id: id.into(),
            title: format!("Check {id}"),
            status,
            message: message.into(),
            impact: if status == Status::Success {
                String::new()
            } else {
                "the copy fails".into()
            },
            remedy: remedy.into(),
            evidence: BTreeMap::from([("value".to_string(), serde_json::json!("<minimal> & 'q'"))]),
            duration_ms: 3,
        };
        let groups = vec![
            Group {
                name: "Source connectivity".into(),
                checks: vec![
                    check("src.reachable", Status::Success, "connected in 2 ms", ""),
                    check(
                        "src.replication_conn",
                        Status::Error,
                        "pg_hba.conf rejects replication connection for host \"10.0.0.5\", user \"migrator\"",
                        "host replication migrator 10.0.0.5/32 scram-sha-256",
                    ),
                ],
            },
            Group {
                name: "Source data".into(),
                checks: vec![
                    check("src.unlogged", Status::Warning, "1 unlogged table: public.<cache> | x", "ALTER TABLE public.\"<cache>\" SET LOGGED;"),
                    check("src.clock", Status::Skipped, "skipped: depends on src.login, which did not pass", ""),
                ],
            },
        ];
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            id: "r-1".into(),
            created_at: "2026-11-24T08:00:00Z".into(),
            mode: Mode::Migration,
            duration_ms: 1234,
            source: SourceSummary {
                name: "prod <main>".into(),
                endpoint: "10.0.0.5:5432".into(),
                version: Some("15.18".into()),
                system_id: Some("7300000000000000001".into()),
                size_bytes: Some(123_456_789),
            },
            destination: DestinationSummary {
                name: "dest".into(),
                endpoint: "127.0.0.1:5433".into(),
                version: Some("15.18".into()),
                data_dir: Some("/var/lib/pgrelocate/dest".into()),
                free_bytes: Some(10_000_000_000),
            },
            verdict: Report::verdict_of(&groups),
            groups,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_export_validates_against_its_schema() {
        let report = sample::report();
        let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json)).unwrap();
        let schema: serde_json::Value = serde_json::from_str(REPORT_JSON_SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
    }

    #[test]
    fn schema_rejects_a_report_with_an_unknown_status() {
        let mut json = serde_json::to_value(sample::report()).unwrap();
        json["groups"][0]["checks"][0]["status"] = serde_json::json!("maybe");
        let schema: serde_json::Value = serde_json::from_str(REPORT_JSON_SCHEMA).unwrap();
        assert!(!jsonschema::validator_for(&schema).unwrap().is_valid(&json));
    }

    #[test]
    fn write_file_replaces_atomically_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        std::fs::write(&path, "old").unwrap();
        write_file(&sample::report(), Format::Html, &path).unwrap();
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn write_file_to_a_missing_folder_fails_clearly() {
        let err = write_file(
            &sample::report(),
            Format::Json,
            Path::new("/nonexistent/dir/r.json"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/dir/r.json"), "{err}");
    }

    #[test]
    fn format_from_path_and_name() {
        assert_eq!(Format::from_path(Path::new("a/b.HTML")), Some(Format::Html));
        assert_eq!(Format::from_path(Path::new("a/b")), None);
        assert_eq!("md".parse::<Format>().unwrap(), Format::Md);
        assert!("pdf".parse::<Format>().is_err());
    }
}
