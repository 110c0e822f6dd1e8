//! A small fake replication server that serves one base backup composed by the test.
//!
//! Real servers never send a relative tablespace location, a tar entry named `../x` or a
//! character device, so the only way to prove the client refuses them is a server that lies.
//! This one speaks just enough of the protocol for pgrelocate's client: startup (declines TLS,
//! authentication ok, `server_version`), `IDENTIFY_SYSTEM`, `SHOW data_directory_mode`, and
//! `BASE_BACKUP` in the message flow of the version it claims (10–14: one CopyOut per
//! archive, unterminated tar; 15+: one CopyOut with `n`/`d`/`p`/`m` messages). Everything
//! else gets an ErrorResponse. Archives are built with [`tar_archive`], which writes names
//! and link targets byte for byte, `..` and absolute ones included.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::PortBlock;

/// Start position the fake backup reports.
pub const START_LSN: &str = "0/2000028";
/// End position the fake backup reports.
pub const END_LSN: &str = "0/2000100";
/// System identifier the fake server reports.
pub const SYSTEM_ID: u64 = 7_300_000_000_000_000_001;

/// A user tablespace as the fake server lists it, with its archive.
#[derive(Debug, Clone)]
pub struct FakeTablespace {
    /// OID (`spcoid`).
    pub oid: u32,
    /// Location as sent (`spclocation`): whatever the test wants, relative or with `..`.
    pub location: String,
    /// The tar archive (terminated; the 10–14 flow strips the end blocks).
    pub archive: Vec<u8>,
}

/// The backup the fake server serves.
#[derive(Debug, Clone)]
pub struct FakeBackup {
    /// Major version it claims (chooses the message flow).
    pub major: u32,
    /// `SHOW data_directory_mode` answer (11+).
    pub data_directory_mode: String,
    /// User tablespaces, sent before the base archive as real servers do.
    pub tablespaces: Vec<FakeTablespace>,
    /// The base (data directory) archive.
    pub base: Vec<u8>,
    /// Manifest bytes (13+ sends one; `None` sends none).
    pub manifest: Option<Vec<u8>>,
}

impl FakeBackup {
    /// A backup of a `major` server with `base` as its only archive, mode 0700, no manifest.
    pub fn new(major: u32, base: Vec<u8>) -> Self {
        FakeBackup {
            major,
            data_directory_mode: "0700".into(),
            tablespaces: Vec::new(),
            base,
            manifest: None,
        }
    }
}

/// One entry of a test archive.
#[derive(Debug, Clone)]
pub enum TarEntry {
    /// A directory with its mode.
    Dir(&'static str, u32),
    /// A regular file with its mode and content.
    File(&'static str, u32, Vec<u8>),
    /// A symbolic link to the target, as written.
    Symlink(&'static str, &'static str),
    /// A hard link to the target, as written.
    HardLink(&'static str, &'static str),
    /// A character device.
    CharDevice(&'static str),
}

/// A terminated ustar archive of `entries`, names and link targets written byte for byte
/// (the `tar` crate's setters refuse `..`, which is exactly what these tests need to send).
pub fn tar_archive(entries: &[TarEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut h = tar::Header::new_ustar();
        let (name, data): (&str, &[u8]) = match entry {
            TarEntry::Dir(name, mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                (name, b"")
            }
            TarEntry::File(name, mode, data) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                (name, data)
            }
            TarEntry::Symlink(name, target) | TarEntry::HardLink(name, target) => {
                h.set_entry_type(if matches!(entry, TarEntry::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                h.set_mode(0o777);
                h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
                (name, b"")
            }
            TarEntry::CharDevice(name) => {
                h.set_entry_type(tar::EntryType::Char);
                h.set_mode(0o600);
                (name, b"")
            }
        };
        h.set_size(data.len() as u64);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        builder
            .append(&h, data)
            .expect("append to an in-memory archive");
    }
    builder.into_inner().expect("finish an in-memory archive")
}

/// A running fake server; it stops when dropped.
pub struct FakeSource {
    port: u16,
    task: JoinHandle<()>,
}

impl FakeSource {
    /// Listens on a port of a fresh [`PortBlock`] and serves `backup` to every connection.
    pub async fn start(backup: FakeBackup) -> io::Result<FakeSource> {
        let block = PortBlock::reserve();
        let mut listener = None;
        for port in block.first..=block.last {
            if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                listener = Some(l);
                break;
            }
        }
        let listener = listener.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("every port of {} is taken", block.env_value()),
            )
        })?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let backup = backup.clone();
                tokio::spawn(async move {
                    // A client that goes away mid-stream (it refused the backup) is expected.
                    let _ = serve(stream, &backup).await;
                });
            }
        });
        Ok(FakeSource { port, task })
    }

    /// Its address.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for FakeSource {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const SSL_REQUEST: i32 = 80_877_103;
