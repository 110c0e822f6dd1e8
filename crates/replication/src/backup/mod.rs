//! Base backup over the replication protocol, without `pg_basebackup`.
//!
//! A streaming pipeline, one stage per concern (like pg_basebackup's archive streamers):
//! [`stream`] receives BASE_BACKUP in the source version's flow → [`decompress`] (server-side
//! compression, 15+) → [`tar`] parsing with path safety → [`extract`] (tablespace mapping,
//! modes, owner) → [`manifest`] verification (13+) → fsync. The network side runs on tokio;
//! the disk side on a blocking thread fed through a bounded channel, so both overlap and
//! memory stays bounded. On failure or cancellation every target is left as it was found.

pub mod command;
pub mod decompress;
pub mod error;
pub mod extract;
pub mod manifest;
pub mod options;
pub mod placement;
pub mod progress;
pub mod stream;
pub mod tar;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use error::BackupError;
pub use options::{BackupOptions, Compression, MaxRate, OptionError, Owner, TablespaceMapping};
pub use progress::{BackupProgress, Phase};

use crate::endpoint::Endpoint;
use crate::version::ServerVersion;
use crate::wire::{ConnectOptions, Lsn, ReplicationConnection};
use crate::Password;
use command::{base_backup_command, CommandOptions};
use extract::{prepare_dir, Extractor, Modes, PreparedDir};
use options::normalize;
use progress::ProgressMeter;
use stream::{
    archive_targets, read_header, receive_archives, write_archives, SourceTablespace, Written,
};

/// A tablespace as copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopiedTablespace {
    /// Its OID.
    pub oid: u32,
    /// Location on the source.
    pub source_location: String,
    /// Where it was written here (`pg_tblspc/<oid>` links to it).
    pub target: PathBuf,
}

/// What a finished base backup reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupOutcome {
    /// The source's version.
    pub server_version: String,
    /// The source's system identifier.
    pub system_id: u64,
    /// WAL position where the backup starts (the standby replays from here).
    pub start_lsn: Lsn,
    /// WAL position the standby must reach for the copy to be consistent.
    pub end_lsn: Lsn,
    /// Timeline at the start.
    pub timeline: u32,
    /// Files written.
    pub files: usize,
    /// Bytes of file data written.
    pub bytes: u64,
    /// Files checked against the backup manifest (13+), `None` for 10–12.
    pub manifest_files_verified: Option<usize>,
    /// User tablespaces and where they went.
    pub tablespaces: Vec<CopiedTablespace>,
    /// Wall-clock duration.
    pub elapsed_secs: f64,
}

/// Takes a base backup of `source` into `options.target_dir`.
///
/// Progress snapshots go to `progress`; `cancel` stops the backup, after which (as after any
/// failure) the target directory and tablespace directories are as they were before.
pub async fn run(
    source: &Endpoint,
    password: Option<&Password>,
    options: &BackupOptions,
    progress: watch::Sender<BackupProgress>,
    cancel: CancellationToken,
) -> Result<BackupOutcome, BackupError> {
    let started = Instant::now();
    let mut meter = ProgressMeter::new(progress);
    check_mappings(&options.tablespace_mappings)?;
    let target = absolute(&options.target_dir)?;
    let data_root = {
        let (target, owner) = (target.clone(), options.owner);
        blocking(move || prepare_dir(&target, 0o700, owner)).await?
    };
    let mut written_so_far = Partial {
        dirs: vec![data_root],
        writer: None,
    };
    let result = tokio::select! {
        r = copy(source, password, options, &target, &mut meter, &mut written_so_far) => r,
        _ = cancel.cancelled() => Err(BackupError::Cancelled),
    };
    match result {
        Ok(mut outcome) => {
            outcome.elapsed_secs = started.elapsed().as_secs_f64();
            meter.phase(Phase::Done);
            Ok(outcome)
        }
        Err(e) => {
            // The receiver is gone, so the writer thread stops at its next read; wait for it
            // before removing what it wrote.
            if let Some(writer) = written_so_far.writer.take() {
                let _ = writer.await;
            }
            let dirs = std::mem::take(&mut written_so_far.dirs);
            let rolled_back = blocking(move || {
                for dir in dirs.iter().rev() {
                    if let Err(err) = dir.rollback() {
                        tracing::error!(path = %dir.path.display(), "cannot remove the partial copy: {err}");
                    }
                }
                Ok(())
            })
            .await;
            drop(rolled_back);
            Err(e)
        }
    }
}

