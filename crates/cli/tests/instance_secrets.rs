//! Registering through the CLI with the real Secret Service: the password goes to the
//! keyring and nowhere else — not the state directory, not the logs, not any --json output.
//! Hostile input is refused with a clear usage error.

mod instance_support;

use instance_support::{contains, files_under, require_keyring, stderr, Cli};
use pgrelocate_engine::secrets::{CredentialStore, Keyring};
use pgrelocate_engine::store::InstanceId;
use pgrelocate_engine::Password;
use pgrelocate_testkit::Cluster;

const ROLE: &str = "app 'ü\\ser\"";
const PASSWORD: &str = "Sëcret 'pa\"ss\\w0rd: zz-unique-7f3a";

#[tokio::test]
async fn the_password_is_in_the_keyring_and_nowhere_else() {
    require_keyring();
    let cluster = Cluster::builder(15).start().await.unwrap();
    cluster.create_role(ROLE, Some(PASSWORD), "").await.unwrap();
    let port = cluster.port().to_string();
    let mut cli = Cli::new();
    let name = "src \"prod\" o'neil \\ é";

    // A wrong password is refused, and nothing is stored.
    let out = cli.run_with_stdin(
        &[
            "instance",
            "register",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            ROLE,
            "--password-stdin",
        ],
        "wrong-password-zz\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("authentication failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );

    let out = cli.run_with_stdin(
        &[
            "instance",
            "register",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            ROLE,
            "--sslmode",
            "prefer",
            "--password-stdin",
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let registered: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(registered["instance"]["name"], name);
    assert_eq!(registered["instance"]["endpoint"]["user"], ROLE);
    assert_eq!(registered["connection"]["version"]["major"], 15);
    let id: InstanceId = serde_json::from_value(registered["instance"]["id"].clone()).unwrap();

    // The real Secret Service holds it under the instance id.
    let keyring = Keyring::os().unwrap();
    assert_eq!(keyring.load(&id).unwrap(), Some(Password::new(PASSWORD)));

    // list and status reconnect with it.
    let list = cli.json(&["instance", "list", "--json"]);
    assert_eq!(list[0]["name"], name);
    assert_eq!(list[0]["state"], "running");
    assert_eq!(list[0]["connection"]["role"], "primary");
    let status = cli.json(&["instance", "status", name, "--json"]);
    assert_eq!(status["connection"]["version"]["major"], 15);
    cli.ok(&["instance", "list"]);
    cli.ok(&["instance", "status", name]);

    // Nowhere else: state directory (SQLite file, WAL), trace logs, every output.
    let needle = PASSWORD.as_bytes();
    let files = files_under(cli.state_dir());
    assert!(!files.is_empty());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !contains(&bytes, needle),
            "the password is in {}",
            file.display()
        );
    }
    assert!(
        contains(&cli.transcript, b"TRACE") || contains(&cli.transcript, b"DEBUG"),
        "the logs were not captured at trace level"
    );
    assert!(
        !contains(&cli.transcript, needle),
        "the password is in the CLI output or logs"
    );

    // remove forgets the password too.
    cli.ok(&["instance", "remove", name, "--yes"]);
    assert_eq!(keyring.load(&id).unwrap(), None);
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn hostile_input_is_refused_with_a_usage_error() {
    let mut cli = Cli::new();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "instance",
                "register",
                "a",
                "--host",
                "h",
                "--port",
                "0",
                "--user",
                "u",
                "--no-test",
            ],
            "between 1 and 65535",
        ),
        (
            &[
                "instance",
                "register",
                "a",
                "--host",
                "h",
                "--port",
                "70000",
                "--user",
                "u",
                "--no-test",
            ],
            "between 1 and 65535",
        ),
        (
            &[
                "instance",
                "register",
                "a",
                "--host",
                "db\nevil",
                "--port",
                "5432",
                "--user",
                "u",
                "--no-test",
            ],
            "control character",
        ),
        (
            &[
                "instance",
                "register",
                "a/b",
                "--host",
                "h",
                "--port",
                "5432",
                "--user",
                "u",
                "--no-test",
            ],
            "contains '/'",
        ),
        (
            &[
                "instance",
                "register",
                "a",
                "--host",
                "h",
                "--port",
                "5432",
                "--user",
                "u",
                "--sslmode",
                "verify_full",
                "--no-test",
            ],
            "unknown sslmode",
        ),
    ];
    for (args, expected) in cases {
        let out = cli.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = cli.run(&["instance", "create", "x/y", "--major", "15"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cli.run(&["instance", "status", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no instance named \"nobody\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn odd_characters_round_trip_through_the_cli() {
    let mut cli = Cli::new();
    let name = "naïve \"quoted\" 'name' \\ 東京";
    let host = "db-'ü\\x.example";
    let user = "mig r'ä\"\\";
    let dbname = "données \"x\" \\y";
    cli.ok(&[
        "instance",
        "register",
        name,
        "--host",
        host,
        "--port",
        "6543",
        "--user",
        user,
        "--dbname",
        dbname,
        "--sslmode",
        "verify-full",
        "--no-test",
    ]);
    let list = cli.json(&["instance", "list", "--json"]);
    let e = &list[0]["endpoint"];
    assert_eq!(list[0]["name"], name);
    assert_eq!(e["host"], host);
    assert_eq!(e["port"], 6543);
    assert_eq!(e["user"], user);
    assert_eq!(e["dbname"], dbname);
    assert_eq!(e["sslmode"], "verify-full");
    assert_eq!(list[0]["state"], "unreachable");
    let out = cli.run(&[
        "instance",
        "register",
        name,
        "--host",
        "h",
        "--port",
        "1",
        "--user",
        "u",
        "--no-test",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}
