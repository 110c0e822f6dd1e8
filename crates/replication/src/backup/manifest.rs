//! Backup manifests (13+): parse `backup_manifest`, check its own SHA-256, and compare the
//! files against it — either the checksums computed while extracting, or the files on disk
//! (what `pg_verifybackup -n` does).

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::Digest;

/// File name of the manifest in a data directory.
pub const MANIFEST_FILE: &str = "backup_manifest";

/// Files on disk that a manifest check skips, as `pg_verifybackup` does: the manifest itself,
/// WAL, and what standby configuration adds or rewrites after the copy.
const IGNORED_ON_DISK: &[&str] = &[
    MANIFEST_FILE,
    "pg_wal",
    "postgresql.auto.conf",
    "recovery.signal",
    "standby.signal",
    "recovery.conf",
];

/// At most this many problems are listed in one error.
const MAX_PROBLEMS: usize = 20;

/// A manifest checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// CRC-32C (the default, and what pgrelocate asks for).
    Crc32c,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// One file listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// Path relative to the data directory (tablespace files under `pg_tblspc/<oid>/`).
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Algorithm and raw checksum bytes; `None` when the manifest has no checksum.
    pub checksum: Option<(Algorithm, Vec<u8>)>,
}

/// A parsed manifest whose own checksum matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Manifest format version (1; 2 from PostgreSQL 17).
    pub version: u32,
    /// Every file in the backup.
    pub files: Vec<ManifestFile>,
}

/// One disagreement between the manifest and the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Listed in the manifest, absent from the copy.
    Missing(PathBuf),
    /// In the copy, not in the manifest.
    Unexpected(PathBuf),
    /// Wrong size.
    Size {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    /// Same size, different content.
    Checksum(PathBuf),
    /// Could not be read.
    Unreadable { path: PathBuf, message: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing(p) => write!(f, "{} is missing", p.display()),
            Problem::Unexpected(p) => write!(f, "{} is not in the manifest", p.display()),
            Problem::Size {
                path,
                expected,
                actual,
            } => write!(
                f,
                "{} has size {actual}, the manifest says {expected}",
                path.display()
            ),
            Problem::Checksum(p) => write!(f, "{} does not match its checksum", p.display()),
            Problem::Unreadable { path, message } => {
                write!(f, "{} cannot be read: {message}", path.display())
            }
        }
    }
}

/// Why a manifest could not be used or did not match.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a backup manifest: {0}")]
    Format(String),
    #[error("manifest version {0} is not supported")]
    Version(u32),
    #[error("the manifest's own checksum does not match: it was damaged")]
    SelfChecksum,
    #[error("{} problem(s): {}", .0.len(), list(.0))]
    Mismatch(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    let mut text = problems
        .iter()
        .take(MAX_PROBLEMS)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > MAX_PROBLEMS {
        text.push_str("; …");
    }
    text
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(rename = "PostgreSQL-Backup-Manifest-Version")]
    version: u32,
    #[serde(rename = "Files")]
    files: Vec<RawFile>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(rename = "Path")]
    path: Option<String>,
    #[serde(rename = "Encoded-Path")]
    encoded_path: Option<String>,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "Checksum-Algorithm")]
    algorithm: Option<String>,
    #[serde(rename = "Checksum")]
    checksum: Option<String>,
}

/// Parses a manifest and checks its `Manifest-Checksum` (SHA-256 of everything up to and
/// including the newline before that line).
pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    verify_self_checksum(bytes)?;
    let raw: RawManifest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Format(e.to_string()))?;
    if !(1..=2).contains(&raw.version) {
        return Err(ManifestError::Version(raw.version));
    }
    let mut files = Vec::with_capacity(raw.files.len());
    for f in raw.files {
        let path = match (f.path, f.encoded_path) {
            (Some(p), _) => PathBuf::from(p),
            (None, Some(hex_path)) => {
                let bytes = hex::decode(&hex_path)
                    .map_err(|_| ManifestError::Format(format!("bad Encoded-Path {hex_path:?}")))?;
                PathBuf::from(OsStr::from_bytes(&bytes))
            }
            (None, None) => return Err(ManifestError::Format("a file without a path".into())),
        };
        let checksum = match f.algorithm.as_deref() {
            None | Some("NONE") => None,
            Some(name) => {
                let algorithm = match name {
                    "CRC32C" => Algorithm::Crc32c,
                    "SHA224" => Algorithm::Sha224,
                    "SHA256" => Algorithm::Sha256,
                    "SHA384" => Algorithm::Sha384,
                    "SHA512" => Algorithm::Sha512,
                    other => {
                        return Err(ManifestError::Format(format!(
                            "unknown checksum algorithm {other:?}"
                        )))
                    }
                };
                let text = f.checksum.unwrap_or_default();
                let bytes = hex::decode(&text).map_err(|_| {
                    ManifestError::Format(format!("bad checksum {text:?} for {}", path.display()))
                })?;
                Some((algorithm, bytes))
            }
        };
        files.push(ManifestFile {
            path,
            size: f.size,
            checksum,
        });
    }
    Ok(Manifest {
        version: raw.version,
        files,
    })
}

