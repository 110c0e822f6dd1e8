//! Receiving BASE_BACKUP: turns either version's message flow into one sequence of archive
//! events, and hands them over a bounded channel to a blocking writer thread (decompress →
//! tar → extract), so network receive and disk writes overlap with bounded memory.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::{Buf, Bytes};
use tokio::sync::mpsc;

use super::decompress::{archive_suffix, decoder};
use super::error::BackupError;
use super::extract::{ArchiveTarget, Extracted, Extractor};
use super::manifest::MANIFEST_FILE;
use super::options::Compression;
use super::progress::{Phase, ProgressMeter};
use crate::version::BaseBackupSyntax;
use crate::wire::messages::BackendMessage;
use crate::wire::{Lsn, ReplicationConnection, ResultSet};

/// Messages in flight between receiver and writer. CopyData messages are at most a few
/// hundred kilobytes, so this bounds buffered data to tens of megabytes.
const CHANNEL_DEPTH: usize = 128;

/// One event of the normalised archive stream.
#[derive(Debug)]
pub enum ArchiveEvent {
    /// A tar archive starts.
    Archive(ArchiveTarget),
    /// The backup manifest starts.
    Manifest,
    /// Bytes of the current archive or manifest.
    Data(Bytes),
    /// The current archive or manifest is complete.
    End,
}

/// A tablespace as the source lists it in BASE_BACKUP's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTablespace {
    /// OID; `None` for the data directory itself.
    pub oid: Option<u32>,
    /// Location on the source; `None` for the data directory.
    pub location: Option<String>,
    /// Size estimate in bytes (sent because the command asks for PROGRESS).
    pub size: Option<u64>,
}

/// What the writer thread produced.
#[derive(Debug, Default)]
pub struct Written {
    /// Files written, with sizes and CRC-32C.
    pub extracted: Extracted,
    /// The manifest as received (also saved as `backup_manifest`).
    pub manifest: Option<Vec<u8>>,
}

/// Reads the start position and the tablespace list that precede the archives.
pub(crate) struct Header {
    pub start: Lsn,
    pub timeline: u32,
    pub tablespaces: Vec<SourceTablespace>,
}

/// Collects result sets until the first CopyOutResponse.
pub(crate) async fn read_header(conn: &mut ReplicationConnection) -> Result<Header, BackupError> {
    let mut sets = Vec::new();
    let mut current: Option<ResultSet> = None;
    loop {
        match conn.recv().await? {
            BackendMessage::RowDescription(columns) => {
                sets.extend(current.take());
                current = Some(ResultSet {
                    columns,
                    rows: Vec::new(),
                });
            }
            BackendMessage::DataRow(fields) => {
                let set = current
                    .as_mut()
                    .ok_or_else(|| BackupError::Protocol("a row before its description".into()))?;
                set.rows.push(
                    fields
                        .into_iter()
                        .map(|f| f.map(|b| String::from_utf8_lossy(&b).into_owned()))
                        .collect(),
                );
            }
            BackendMessage::CommandComplete(_) => sets.extend(current.take()),
            BackendMessage::CopyOutResponse => {
                sets.extend(current.take());
                break;
            }
            other => return Err(unexpected(other)),
        }
    }
    if sets.len() != 2 {
        return Err(BackupError::Protocol(format!(
            "expected 2 result sets before the archives, got {}",
            sets.len()
        )));
    }
    let start = sets[0]
        .get(0, "recptr")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| BackupError::Protocol("no start position".into()))?;
    let timeline = sets[0]
        .get(0, "tli")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| BackupError::Protocol("no start timeline".into()))?;
    let mut tablespaces = Vec::new();
    for row in 0..sets[1].rows.len() {
        let oid = match sets[1].get(row, "spcoid") {
            Some(s) => Some(
                s.parse()
                    .map_err(|_| BackupError::Protocol(format!("bad tablespace OID {s:?}")))?,
            ),
            None => None,
        };
        tablespaces.push(SourceTablespace {
            oid,
            location: sets[1].get(row, "spclocation").map(str::to_string),
            size: sets[1]
                .get(row, "size")
                .and_then(|s| s.parse::<u64>().ok())
                .map(|kb| kb * 1024),
        });
    }
    if tablespaces.last().map(|t| t.oid.is_some()).unwrap_or(true) {
        return Err(BackupError::Protocol(
            "the tablespace list does not end with the data directory".into(),
        ));
    }
    Ok(Header {
        start,
        timeline,
        tablespaces,
    })
}

