//! Connection failures in a DBA's words, as fast as they are known, the same on the SQL
//! path (register's connection test, assessments) and the replication path (base backup,
//! streaming): refused port, unknown host, no answer within the connect timeout.

use std::net::TcpListener;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use pgrelocate_engine::sql;
use pgrelocate_engine::wire::{ConnectOptions, ReplicationConnection};
use pgrelocate_engine::{Coded, Endpoint, ErrorCode, Password, SslMode};

fn closed_port() -> u16 {
    // Bound then released: nothing listens there.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Both paths' error code and message for `endpoint`, and how long each took.
async fn both_paths(endpoint: &Endpoint) -> [(ErrorCode, String, Duration); 2] {
    let password = Password::new("secret-xyzzy");
    let started = Instant::now();
    let sql_err = sql::test_connection(endpoint, Some(&password), Duration::from_secs(60))
        .await
        .unwrap_err();
    let sql_took = started.elapsed();
    let started = Instant::now();
    let wire_err = ReplicationConnection::connect(
        endpoint,
        Some(&password),
        &ConnectOptions {
            connect_timeout: Duration::from_secs(60),
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap_err();
    let wire_took = started.elapsed();
    [
        (sql_err.code(), sql_err.to_string(), sql_took),
        (wire_err.code(), wire_err.to_string(), wire_took),
    ]
}

#[tokio::test]
async fn a_refused_port_is_reported_at_once_on_both_paths() {
    let port = closed_port();
    for host in ["127.0.0.1", "localhost"] {
        let e = Endpoint::new(host, port, "u", None, SslMode::Prefer).unwrap();
        for (code, text, took) in both_paths(&e).await {
            assert_eq!(code, ErrorCode::ConnectionRefused, "{text}");
            assert!(
                text.contains(&format!("connection refused by 127.0.0.1:{port}"))
                    || text.contains(&format!("connection refused by [::1]:{port}")),
                "{text}"
            );
            assert!(text.contains("is PostgreSQL running"), "{text}");
            assert!(!text.contains("xyzzy"), "{text}");
            // Known at once: no retry, no backoff (generous for a loaded machine).
            assert!(took < Duration::from_secs(2), "{host}: {took:?}");
        }
    }
}

#[tokio::test]
async fn an_unknown_host_name_is_host_not_found_on_both_paths() {
    let e = Endpoint::new("no-such-db.invalid", 5432, "u", None, SslMode::Prefer).unwrap();
    for (code, text, _) in both_paths(&e).await {
        assert_eq!(code, ErrorCode::HostNotFound, "{text}");
        assert!(
            text.contains("\"no-such-db.invalid\" could not be resolved"),
            "{text}"
        );
    }
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so a connection
/// attempt gets no answer at all — what a firewall that drops packets looks like.
fn silent_listener() -> (OwnedFd, u16, Vec<std::net::TcpStream>) {
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let owned = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len),
            0
        );
        assert_eq!(libc::listen(fd, 0), 0);
        let mut bound: libc::sockaddr_in = std::mem::zeroed();
        let mut blen = len;
        libc::getsockname(fd, &mut bound as *mut _ as *mut libc::sockaddr, &mut blen);
        let port = u16::from_be(bound.sin_port);
        // Fill the queue (backlog 0 holds one); later attempts hang.
        let mut fillers = Vec::new();
        for _ in 0..3 {
            if let Ok(s) = std::net::TcpStream::connect_timeout(
                &format!("127.0.0.1:{port}").parse().unwrap(),
                Duration::from_millis(300),
            ) {
                fillers.push(s);
            }
        }
        (owned, port, fillers)
    }
}

#[tokio::test]
async fn no_answer_is_connect_timeout_after_the_instances_timeout_on_both_paths() {
    let (_listener, port, _fillers) = silent_listener();
    let mut e = Endpoint::new("127.0.0.1", port, "u", None, SslMode::Prefer).unwrap();
    e.connect_timeout_secs = 1;
    for (code, text, took) in both_paths(&e).await {
        assert_eq!(code, ErrorCode::ConnectTimeout, "{text}");
        assert!(
            text.contains(&format!("no answer from 127.0.0.1:{port} within 1 s")),
            "{text}"
        );
        assert!(text.contains("connect timeout"), "{text}");
        // The instance's timeout (1 s) decides, not the caller's 60 s.
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(10),
            "{took:?}"
        );
    }
}

/// What a proxy standing in for an unreachable host does: accept, then close. Before,
/// this read "bytes remaining on stream".
#[tokio::test]
async fn a_peer_that_closes_at_once_is_not_reported_as_a_protocol_glitch() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    for sslmode in [SslMode::Prefer, SslMode::Disable] {
        let e = Endpoint::new("127.0.0.1", port, "u", None, sslmode).unwrap();
        for (code, text, _) in both_paths(&e).await {
            assert_eq!(code, ErrorCode::Unreachable, "{text}");
            assert!(
                text.contains("accepted the connection and closed it")
                    && !text.contains("bytes remaining"),
                "{sslmode}: {text}"
            );
        }
    }
}
