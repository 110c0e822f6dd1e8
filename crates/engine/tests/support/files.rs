//! Files a task leaves (or must not leave) beside a destination, and its restored state.

use std::path::{Path, PathBuf};

use super::env::Env;

/// Every regular file under `dir` (not following links).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let ft = entry.file_type().unwrap();
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                out.push(entry.path());
            }
        }
    }
    out
}

/// Files under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let needle = needle.as_bytes();
    files_under(dir)
        .into_iter()
        .filter(|f| {
            std::fs::read(f)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// The pgrelocate folders the task put beside the destination's data directory.
pub fn task_leftovers(data_dir: &Path) -> Vec<PathBuf> {
    let parent = data_dir.parent().unwrap();
    std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains(".pgrelocate-")
        })
        .collect()
}

/// Whether the destination is its empty self again: running, a primary, no user table.
pub async fn assert_destination_restored(env: &Env) {
    let client = env.dest_own().await;
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), \
                    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                      WHERE n.nspname = 'public')",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0), "the destination is still a standby");
    assert_eq!(row.get::<_, i64>(1), 0, "the destination is not empty");
    let data_dir = env.dest().managed.unwrap().data_dir;
    assert!(!data_dir.join("standby.signal").exists() && !data_dir.join("recovery.conf").exists());
    assert_eq!(task_leftovers(&data_dir), Vec::<PathBuf>::new());
}
