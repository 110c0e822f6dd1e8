//! An assessment's freshness against a real source: fresh right after it ran, stale once
//! the source has grown by more than the threshold, and judged by age alone when the
//! source cannot be read.

mod support;

use pgrelocate_engine::assess::{self, Mode};
use pgrelocate_testkit::Cluster;
use support::{options, Env};

#[tokio::test]
async fn a_source_that_grew_since_its_assessment_makes_the_report_stale() {
    let source = Cluster::builder(16).start().await.unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.register_nowhere("dest").await;
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let assessed = report
        .source
        .size_bytes
        .expect("the source's size was read");

    let fresh = assess::freshness(&env.instances, &report.id).await.unwrap();
    assert!(!fresh.stale(), "{fresh:?}");
    assert_eq!(fresh.assessed_bytes, Some(assessed));
    assert!(fresh.current_bytes.is_some(), "{fresh:?}");

    // Grow the source well past the threshold (a fifth of its size at least, in one table).
    let rows = (assessed / 5 / 1000).max(1000);
    source
        .sql(&format!(
            "CREATE TABLE grown AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, {rows}) g"
        ))
        .await
        .unwrap();
    let stale = assess::freshness(&env.instances, &report.id).await.unwrap();
    assert!(stale.size_changed && stale.stale(), "{stale:?}");
    assert!(stale.current_bytes.unwrap() > assessed, "{stale:?}");
    let words = stale.describe().unwrap();
    assert!(words.contains("measured the source at"), "{words}");

    // A source that is down: no size now, and no error either (the age still counts).
    source.stop().await.unwrap();
    let unread = assess::freshness(&env.instances, &report.id).await.unwrap();
    assert_eq!(unread.current_bytes, None);
    assert!(unread.measure_error.is_some(), "{unread:?}");
    assert!(!unread.stale(), "{unread:?}");
}