fn unexpected(msg: BackendMessage) -> BackupError {
    match msg {
        BackendMessage::ErrorResponse(e) if e.is_data_corruption() => {
            BackupError::DataCorruption(Box::new(e))
        }
        BackendMessage::ErrorResponse(e) => BackupError::Server(Box::new(e)),
        other => BackupError::Protocol(format!("unexpected {}", other.name())),
    }
}

/// Streams the archives (the first CopyOutResponse has been read) into `tx` and returns the
/// end position once the server has said ReadyForQuery.
pub(crate) async fn receive_archives(
    conn: &mut ReplicationConnection,
    syntax: BaseBackupSyntax,
    targets: &[ArchiveTarget],
    tablespaces: &[SourceTablespace],
    compression: Compression,
    meter: &mut ProgressMeter,
    tx: mpsc::Sender<ArchiveEvent>,
) -> Result<Lsn, BackupError> {
    let send = |tx: &mpsc::Sender<ArchiveEvent>, ev| {
        let tx = tx.clone();
        async move {
            tx.send(ev)
                .await
                .map_err(|_| BackupError::Writer("the writer stopped".into()))
        }
    };
    meter.phase(Phase::Copying);
    match syntax {
        BaseBackupSyntax::Keywords { manifest } => {
            // One CopyOut per tablespace in the header's order, then maybe the manifest.
            let mut copies = 0usize;
            let mut copy_open = true;
            let begin = |index: usize| -> Result<ArchiveEvent, BackupError> {
                match targets.get(index) {
                    Some(t) => Ok(ArchiveEvent::Archive(t.clone())),
                    None if manifest && index == targets.len() => Ok(ArchiveEvent::Manifest),
                    None => Err(BackupError::Protocol(
                        "more archives than tablespaces".into(),
                    )),
                }
            };
            let first = begin(0)?;
            if let ArchiveEvent::Archive(t) = &first {
                meter.archive(&t.name);
            }
            send(&tx, first).await?;
            let in_archive = |copies: usize| copies < targets.len();
            loop {
                match conn.recv().await? {
                    BackendMessage::CopyData(data) if copy_open => {
                        if in_archive(copies) {
                            meter.add(data.len() as u64);
                        }
                        if !data.is_empty() {
                            send(&tx, ArchiveEvent::Data(data)).await?;
                        }
                    }
                    BackendMessage::CopyDone if copy_open => {
                        send(&tx, ArchiveEvent::End).await?;
                        copy_open = false;
                        copies += 1;
                    }
                    BackendMessage::CopyOutResponse if !copy_open => {
                        let ev = begin(copies)?;
                        if let ArchiveEvent::Archive(t) = &ev {
                            meter.archive(&t.name);
                        }
                        send(&tx, ev).await?;
                        copy_open = true;
                    }
                    // The end position follows the archives as a result set.
                    BackendMessage::RowDescription(_) if !copy_open => {
                        let expected = targets.len() + usize::from(manifest);
                        if copies != expected {
                            return Err(BackupError::Protocol(format!(
                                "{copies} archives received, {expected} expected"
                            )));
                        }
                        break;
                    }
                    other => return Err(unexpected(other)),
                }
            }
        }
        BaseBackupSyntax::OptionList => {
            let mut open = false;
            let mut saw_manifest = false;
            loop {
                match conn.recv().await? {
                    BackendMessage::CopyData(data) => match parse_archive_message(data)? {
                        ArchiveMessage::NewArchive { name, location } => {
                            if open {
                                send(&tx, ArchiveEvent::End).await?;
                            }
                            let target = target_for_location(targets, tablespaces, &location)?;
                            if !name.ends_with(archive_suffix(compression)) {
                                return Err(BackupError::Protocol(format!(
                                    "archive {name:?} does not have the compression asked for"
                                )));
                            }
                            meter.archive(&name);
                            send(&tx, ArchiveEvent::Archive(target.clone())).await?;
                            open = true;
                        }
                        ArchiveMessage::Data(data) if open => {
                            if !saw_manifest && compression == Compression::None {
                                meter.add(data.len() as u64);
                            }
                            if !data.is_empty() {
                                send(&tx, ArchiveEvent::Data(data)).await?;
                            }
                        }
                        ArchiveMessage::Progress(done) => {
                            // Uncompressed, the data bytes are counted as they arrive.
                            if compression != Compression::None {
                                meter.set_done(done);
                            }
                        }
                        ArchiveMessage::ManifestFollows if !saw_manifest => {
                            if open {
                                send(&tx, ArchiveEvent::End).await?;
                            }
                            send(&tx, ArchiveEvent::Manifest).await?;
                            open = true;
                            saw_manifest = true;
                        }
                        ArchiveMessage::Data(_) => {
                            return Err(BackupError::Protocol(
                                "archive data before any archive began".into(),
                            ))
                        }
                        ArchiveMessage::ManifestFollows => {
                            return Err(BackupError::Protocol("a second manifest".into()))
                        }
                    },
                    BackendMessage::CopyDone => {
                        if open {
                            send(&tx, ArchiveEvent::End).await?;
                        }
                        if !saw_manifest {
                            return Err(BackupError::Protocol(
                                "the server sent no manifest".into(),
                            ));
                        }
                        break;
                    }
                    other => return Err(unexpected(other)),
                }
            }
        }
    }
    drop(tx);
    read_trailer(conn, matches!(syntax, BaseBackupSyntax::Keywords { .. })).await
}

