//! The CLI's `--json` and the desktop app's IPC carry the same code for the same failure:
//! both take it from the engine. Real failures, provoked against a real server and a real
//! state directory: an unknown instance, a missing report, an unknown task, an unknown host,
//! a refused login.
//!
//! The desktop side goes through the same service calls and `CommandError` conversion its
//! commands make (`connection_test` is called as it is); the CLI side runs the `pgrelocate`
//! binary built beside this test.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use pgrelocate_desktop::commands::instances::{connection_test, ConnectionInput};
use pgrelocate_desktop::error::CommandError;
use pgrelocate_desktop::state::Console;
use pgrelocate_testkit::{Cluster, PortBlock};
use serde_json::Value;

const PASSWORD: &str = "right-pw-1";

/// The `pgrelocate` binary of this build (cargo puts every binary of the workspace there).
fn cli_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("pgrelocate");
    assert!(
        bin.is_file(),
        "{} is missing: build the CLI first (cargo build -p pgrelocate-cli)",
        bin.display()
    );
    bin
}

/// Runs the CLI in `home`; returns the exit status and the last JSON document on stdout
/// (`Null` when it printed none, or text).
fn cli(home: &std::path::Path, ports: &PortBlock, args: &[&str], stdin: &str) -> (i32, Value) {
    use std::io::Write;
    let mut child = Command::new(cli_binary())
        .args(args)
        .env("PGRELOCATE_HOME", home)
        .env("PGRELOCATE_PORTS", ports.env_value())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let docs: Result<Vec<Value>, _> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .collect();
    let doc = docs
        .ok()
        .and_then(|d| d.last().cloned())
        .unwrap_or(Value::Null);
    (out.status.code().unwrap(), doc)
}

/// The IPC body a command rejected with.
fn ipc(e: impl Into<CommandError>) -> Value {
    serde_json::to_value(e.into()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_app_carry_the_same_code_for_the_same_failure() {
    let home = tempfile::tempdir().unwrap();
    let ports = PortBlock::reserve();
    // The app's engine reads the same state directory as the CLI.
    std::env::set_var("PGRELOCATE_HOME", home.path());
    let console = Console::open(None);
    let instances = console.instances().unwrap();
    let tasks = console.tasks().unwrap();

    // An unknown instance.
    let (status, doc) = cli(
        home.path(),
        &ports,
        &["instance", "status", "nobody", "--json"],
        "",
    );
    let app = ipc(instances.status("nobody").await.unwrap_err());
    assert_eq!(
        (status, &doc["code"]),
        (1, &Value::from("not_found")),
        "{doc}"
    );
    assert_eq!(doc["code"], app["code"], "{doc} vs {app}");
    assert_eq!(doc["message"], app["message"]);

    // A report that is not there.
    let (status, doc) = cli(
        home.path(),
        &ports,
        &["report", "show", "nosuchreport", "--format", "json"],
        "",
    );
    let app =
        ipc(pgrelocate_engine::store::reports::get(instances.store(), "nosuchreport").unwrap_err());
    assert_eq!(
        (status, &doc["code"]),
        (2, &Value::from("report_not_found")),
        "{doc}"
    );
    assert_eq!(doc["code"], app["code"], "{doc} vs {app}");

    // A switchover of a task that is not there.
    let (status, doc) = cli(
        home.path(),
        &ports,
        &["switchover", "nosuchtask", "--yes", "--json"],
        "",
    );
    let app = ipc(tasks.get("nosuchtask").unwrap_err());
    assert_eq!(
        (status, &doc["code"]),
        (2, &Value::from("task_not_found")),
        "{doc}"
    );
    assert_eq!(doc["code"], app["code"], "{doc} vs {app}");

    // A host that is not registered.
    let (_, doc) = cli(
        home.path(),
        &ports,
        &["host", "check", "nosuchhost", "--json"],
        "",
    );
    let hosts = console.hosts().unwrap();
    let app = ipc(hosts.check("nosuchhost", &|_| {}).await.unwrap_err());
    assert_eq!(doc["code"], Value::from("unknown_host"), "{doc}");
    assert_eq!(doc["code"], app["code"], "{doc} vs {app}");
    assert_eq!(doc["message"], app["message"]);

    // A refused login: the CLI's full copy over the replication protocol, the app's
    // connection test over SQL — two clients, one code.
    let server = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let port = server.port().to_string();
    let user = server.superuser().to_string();
    let (status, _) = cli(
        home.path(),
        &ports,
        &[
            "instance",
            "register",
            "src",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--user",
            &user,
            "--password-stdin",
            "--no-test",
        ],
        "wrong-password-zz\n",
    );
    assert_eq!(status, 0);
    let target = tempfile::tempdir().unwrap();
    let target_dir = target.path().join("copy");
    let (status, doc) = cli(
        home.path(),
        &ports,
        &[
            "backup",
            "--source",
            "src",
            "--target-dir",
            target_dir.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    let input: ConnectionInput = serde_json::from_value(serde_json::json!({
        "host": "127.0.0.1",
        "port": server.port(),
        "user": user,
    }))
    .unwrap();
    let password = serde_json::from_value(Value::from("wrong-password-zz")).unwrap();
    let app = ipc(connection_test(input, Some(password)).await.unwrap_err());
    assert_eq!(
        (status, &doc["code"]),
        (1, &Value::from("auth_failed")),
        "{doc}"
    );
    assert_eq!(doc["code"], app["code"], "{doc} vs {app}");
    assert!(
        !doc.to_string().contains("wrong-password-zz")
            && !app.to_string().contains("wrong-password-zz"),
        "a password reached an error: {doc} {app}"
    );
}
