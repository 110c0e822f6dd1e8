//! Choosing a free loopback port for a new cluster.
//!
//! Ports come from 20000–31999, below Linux's ephemeral range (32768+), so the clients of
//! parallel tests do not take them. Another process may still grab one between the check and
//! the server's bind; the cluster then retries its first start on a fresh port.

use std::collections::hash_map::RandomState;
use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::sync::Mutex;

const FIRST: u16 = 20000;
const COUNT: u16 = 12000;

/// Ports handed to clusters of this process that are still alive (bound or not yet).
static RESERVED: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A port that is free now and not reserved by another cluster of this process.
pub(crate) fn reserve() -> u16 {
    let mut reserved = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = FIRST + (random() % u64::from(COUNT)) as u16;
        if !reserved.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            reserved.insert(port);
            return port;
        }
    }
}

/// Gives a port back when its cluster is gone.
pub(crate) fn release(port: u16) {
    RESERVED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&port);
}

/// Whether a failed start's log says the port was taken.
pub(super) fn was_taken(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("could not bind")
}

/// A random number, different in every call and process.
pub(crate) fn random() -> u64 {
    // RandomState is seeded from the OS per instance: enough randomness without a crate.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}