const PROTOCOL_3: i32 = 196_608;
const TEXT: u32 = 25;
const INT8: u32 = 20;
const OID: u32 = 26;
const INT4: u32 = 23;
/// CopyData payload size, like the server's 32 kB chunks but small enough to split entries.
const CHUNK: usize = 8192;

async fn serve(mut stream: TcpStream, backup: &FakeBackup) -> io::Result<()> {
    loop {
        let len = stream.read_i32().await?;
        let code = stream.read_i32().await?;
        let mut rest = vec![0; (len - 8).max(0) as usize];
        stream.read_exact(&mut rest).await?;
        match code {
            SSL_REQUEST => stream.write_all(b"N").await?,
            PROTOCOL_3 => break,
            other => return Err(io::Error::other(format!("startup code {other}"))),
        }
    }
    let mut out = Vec::new();
    message(&mut out, b'R', &0i32.to_be_bytes());
    let version = format!("{}.1", backup.major);
    message(&mut out, b'S', &cstrings(&["server_version", &version]));
    message(&mut out, b'K', &[0, 0, 0x30, 0x39, 0, 0, 0, 1]);
    ready(&mut out);
    stream.write_all(&out).await?;

    loop {
        let tag = stream.read_u8().await?;
        let len = stream.read_i32().await?;
        let mut body = vec![0; (len - 4).max(0) as usize];
        stream.read_exact(&mut body).await?;
        match tag {
            b'X' => return Ok(()),
            b'Q' => {}
            _ => continue,
        }
        let query = String::from_utf8_lossy(body.strip_suffix(&[0]).unwrap_or(&body)).into_owned();
        let mut out = Vec::new();
        if query == "IDENTIFY_SYSTEM" {
            row_set(
                &mut out,
                &[
                    ("systemid", TEXT),
                    ("timeline", INT4),
                    ("xlogpos", TEXT),
                    ("dbname", TEXT),
                ],
                &[vec![
                    Some(SYSTEM_ID.to_string()),
                    Some("1".into()),
                    Some(START_LSN.into()),
                    None,
                ]],
                "IDENTIFY_SYSTEM",
            );
            ready(&mut out);
        } else if query == "SHOW data_directory_mode" && backup.major >= 11 {
            row_set(
                &mut out,
                &[("data_directory_mode", TEXT)],
                &[vec![Some(backup.data_directory_mode.clone())]],
                "SHOW",
            );
            ready(&mut out);
        } else if query.starts_with("BASE_BACKUP") {
            stream.write_all(&base_backup(backup)).await?;
            continue;
        } else {
            let mut e = Vec::new();
            for (field, value) in [
                (b'S', "ERROR"),
                (b'V', "ERROR"),
                (b'C', "42601"),
                (b'M', "the fake source does not know this command"),
            ] {
                e.push(field);
                e.extend_from_slice(value.as_bytes());
                e.push(0);
            }
            e.push(0);
            message(&mut out, b'E', &e);
            ready(&mut out);
        }
        stream.write_all(&out).await?;
    }
}