/// The end-position result set, CommandComplete and ReadyForQuery. An ErrorResponse here
/// (XX001 for a checksum failure) means the backup is not valid.
async fn read_trailer(
    conn: &mut ReplicationConnection,
    description_read: bool,
) -> Result<Lsn, BackupError> {
    let mut end = None;
    let mut columns = description_read.then(Vec::new);
    loop {
        match conn.recv().await? {
            BackendMessage::RowDescription(c) => columns = Some(c),
            BackendMessage::DataRow(fields) if columns.is_some() && end.is_none() => {
                end = fields
                    .first()
                    .cloned()
                    .flatten()
                    .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok());
            }
            BackendMessage::CommandComplete(_) => {}
            BackendMessage::ReadyForQuery { .. } => break,
            other => return Err(unexpected(other)),
        }
    }
    end.ok_or_else(|| BackupError::Protocol("no end position".into()))
}

/// One CopyData message of the 15+ archive stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveMessage {
    /// `n`: an archive starts; `location` is empty for the data directory.
    NewArchive { name: String, location: String },
    /// `d`: archive (or, after `m`, manifest) bytes.
    Data(Bytes),
    /// `p`: bytes sent so far, over all archives (uncompressed).
    Progress(u64),
    /// `m`: the manifest follows in the next `d` messages.
    ManifestFollows,
}

/// Parses one CopyData message of the 15+ archive stream.
pub fn parse_archive_message(mut data: Bytes) -> Result<ArchiveMessage, BackupError> {
    if data.is_empty() {
        return Err(BackupError::Protocol("empty CopyData".into()));
    }
    Ok(match data.get_u8() {
        b'n' => ArchiveMessage::NewArchive {
            name: cstr(&mut data)?,
            location: cstr(&mut data)?,
        },
        b'd' => ArchiveMessage::Data(data),
        b'p' if data.len() >= 8 => ArchiveMessage::Progress(data.get_u64()),
        b'p' => return Err(BackupError::Protocol("short progress message".into())),
        b'm' => ArchiveMessage::ManifestFollows,
        other => {
            return Err(BackupError::Protocol(format!(
                "unknown archive message type {:?}",
                other as char
            )))
        }
    })
}

fn cstr(data: &mut Bytes) -> Result<String, BackupError> {
    let end = data
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| BackupError::Protocol("unterminated string in archive header".into()))?;
    let s = String::from_utf8_lossy(&data[..end]).into_owned();
    data.advance(end + 1);
    Ok(s)
}

fn target_for_location<'a>(
    targets: &'a [ArchiveTarget],
    tablespaces: &[SourceTablespace],
    location: &str,
) -> Result<&'a ArchiveTarget, BackupError> {
    let index = tablespaces
        .iter()
        .position(|t| t.location.as_deref().unwrap_or("") == location)
        .ok_or_else(|| {
            BackupError::Protocol(format!(
                "archive for unknown tablespace location {location:?}"
            ))
        })?;
    Ok(&targets[index])
}

/// A new bounded channel between receiver and writer.
pub(crate) fn channel() -> (mpsc::Sender<ArchiveEvent>, mpsc::Receiver<ArchiveEvent>) {
    mpsc::channel(CHANNEL_DEPTH)
}

