//! What a DBA is promised beyond "it copies": independent verification, server-side
//! compression, manifest checks that catch damage, and a target left as it was whenever a
//! backup cannot finish (refusal, cancellation, a checksum failure on the source).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pgrelocate_engine::backup::{
    self, progress, BackupError, BackupOptions, BackupOutcome, Compression, MaxRate,
    TablespaceMapping,
};
use pgrelocate_testkit::{Cluster, Flavour, DEBIAN_MAJOR};
use support::{endpoint, owner, password, work_dir};
use tokio_util::sync::CancellationToken;

const DATA: &str = "
    CREATE TABLE t (id int, payload text);
    INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 50000) g;
";

async fn source_with_tablespace(major: u32, flavour: Flavour) -> (Cluster, PathBuf) {
    let source = Cluster::builder(major)
        .flavour(flavour)
        .start()
        .await
        .unwrap();
    let ts = source.create_tablespace("ts1").await.unwrap();
    source
        .sql(&format!(
            "{DATA} CREATE TABLE t2 TABLESPACE ts1 AS SELECT * FROM t;"
        ))
        .await
        .unwrap();
    (source, ts)
}

fn options(target: &Path, ts: &Path, ts_target: &Path) -> BackupOptions {
    let mut o = BackupOptions::new(target);
    o.tablespace_mappings = vec![TablespaceMapping {
        old: ts.to_path_buf(),
        new: ts_target.to_path_buf(),
    }];
    o.owner = owner();
    o.sync = false;
    o
}

async fn run(source: &Cluster, options: &BackupOptions) -> Result<BackupOutcome, BackupError> {
    backup::run(
        &endpoint(source),
        password(source).as_ref(),
        options,
        progress::channel().0,
        CancellationToken::new(),
    )
    .await
}

