//! What an instance's detail pages read: its key parameters, the tail of a managed server's
//! log, and this host's addresses (the ones a source's `pg_hba.conf` must admit).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::instances::{InstanceError, Instances};
use crate::server::control;
use crate::server::ServerError;
use crate::sql::{self, SqlError};

/// The settings a DBA looks at first when judging a server for a physical migration.
pub const KEY_PARAMETERS: [&str; 22] = [
    "server_version",
    "data_directory",
    "port",
    "listen_addresses",
    "max_connections",
    "shared_buffers",
    "wal_level",
    "max_wal_senders",
    "max_replication_slots",
    "max_slot_wal_keep_size",
    "wal_keep_size",
    "wal_keep_segments",
    "hot_standby",
    "archive_mode",
    "synchronous_commit",
    "synchronous_standby_names",
    "data_checksums",
    "wal_log_hints",
    "ssl",
    "password_encryption",
    "max_worker_processes",
    "max_locks_per_transaction",
];

/// One setting as `pg_settings` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Parameter {
    /// Setting name.
    pub name: String,
    /// Current value, with its unit when it has one (`128MB`).
    pub value: String,
    /// Where the value comes from (`default`, `configuration file`, …).
    pub source: String,
    /// A changed value waits for a restart.
    pub pending_restart: bool,
}

/// The key parameters of a running instance (those its version knows), in a fixed order.
pub async fn parameters(
    instances: &Instances,
    name: &str,
) -> Result<Vec<Parameter>, InstanceError> {
    let record = instances.store().instance_by_name(name)?;
    if let Some(host) = crate::instances::host_of(&record) {
        return instances.parameters_on_host(host, &record).await;
    }
    let password = instances.password_for(&record).await?;
    let client = sql::connect(
        &record.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await?;
    let names: Vec<String> = KEY_PARAMETERS.iter().map(|s| s.to_string()).collect();
    // pending_restart exists since 9.5; every supported version has it.
    let rows = client
        .query(
            "SELECT name, current_setting(name), coalesce(source, ''), pending_restart \
             FROM pg_settings WHERE name = ANY($1)",
            &[&names],
        )
        .await
        .map_err(|e| SqlError::from_driver(&e, &record.endpoint))?;
    let mut found: Vec<Parameter> = rows
        .iter()
        .map(|r| Parameter {
            name: r.get(0),
            value: r.get(1),
            source: r.get(2),
            pending_restart: r.get(3),
        })
        .collect();
    found.sort_by_key(|p| KEY_PARAMETERS.iter().position(|k| *k == p.name));
    Ok(found)
}

/// The end of a managed server's log file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogTail {
    /// The log file.
    pub path: PathBuf,
    /// Its last lines, oldest first.
    pub lines: Vec<String>,
    /// Lines before these were left out.
    pub truncated: bool,
}

/// Longest stretch of a log file read from its end.
const TAIL_BYTES: u64 = 256 * 1024;

/// The last `max_lines` lines of a managed instance's server log, here or on its host.
pub async fn server_log(
    instances: &Instances,
    name: &str,
    max_lines: usize,
) -> Result<LogTail, InstanceError> {
    let record = instances.store().instance_by_name(name)?;
    if let Some(host) = crate::instances::host_of(&record) {
        return instances.log_tail_on_host(host, &record, max_lines).await;
    }
    // At most 256 KiB of a local file: read in place.
    server_log_tail(instances, name, max_lines)
}

/// The last `max_lines` lines of a local managed instance's server log.
pub fn server_log_tail(
    instances: &Instances,
    name: &str,
    max_lines: usize,
) -> Result<LogTail, InstanceError> {
    let record = instances.store().instance_by_name(name)?;
    let managed = record
        .managed
        .ok_or_else(|| InstanceError::NotManaged(name.to_string()))?;
    let path = control::log_file(&managed.data_dir);
    let text = match read_end(&path, TAIL_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(ServerError::io(&path)(e).into()),
    };
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(max_lines);
    Ok(LogTail {
        path,
        lines: all[start..].iter().map(|l| l.to_string()).collect(),
        truncated: start > 0 || text.len() as u64 >= TAIL_BYTES,
    })
}

fn read_end(path: &std::path::Path, max: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let from = len.saturating_sub(max);
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // A cut in the middle of a line: drop the partial first line.
    Ok(if from > 0 {
        text.split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()
    } else {
        text
    })
}

/// This host's network addresses (loopback last), for the access rules a source must add.
pub fn host_addresses() -> Vec<IpAddr> {
    let mut found = Vec::new();
    // SAFETY: getifaddrs fills a linked list we only read, then free with freeifaddrs.
    unsafe {
        let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut list) != 0 {
            return found;
        }
        let mut cur = list;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() {
                match (*addr).sa_family as i32 {
                    libc::AF_INET => {
                        let sin = &*(addr as *const libc::sockaddr_in);
                        found.push(IpAddr::from(
                            u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                        ));
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(addr as *const libc::sockaddr_in6);
                        let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                        // Link-local addresses need a zone and never appear in pg_hba lines.
                        if ip.segments()[0] & 0xffc0 != 0xfe80 {
                            found.push(IpAddr::V6(ip));
                        }
                    }
                    _ => {}
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found.sort_by_key(|ip| (ip.is_loopback(), ip.is_ipv6()));
    found.dedup();
    found
}

/// The address this host uses to reach `host:port` (the one the source sees), found by
/// routing a UDP socket there; nothing is sent. `None` when the host does not resolve.
pub fn address_toward(host: &str, port: u16) -> Option<IpAddr> {
    if host.starts_with('/') {
        return None;
    }
    let target: SocketAddr = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .ok()?
        .next()?;
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().ok()?
    } else {
        "[::]:0".parse().ok()?
    };
    let socket = UdpSocket::bind(bind).ok()?;
    socket.connect(target).ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_include_loopback_last() {
        let found = host_addresses();
        assert!(found.iter().any(|ip| ip.is_loopback()), "{found:?}");
        assert!(found.last().unwrap().is_loopback());
    }

    #[test]
    fn the_way_to_loopback_is_loopback() {
        assert_eq!(
            address_toward("127.0.0.1", 5432),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(address_toward("/var/run/postgresql", 5432), None);
    }

    #[test]
    fn read_end_drops_a_cut_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "first line\nsecond\nthird\n").unwrap();
        assert_eq!(
            read_end(&path, 1000).unwrap(),
            "first line\nsecond\nthird\n"
        );
        assert_eq!(read_end(&path, 10).unwrap(), "third\n");
    }
}