/// The writer thread's loop: decompress, parse and extract each archive, save the manifest.
pub fn write_archives(
    mut rx: mpsc::Receiver<ArchiveEvent>,
    mut extractor: Extractor,
    compression: Compression,
    data_dir: &Path,
) -> Result<Written, BackupError> {
    let mut manifest = None;
    while let Some(event) = rx.blocking_recv() {
        match event {
            ArchiveEvent::Archive(target) => {
                let bad = |message: String| BackupError::Archive {
                    archive: target.name.clone(),
                    message,
                };
                let mut reader = EventReader::new(&mut rx);
                let result = (|| {
                    {
                        let decoded =
                            decoder(compression, &mut reader).map_err(|e| bad(e.to_string()))?;
                        let mut rest = extractor.extract(decoded, &target)?;
                        // Skip the end-of-archive blocks (and anything after them).
                        std::io::copy(&mut rest, &mut std::io::sink())
                            .map_err(|e| bad(e.to_string()))?;
                    }
                    // A decoder stops at the end of its frame without reading the archive's end.
                    let extra = std::io::copy(&mut reader, &mut std::io::sink())
                        .map_err(|e| bad(e.to_string()))?;
                    if extra > 0 {
                        return Err(bad(format!(
                            "{extra} bytes follow the end of the compressed archive"
                        )));
                    }
                    Ok(())
                })();
                result.map_err(|e| reader.cause(e))?;
            }
            ArchiveEvent::Manifest => {
                let mut bytes = Vec::new();
                let mut reader = EventReader::new(&mut rx);
                reader
                    .read_to_end(&mut bytes)
                    .map_err(|e| BackupError::Archive {
                        archive: MANIFEST_FILE.into(),
                        message: e.to_string(),
                    })
                    .map_err(|e| reader.cause(e))?;
                let path = data_dir.join(MANIFEST_FILE);
                std::fs::write(&path, &bytes).map_err(BackupError::io("write", &path))?;
                manifest = Some(bytes);
            }
            ArchiveEvent::Data(_) | ArchiveEvent::End => {
                return Err(BackupError::Protocol(
                    "archive data outside an archive".into(),
                ))
            }
        }
    }
    Ok(Written {
        extracted: extractor.into_extracted(),
        manifest,
    })
}

/// `Read` over the Data events of one archive, ending at its End event.
struct EventReader<'a> {
    rx: &'a mut mpsc::Receiver<ArchiveEvent>,
    current: Bytes,
    done: bool,
    /// The receiver went away mid-archive (it failed, and its error is the cause).
    stopped: bool,
}

impl<'a> EventReader<'a> {
    fn new(rx: &'a mut mpsc::Receiver<ArchiveEvent>) -> Self {
        EventReader {
            rx,
            current: Bytes::new(),
            done: false,
            stopped: false,
        }
    }

    /// `error` as the writer's cause, or [`BackupError::StreamStopped`] when it only
    /// followed from the receiver stopping.
    fn cause(&self, error: BackupError) -> BackupError {
        if self.stopped {
            BackupError::StreamStopped
        } else {
            error
        }
    }
}

impl Read for EventReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(ArchiveEvent::Data(b)) => self.current = b,
                Some(ArchiveEvent::End) => self.done = true,
                Some(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "a new archive began before the current one ended",
                    ))
                }
                None => {
                    self.stopped = true;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the stream from the source stopped",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Where each archive of the header goes: `tablespace_dirs` for user tablespaces (by OID),
/// `data_dir` for the base archive.
pub(crate) fn archive_targets(
    tablespaces: &[SourceTablespace],
    tablespace_dirs: &HashMap<u32, PathBuf>,
    data_dir: &Path,
) -> Vec<ArchiveTarget> {
    tablespaces
        .iter()
        .map(|t| match t.oid {
            Some(oid) => ArchiveTarget {
                name: format!("{oid}.tar"),
                root: tablespace_dirs[&oid].clone(),
                manifest_prefix: PathBuf::from(format!("pg_tblspc/{oid}")),
                is_base: false,
            },
            None => ArchiveTarget {
                name: "base.tar".into(),
                root: data_dir.to_path_buf(),
                manifest_prefix: PathBuf::new(),
                is_base: true,
            },
        })
        .collect()
}
