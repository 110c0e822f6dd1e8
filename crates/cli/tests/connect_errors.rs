//! `instance register` says why a connection failed in a DBA's words, with a stable code,
//! as soon as it is known; `--connect-timeout` and `--require-auth` are validated and
//! stored with the instance.

mod instance_support;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use instance_support::{stderr, Cli};
use pgrelocate_testkit::{Auth, Cluster, DEBIAN_MAJOR};

fn register(cli: &Cli, extra: &[&str], env: &[(&str, &str)]) -> (Output, Duration) {
    let started = Instant::now();
    let out = cli
        .command()
        .args(["instance", "register", "db", "--user", "postgres", "--json"])
        .args(extra)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out, started.elapsed())
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

#[test]
fn a_refused_port_and_an_unknown_host_are_named_at_once() {
    let cli = Cli::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (out, took) = register(&cli, &["--host", "127.0.0.1", "--port", &port], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let body = json(&out);
    assert_eq!(body["code"], "connection_refused", "{body}");
    assert_eq!(
        body["message"],
        format!(
            "connection refused by 127.0.0.1:{port} — is PostgreSQL running and listening on \
             that port (listen_addresses, port)?"
        )
    );
    assert!(took < Duration::from_secs(2), "{took:?}");

    let (out, _) = register(
        &cli,
        &["--host", "db.example.invalid", "--port", "5432"],
        &[],
    );
    let body = json(&out);
    assert_eq!(body["code"], "host_not_found", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"db.example.invalid\" could not be resolved"),
        "{body}"
    );
}

#[test]
fn connect_timeout_and_require_auth_are_validated_and_stored() {
    let mut cli = Cli::new();
    for bad in [
        ["--connect-timeout", "0"],
        ["--connect-timeout", "10s"],
        ["--connect-timeout", "601"],
        ["--require-auth", "md5,!password"],
        ["--require-auth", "scram"],
    ] {
        let (out, _) = register(
            &cli,
            &[&["--host", "h", "--port", "5432", "--no-test"][..], &bad].concat(),
            &[],
        );
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(bad[0]), "{}", stderr(&out));
    }
    let (out, _) = register(
        &cli,
        &[
            "--host",
            "h",
            "--port",
            "5432",
            "--no-test",
            "--connect-timeout",
            "3",
            "--require-auth",
            "scram-sha-256,md5",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let body = json(&out);
    assert_eq!(
        body["instance"]["endpoint"]["connect_timeout_secs"], 3,
        "{body}"
    );
    assert_eq!(
        body["instance"]["endpoint"]["require_auth"], "md5,scram-sha-256",
        "{body}"
    );
    // Read back from the store, not just echoed.
    let list = cli.json(&["instance", "list", "--json"]);
    let text = list.to_string();
    assert!(
        text.contains("\"require_auth\":\"md5,scram-sha-256\""),
        "{text}"
    );
    assert!(text.contains("\"connect_timeout_secs\":3"), "{text}");
}

/// A server without TLS that asks for a clear-text password: refused by default with
/// `auth_method_refused`; registered when `--require-auth password` allows it.
#[tokio::test]
async fn cleartext_password_needs_require_auth_password() {
    let cluster = Cluster::builder(DEBIAN_MAJOR)
        .auth(Auth::Password)
        .start()
        .await
        .unwrap();
    let cli = Cli::new();
    let pgpass = cli.state_dir().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "127.0.0.1:{}:*:{}:{}\n",
            cluster.port(),
            cluster.superuser(),
            cluster.superuser_password().unwrap()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let port = cluster.port().to_string();
    let env = [("PGPASSFILE", pgpass.to_str().unwrap())];
    let base = [
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--sslmode",
        "prefer",
    ];
    let run = |extra: &[&str]| {
        let started = Instant::now();
        let out = cli
            .command()
            .args([
                "instance",
                "register",
                "db",
                "--user",
                cluster.superuser(),
                "--json",
            ])
            .args(base)
            .args(extra)
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let _ = started;
        out
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let body = json(&out);
    assert_eq!(body["code"], "auth_method_refused", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("--require-auth password"),
        "{body}"
    );
    let out = run(&["--require-auth", "password"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let body = json(&out);
    assert_eq!(body["connection"]["auth_method"], "password", "{body}");
}
