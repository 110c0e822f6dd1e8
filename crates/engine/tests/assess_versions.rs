//! The whole catalogue against sources and managed destinations of majors 10 to 18: every
//! version-specific query runs, nothing is skipped, and an ordinary source passes.

mod support;

use pgrelocate_engine::assess::export;
use pgrelocate_engine::assess::{Mode, Status, Verdict};
use pgrelocate_testkit::Cluster;
use support::{options, Env};

async fn ordinary_source_passes(major: u32) {
    let source = Cluster::builder(major)
        .data_checksums(true)
        .start()
        .await
        .unwrap();
    source
        .sql(
            "CREATE TABLE orders (id int PRIMARY KEY, note text); \
              INSERT INTO orders SELECT g, 'n' || g FROM generate_series(1, 1000) g",
        )
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest("dest", major, None).await;
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let text = export::text(&report, false);
    assert_ne!(report.verdict, Verdict::Error, "{text}");
    for check in report.checks() {
        // The way back is a capability of managed sources: for this external one it is
        // said, as a skip, not run.
        if check.id == "src.way_back" {
            assert_eq!(check.status, Status::Skipped, "{text}");
            assert!(check.message.contains("not offered"), "{text}");
            continue;
        }
        assert_ne!(check.status, Status::Skipped, "{text}");
        assert!(
            !check.message.contains("SQLSTATE"),
            "{}: {}",
            check.id,
            check.message
        );
        // Only the locale settings the test kit writes (C.UTF-8 vs the destination's C) drift.
        if check.status == Status::Warning {
            assert_eq!(check.id, "src.config_drift", "{text}");
        }
    }
    assert_eq!(
        report
            .source
            .version
            .as_deref()
            .map(|v| v.starts_with(&major.to_string())),
        Some(true)
    );
    assert!(report.source.size_bytes.unwrap() > 0);
}

#[tokio::test]
async fn pg10_ordinary_source_passes() {
    ordinary_source_passes(10).await;
}

#[tokio::test]
async fn pg13_ordinary_source_passes() {
    ordinary_source_passes(13).await;
}

#[tokio::test]
async fn pg16_ordinary_source_passes() {
    ordinary_source_passes(16).await;
}

#[tokio::test]
async fn pg18_ordinary_source_passes() {
    ordinary_source_passes(18).await;
}