fn pg_verifybackup(dir: &Path) -> (bool, String) {
    let out = Command::new(format!(
        "/usr/lib/postgresql/{DEBIAN_MAJOR}/bin/pg_verifybackup"
    ))
    .arg("-n")
    .arg(dir)
    .output()
    .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn verified_by_pg_verifybackup(compression: Compression, flavour: Flavour) {
    let (source, ts) = source_with_tablespace(DEBIAN_MAJOR, flavour).await;
    let work = work_dir();
    let target = work.path().join("copy");
    let mut o = options(&target, &ts, &work.path().join("ts"));
    o.compression = compression;
    o.sync = true;
    let outcome = run(&source, &o).await.unwrap();
    assert!(outcome.manifest_files_verified.unwrap() > 100);
    let (ok, text) = pg_verifybackup(&target);
    assert!(ok, "pg_verifybackup: {text}");
    assert!(text.contains("successfully verified"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_verifybackup_accepts_a_copy_of_15() {
    verified_by_pg_verifybackup(Compression::None, Flavour::Embedded).await;
}

// Debian's build has lz4 and zstd support compiled in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_compressed_copy_is_verified() {
    verified_by_pg_verifybackup(Compression::Zstd, Flavour::Debian).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lz4_compressed_copy_is_verified() {
    verified_by_pg_verifybackup(Compression::Lz4, Flavour::Debian).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_compressed_copy_is_verified() {
    verified_by_pg_verifybackup(Compression::Gzip, Flavour::Debian).await;
}

async fn flipped_byte_is_caught(major: u32) {
    let (source, ts) = source_with_tablespace(major, Flavour::Embedded).await;
    let work = work_dir();
    let target = work.path().join("copy");
    run(&source, &options(&target, &ts, &work.path().join("ts")))
        .await
        .unwrap();
    backup::verify_copy(&target).await.unwrap();

    let rel: String = source
        .query_scalar("SELECT pg_relation_filepath('t')")
        .await
        .unwrap();
    let file = target.join(&rel);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[5000] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let err = backup::verify_copy(&target).await.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("{rel} does not match its checksum")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_byte_in_a_copy_of_13_is_caught() {
    flipped_byte_is_caught(13).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_byte_in_a_copy_of_15_is_caught() {
    flipped_byte_is_caught(15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_empty_target_is_refused_and_left_alone() {
    let (source, ts) = source_with_tablespace(15, Flavour::Embedded).await;
    let work = work_dir();
    let target = work.path().join("copy");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("precious"), b"keep me").unwrap();
    let err = run(&source, &options(&target, &ts, &work.path().join("ts")))
        .await
        .unwrap_err();
    assert!(matches!(err, BackupError::TargetNotEmpty(_)), "{err}");
    assert_eq!(std::fs::read(target.join("precious")).unwrap(), b"keep me");
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablespace_existing_here_must_be_mapped() {
    let (source, ts) = source_with_tablespace(15, Flavour::Embedded).await;
    let before = std::fs::read_dir(&ts).unwrap().count();
    let work = work_dir();
    let target = work.path().join("copy");
    let mut o = BackupOptions::new(&target);
    o.sync = false;
    o.owner = owner();
    let err = run(&source, &o).await.unwrap_err();
    match &err {
        BackupError::TablespaceExists { location, .. } => {
            assert_eq!(Path::new(location), ts.as_path())
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(err.to_string().contains("--tablespace-mapping"), "{err}");
    assert!(
        !target.exists(),
        "the refused backup left {target:?} behind"
    );
    assert_eq!(std::fs::read_dir(&ts).unwrap().count(), before);

    // A mapping that matches no tablespace is a typo, not something to ignore.
    o.tablespace_mappings = vec![
        TablespaceMapping {
            old: ts.clone(),
            new: work.path().join("ts"),
        },
        "/no/such/ts=/tmp/x".parse().unwrap(),
    ];
    let err = run(&source, &o).await.unwrap_err();
    assert!(matches!(err, BackupError::UnusedMapping(_)), "{err}");
    assert!(!target.exists() && !work.path().join("ts").exists());
}

async fn cancel_restores_the_targets(major: u32) {
    let (source, ts) = source_with_tablespace(major, Flavour::Embedded).await;
    let work = work_dir();
    // The data directory exists (empty) beforehand; the tablespace target does not.
    let target = work.path().join("copy");
    std::fs::create_dir(&target).unwrap();
    let ts_target = work.path().join("ts");
    let mut o = options(&target, &ts, &ts_target);
    // 32 kB/s, the server's minimum: the copy is still running when it is cancelled.
    o.max_rate = Some(MaxRate::from_kb_per_sec(32).unwrap());
    let (tx, mut rx) = progress::channel();
    let cancel = CancellationToken::new();
    let (ep, pw) = (endpoint(&source), password(&source));
    let task = {
        let cancel = cancel.clone();
        let o = o.clone();
        tokio::spawn(async move { backup::run(&ep, pw.as_ref(), &o, tx, cancel).await })
    };
    loop {
        rx.changed().await.unwrap();
        if rx.borrow().bytes_done > 0 {
            break;
        }
    }
    cancel.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, BackupError::Cancelled), "{err}");
    assert!(target.is_dir());
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
    assert!(!ts_target.exists());
    // The source forgets the aborted backup: a new one can start at once.
    let o = options(&target, &ts, &ts_target);
    run(&source, &o).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_restores_the_targets_on_13() {
    cancel_restores_the_targets(13).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_restores_the_targets_on_15() {
    cancel_restores_the_targets(15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksum_failure_on_the_source_fails_the_backup() {
    let source = Cluster::builder(15)
        .data_checksums(true)
        .start()
        .await
        .unwrap();
    source.sql(DATA).await.unwrap();
    source.sql("CHECKPOINT").await.unwrap();
    let rel: String = source
        .query_scalar("SELECT pg_relation_filepath('t')")
        .await
        .unwrap();
    source.stop().await.unwrap();
    let file = source.data_dir().join(&rel);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[8192 + 4000] ^= 0xff; // inside page 1's tuple data
    std::fs::write(&file, bytes).unwrap();
    source.start().await.unwrap();

    let work = work_dir();
    let target = work.path().join("copy");
    let mut o = BackupOptions::new(&target);
    o.owner = owner();
    o.sync = false;
    let err = run(&source, &o).await.unwrap_err();
    assert!(matches!(err, BackupError::DataCorruption(_)), "{err}");
    assert!(err.to_string().contains("XX001"), "{err}");
    assert!(!target.exists(), "a copy with a bad page was left behind");
}
