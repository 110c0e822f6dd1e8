//! A hostile source does not decide where files land: a lying replication server (the test
//! kit's `FakeSource`) sends tablespace locations and tar entries no real PostgreSQL sends.
//! Each refusal names the first refused entry, and the host outside the target is as it was
//! (owner, mode and content of every file, checked before and after); what is accepted gets
//! the modes the source's data_directory_mode asks for, not the archive's.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pgrelocate_engine::backup::{
    self, progress, BackupError, BackupOptions, BackupOutcome, TablespaceMapping,
};
use pgrelocate_engine::{Endpoint, SslMode};
use pgrelocate_testkit::fake_source::{
    tar_archive, FakeBackup, FakeSource, FakeTablespace, TarEntry,
};
use support::{owner, work_dir};
use tokio_util::sync::CancellationToken;

const TS_OID: u32 = 16385;

/// A base archive as a real server starts it, then `extra` entries.
fn base_archive(extra: Vec<TarEntry>) -> Vec<u8> {
    let mut entries = vec![
        TarEntry::File(
            "backup_label",
            0o600,
            b"START WAL LOCATION: 0/2000028\n".to_vec(),
        ),
        TarEntry::Dir("global", 0o700),
        TarEntry::File("global/pg_control", 0o600, vec![7; 8192]),
    ];
    entries.extend(extra);
    tar_archive(&entries)
}

fn tablespace(location: &str) -> FakeTablespace {
    FakeTablespace {
        oid: TS_OID,
        location: location.into(),
        archive: tar_archive(&[
            TarEntry::Dir("PG_12_201909212", 0o700),
            TarEntry::Dir("PG_12_201909212/16384", 0o700),
            TarEntry::File("PG_12_201909212/16384/16386", 0o600, vec![1; 8192]),
        ]),
    }
}

fn tablespace_link() -> TarEntry {
    // Real servers send the link with the source's path; the client makes its own.
    TarEntry::Symlink("pg_tblspc/16385", "/srv/source/ts")
}

async fn run(backup: FakeBackup, options: &BackupOptions) -> Result<BackupOutcome, BackupError> {
    let source = FakeSource::start(backup).await.unwrap();
    let endpoint = Endpoint::new(
        source.host(),
        source.port(),
        "postgres",
        None,
        SslMode::Disable,
    )
    .unwrap();
    backup::run(
        &endpoint,
        None,
        options,
        progress::channel().0,
        CancellationToken::new(),
    )
    .await
}

fn options(target: &Path) -> BackupOptions {
    let mut o = BackupOptions::new(target);
    o.owner = owner();
    o.sync = false;
    o
}

/// Kind, mode, owner and content of everything under `root` (not following links).
type Snapshot = BTreeMap<PathBuf, (String, u32, u32, u32)>;

fn snapshot(root: &Path) -> Snapshot {
    fn walk(root: &Path, path: &Path, out: &mut Snapshot) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        let kind = if meta.is_dir() {
            "dir".to_string()
        } else if meta.file_type().is_symlink() {
            format!("link {}", std::fs::read_link(path).unwrap().display())
        } else {
            format!("file {:?}", std::fs::read(path).unwrap())
        };
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        out.insert(rel, (kind, meta.mode() & 0o7777, meta.uid(), meta.gid()));
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                walk(root, &entry.unwrap().path(), out);
            }
        }
    }
    let mut out = Snapshot::new();
    walk(root, root, &mut out);
    out
}

/// Runs a backup that must be refused into `work/copy`; returns the message after checking
/// that `work` (and `also`) look exactly as before.
async fn refused(backup: FakeBackup, work: &Path, also: &[&Path]) -> String {
    let watched: Vec<&Path> = std::iter::once(work).chain(also.iter().copied()).collect();
    let before: Vec<Snapshot> = watched.iter().map(|p| snapshot(p)).collect();
    let err = run(backup, &options(&work.join("copy")))
        .await
        .expect_err("the backup must be refused");
    let message = err.to_string();
    assert!(
        !message.contains("manifest"),
        "the refusal is hidden behind a later symptom: {message}"
    );
    for (path, before) in watched.iter().zip(before) {
        assert_eq!(
            snapshot(path),
            before,
            "{} changed: {message}",
            path.display()
        );
    }
    message
}

fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[tokio::test]
async fn relative_tablespace_location_is_refused() {
    let work = work_dir();
    let cwd = std::env::current_dir().unwrap();
    let mut b = FakeBackup::new(15, base_archive(vec![tablespace_link()]));
    b.tablespaces.push(tablespace("hostile_ts_rel"));
    let message = refused(b, work.path(), &[]).await;
    assert_names(
        &message,
        &["16385", "\"hostile_ts_rel\"", "not an absolute path"],
    );
    assert!(
        !cwd.join("hostile_ts_rel").exists(),
        "written under the current directory"
    );
}

#[tokio::test]
async fn tablespace_location_with_dot_dot_is_refused() {
    let work = work_dir();
    let location = format!("{}/inside/../outside", work.path().display());
    let mut b = FakeBackup::new(15, base_archive(vec![tablespace_link()]));
    b.tablespaces.push(tablespace(&location));
    let message = refused(b, work.path(), &[]).await;
    assert_names(&message, &["16385", &location, "'..'"]);
}