/// The whole reply to BASE_BACKUP in the claimed version's flow.
fn base_backup(b: &FakeBackup) -> Vec<u8> {
    let mut out = Vec::new();
    row_set(
        &mut out,
        &[("recptr", TEXT), ("tli", INT8)],
        &[vec![Some(START_LSN.into()), Some("1".into())]],
        "SELECT",
    );
    let mut rows: Vec<Vec<Option<String>>> = b
        .tablespaces
        .iter()
        .map(|t| {
            vec![
                Some(t.oid.to_string()),
                Some(t.location.clone()),
                Some((t.archive.len() / 1024).to_string()),
            ]
        })
        .collect();
    rows.push(vec![None, None, Some((b.base.len() / 1024).to_string())]);
    row_set(
        &mut out,
        &[("spcoid", OID), ("spclocation", TEXT), ("size", INT8)],
        &rows,
        "SELECT",
    );
    let archives = b
        .tablespaces
        .iter()
        .map(|t| (format!("{}.tar", t.oid), t.location.as_str(), &t.archive))
        .chain(std::iter::once(("base.tar".to_string(), "", &b.base)));
    if b.major >= 15 {
        copy_out_response(&mut out);
        let mut sent = 0u64;
        for (name, location, archive) in archives {
            let mut n = vec![b'n'];
            n.extend_from_slice(&cstrings(&[&name, location]));
            message(&mut out, b'd', &n);
            for chunk in archive.chunks(CHUNK) {
                let mut d = vec![b'd'];
                d.extend_from_slice(chunk);
                message(&mut out, b'd', &d);
                sent += chunk.len() as u64;
                let mut p = vec![b'p'];
                p.extend_from_slice(&sent.to_be_bytes());
                message(&mut out, b'd', &p);
            }
        }
        if let Some(manifest) = &b.manifest {
            message(&mut out, b'd', b"m");
            for chunk in manifest.chunks(CHUNK) {
                let mut d = vec![b'd'];
                d.extend_from_slice(chunk);
                message(&mut out, b'd', &d);
            }
        }
        message(&mut out, b'c', &[]);
    } else {
        for (_, _, archive) in archives {
            // 10–14 leave out the end-of-archive blocks.
            let body = &archive[..archive.len().saturating_sub(1024)];
            copy_out(&mut out, body);
        }
        if let Some(manifest) = b.manifest.as_ref().filter(|_| b.major >= 13) {
            copy_out(&mut out, manifest);
        }
    }
    row_set(
        &mut out,
        &[("recptr", TEXT), ("tli", INT8)],
        &[vec![Some(END_LSN.into()), Some("1".into())]],
        "SELECT",
    );
    message(&mut out, b'C', b"BASE_BACKUP\0");
    ready(&mut out);
    out
}

fn copy_out(out: &mut Vec<u8>, body: &[u8]) {
    copy_out_response(out);
    for chunk in body.chunks(CHUNK) {
        message(out, b'd', chunk);
    }
    message(out, b'c', &[]);
}

fn copy_out_response(out: &mut Vec<u8>) {
    message(out, b'H', &[0, 0, 0]);
}

fn row_set(out: &mut Vec<u8>, columns: &[(&str, u32)], rows: &[Vec<Option<String>>], tag: &str) {
    let mut t = (columns.len() as i16).to_be_bytes().to_vec();
    for (name, type_oid) in columns {
        t.extend_from_slice(name.as_bytes());
        t.push(0);
        t.extend_from_slice(&0i32.to_be_bytes()); // table OID
        t.extend_from_slice(&0i16.to_be_bytes()); // column number
        t.extend_from_slice(&type_oid.to_be_bytes());
        t.extend_from_slice(&(-1i16).to_be_bytes()); // type size
        t.extend_from_slice(&(-1i32).to_be_bytes()); // type modifier
        t.extend_from_slice(&0i16.to_be_bytes()); // text format
    }
    message(out, b'T', &t);
    for row in rows {
        let mut d = (row.len() as i16).to_be_bytes().to_vec();
        for field in row {
            match field {
                Some(v) => {
                    d.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    d.extend_from_slice(v.as_bytes());
                }
                None => d.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        message(out, b'D', &d);
    }
    let mut c = tag.as_bytes().to_vec();
    c.push(0);
    message(out, b'C', &c);
}

fn ready(out: &mut Vec<u8>) {
    message(out, b'Z', b"I");
}

fn message(out: &mut Vec<u8>, tag: u8, body: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    out.extend_from_slice(body);
}

fn cstrings(parts: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p.as_bytes());
        v.push(0);
    }
    v
}
