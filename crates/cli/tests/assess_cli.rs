//! `pgrelocate assess` and `pgrelocate report` on the sandbox, with the real Secret Service:
//! the grouped console report, exit 0 with warnings and 3 with errors, JSON on stdout,
//! atomic exports, stored reports found by id prefix.

mod instance_support;

use instance_support::{require_keyring, stderr, Cli};

/// Removes the sandbox (servers and data) even when the test fails.
struct SandboxGuard(std::path::PathBuf);

impl Drop for SandboxGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new(env!("CARGO_BIN_EXE_pgrelocate"))
            .args(["sandbox", "remove", "--yes"])
            .env("PGRELOCATE_HOME", &self.0)
            .output();
    }
}

#[test]
fn assess_prints_the_grouped_report_stores_it_and_exits_by_verdict() {
    require_keyring();
    let mut cli = Cli::new();
    cli.ok(&["sandbox", "create"]);
    let _guard = SandboxGuard(cli.state_dir().to_path_buf());
    let out_dir = tempfile::tempdir().unwrap();
    let html = out_dir.path().join("report.html");

    // Warnings only: exit 0, the console form, no colour without a terminal.
    let out = cli.run(&[
        "assess",
        "--source",
        "sandbox-source",
        "--dest",
        "sandbox-dest",
        "--out",
        html.to_str().unwrap(),
    ]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("[Source connectivity] Check replication connection: success"),
        "{text}"
    );
    assert!(
        text.contains("[Source data] Check unlogged tables: warning: "),
        "{text}"
    );
    assert!(
        text.contains("Migration check passed with 2 warnings"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "colour without a terminal");
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));

    // --json: one document on stdout.
    let report = cli.json(&[
        "assess",
        "--source",
        "sandbox-source",
        "--dest",
        "sandbox-dest",
        "--json",
    ]);
    assert_eq!(report["verdict"], "warning");
    assert_eq!(report["schema_version"], 1);
    let id = report["id"].as_str().unwrap().to_string();

    // Stored: listed, shown by an id prefix, exported atomically.
    let list = cli.json(&["report", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let md = cli.ok(&["report", "show", &id[..6], "--format", "md"]);
    assert!(
        md.starts_with("# Feasibility assessment: Successful with warnings"),
        "{md}"
    );
    let json_file = out_dir.path().join("r.json");
    cli.ok(&[
        "report",
        "export",
        &id,
        "--format",
        "json",
        "--out",
        json_file.to_str().unwrap(),
    ]);
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(exported, report);
    let leftovers: Vec<_> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pgrelocate-report-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Blocking errors (the destination onto itself): exit 3, the report still printed.
    let out = cli.run(&[
        "assess",
        "--source",
        "sandbox-dest",
        "--dest",
        "sandbox-dest",
    ]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(out.status.code(), Some(3), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("[Destination] Check destination is another cluster: error: "),
        "{text}"
    );
    assert!(text.contains("Migration check failed: "), "{text}");

    // An unknown report is a usage error.
    let out = cli.run(&["report", "show", "nosuchreport"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no report"));
}