fn verify_self_checksum(bytes: &[u8]) -> Result<(), ManifestError> {
    const KEY: &[u8] = b"\"Manifest-Checksum\"";
    let at = bytes
        .windows(KEY.len())
        .rposition(|w| w == KEY)
        .ok_or_else(|| ManifestError::Format("no Manifest-Checksum".into()))?;
    let line_start = bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .ok_or_else(|| ManifestError::Format("Manifest-Checksum is not on its own line".into()))?;
    let rest = &bytes[at + KEY.len()..];
    let open = rest
        .iter()
        .position(|&b| b == b'"')
        .ok_or_else(|| ManifestError::Format("Manifest-Checksum has no value".into()))?;
    let value = &rest[open + 1..];
    let close = value
        .iter()
        .position(|&b| b == b'"')
        .ok_or_else(|| ManifestError::Format("Manifest-Checksum has no value".into()))?;
    let expected = hex::decode(&value[..close])
        .map_err(|_| ManifestError::Format("Manifest-Checksum is not hexadecimal".into()))?;
    let actual = sha2::Sha256::digest(&bytes[..line_start]);
    if actual.as_slice() == expected.as_slice() {
        Ok(())
    } else {
        Err(ManifestError::SelfChecksum)
    }
}

/// Size and CRC-32C of a file as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenFile {
    /// Bytes written.
    pub size: u64,
    /// CRC-32C of those bytes.
    pub crc32c: u32,
}

/// CRC-32C in a manifest is the raw 4 bytes of the server's `uint32`, hex-encoded; servers
/// are little-endian almost everywhere, big-endian ones write the other order.
fn crc_matches(expected: &[u8], crc: u32) -> bool {
    expected == crc.to_le_bytes() || expected == crc.to_be_bytes()
}

/// Compares the manifest with what the extraction wrote (paths relative to the data
/// directory). Returns the number of files checked.
pub fn verify_written(
    manifest: &Manifest,
    written: &HashMap<PathBuf, WrittenFile>,
) -> Result<usize, ManifestError> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        listed.insert(f.path.as_path());
        let Some(w) = written.get(&f.path) else {
            problems.push(Problem::Missing(f.path.clone()));
            continue;
        };
        if w.size != f.size {
            problems.push(Problem::Size {
                path: f.path.clone(),
                expected: f.size,
                actual: w.size,
            });
            continue;
        }
        match &f.checksum {
            Some((Algorithm::Crc32c, expected)) if !crc_matches(expected, w.crc32c) => {
                problems.push(Problem::Checksum(f.path.clone()))
            }
            // Only CRC-32C is computed while writing (it is what the command asks for).
            _ => {}
        }
    }
    for path in written.keys() {
        if !listed.contains(path.as_path()) {
            problems.push(Problem::Unexpected(path.clone()));
        }
    }
    if problems.is_empty() {
        Ok(manifest.files.len())
    } else {
        problems.sort_by_key(|p| p.to_string());
        Err(ManifestError::Mismatch(problems))
    }
}

/// What a check of a data directory on disk covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// Files compared.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
}

/// Verifies a plain-format copy on disk against its `backup_manifest`, reading every file
/// (through the `pg_tblspc` links), like `pg_verifybackup -n`.
pub fn verify_directory(data_dir: &Path) -> Result<VerifyReport, ManifestError> {
    let manifest_path = data_dir.join(MANIFEST_FILE);
    let bytes = std::fs::read(&manifest_path).map_err(|source| ManifestError::Read {
        path: manifest_path.clone(),
        source,
    })?;
    let manifest = parse(&bytes)?;
    let mut problems = Vec::new();
    let mut report = VerifyReport { files: 0, bytes: 0 };
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        listed.insert(f.path.clone());
        if is_ignored(&f.path) {
            continue;
        }
        let full = data_dir.join(&f.path);
        let size = match std::fs::metadata(&full) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) | Err(_) => {
                problems.push(Problem::Missing(f.path.clone()));
                continue;
            }
        };
        if size != f.size {
            problems.push(Problem::Size {
                path: f.path.clone(),
                expected: f.size,
                actual: size,
            });
            continue;
        }
        report.files += 1;
        if let Some((algorithm, expected)) = &f.checksum {
            match digest_file(&full, *algorithm) {
                Ok(actual) => {
                    report.bytes += size;
                    let ok = match algorithm {
                        Algorithm::Crc32c => {
                            actual.len() == 4
                                && crc_matches(
                                    expected,
                                    u32::from_le_bytes([
                                        actual[0], actual[1], actual[2], actual[3],
                                    ]),
                                )
                        }
                        _ => &actual == expected,
                    };
                    if !ok {
                        problems.push(Problem::Checksum(f.path.clone()));
                    }
                }
                Err(e) => problems.push(Problem::Unreadable {
                    path: f.path.clone(),
                    message: e.to_string(),
                }),
            }
        }
    }
    let mut on_disk = Vec::new();
    walk_files(data_dir, Path::new(""), &mut on_disk);
    for path in on_disk {
        if !is_ignored(&path) && !listed.contains(&path) {
            problems.push(Problem::Unexpected(path));
        }
    }
    if problems.is_empty() {
        Ok(report)
    } else {
        Err(ManifestError::Mismatch(problems))
    }
}

