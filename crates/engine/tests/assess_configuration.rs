//! Source configuration on real servers of several majors: wal_level minimal, WAL senders
//! and replication slots exhausted, a slot WAL limit below the copy's needs, large WAL
//! retention under load, wal_keep beside a limited slot, and a failing archiver.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pgrelocate_engine::assess::{Mode, Options, Status};
use pgrelocate_engine::wire::{ConnectOptions, ReplicationConnection};
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::Cluster;
use support::{expect, expect_error, expect_warning, options, Env};

async fn env_with(source: &Cluster) -> Env {
    let env = Env::new();
    env.register("src", source, "postgres", source.superuser_password())
        .await;
    env.register_nowhere("external-dest").await;
    env
}

#[tokio::test]
async fn wal_level_minimal_is_an_error_naming_the_settings_to_change() {
    let source = Cluster::builder(13)
        .setting("wal_level", "minimal")
        .setting("max_wal_senders", "0")
        .start()
        .await
        .unwrap();
    let env = env_with(&source).await;
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let check = expect_error(
        &report,
        "src.wal_level",
        &[
            "ALTER SYSTEM SET wal_level = 'replica';",
            "ALTER SYSTEM SET max_wal_senders = 10;",
            "restart",
        ],
    );
    assert!(check.message.contains("minimal"), "{}", check.message);
}

#[tokio::test]
async fn no_free_wal_sender_is_an_error() {
    let source = Cluster::builder(15)
        .setting("max_wal_senders", "1")
        .start()
        .await
        .unwrap();
    let env = env_with(&source).await;
    // Another standby holds the only WAL sender.
    let endpoint = Endpoint::new(
        source.host(),
        source.port(),
        "postgres",
        None,
        SslMode::Disable,
    )
    .unwrap();
    let password = Password::new(source.superuser_password().unwrap());
    let _other = ReplicationConnection::connect(
        &endpoint,
        Some(&password),
        &ConnectOptions {
            application_name: "other_standby".into(),
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap();
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let check = expect_error(
        &report,
        "src.wal_senders",
        &["ALTER SYSTEM SET max_wal_senders = 3;"],
    );
    assert!(check.message.contains("other_standby"), "{}", check.message);
}

#[tokio::test]
async fn replication_slots_stale_taken_and_exhausted() {
    let source = Cluster::builder(12)
        .setting("max_replication_slots", "2")
        .start()
        .await
        .unwrap();
    let env = env_with(&source).await;
    source
        .sql("SELECT pg_create_physical_replication_slot('pgrelocate_old')")
        .await
        .unwrap();

    // A leftover pgrelocate slot keeps WAL: a warning.
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let stale = expect_warning(&report, "src.slots", &["pgrelocate_old"]);
    assert!(stale
        .remedy
        .contains("SELECT pg_drop_replication_slot('pgrelocate_old');"));

    // The migration's own slot name already taken: an error.
    let named = Options {
        slot_name: Some("pgrelocate_old".into()),
        ..options()
    };
    let report = env
        .assess("src", "external-dest", Mode::Migration, named)
        .await;
    expect_error(
        &report,
        "src.slots",
        &["pg_drop_replication_slot('pgrelocate_old')"],
    );

    // Every slot taken: an error naming both ways out.
    source
        .sql("SELECT pg_create_physical_replication_slot('other')")
        .await
        .unwrap();
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let full = expect_error(
        &report,
        "src.slots",
        &[
            "ALTER SYSTEM SET max_replication_slots = 3;",
            "pg_drop_replication_slot('other')",
        ],
    );
    assert!(
        full.message.contains("no free replication slot"),
        "{}",
        full.message
    );
}

#[tokio::test]
async fn slot_wal_limit_below_the_copy_is_an_error_and_heavy_writes_a_warning() {
    let source = Cluster::builder(16)
        .setting("max_slot_wal_keep_size", "1MB")
        .start()
        .await
        .unwrap();
    let env = env_with(&source).await;
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    expect_error(
        &report,
        "src.wal_retention",
        &[
            "ALTER SYSTEM SET max_slot_wal_keep_size",
            "pg_reload_conf()",
        ],
    );
    // wal_keep_size = 0 beside a limited slot: nothing else keeps WAL.
    expect_warning(&report, "src.wal_keep", &["wal_keep_size = 0"]);

    // Without the limit, but with heavy writes and a slow assumed copy: a large retention.
    for statement in [
        "ALTER SYSTEM SET max_slot_wal_keep_size = -1",
        "SELECT pg_reload_conf()",
        "CREATE TABLE churn (id int, filler text)",
    ] {
        source.sql(statement).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let client = source.connect().await.unwrap();
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                client
                    .batch_execute("INSERT INTO churn SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g")
                    .await
                    .unwrap();
            }
        })
    };
    let slow = Options {
        wal_sample: Duration::from_secs(1),
        assumed_copy_rate: 1024,
        ..options()
    };
    let report = env
        .assess("src", "external-dest", Mode::Migration, slow)
        .await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let check = expect_warning(&report, "src.wal_retention", &["large WAL retention"]);
    assert!(check.evidence["wal_rate_bytes_per_sec"].as_u64().unwrap() > 0);
    expect(&report, "src.wal_keep", Status::Success);
}

#[tokio::test]
async fn failing_archiver_is_a_warning() {
    let source = Cluster::builder(14)
        .setting("archive_mode", "on")
        .setting("archive_command", "false")
        .start()
        .await
        .unwrap();
    source
        .sql("CREATE TABLE t AS SELECT 1 AS x; SELECT pg_switch_wal()")
        .await
        .unwrap();
    for _ in 0..100 {
        let failed: i64 = source
            .query_scalar("SELECT failed_count FROM pg_stat_archiver")
            .await
            .unwrap();
        if failed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let env = env_with(&source).await;
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let check = expect_warning(&report, "src.archive", &["archiving is failing"]);
    assert!(check.remedy.contains("archive_command"));
}
