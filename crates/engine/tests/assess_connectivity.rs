//! Source connectivity on real servers: unreachable host, refused port, wrong password,
//! a role without REPLICATION, no `replication` line in pg_hba.conf, no pg_monitor, no
//! fence, plain traffic to a remote source, and an external destination.

mod support;

use std::time::{Duration, Instant};

use pgrelocate_engine::assess::{Mode, Options, Status};
use pgrelocate_engine::SslMode;
use pgrelocate_testkit::Cluster;
use support::{expect, expect_error, expect_warning, options, Env};

#[tokio::test]
async fn unreachable_host_and_refused_port_are_reported_within_the_timeout() {
    let env = Env::new();
    // A host that never answers: a listener whose accept queue is full drops new SYNs, as a
    // firewall that discards packets does. (Addresses "routed nowhere" cannot be used: some
    // networks, this CI's included, accept every outgoing connection at a proxy.)
    let silent = SilentPort::new();
    env.register_at(
        "silent",
        "127.0.0.1",
        silent.port,
        "migrator",
        Some("pw"),
        SslMode::Disable,
    )
    .await;
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.register_at(
        "refusing",
        "127.0.0.1",
        free_port,
        "migrator",
        Some("pw"),
        SslMode::Disable,
    )
    .await;
    env.register_nowhere("external-dest").await;
    let opts = Options {
        connect_timeout: Duration::from_secs(2),
        ..options()
    };

    for (source, words) in [("silent", "no answer"), ("refusing", "refused")] {
        let started = Instant::now();
        let report = env
            .assess(source, "external-dest", Mode::Migration, opts.clone())
            .await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(8),
            "{source}: took {took:?} with a 2 s connect timeout"
        );
        let reach = expect_error(&report, "src.reachable", &["listen"]);
        assert!(reach.message.contains(words), "{}", reach.message);
        let login = expect(&report, "src.login", Status::Skipped);
        assert!(login.message.contains("src.reachable"), "{}", login.message);
        // The destination is external: it cannot receive a physical copy.
        expect_error(&report, "dest.managed", &["pgrelocate instance create"]);
    }
}

/// A loopback port whose listener never accepts and whose queue is full.
struct SilentPort {
    fd: i32,
    port: u16,
    _queued: Vec<std::net::TcpStream>,
}

impl SilentPort {
    fn new() -> SilentPort {
        // SAFETY: plain socket calls on a socket this function owns; the address structs
        // are fully initialised before use.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
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
            let mut bound_len = len;
            libc::getsockname(
                fd,
                &mut bound as *mut _ as *mut libc::sockaddr,
                &mut bound_len,
            );
            let port = u16::from_be(bound.sin_port);
            let target = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let mut queued = Vec::new();
            while let Ok(s) =
                std::net::TcpStream::connect_timeout(&target, Duration::from_millis(300))
            {
                queued.push(s);
                assert!(queued.len() < 16, "the listen queue never filled");
            }
            SilentPort {
                fd,
                port,
                _queued: queued,
            }
        }
    }
}

impl Drop for SilentPort {
    fn drop(&mut self) {
        // SAFETY: closes the socket this value owns.
        unsafe {
            libc::close(self.fd);
        }
    }
}

#[tokio::test]
async fn wrong_password_is_a_login_error_that_says_how_to_store_the_right_one() {
    let source = Cluster::builder(13).start().await.unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", Some("not-the-password"))
        .await;
    env.register_nowhere("external-dest").await;
    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    expect(&report, "src.reachable", Status::Success);
    let login = expect_error(
        &report,
        "src.login",
        &["password", "--password-stdin", "register"],
    );
    assert!(
        login.message.contains("authentication failed"),
        "{}",
        login.message
    );
    expect(&report, "src.replication_conn", Status::Skipped);
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("not-the-password"));
}

/// A source where role "Mig rator" may log in and use replication connections but lacks the
/// REPLICATION attribute, and role `streamer` has REPLICATION but no pg_hba line for it.
async fn source_with_two_roles() -> Cluster {
    let source = Cluster::builder(16)
        .without_default_hba()
        .hba_line("host replication \"Mig rator\" 127.0.0.1/32 scram-sha-256")
        .hba_line("host all all 127.0.0.1/32 scram-sha-256")
        .start()
        .await
        .unwrap();
    source
        .create_role("Mig rator", Some("pw one"), "")
        .await
        .unwrap();
    source
        .create_role("streamer", Some("pw two"), "REPLICATION")
        .await
        .unwrap();
    source
}

