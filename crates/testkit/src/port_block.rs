//! Blocks of TCP ports for the managed instances one test creates.
//!
//! The engine gives a new managed instance the first free port of its range (5433–6432 by
//! default). Parallel tests with separate state directories would all start at 5433, and a
//! destination a test stops and starts again (a migration, a `shutdown` fence) could find
//! its port taken by another test's new instance. Each block is held through a lock file
//! for the life of the test process, so no two live test processes share one; give it to
//! the engine with `Instances::with_ports` or as `PGRELOCATE_PORTS` to a child process.
//!
//! Blocks lie in 10000–19999: below the test clusters' 20000–31999 (see `cluster::port`)
//! and below Linux's ephemeral range (32768+), so clients do not take them either.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Mutex;

const FIRST: u16 = 10000;
const WIDTH: u16 = 25;
const BLOCKS: u16 = 400;

/// The lock files of the blocks this process holds (released when it exits).
static HELD: Mutex<Vec<File>> = Mutex::new(Vec::new());

/// A block of ports no other live test process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortBlock {
    /// The first port.
    pub first: u16,
    /// The last port (inclusive).
    pub last: u16,
}

impl PortBlock {
    /// Takes a block not held by any live process (this one included), for the life of
    /// this process.
    pub fn reserve() -> PortBlock {
        let dir = lock_dir();
        if std::fs::create_dir(&dir).is_ok() {
            use std::os::unix::fs::PermissionsExt;
            // Like /tmp: any user's test run can add its lock files.
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777));
        }
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        let start = crate::cluster::port::random() % u64::from(BLOCKS);
        for i in 0..u64::from(BLOCKS) {
            let index = ((start + i) % u64::from(BLOCKS)) as u16;
            let path = dir.join(format!("block-{index}.lock"));
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            // A lock on the open file description: this process's own earlier blocks refuse
            // it too, and a killed process's locks go with it.
            if file.try_lock().is_ok() {
                held.push(file);
                let first = FIRST + index * WIDTH;
                return PortBlock {
                    first,
                    last: first + WIDTH - 1,
                };
            }
        }
        panic!("all {BLOCKS} port blocks are held by live test processes");
    }

    /// `FIRST-LAST`, the form of `PGRELOCATE_PORTS`.
    pub fn env_value(&self) -> String {
        format!("{}-{}", self.first, self.last)
    }
}

/// Shared by every test run on the machine, whichever user runs it.
fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("pgrelocate-port-blocks")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_held_by_this_process_do_not_overlap() {
        let blocks: Vec<PortBlock> = (0..5).map(|_| PortBlock::reserve()).collect();
        for (i, a) in blocks.iter().enumerate() {
            assert!(a.first >= FIRST && a.last < FIRST + WIDTH * BLOCKS);
            for b in &blocks[i + 1..] {
                assert!(a.last < b.first || b.last < a.first, "{a:?} overlaps {b:?}");
            }
        }
    }
}
