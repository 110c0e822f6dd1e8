//! The console text form: `[Group] Title: status(level: message)` lines, then the verdict.
//! Non-successful checks get indented impact and remedy lines under them.

use std::fmt::Write;

use crate::assess::model::{Report, Status};

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Renders the report; `colour` adds ANSI colours for a terminal.
pub fn render(report: &Report, colour: bool) -> String {
    let paint = |code: &'static str, s: &str| {
        if colour {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    let c = report.counts();
    let _ = writeln!(
        out,
        "Feasibility assessment {} ({}): {} → {}",
        report.id,
        report.mode.as_str(),
        report.source.name,
        report.destination.name
    );
    let _ = writeln!(
        out,
        "Source {} {}, destination {} {}, {} ms\n",
        report.source.endpoint,
        report.source.version.as_deref().unwrap_or("?"),
        report.destination.endpoint,
        report.destination.version.as_deref().unwrap_or("?"),
        report.duration_ms
    );
    for group in &report.groups {
        for check in &group.checks {
            let status = match check.status {
                Status::Success => paint(GREEN, "success"),
                Status::Warning => paint(YELLOW, &format!("warning: {}", check.message)),
                Status::Error => paint(RED, &format!("error: {}", check.message)),
                Status::Skipped => paint(DIM, &format!("skipped: {}", check.message)),
            };
            let _ = writeln!(out, "[{}] {}: {}", group.name, check.title, status);
            if matches!(check.status, Status::Warning | Status::Error) {
                if !check.impact.is_empty() {
                    let _ = writeln!(out, "    impact: {}", check.impact);
                }
                for (i, line) in check.remedy.lines().enumerate() {
                    let label = if i == 0 { "remedy:" } else { "       " };
                    let _ = writeln!(out, "    {label} {line}");
                }
            }
        }
    }
    let _ = writeln!(out, "\n{}", paint(BOLD, &report.summary_line()));
    let _ = writeln!(
        out,
        "{} passed, {} warnings, {} errors, {} skipped",
        c.passed, c.warnings, c.errors, c.skipped
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::export::sample;

    #[test]
    fn console_form_matches_the_reference_shape() {
        let text = render(&sample::report(), false);
        assert!(text.contains(
            "[Source connectivity] Check src.replication_conn: error: pg_hba.conf rejects replication connection for host \"10.0.0.5\", user \"migrator\""
        ), "{text}");
        assert!(text.contains("[Source connectivity] Check src.reachable: success"));
        assert!(text.contains("    remedy: host replication migrator 10.0.0.5/32 scram-sha-256"));
        assert!(
            text.contains("\nMigration check failed: 1 error, 1 warning\n"),
            "{text}"
        );
        assert!(!text.contains('\x1b'));
        assert!(render(&sample::report(), true).contains('\x1b'));
    }
}
