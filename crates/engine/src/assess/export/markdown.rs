//! Markdown export: a heading per group, a bullet per check, remedies in code blocks.

use std::fmt::Write;

use crate::assess::model::{Report, Status};

fn icon(status: Status) -> &'static str {
    match status {
        Status::Success => "✅",
        Status::Warning => "⚠️",
        Status::Error => "❌",
        Status::Skipped => "⏭️",
    }
}

/// Escapes the characters Markdown would interpret inside running text.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A fence longer than any backtick run inside `s`.
fn fence(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Renders the report as Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let c = report.counts();
    let _ = writeln!(
        out,
        "# Feasibility assessment: {}\n",
        report.verdict.label()
    );
    let _ = writeln!(out, "**{}**\n", escape(&report.summary_line()));
    let _ = writeln!(out, "| | Source | Destination |\n|---|---|---|");
    let row =
        |label: &str, a: &str, b: &str| format!("| {label} | {} | {} |\n", escape(a), escape(b));
    out.push_str(&row("Name", &report.source.name, &report.destination.name));
    out.push_str(&row(
        "Endpoint",
        &report.source.endpoint,
        &report.destination.endpoint,
    ));
    out.push_str(&row(
        "Version",
        report.source.version.as_deref().unwrap_or("?"),
        report.destination.version.as_deref().unwrap_or("?"),
    ));
    let _ = writeln!(
        out,
        "\nReport `{}` · mode {} · created {} · {} ms · {} passed, {} warnings, {} errors, {} skipped\n",
        report.id,
        report.mode.as_str(),
        report.created_at,
        report.duration_ms,
        c.passed,
        c.warnings,
        c.errors,
        c.skipped
    );
    for group in &report.groups {
        let _ = writeln!(out, "## {}\n", escape(&group.name));
        for check in &group.checks {
            let _ = writeln!(
                out,
                "- {} **{}** (`{}`) — {}: {}",
                icon(check.status),
                escape(&check.title),
                check.id,
                format!("{:?}", check.status).to_lowercase(),
                escape(&check.message)
            );
            if !check.impact.is_empty() && check.status != Status::Success {
                let _ = writeln!(out, "  - Impact: {}", escape(&check.impact));
            }
            if !check.remedy.is_empty() && check.status != Status::Success {
                let f = fence(&check.remedy);
                let _ = writeln!(out, "  - Remedy:\n\n    {f}");
                for line in check.remedy.lines() {
                    let _ = writeln!(out, "    {line}");
                }
                let _ = writeln!(out, "    {f}\n");
            }
            if !check.evidence.is_empty() {
                let ev: Vec<String> = check
                    .evidence
                    .iter()
                    .map(|(k, v)| format!("{}: {}", escape(k), escape(&v.to_string())))
                    .collect();
                let _ = writeln!(out, "  - Evidence: {}", ev.join("; "));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::export::sample;

    #[test]
    fn markdown_keeps_remedies_copyable_and_escapes_text() {
        let md = render(&sample::report());
        assert!(md.starts_with("# Feasibility assessment: Failed"));
        assert!(md.contains("    host replication migrator 10.0.0.5/32 scram-sha-256"));
        assert!(md.contains("public.\\<cache\\> \\| x"), "{md}");
        assert!(md.contains("## Source data"));
    }
}
