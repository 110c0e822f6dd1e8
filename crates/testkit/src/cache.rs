//! Where fetched PostgreSQL builds are kept.
//!
//! `PGRELOCATE_CACHE` wins when set. Otherwise root uses `/var/cache/pgrelocate`, because the
//! servers run as `postgres`, which cannot traverse root's 0700 home; other users use
//! `$XDG_CACHE_HOME/pgrelocate` or `~/.cache/pgrelocate`, since their servers run as themselves.

use std::path::PathBuf;

use crate::server_user::running_as_root;

/// The environment variable that overrides the cache root.
pub const CACHE_ENV: &str = "PGRELOCATE_CACHE";

/// The cache root: `$PGRELOCATE_CACHE`, else the per-user default described above.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = non_empty_env(CACHE_ENV) {
        return PathBuf::from(dir);
    }
    if running_as_root() {
        return PathBuf::from("/var/cache/pgrelocate");
    }
    if let Some(dir) = non_empty_env("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("pgrelocate");
    }
    let home = non_empty_env("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache").join("pgrelocate")
}

/// The folder holding one installation per pinned npm version.
pub fn postgres_root() -> PathBuf {
    cache_root().join("postgres")
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
