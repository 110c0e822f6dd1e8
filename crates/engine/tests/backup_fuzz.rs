//! Property tests: arbitrary bytes fed to the protocol message parser, the 15+ archive
//! stream parser and the tar extractor give errors, never panics, and extraction never
//! writes outside its target.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use pgrelocate_engine::backup::extract::{ArchiveTarget, Extractor};
use pgrelocate_engine::backup::stream::parse_archive_message;
use pgrelocate_engine::wire::frame::split_frame;
use pgrelocate_engine::wire::messages::decode;
use proptest::prelude::*;

const TABLESPACE_OID: u32 = 16384;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn message_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(frame)) = split_frame(&mut buf) {
            let _ = decode(frame);
        }
    }

    #[test]
    fn message_parser_on_plausible_frames_never_panics(
        frames in proptest::collection::vec(
            (prop::sample::select(b"RSKZTDCIENHGWdcv".to_vec()), proptest::collection::vec(any::<u8>(), 0..64)),
            0..16,
        )
    ) {
        let mut buf = BytesMut::new();
        for (tag, body) in &frames {
            buf.extend_from_slice(&[*tag]);
            buf.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
            buf.extend_from_slice(body);
        }
        let mut decoded = 0;
        while let Ok(Some(frame)) = split_frame(&mut buf) {
            let _ = decode(frame);
            decoded += 1;
        }
        prop_assert_eq!(decoded, frames.len());
    }

    #[test]
    fn archive_stream_parser_never_panics(
        kind in prop::sample::select(b"ndpmx".to_vec()),
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&body);
        let _ = parse_archive_message(bytes::Bytes::from(bytes));
    }

    #[test]
    fn arbitrary_bytes_never_escape_the_target(bytes in proptest::collection::vec(any::<u8>(), 0..8192)) {
        extract_and_check(&bytes);
    }

    #[test]
    fn hostile_archives_never_escape_the_target(
        entries in proptest::collection::vec(entry_strategy(), 1..12),
        damage in proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = build_archive(&entries);
        if let Some((at, value)) = damage {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(at) = cut {
            bytes.truncate(at.index(bytes.len() + 1));
        }
        extract_and_check(&bytes);
    }
}

#[derive(Debug, Clone)]
enum Kind {
    File(Vec<u8>),
    Dir,
    Link(String),
}

fn path_strategy() -> impl Strategy<Value = String> {
    let part = prop::sample::select(vec![
        "a",
        "b",
        "..",
        ".",
        "",
        "pg_tblspc",
        "16384",
        "99",
        "base",
        "x.y",
    ]);
    (any::<bool>(), proptest::collection::vec(part, 1..5)).prop_map(|(absolute, parts)| {
        let joined = parts.join("/");
        if absolute {
            format!("/{joined}")
        } else {
            joined
        }
    })
}

fn entry_strategy() -> impl Strategy<Value = (String, Kind)> {
    let kind = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(Kind::File),
        Just(Kind::Dir),
        path_strategy().prop_map(Kind::Link),
    ];
    (path_strategy(), kind)
}

/// A ustar archive with the names exactly as given (the tar crate's builder would refuse
/// the hostile ones).
fn build_archive(entries: &[(String, Kind)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, kind) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o600);
        let data: &[u8] = match kind {
            Kind::File(d) => {
                h.set_entry_type(tar::EntryType::Regular);
                d
            }
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                b""
            }
            Kind::Link(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                let t = target.as_bytes();
                h.as_old_mut().linkname[..t.len().min(100)].copy_from_slice(&t[..t.len().min(100)]);
                b""
            }
        };
        h.set_size(data.len() as u64);
        let p = path.as_bytes();
        h.as_old_mut().name[..p.len().min(100)].copy_from_slice(&p[..p.len().min(100)]);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out
}

fn extract_and_check(bytes: &[u8]) {
    let root = tempfile::tempdir().unwrap();
    let target = root.path().join("target");
    let tablespace = root.path().join("tablespace");
    let outside = root.path().join("outside");
    for d in [&target, &tablespace, &outside] {
        std::fs::create_dir(d).unwrap();
    }
    let mut extractor = Extractor::new(None, HashMap::from([(TABLESPACE_OID, tablespace.clone())]));
    let archive = ArchiveTarget {
        name: "base.tar".into(),
        root: target.clone(),
        manifest_prefix: PathBuf::new(),
        is_base: true,
    };
    let _ = extractor.extract(bytes, &archive);

    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "wrote outside"
    );
    assert_eq!(
        std::fs::read_dir(root.path()).unwrap().count(),
        3,
        "created something beside the target"
    );
    let allowed = [
        target.canonicalize().unwrap(),
        tablespace.canonicalize().unwrap(),
    ];
    check_tree(&target, &allowed);
}

/// Every link under `dir` resolves (if at all) inside one of the allowed roots.
fn check_tree(dir: &Path, allowed: &[PathBuf]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            if let Ok(resolved) = path.canonicalize() {
                assert!(
                    allowed.iter().any(|a| resolved.starts_with(a)),
                    "{} escapes to {}",
                    path.display(),
                    resolved.display()
                );
            }
        } else if meta.is_dir() {
            check_tree(&path, allowed);
        }
    }
}
