//! Source data on real servers: unlogged tables, logical slots, prepared and long
//! transactions, missing checksums, configuration drift, and a source whose clock is off.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::{Mode, Options, Status};
use pgrelocate_testkit::Cluster;
use support::{expect, expect_warning, options, Env};

#[tokio::test]
async fn what_a_physical_copy_does_not_carry_is_reported_as_warnings() {
    let source = Cluster::builder(17)
        .setting("wal_level", "logical")
        .setting("max_prepared_transactions", "2")
        .setting("work_mem", "64MB")
        .data_checksums(false)
        .start()
        .await
        .unwrap();
    source
        .sql(
            "CREATE UNLOGGED TABLE \"Session Cache\" (k text, v text); \
             INSERT INTO \"Session Cache\" SELECT g::text, g::text FROM generate_series(1, 1000) g",
        )
        .await
        .unwrap();
    source
        .sql("SELECT pg_create_logical_replication_slot('app_slot', 'test_decoding')")
        .await
        .unwrap();
    source
        .sql("BEGIN; CREATE TABLE half_done (x int); PREPARE TRANSACTION 'pending_tx'")
        .await
        .unwrap();
    let long = source.connect().await.unwrap();
    long.batch_execute("BEGIN; SELECT txid_current()")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest("dest", 17, None).await;
    let opts = Options {
        long_transaction: Duration::from_secs(1),
        ..options()
    };
    let report = env.assess("src", "dest", Mode::Migration, opts).await;

    let unlogged = expect_warning(&report, "src.unlogged", &["arrive empty", "Session Cache"]);
    assert!(unlogged
        .remedy
        .contains("ALTER TABLE public.\"Session Cache\" SET LOGGED;"));
    let logical = expect_warning(&report, "src.logical_slots", &["app_slot"]);
    assert!(logical
        .remedy
        .contains("pg_create_logical_replication_slot('app_slot', 'test_decoding')"));
    let prepared = expect_warning(&report, "src.prepared_xacts", &["pending_tx"]);
    assert!(prepared.remedy.contains("COMMIT PREPARED 'pending_tx';"));
    let long_check = expect_warning(&report, "src.long_xacts", &["open longer than 1 s"]);
    assert!(long_check.remedy.contains("pg_terminate_backend("));
    expect_warning(&report, "src.checksums", &["wal_log_hints"]);
    let drift = expect_warning(&report, "src.config_drift", &["work_mem = 64MB"]);
    assert!(
        drift.remedy.contains("work_mem = '64MB'"),
        "{}",
        drift.remedy
    );
    assert!(
        !drift.message.contains("max_prepared_transactions"),
        "standby settings are applied, not drift"
    );
    expect(&report, "src.clock", Status::Success);
    drop(long);
}

#[tokio::test]
async fn a_source_clock_far_from_this_hosts_is_a_warning() {
    let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    assert!(
        std::path::Path::new(faketime).exists(),
        "this test needs libfaketime (Debian package libfaketime)"
    );
    let source = Cluster::builder(15)
        .server_env("LD_PRELOAD", faketime)
        .server_env("FAKETIME", "+90")
        .server_env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .start()
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.register_nowhere("external-dest").await;
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let check = expect_warning(&report, "src.clock", &["ahead of"]);
    let offset = check.evidence["offset_secs"].as_f64().unwrap();
    assert!((80.0..100.0).contains(&offset), "offset {offset}");
}