#[tokio::test]
async fn missing_replication_attribute_and_pg_hba_line_and_fence_are_reported_with_their_fixes() {
    let source = source_with_two_roles().await;
    let env = Env::new();
    env.register("no-attribute", &source, "Mig rator", Some("pw one"))
        .await;
    env.register("no-hba-line", &source, "streamer", Some("pw two"))
        .await;
    env.register_nowhere("external-dest").await;

    let report = env
        .assess("no-attribute", "external-dest", Mode::Migration, options())
        .await;
    expect(&report, "src.login", Status::Success);
    expect_error(
        &report,
        "src.role_replication",
        &["ALTER ROLE \"Mig rator\" REPLICATION;"],
    );
    let conn = expect_error(
        &report,
        "src.replication_conn",
        &["ALTER ROLE \"Mig rator\" REPLICATION;"],
    );
    assert_eq!(conn.evidence["sqlstate"], "42501");
    expect_warning(&report, "src.role_monitor", &["pg_monitor"]);
    assert!(report
        .check("src.role_monitor")
        .unwrap()
        .remedy
        .contains("GRANT pg_monitor TO \"Mig rator\";"));
    // Neither managed here nor privileged: no fence — an error for a migration…
    let fence = expect_error(
        &report,
        "src.fencing",
        &[
            "GRANT pg_signal_backend TO \"Mig rator\";",
            "pg_reload_conf()",
        ],
    );
    assert!(fence.message.contains("fence: none"), "{}", fence.message);
    // …and a warning for a DR standby.
    let dr = env
        .assess("no-attribute", "external-dest", Mode::Dr, options())
        .await;
    expect_warning(&dr, "src.fencing", &["fence: none"]);

    let report = env
        .assess("no-hba-line", "external-dest", Mode::Migration, options())
        .await;
    expect(&report, "src.role_replication", Status::Success);
    let conn = expect_error(
        &report,
        "src.replication_conn",
        &[
            "host    replication streamer 127.0.0.1/32 scram-sha-256",
            "pg_reload_conf()",
        ],
    );
    assert!(conn.message.contains("pg_hba.conf"), "{}", conn.message);
}

/// This host's first non-loopback IPv4 address.
fn host_address() -> String {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .expect("this test needs a non-loopback IPv4 address on the host")
        .to_string()
}

#[tokio::test]
async fn plain_traffic_to_a_remote_source_is_a_warning() {
    let address = host_address();
    let source = Cluster::builder(14)
        .setting("listen_addresses", "*")
        .hba_line(format!("host all all {address}/32 scram-sha-256"))
        .start()
        .await
        .unwrap();
    let env = Env::new();
    env.register_at(
        "remote",
        &address,
        source.port(),
        "postgres",
        source.superuser_password(),
        SslMode::Prefer,
    )
    .await;
    env.register("local", &source, "postgres", source.superuser_password())
        .await;
    env.register_nowhere("external-dest").await;

    let report = env
        .assess("remote", "external-dest", Mode::Migration, options())
        .await;
    let tls = expect_warning(&report, "src.tls", &["not encrypted", "sslmode=prefer"]);
    assert!(
        tls.remedy.contains("--sslmode verify-full"),
        "{}",
        tls.remedy
    );
    // The address the source saw is this host's, not loopback.
    let reach = expect(&report, "src.reachable", Status::Success);
    assert!(reach.evidence["local_address"]
        .as_str()
        .unwrap()
        .starts_with(&address));

    let report = env
        .assess("local", "external-dest", Mode::Migration, options())
        .await;
    expect(&report, "src.tls", Status::Success);
}

/// The assessment says how each source authenticates pgrelocate (SQL and replication
/// logins), and a source that asks for a clear-text password without TLS is a login error
/// that says how to fix or allow it — the password is not sent.
#[tokio::test]
async fn the_authentication_method_of_each_source_is_reported() {
    use pgrelocate_testkit::Auth;
    let scram = Cluster::builder(16).start().await.unwrap();
    let md5 = Cluster::builder(16).auth(Auth::Md5).start().await.unwrap();
    let clear = Cluster::builder(16)
        .auth(Auth::Password)
        .start()
        .await
        .unwrap();
    let env = Env::new();
    env.register("scram", &scram, "postgres", scram.superuser_password())
        .await;
    env.register("md5", &md5, "postgres", md5.superuser_password())
        .await;
    env.register("clear", &clear, "postgres", clear.superuser_password())
        .await;
    env.register_nowhere("external-dest").await;

    let report = env
        .assess("scram", "external-dest", Mode::Migration, options())
        .await;
    let check = expect(&report, "src.auth_method", Status::Success);
    assert!(check.message.contains("SCRAM-SHA-256"), "{}", check.message);
    assert_eq!(check.evidence["sql_method"], "scram-sha-256");
    assert_eq!(check.evidence["replication_method"], "scram-sha-256");
    assert_eq!(check.evidence["sql_tls"], false);

    let report = env
        .assess("md5", "external-dest", Mode::Migration, options())
        .await;
    let check = expect_warning(&report, "src.auth_method", &["MD5"]);
    assert!(check.remedy.contains("scram-sha-256"), "{}", check.remedy);
    assert_eq!(check.evidence["replication_method"], "md5");

    let report = env
        .assess("clear", "external-dest", Mode::Migration, options())
        .await;
    let login = expect_error(&report, "src.login", &["--require-auth password"]);
    assert!(login.message.contains("clear text"), "{}", login.message);
}