#[tokio::test]
async fn existing_empty_directory_is_taken_over_only_when_mapped() {
    let work = work_dir();
    // A folder someone else owns (root, when the tests run as root), empty and open.
    let theirs = work.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o755)).unwrap();
    let location = theirs.to_str().unwrap().to_string();
    let backup = || {
        let mut b = FakeBackup::new(12, base_archive(vec![tablespace_link()]));
        b.tablespaces.push(tablespace(&location));
        b
    };
    let message = refused(backup(), work.path(), &[]).await;
    assert_names(
        &message,
        &["16385", &location, "already exists", "--tablespace-mapping"],
    );

    // Mapped onto itself, the DBA takes it over explicitly.
    let target = work.path().join("copy");
    let mut o = options(&target);
    o.tablespace_mappings = vec![TablespaceMapping {
        old: theirs.clone(),
        new: theirs.clone(),
    }];
    let outcome = run(backup(), &o).await.unwrap();
    assert_eq!(outcome.tablespaces[0].target, theirs);
    assert!(theirs.join("PG_12_201909212/16384/16386").is_file());
    assert_eq!(
        std::fs::read_link(target.join("pg_tblspc/16385")).unwrap(),
        theirs
    );
}

#[tokio::test]
async fn tar_entry_climbing_out_is_refused_and_named_first() {
    let work = work_dir();
    let b = FakeBackup::new(
        15,
        base_archive(vec![
            TarEntry::File("../escaped", 0o600, b"x".to_vec()),
            TarEntry::File("/tmp/also-escaped", 0o600, b"x".to_vec()),
        ]),
    );
    let message = refused(b, work.path(), &[]).await;
    assert_names(&message, &["\"../escaped\"", "base.tar", "'..'"]);
    assert!(!message.contains("also-escaped"), "{message}");
}

#[tokio::test]
async fn absolute_tar_entry_is_refused() {
    let work = work_dir();
    let outside = work.path().join("absolute");
    let name: &'static str = Box::leak(outside.to_str().unwrap().to_string().into_boxed_str());
    let b = FakeBackup::new(
        14,
        base_archive(vec![TarEntry::File(name, 0o600, b"x".to_vec())]),
    );
    let message = refused(b, work.path(), &[]).await;
    assert_names(&message, &[name, "absolute path"]);
}

#[tokio::test]
async fn symlink_to_etc_is_refused() {
    let work = work_dir();
    let etc = Path::new("/etc");
    let b = FakeBackup::new(
        15,
        base_archive(vec![
            TarEntry::Symlink("pg_log", "/etc"),
            TarEntry::File("pg_log/cron.d-evil", 0o644, b"* * * * * root id\n".to_vec()),
        ]),
    );
    let before = std::fs::read_dir(etc).unwrap().count();
    let message = refused(b, work.path(), &[]).await;
    assert_names(&message, &["\"pg_log\"", "symbolic links are refused"]);
    assert_eq!(std::fs::read_dir(etc).unwrap().count(), before);

    // Nor may a tablespace's archive carry one, or the base archive write below pg_tblspc.
    let ts_dir = work.path().join("ts");
    let location = ts_dir.to_str().unwrap().to_string();
    let mut b = FakeBackup::new(15, base_archive(vec![tablespace_link()]));
    let mut ts = tablespace(&location);
    ts.archive = tar_archive(&[TarEntry::Symlink("PG_15_202209061", "/etc")]);
    b.tablespaces.push(ts);
    let message = refused(b, work.path(), &[]).await;
    assert_names(&message, &["\"PG_15_202209061\"", "16385.tar"]);

    let mut b = FakeBackup::new(
        15,
        base_archive(vec![
            tablespace_link(),
            TarEntry::File("pg_tblspc/16385/through-the-link", 0o600, b"x".to_vec()),
        ]),
    );
    b.tablespaces.push(tablespace(&location));
    let message = refused(b, work.path(), &[]).await;
    assert_names(
        &message,
        &["pg_tblspc/16385/through-the-link", "tablespace links"],
    );
}

#[tokio::test]
async fn hard_links_and_devices_are_refused() {
    let work = work_dir();
    let b = FakeBackup::new(
        15,
        base_archive(vec![TarEntry::HardLink("passwd", "/etc/passwd")]),
    );
    let message = refused(b, work.path(), &[Path::new("/etc/passwd")]).await;
    assert_names(&message, &["\"passwd\"", "hard links are refused"]);

    let b = FakeBackup::new(15, base_archive(vec![TarEntry::CharDevice("dev/mem")]));
    let message = refused(b, work.path(), &[]).await;
    assert_names(&message, &["\"dev/mem\"", "device"]);
}

async fn modes_follow_the_data_directory_mode(data_directory_mode: &str, dir: u32, file: u32) {
    let work = work_dir();
    let target = work.path().join("copy");
    let mut b = FakeBackup::new(
        12,
        base_archive(vec![
            TarEntry::Dir("base", 0o777),
            TarEntry::File("base/run.sh", 0o755, b"#!/bin/sh\n".to_vec()),
            TarEntry::File("base/open", 0o666, b"x".to_vec()),
            tablespace_link(),
        ]),
    );
    b.data_directory_mode = data_directory_mode.into();
    let ts_dir = work.path().join("ts");
    b.tablespaces.push(tablespace(ts_dir.to_str().unwrap()));
    run(b, &options(&target)).await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
    for d in [
        &target,
        &target.join("base"),
        &target.join("global"),
        &ts_dir,
    ] {
        assert_eq!(mode(d), dir, "{}", d.display());
    }
    for f in ["base/run.sh", "base/open", "global/pg_control"] {
        assert_eq!(mode(&target.join(f)), file, "{f}");
    }
    assert_eq!(mode(&ts_dir.join("PG_12_201909212/16384/16386")), file);
}

#[tokio::test]
async fn archive_modes_are_replaced_by_private_ones() {
    modes_follow_the_data_directory_mode("0700", 0o700, 0o600).await;
}

#[tokio::test]
async fn group_readable_source_gets_group_read_only() {
    modes_follow_the_data_directory_mode("0750", 0o750, 0o640).await;
}
