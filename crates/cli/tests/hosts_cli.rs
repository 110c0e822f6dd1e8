//! `pgrelocate host …` against a real OpenSSH server on loopback (the test kit's
//! `SshServer`, logging in as a user other than root): host keys are trusted only when
//! accepted by fingerprint, a changed key is refused, the agent is uploaded once and runs
//! there, and failures are named with stable codes.

mod instance_support;

use std::process::Output;

use instance_support::{files_under, stderr, Cli};
use pgrelocate_testkit::SshServer;
use sha2::{Digest, Sha256};

/// A workstation whose ssh reads the test's own config, never the machine's (each test
/// runs in its own process under nextest, so the variable is this test's alone).
fn host_cli(ssh: &SshServer) -> Cli {
    std::env::set_var("PGRELOCATE_SSH_CONFIG", ssh.client_config());
    Cli::new()
}

fn run(cli: &mut Cli, args: &[&str]) -> Output {
    cli.run(args)
}

fn body(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn sha256(path: &std::path::Path) -> String {
    hex(Sha256::digest(std::fs::read(path).unwrap()).as_slice())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_key_is_trusted_only_by_fingerprint_and_a_changed_one_is_refused() {
    let mut ssh = SshServer::start().await.unwrap();
    let mut cli = host_cli(&ssh);
    let port = ssh.port().to_string();
    let key = ssh.user_key().display().to_string();
    let dest = ssh.destination();
    let fingerprint = ssh.host_key_fingerprint().unwrap();
    let add = vec![
        "host",
        "add",
        "b",
        "--ssh",
        &dest,
        "--port",
        &port,
        "--identity",
        &key,
        "--json",
    ];

    // Unknown key: refused, with the fingerprint to check; nothing stored or trusted.
    let out = run(&mut cli, &add);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let b = body(&out);
    assert_eq!(b["code"], "host_key_unknown", "{b}");
    let message = b["message"].as_str().unwrap();
    assert!(message.contains(&fingerprint), "{message}");
    assert!(message.contains("--accept-host-key"), "{message}");
    assert_eq!(
        cli.json(&["host", "list", "--json"])["hosts"],
        serde_json::json!([])
    );
    let trusted = |cli: &Cli| {
        std::fs::read_to_string(cli.state_dir().join("ssh/known_hosts")).unwrap_or_default()
    };
    assert_eq!(trusted(&cli), "");

    // A fingerprint that is not the host's: refused too.
    let mut wrong = add.clone();
    wrong.extend([
        "--accept-host-key",
        "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    let b = body(&run(&mut cli, &wrong));
    assert_eq!(b["code"], "host_key_mismatch", "{b}");
    assert_eq!(trusted(&cli), "");
    assert_eq!(
        cli.json(&["host", "list", "--json"])["hosts"],
        serde_json::json!([])
    );

    // The right one: the host is added, the agent uploaded and run as the login user.
    let mut right = add.clone();
    right.extend(["--accept-host-key", fingerprint.as_str()]);
    let added = cli.json(&right);
    assert_eq!(added["host"]["host_key"], fingerprint.as_str(), "{added}");
    assert_eq!(added["agent"]["how"], "uploaded", "{added}");
    let facts = &added["facts"];
    assert_eq!(facts["user"], ssh.login(), "{added}");
    assert_eq!(facts["os"], "Linux");
    assert_eq!(facts["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        facts["state_dir"],
        ssh.remote_state_dir().display().to_string(),
        "the agent keeps its own state on the host"
    );
    assert!(
        facts["installations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["bin_dir"] == "/usr/lib/postgresql/15/bin"),
        "{added}"
    );
    assert!(trusted(&cli).contains("ssh-ed25519"));
    // The upload sits in the login user's cache, named and checked by its checksum.
    let ours = sha256(std::path::Path::new(env!("CARGO_BIN_EXE_pgrelocate")));
    let uploaded = ssh
        .remote_cache_dir()
        .join("pgrelocate/agent")
        .join(&ours)
        .join("pgrelocate");
    assert_eq!(added["agent"]["path"], uploaded.display().to_string());
    assert_eq!(sha256(&uploaded), ours);
    assert_eq!(
        files_under(&ssh.remote_cache_dir()).len(),
        1,
        "no partial upload is left"
    );

    // A second check uses the cached binary.
    let checked = cli.json(&["host", "check", "b", "--json"]);
    assert_eq!(checked["agent"]["how"], "cached", "{checked}");
    let listed = cli.json(&["host", "list", "--json"]);
    assert_eq!(listed["hosts"][0]["name"], "b");
    assert_eq!(listed["hosts"][0]["ssh_port"], ssh.port());

    // The host comes back with another key: refused, loudly.
    ssh.restart_with_new_host_key().unwrap();
    let out = run(&mut cli, &["host", "check", "b", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let b = body(&out);
    assert_eq!(b["code"], "host_key_changed", "{b}");
    let new_fingerprint = ssh.host_key_fingerprint().unwrap();
    assert!(
        b["message"].as_str().unwrap().contains(&new_fingerprint),
        "{b}"
    );

    let out = run(&mut cli, &["host", "remove", "b"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        cli.json(&["host", "list", "--json"])["hosts"],
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_a_refused_login_and_a_dead_host_are_named() {
    let mut ssh = SshServer::start().await.unwrap();
    let mut cli = host_cli(&ssh);
    let port = ssh.port().to_string();
    let fingerprint = ssh.host_key_fingerprint().unwrap();
    let dest = ssh.destination();

    // An option in disguise never reaches ssh; a missing identity file is named.
    for (args, code) in [
        (
            vec![
                "host",
                "add",
                "x",
                "--ssh=-oProxyCommand=touch /tmp/pwned",
                "--json",
            ],
            "invalid_host",
        ),
        (
            vec!["host", "add", "x", "--ssh", "a@b@c", "--json"],
            "invalid_host",
        ),
        (
            vec![
                "host",
                "add",
                "x",
                "--ssh",
                &dest,
                "--identity",
                "/nonexistent/key",
                "--json",
            ],
            "invalid_host",
        ),
        (
            vec!["host", "add", "a/b", "--ssh", &dest, "--json"],
            "invalid_name",
        ),
        (vec!["host", "check", "nope", "--json"], "unknown_host"),
    ] {
        let out = run(&mut cli, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(body(&out)["code"], code, "{args:?}");
    }
    let out = run(
        &mut cli,
        &["host", "add", "x", "--ssh", &dest, "--port", "99999"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // A key the host does not authorise: no password is ever tried.
    let stranger = cli.state_dir().join("stranger");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .status()
        .unwrap();
    assert!(made.success());
    let stranger = stranger.display().to_string();
    let out = run(
        &mut cli,
        &[
            "host",
            "add",
            "b",
            "--ssh",
            &dest,
            "--port",
            &port,
            "--identity",
            &stranger,
            "--accept-host-key",
            &fingerprint,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let b = body(&out);
    assert_eq!(b["code"], "ssh_auth_failed", "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("never a password"),
        "{b}"
    );
    assert_eq!(
        cli.json(&["host", "list", "--json"])["hosts"],
        serde_json::json!([])
    );

    // A host that goes away.
    let key = ssh.user_key().display().to_string();
    cli.json(&[
        "host",
        "add",
        "b",
        "--ssh",
        &dest,
        "--port",
        &port,
        "--identity",
        &key,
        "--accept-host-key",
        &fingerprint,
        "--json",
    ]);
    ssh.stop();
    // The multiplexed connection went with the server's sessions; a new one is refused.
    let out = run(&mut cli, &["host", "check", "b", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(body(&out)["code"], "connection_refused", "{}", stderr(&out));
}