fn is_ignored(path: &Path) -> bool {
    path.components()
        .next()
        .map(|c| IGNORED_ON_DISK.iter().any(|i| c.as_os_str() == *i))
        .unwrap_or(false)
        && (path.components().count() == 1 || path.starts_with("pg_wal"))
}

/// Regular files under `root/rel`, following only the `pg_tblspc/<oid>` links.
fn walk_files(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(dir) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in dir.flatten() {
        let child = rel.join(entry.file_name());
        let Ok(meta) = entry.metadata() else { continue };
        let follow = meta.file_type().is_symlink() && rel == Path::new("pg_tblspc");
        if meta.is_dir() || follow {
            walk_files(root, &child, out);
        } else if meta.is_file() {
            out.push(child);
        }
    }
}

fn digest_file(path: &Path, algorithm: Algorithm) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut crc = 0u32;
    let mut sha224 = sha2::Sha224::new();
    let mut sha256 = sha2::Sha256::new();
    let mut sha384 = sha2::Sha384::new();
    let mut sha512 = sha2::Sha512::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        match algorithm {
            Algorithm::Crc32c => crc = crc32c::crc32c_append(crc, chunk),
            Algorithm::Sha224 => sha224.update(chunk),
            Algorithm::Sha256 => sha256.update(chunk),
            Algorithm::Sha384 => sha384.update(chunk),
            Algorithm::Sha512 => sha512.update(chunk),
        }
    }
    Ok(match algorithm {
        Algorithm::Crc32c => crc.to_le_bytes().to_vec(),
        Algorithm::Sha224 => sha224.finalize().to_vec(),
        Algorithm::Sha256 => sha256.finalize().to_vec(),
        Algorithm::Sha384 => sha384.finalize().to_vec(),
        Algorithm::Sha512 => sha512.finalize().to_vec(),
    })
}

impl crate::Coded for ManifestError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::ManifestMismatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest in the server's layout with a correct Manifest-Checksum.
    pub(crate) fn sample(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut text = String::from("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n");
        for (i, (path, data)) in files.iter().enumerate() {
            let crc = crc32c::crc32c(data);
            text.push_str(&format!(
                "{{ \"Path\": \"{path}\", \"Size\": {}, \"Last-Modified\": \"2026-01-01 00:00:00 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"{}\" }}{}\n",
                data.len(),
                hex::encode(crc.to_le_bytes()),
                if i + 1 < files.len() { "," } else { "" }
            ));
        }
        text.push_str("],\n\"WAL-Ranges\": [\n{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/2000100\" }\n],\n");
        let sum = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        text.push_str(&format!("\"Manifest-Checksum\": \"{sum}\"}}\n"));
        text.into_bytes()
    }

    #[test]
    fn parses_and_checks_its_own_checksum() {
        let bytes = sample(&[("base/1/1259", b"abc"), ("backup_label", b"x")]);
        let m = parse(&bytes).unwrap();
        assert_eq!(m.files.len(), 2);
        let mut damaged = bytes.clone();
        let at = damaged.windows(4).position(|w| w == b"1259").unwrap();
        damaged[at] = b'9';
        assert!(matches!(parse(&damaged), Err(ManifestError::SelfChecksum)));
    }

    #[test]
    fn compares_written_files() {
        let m = parse(&sample(&[("a", b"abc"), ("b", b"xyz")])).unwrap();
        let mut written = HashMap::new();
        written.insert(
            PathBuf::from("a"),
            WrittenFile {
                size: 3,
                crc32c: crc32c::crc32c(b"abc"),
            },
        );
        written.insert(
            PathBuf::from("b"),
            WrittenFile {
                size: 3,
                crc32c: crc32c::crc32c(b"xyZ"),
            },
        );
        written.insert(PathBuf::from("c"), WrittenFile { size: 0, crc32c: 0 });
        let Err(ManifestError::Mismatch(problems)) = verify_written(&m, &written) else {
            panic!("mismatch not found");
        };
        assert_eq!(
            problems,
            vec![
                Problem::Checksum("b".into()),
                Problem::Unexpected("c".into())
            ]
        );
    }

    #[test]
    fn verifies_a_directory_and_catches_a_flipped_byte() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("base")).unwrap();
        std::fs::write(dir.path().join("base/1"), b"abc").unwrap();
        std::fs::write(dir.path().join("standby.signal"), b"").unwrap();
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            sample(&[("base/1", b"abc")]),
        )
        .unwrap();
        assert_eq!(verify_directory(dir.path()).unwrap().files, 1);
        std::fs::write(dir.path().join("base/1"), b"abd").unwrap();
        let err = verify_directory(dir.path()).unwrap_err();
        assert!(err.to_string().contains("base/1 does not match"), "{err}");
        std::fs::write(dir.path().join("base/2"), b"").unwrap();
        std::fs::write(dir.path().join("base/1"), b"abc").unwrap();
        let err = verify_directory(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("base/2 is not in the manifest"),
            "{err}"
        );
    }
}
