//! Opening the socket to a PostgreSQL server, shared by the SQL client (the engine's `sql`)
//! and the replication client ([`crate::wire`]): resolve the host, connect with the
//! instance's connect timeout, and say what went wrong in a DBA's words.
//!
//! A refusal is reported the moment the kernel reports it. Every resolved address is
//! tried in turn (as libpq does, e.g. `localhost` → `::1` then `127.0.0.1`), but a refusal
//! from one address does not wait for anything: the next address is tried at once.
//! TLS negotiation happens on the opened socket, in each client.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};

use crate::endpoint::Endpoint;

/// Why no connection could be opened.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("host name {host:?} could not be resolved ({reason}) — check the spelling, DNS and /etc/hosts")]
    HostNotFound { host: String, reason: String },
    #[error("connection refused by {address} — is PostgreSQL running and listening on that port (listen_addresses, port)?")]
    Refused { address: String },
    #[error("no Unix socket {path} — is PostgreSQL running, with that folder in unix_socket_directories and that port?")]
    NoSocket { path: String },
    #[error("{address} is unreachable ({reason}) — check the address and the routes and firewalls between this machine and the server")]
    Unreachable { address: String, reason: String },
    #[error("no answer from {address} within {secs} s — the host may be down or a firewall drops the connection; raise the instance's connect timeout if the network is slow")]
    Timeout { address: String, secs: u64 },
    #[error("{address} accepted the connection and closed it before saying anything — it is not a PostgreSQL server, or a proxy or firewall on the way stands in for a host it cannot reach")]
    ClosedAtStartup { address: String },
    #[error("cannot connect to {address}: {source}")]
    Io {
        address: String,
        #[source]
        source: io::Error,
    },
}

impl crate::Coded for DialError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            DialError::HostNotFound { .. } => ErrorCode::HostNotFound,
            DialError::Refused { .. } | DialError::NoSocket { .. } => ErrorCode::ConnectionRefused,
            DialError::Unreachable { .. } => ErrorCode::HostUnreachable,
            DialError::Timeout { .. } => ErrorCode::ConnectTimeout,
            DialError::ClosedAtStartup { .. } | DialError::Io { .. } => ErrorCode::Unreachable,
        }
    }
}

/// An open socket to the server.
#[derive(Debug)]
pub enum Socket {
    /// TCP, with `TCP_NODELAY` set.
    Tcp(TcpStream),
    /// A Unix-domain socket (`<dir>/.s.PGSQL.<port>`).
    Unix(UnixStream),
}

/// Opens a socket to `endpoint` within its connect timeout.
pub async fn dial(endpoint: &Endpoint) -> Result<Socket, DialError> {
    if endpoint.is_unix_socket() {
        let path = format!("{}/.s.PGSQL.{}", endpoint.host, endpoint.port);
        return match UnixStream::connect(&path).await {
            Ok(s) => Ok(Socket::Unix(s)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                Err(DialError::NoSocket { path })
            }
            Err(source) => Err(DialError::Io {
                address: path,
                source,
            }),
        };
    }
    dial_tcp(endpoint).await.map(Socket::Tcp)
}

async fn dial_tcp(endpoint: &Endpoint) -> Result<TcpStream, DialError> {
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let timeout = endpoint.connect_timeout();
    let addresses = resolve(host, endpoint.port, timeout).await?;
    let mut first_error = None;
    for addr in &addresses {
        match connect_one(*addr, timeout).await {
            Ok(stream) => {
                // Small protocol messages must not wait for Nagle.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => {
                tracing::debug!(%addr, error = %e, "connection attempt failed");
                // A refusal says most (the host is there, nothing listens): keep it.
                let keep = match &first_error {
                    None => true,
                    Some(DialError::Refused { .. }) => false,
                    Some(_) => matches!(e, DialError::Refused { .. }),
                };
                if keep {
                    first_error = Some(e);
                }
            }
        }
    }
    Err(first_error.expect("resolve returns at least one address"))
}

async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, DialError> {
    let not_found = |reason: String| DialError::HostNotFound {
        host: host.to_string(),
        reason,
    };
    // Addresses need no lookup; names go to the system resolver (getaddrinfo).
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let found = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| {
            not_found(format!(
                "no answer from the resolver within {} s",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| not_found(resolver_reason(&e)))?;
    let addresses: Vec<SocketAddr> = found.collect();
    if addresses.is_empty() {
        return Err(not_found("it has no addresses".into()));
    }
    Ok(addresses)
}

/// getaddrinfo's message without Rust's "failed to lookup address information:" prefix.
fn resolver_reason(e: &io::Error) -> String {
    let text = e.to_string();
    text.strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_string()
}

async fn connect_one(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, DialError> {
    let address = addr.to_string();
    let attempt = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| DialError::Timeout {
            address: address.clone(),
            secs: timeout.as_secs(),
        })?;
    attempt.map_err(|e| classify(e, address, timeout))
}

fn classify(e: io::Error, address: String, timeout: Duration) -> DialError {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => DialError::Refused { address },
        HostUnreachable => DialError::Unreachable {
            address,
            reason: "no route to host".into(),
        },
        NetworkUnreachable => DialError::Unreachable {
            address,
            reason: "network is unreachable".into(),
        },
        TimedOut => DialError::Timeout {
            address,
            secs: timeout.as_secs(),
        },
        _ => DialError::Io { address, source: e },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::SslMode;
    use crate::Coded;

    #[tokio::test]
    async fn a_closed_port_is_refused_at_once() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = Endpoint::new("127.0.0.1", port, "u", None, SslMode::Disable).unwrap();
        let err = dial(&e).await.unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::ConnectionRefused, "{err}");
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }

    #[test]
    fn no_route_is_host_unreachable() {
        for errno in [libc::EHOSTUNREACH, libc::ENETUNREACH] {
            let err = classify(
                io::Error::from_raw_os_error(errno),
                "192.0.2.1:5432".into(),
                Duration::from_secs(10),
            );
            assert_eq!(err.code(), crate::ErrorCode::HostUnreachable, "{err}");
            assert!(
                err.to_string().contains("192.0.2.1:5432 is unreachable"),
                "{err}"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_socket_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let host = dir.path().to_str().unwrap();
        let e = Endpoint::new(host, 5999, "u", None, SslMode::Disable).unwrap();
        let err = dial(&e).await.unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::ConnectionRefused, "{err}");
        assert!(err.to_string().contains(".s.PGSQL.5999"), "{err}");
    }
}
