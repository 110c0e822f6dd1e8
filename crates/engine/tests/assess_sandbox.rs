//! The assessment end to end against the sandbox (a source with data and an empty managed
//! destination): it succeeds with only the expected warnings, it is stored, and every
//! export is sound — JSON valid against its schema, HTML rendered by headless Chromium,
//! no password anywhere.

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use pgrelocate_engine::assess::export::{self, Format, REPORT_JSON_SCHEMA};
use pgrelocate_engine::assess::{Mode, Status, Verdict};
use pgrelocate_engine::sandbox;
use pgrelocate_engine::store::reports;
use support::{expect, expect_warning, options, Env};

fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_assessment_succeeds_with_expected_warnings_and_exports_cleanly() {
    let env = Env::new();
    let made = sandbox::create(&env.instances, None).await.unwrap();

    let started = Instant::now();
    let report = env
        .assess(
            sandbox::SOURCE,
            sandbox::DESTINATION,
            Mode::Migration,
            options(),
        )
        .await;
    let took = started.elapsed();
    let text = export::text(&report, false);
    println!("{text}\nassessment took {took:?}");

    assert_ne!(report.verdict, Verdict::Error, "{text}");
    assert_eq!(report.counts().skipped, 0, "{text}");
    for id in [
        "src.reachable",
        "src.login",
        "src.replication_conn",
        "src.role_replication",
        "src.fencing",
        "src.wal_level",
        "src.wal_senders",
        "src.slots",
        "dest.managed",
        "dest.primary",
        "dest.empty",
        "dest.same_system",
        "dest.version",
        "dest.storage",
        "dest.binary_compat",
        "dest.locales",
        "dest.extensions",
        "dest.c_functions",
    ] {
        expect(&report, id, Status::Success);
    }
    // The sandbox's unlogged table arrives empty; its tablespace folder is the source's own
    // on this host, so the copy will use a default folder.
    expect_warning(&report, "src.unlogged", &["unlogged"]);
    expect_warning(&report, "dest.tablespaces", &[sandbox::TABLESPACE]);
    assert_eq!(report.counts().warnings, 2, "{text}");
    assert!(took.as_secs() < 30, "took {took:?}");

    // Stored, and listed.
    let stored = reports::get(env.instances.store(), &report.id).unwrap();
    assert_eq!(stored, report);
    assert_eq!(
        reports::list(env.instances.store()).unwrap()[0].id,
        report.id
    );
    assert!(made.extension.is_some());

    // No password in any export.
    let mut secrets = Vec::new();
    for name in [sandbox::SOURCE, sandbox::DESTINATION] {
        secrets.push(env.password_of(name).await.unwrap().expose().to_string());
    }
    for format in [Format::Json, Format::Html, Format::Md, Format::Text] {
        let rendered = export::render(&report, format);
        for s in &secrets {
            assert!(
                !rendered.contains(s.as_str()),
                "{format:?} export contains a password"
            );
        }
    }

    // JSON validates against the published schema.
    let json: serde_json::Value =
        serde_json::from_str(&export::render(&report, Format::Json)).unwrap();
    let schema: serde_json::Value = serde_json::from_str(REPORT_JSON_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // HTML renders in headless Chromium into a non-trivial picture.
    let html = artifacts_dir().join("assessment-sandbox.html");
    export::write_file(&report, Format::Html, &html).unwrap();
    let png = artifacts_dir().join("assessment-sandbox.png");
    screenshot(&html, &png);
    let size = std::fs::metadata(&png).unwrap().len();
    assert!(size > 20_000, "screenshot is only {size} bytes");
}

/// Renders `html` with headless Chromium (no network, throwaway profile) into `png`.
fn screenshot(html: &Path, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let _ = std::fs::remove_file(png);
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium (Debian package `chromium`) is installed");
    assert!(
        png.is_file(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
