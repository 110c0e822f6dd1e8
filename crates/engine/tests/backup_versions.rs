//! A base backup of every supported major (one test per major): a source with data, a user
//! tablespace (mapped to a new folder), a large object and an unlogged table is copied, the
//! copy starts as a standby on a slot, receives rows written after the backup, holds the
//! same data as the source, and after promotion has the unlogged table empty.

mod support;

use std::time::{Duration, Instant};

use pgrelocate_engine::backup::{self, progress, BackupOptions, Phase, TablespaceMapping};
use pgrelocate_engine::wire::SlotName;
use pgrelocate_testkit::{Cluster, ConnParams};
use support::{endpoint, owner, password, replication, work_dir, Standby};
use tokio_util::sync::CancellationToken;

const SETUP: &str = "
    CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
    INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5 FROM generate_series(1, 20000) g;
    CREATE TABLE moved (id int, note text) TABLESPACE ts1;
    INSERT INTO moved SELECT g, repeat('x', g % 100) FROM generate_series(1, 5000) g;
    CREATE UNLOGGED TABLE scratch (id int, v text);
    INSERT INTO scratch SELECT g, 'tmp' FROM generate_series(1, 1000) g;
    SELECT lo_from_bytea(424242, convert_to(repeat('large object ', 5000), 'UTF8'));
    CHECKPOINT;
";

/// One text that changes when any of the copied data differs.
const FINGERPRINT: &str = "
    SELECT (SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM accounts a)
        || (SELECT md5(string_agg(m::text, ',' ORDER BY id, note)) FROM moved m)
        || (SELECT md5(lo_get(424242)))
";

async fn fingerprint(params: &ConnParams) -> String {
    let client = params.connect().await.unwrap();
    client.query_one(FINGERPRINT, &[]).await.unwrap().get(0)
}

async fn copies_and_streams(major: u32) {
    let source = Cluster::builder(major).start().await.unwrap();
    let ts_dir = source.create_tablespace("ts1").await.unwrap();
    source.sql(SETUP).await.unwrap();

    let slot = SlotName::new("pgrelocate_copy").unwrap();
    let mut conn = replication(&source).await.unwrap();
    conn.create_physical_slot(&slot, false).await.unwrap();

    let work = work_dir();
    let target = work.path().join("copy");
    let ts_target = work.path().join("ts1-copy");
    let mut options = BackupOptions::new(&target);
    options.tablespace_mappings = vec![TablespaceMapping {
        old: ts_dir.clone(),
        new: ts_target.clone(),
    }];
    options.owner = owner();
    options.sync = false;
    let (tx, rx) = progress::channel();
    let outcome = backup::run(
        &endpoint(&source),
        password(&source).as_ref(),
        &options,
        tx,
        CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("backup of {major} failed: {e}"));
    assert_eq!(rx.borrow().phase, Phase::Done);
    assert!(rx.borrow().bytes_done > 0);
    assert!(outcome.end_lsn >= outcome.start_lsn);
    assert_eq!(outcome.tablespaces.len(), 1);
    assert_eq!(outcome.manifest_files_verified.is_some(), major >= 13);

    // The copy's shape: backup_label kept, tablespace link to the mapped folder, owner.
    assert!(target.join("backup_label").is_file());
    let link = std::fs::read_link(target.join(format!("pg_tblspc/{}", outcome.tablespaces[0].oid)))
        .unwrap();
    assert_eq!(link, ts_target);
    assert!(std::fs::read_dir(&ts_target).unwrap().next().is_some());
    if let Some(o) = owner() {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(target.join("global/pg_control")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (o.uid, o.gid));
    }
    if major >= 11 {
        let rel: String = source
            .query_scalar("SELECT pg_relation_filepath('scratch')")
            .await
            .unwrap();
        assert!(
            target.join(format!("{rel}_init")).is_file(),
            "init fork missing"
        );
        assert!(!target.join(&rel).exists(), "unlogged main fork was copied");
    }
    if major >= 13 {
        let report = backup::verify_copy(&target).await.unwrap();
        assert!(report.files > 100);
    }

    let standby = Standby::start(&source, &target, slot.as_str());
    source
        .sql(
            "INSERT INTO accounts VALUES (20001, 'after the backup', 1); \
              INSERT INTO moved VALUES (5001, 'after the backup');",
        )
        .await
        .unwrap();
    let flushed: String = source
        .query_scalar("SELECT pg_current_wal_lsn()::text")
        .await
        .unwrap();
    let copy = standby.params(&source);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let caught_up = match copy.connect().await {
            Ok(c) => c
                .query_one(
                    &format!("SELECT pg_last_wal_replay_lsn() >= '{flushed}'::pg_lsn"),
                    &[],
                )
                .await
                .map(|r| r.get::<_, Option<bool>>(0) == Some(true))
                .unwrap_or(false),
            Err(_) => false,
        };
        if caught_up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "standby never caught up:\n{}",
            standby.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let late: i64 = copy
        .connect()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM accounts WHERE id = 20001", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(late, 1, "a row written after the backup did not arrive");
    assert_eq!(
        fingerprint(&copy).await,
        fingerprint(&source.params()).await
    );

    standby.promote();
    let client = copy.connect().await.unwrap();
    for _ in 0..100 {
        let in_recovery: bool = client
            .query_one("SELECT pg_is_in_recovery()", &[])
            .await
            .unwrap()
            .get(0);
        if !in_recovery {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scratch: i64 = client
        .query_one("SELECT count(*) FROM scratch", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(scratch, 0, "an unlogged table must come back empty");
    drop(standby);
    conn.drop_slot(&slot, true).await.unwrap();
}

macro_rules! per_major {
    ($($name:ident => $major:expr),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            copies_and_streams($major).await;
        }
    )*};
}

per_major! {
    copy_of_10_streams_and_matches => 10,
    copy_of_11_streams_and_matches => 11,
    copy_of_12_streams_and_matches => 12,
    copy_of_13_streams_and_matches => 13,
    copy_of_14_streams_and_matches => 14,
    copy_of_15_streams_and_matches => 15,
    copy_of_16_streams_and_matches => 16,
    copy_of_17_streams_and_matches => 17,
    copy_of_18_streams_and_matches => 18,
}