/// What a failed backup must undo: the directories it prepared, and the writer thread to
/// wait for before removing anything.
struct Partial {
    dirs: Vec<PreparedDir>,
    writer: Option<tokio::task::JoinHandle<Result<Written, BackupError>>>,
}

async fn copy(
    source: &Endpoint,
    password: Option<&Password>,
    options: &BackupOptions,
    data_dir: &Path,
    meter: &mut ProgressMeter,
    partial: &mut Partial,
) -> Result<BackupOutcome, BackupError> {
    let connect = ConnectOptions {
        application_name: options.application_name.clone(),
        ..ConnectOptions::default()
    };
    let mut conn = ReplicationConnection::connect(source, password, &connect).await?;
    let version = conn.server_version();
    check_version(version, options.compression)?;
    let identity = conn.identify_system().await?;
    // The copy's modes follow the source's data_directory_mode (11+), never the archive's.
    let modes = if version.has_data_directory_mode() {
        let mode = conn.show("data_directory_mode").await?;
        let mode = u32::from_str_radix(mode.trim_start_matches('0'), 8).unwrap_or(0o700);
        Modes::for_data_directory_mode(mode)
    } else {
        Modes::PRIVATE
    };
    if modes != Modes::PRIVATE {
        let dir = data_dir.to_path_buf();
        blocking(move || {
            std::fs::set_permissions(
                &dir,
                std::os::unix::fs::PermissionsExt::from_mode(modes.dir),
            )
            .map_err(BackupError::io("set permissions of", &dir))
        })
        .await?;
    }

    meter.phase(Phase::Checkpoint);
    let command = base_backup_command(
        version,
        &CommandOptions {
            compression: options.compression,
            max_rate_kb: options.max_rate.map(MaxRate::kb_per_sec),
        },
    );
    conn.send_query(&command).await?;
    let header = read_header(&mut conn).await?;
    meter.total(header.tablespaces.iter().map(|t| t.size).sum());

    let tablespace_dirs = prepare_tablespaces(
        &header.tablespaces,
        options,
        data_dir,
        modes.dir,
        &mut partial.dirs,
    )
    .await?;
    let targets = archive_targets(&header.tablespaces, &tablespace_dirs, data_dir);
    let (tx, rx) = stream::channel();
    let extractor = Extractor::new(options.owner, tablespace_dirs.clone())
        .with_modes(modes)
        .with_early_writeback(options.sync);
    let (compression, dir) = (options.compression, data_dir.to_path_buf());
    partial.writer = Some(tokio::task::spawn_blocking(move || {
        write_archives(rx, extractor, compression, &dir)
    }));
    let received = receive_archives(
        &mut conn,
        version.base_backup_syntax(),
        &targets,
        &header.tablespaces,
        options.compression,
        meter,
        tx,
    )
    .await;
    // The receiver dropped its sender either way; the writer ends now.
    let writer = partial.writer.take().expect("the writer was just started");
    let written = writer
        .await
        .map_err(|e| BackupError::Writer(e.to_string()))
        .and_then(|r| r);
    let (end_lsn, written) = match (received, written) {
        (Ok(end), Ok(w)) => (end, w),
        // The writer's own failure (a refused entry, a full disk) is the first cause: the
        // receiver then only saw it stop listening, or had already sent everything and found
        // the stream incomplete (no manifest). Otherwise the receiver's error is the cause and
        // the writer only saw the stream stop.
        (_, Err(e)) if !matches!(e, BackupError::StreamStopped) => return Err(e),
        (Err(e), _) | (Ok(_), Err(e)) => return Err(e),
    };
    let _ = conn.close().await;

    let manifest_files_verified = match written.manifest {
        Some(bytes) => {
            meter.phase(Phase::Verifying);
            let files = written.extracted.files.clone();
            Some(
                blocking(move || {
                    let manifest = manifest::parse(&bytes)?;
                    Ok(manifest::verify_written(&manifest, &files)?)
                })
                .await?,
            )
        }
        None if version.has_backup_manifest() => {
            return Err(BackupError::Protocol("the server sent no manifest".into()))
        }
        None => None,
    };

    if options.sync {
        meter.phase(Phase::Syncing);
        let mut roots: Vec<PathBuf> = tablespace_dirs.values().cloned().collect();
        roots.push(data_dir.to_path_buf());
        blocking(move || roots.iter().try_for_each(|r| extract::sync_tree(r))).await?;
    }

    let tablespaces = header
        .tablespaces
        .iter()
        .filter_map(|t| {
            let oid = t.oid?;
            Some(CopiedTablespace {
                oid,
                source_location: t.location.clone().unwrap_or_default(),
                target: tablespace_dirs[&oid].clone(),
            })
        })
        .collect();
    Ok(BackupOutcome {
        server_version: version.to_string(),
        system_id: identity.system_id,
        start_lsn: header.start,
        end_lsn,
        timeline: header.timeline,
        files: written.extracted.files.len(),
        bytes: written.extracted.bytes,
        manifest_files_verified,
        tablespaces,
        elapsed_secs: 0.0,
    })
}

