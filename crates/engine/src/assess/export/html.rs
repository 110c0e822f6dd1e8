//! A self-contained, printable HTML page: styles inline, no scripts, no network.

use std::fmt::Write;

use crate::assess::model::{Report, Status, Verdict};

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.5 -apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#1f1f1f;margin:32px auto;max-width:1100px;padding:0 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e5e5e5;padding-bottom:4px}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:600;margin:8px 0}
.v-success{background:#f6ffed;color:#389e0d;border:1px solid #b7eb8f}.v-warning{background:#fffbe6;color:#d48806;border:1px solid #ffe58f}
.v-error{background:#fff2f0;color:#cf1322;border:1px solid #ffccc7}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #f0f0f0}
th{background:#fafafa;font-weight:600}.meta td:first-child{color:#666;width:160px}
.tag{display:inline-block;min-width:64px;text-align:center;padding:0 6px;border-radius:3px;font-size:12px}
.s-success{background:#f6ffed;color:#389e0d}.s-warning{background:#fffbe6;color:#d48806}.s-error{background:#fff2f0;color:#cf1322}.s-skipped{background:#f5f5f5;color:#8c8c8c}
pre{background:#f6f8fa;padding:8px;border-radius:4px;white-space:pre-wrap;word-break:break-all;margin:4px 0}
.id{color:#8c8c8c;font-family:monospace;font-size:12px}.ev{color:#595959;font-size:12px}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
";

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let c = report.counts();
    let vclass = match report.verdict {
        Verdict::Success => "v-success",
        Verdict::Warning => "v-warning",
        Verdict::Error => "v-error",
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Feasibility assessment {id} – {verdict}</title><style>{STYLE}</style></head><body>\
         <h1>Feasibility assessment</h1><div class=\"verdict {vclass}\">{verdict}</div>\
         <p>{summary} · {passed} passed, {warnings} warnings, {errors} errors, {skipped} skipped</p>",
        id = esc(&report.id),
        verdict = esc(report.verdict.label()),
        summary = esc(&report.summary_line()),
        passed = c.passed,
        warnings = c.warnings,
        errors = c.errors,
        skipped = c.skipped,
    );
    let opt = |o: &Option<String>| esc(o.as_deref().unwrap_or("—"));
    let _ = write!(
        out,
        "<table class=\"meta\"><tr><th></th><th>Source</th><th>Destination</th></tr>\
         <tr><td>Name</td><td>{}</td><td>{}</td></tr>\
         <tr><td>Endpoint</td><td>{}</td><td>{}</td></tr>\
         <tr><td>Version</td><td>{}</td><td>{}</td></tr>\
         <tr><td>System identifier</td><td>{}</td><td>—</td></tr>\
         <tr><td>Size / free</td><td>{}</td><td>{}</td></tr>\
         <tr><td>Data directory</td><td>—</td><td>{}</td></tr></table>\
         <p class=\"ev\">Report {} · mode {} · created {} · took {} ms</p>",
        esc(&report.source.name),
        esc(&report.destination.name),
        esc(&report.source.endpoint),
        esc(&report.destination.endpoint),
        opt(&report.source.version),
        opt(&report.destination.version),
        opt(&report.source.system_id),
        report
            .source
            .size_bytes
            .map(human_bytes)
            .unwrap_or_else(|| "—".into()),
        report
            .destination
            .free_bytes
            .map(human_bytes)
            .unwrap_or_else(|| "—".into()),
        opt(&report.destination.data_dir),
        esc(&report.id),
        report.mode.as_str(),
        esc(&report.created_at),
        report.duration_ms,
    );
    for group in &report.groups {
        let _ = write!(
            out,
            "<h2>{}</h2><table><tr><th style=\"width:90px\">Status</th><th style=\"width:280px\">Check</th><th>Finding</th></tr>",
            esc(&group.name)
        );
        for check in &group.checks {
            let (class, label) = match check.status {
                Status::Success => ("s-success", "success"),
                Status::Warning => ("s-warning", "warning"),
                Status::Error => ("s-error", "error"),
                Status::Skipped => ("s-skipped", "skipped"),
            };
            let _ = write!(
                out,
                "<tr><td><span class=\"tag {class}\">{label}</span></td><td>{}<br><span class=\"id\">{}</span></td><td>{}",
                esc(&check.title),
                esc(&check.id),
                esc(&check.message)
            );
            if check.status != Status::Success {
                if !check.impact.is_empty() {
                    let _ = write!(out, "<br><b>Impact:</b> {}", esc(&check.impact));
                }
                if !check.remedy.is_empty() {
                    let _ = write!(out, "<br><b>Remedy:</b><pre>{}</pre>", esc(&check.remedy));
                }
            }
            if !check.evidence.is_empty() {
                let ev: Vec<String> = check
                    .evidence
                    .iter()
                    .map(|(k, v)| format!("{}: {}", esc(k), esc(&v.to_string())))
                    .collect();
                let _ = write!(out, "<div class=\"ev\">{}</div>", ev.join(" · "));
            }
            out.push_str("</td></tr>");
        }
        out.push_str("</table>");
    }
    out.push_str("<p class=\"ev\">Generated by pgrelocate.</p></body></html>\n");
    out
}

/// `123.4 MiB`-style sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::export::sample;

    #[test]
    fn html_is_self_contained_and_escaped() {
        let html = render(&sample::report());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("src="));
        assert!(html.contains("prod &lt;main&gt;"));
        assert!(!html.contains("<cache>"));
        assert!(html.contains("class=\"verdict v-error\">Failed"));
        assert!(html.contains("<h2>Source connectivity</h2>"));
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(123_456_789), "117.7 MiB");
    }
}