/// Decides where each user tablespace goes ([`placement::place`]) and prepares those
/// directories. Every placement is checked before the first directory is touched, so a
/// refused one leaves this host as it was.
async fn prepare_tablespaces(
    tablespaces: &[SourceTablespace],
    options: &BackupOptions,
    data_dir: &Path,
    dir_mode: u32,
    prepared: &mut Vec<PreparedDir>,
) -> Result<HashMap<u32, PathBuf>, BackupError> {
    let mut placed: Vec<(u32, placement::Placement)> = Vec::new();
    for t in tablespaces {
        let Some(oid) = t.oid else {
            continue;
        };
        if placed.iter().any(|(o, _)| *o == oid) {
            return Err(BackupError::Protocol(format!(
                "the source lists tablespace {oid} twice"
            )));
        }
        let place = placement::place(
            oid,
            t.location.as_deref().unwrap_or(""),
            &options.tablespace_mappings,
        )?;
        let others = std::iter::once(data_dir).chain(placed.iter().map(|(_, p)| p.dir.as_path()));
        placement::check_apart(oid, &place.dir, others)?;
        placed.push((oid, place));
    }
    let unused = options
        .tablespace_mappings
        .iter()
        .find(|m| !placed.iter().any(|(_, p)| p.mapped && p.dir == m.new));
    if let Some(m) = unused {
        return Err(BackupError::UnusedMapping(m.old.clone()));
    }
    let mut dirs = HashMap::new();
    for (oid, place) in placed {
        let (path, owner) = (place.dir.clone(), options.owner);
        let ready = blocking(move || prepare_dir(&path, dir_mode, owner))
            .await
            .map_err(|e| match e {
                BackupError::TargetNotEmpty(target) => {
                    BackupError::TablespaceTargetNotEmpty { oid, target }
                }
                e => e,
            })?;
        prepared.push(ready);
        dirs.insert(oid, place.dir);
    }
    Ok(dirs)
}

fn check_version(version: ServerVersion, compression: Compression) -> Result<(), BackupError> {
    if !version.is_supported() {
        return Err(BackupError::UnsupportedVersion(version.to_string()));
    }
    if compression != Compression::None && !version.has_server_compression() {
        return Err(BackupError::CompressionUnsupported(version.to_string()));
    }
    Ok(())
}

fn check_mappings(mappings: &[TablespaceMapping]) -> Result<(), BackupError> {
    for (i, m) in mappings.iter().enumerate() {
        if mappings[..i].iter().any(|o| o.old == m.old) {
            return Err(BackupError::Option(format!(
                "tablespace {} is mapped twice",
                m.old.display()
            )));
        }
        if mappings[..i].iter().any(|o| o.new == m.new) {
            return Err(BackupError::Option(format!(
                "two tablespaces are mapped to {}",
                m.new.display()
            )));
        }
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, BackupError> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(BackupError::io("find the current directory for", path))?
            .join(path)
    };
    Ok(normalize(&path))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BackupError::Writer(e.to_string()))?
}

/// Re-checks a copy on disk against its `backup_manifest` (13+), like `pg_verifybackup -n`.
pub async fn verify_copy(data_dir: &Path) -> Result<manifest::VerifyReport, BackupError> {
    let dir = data_dir.to_path_buf();
    blocking(move || Ok(manifest::verify_directory(&dir)?)).await
}
