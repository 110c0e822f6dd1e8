//! Managed instances and the sandbox through the CLI, with the real Secret Service.

mod instance_support;

use instance_support::{require_keyring, stderr, Cli};

fn bin_dir(major: u32) -> String {
    pgrelocate_testkit::Installation::embedded(major)
        .unwrap()
        .bin_dir()
        .display()
        .to_string()
}

#[test]
fn create_stop_start_status_remove() {
    require_keyring();
    let mut cli = Cli::new();
    let bin = bin_dir(13);
    let created = cli.json(&[
        "instance",
        "create",
        "dest 13",
        "--major",
        "13",
        "--bin-dir",
        &bin,
        "--json",
    ]);
    let data_dir = created["managed"]["data_dir"].as_str().unwrap().to_string();
    assert!(std::path::Path::new(&data_dir).join("PG_VERSION").exists());
    // Without --port, the first free port of PGRELOCATE_PORTS.
    let port = created["endpoint"]["port"].as_u64().unwrap() as u16;
    assert!(
        (cli.ports.first..=cli.ports.last).contains(&port),
        "port {port} is outside {}",
        cli.ports.env_value()
    );

    let status = cli.json(&["instance", "status", "dest 13", "--json"]);
    assert_eq!(status["state"], "running");
    assert_eq!(status["connection"]["version"]["major"], 13);
    assert!(status["storage"]["used_bytes"].as_u64().unwrap() > 0);

    assert!(cli.ok(&["instance", "stop", "dest 13"]).contains("stopped"));
    assert_eq!(
        cli.json(&["instance", "status", "dest 13", "--json"])["state"],
        "stopped"
    );
    cli.ok(&["instance", "start", "dest 13"]);
    let list = cli.json(&["instance", "list", "--json"]);
    assert_eq!(list[0]["state"], "running");
    assert_eq!(list[0]["kind"], "managed");

    // Without a terminal, remove wants --yes and deletes nothing.
    let out = cli.run(&["instance", "remove", "dest 13"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"));
    assert!(std::path::Path::new(&data_dir).exists());

    cli.ok(&["instance", "remove", "dest 13", "--yes"]);
    assert!(!std::path::Path::new(&data_dir).exists());
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn sandbox_create_and_remove() {
    require_keyring();
    let mut cli = Cli::new();
    let bin = bin_dir(18);
    // `sandbox plan` says what `create` will use, making nothing.
    let out = cli
        .command()
        .args(["sandbox", "plan", "--major", "18"])
        .env("PGRELOCATE_BIN_DIRS", &bin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(plan.contains("would use PostgreSQL 18."), "{plan}");
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
    let out = cli
        .command()
        .args(["sandbox", "create", "--major", "18"])
        .env("PGRELOCATE_BIN_DIRS", &bin)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sandbox ready: PostgreSQL 18"), "{text}");
    let list = cli.json(&["instance", "list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sandbox-dest", "sandbox-source"]);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "running"));
    assert!(list.as_array().unwrap().iter().all(|i| {
        let port = i["endpoint"]["port"].as_u64().unwrap() as u16;
        (cli.ports.first..=cli.ports.last).contains(&port)
    }));
    // The ports the plan named are the ones the instances got.
    let source_port = list[1]["endpoint"]["port"].as_u64().unwrap();
    let dest_port = list[0]["endpoint"]["port"].as_u64().unwrap();
    assert!(
        plan.contains(&format!("sandbox-source on 127.0.0.1:{source_port}")),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("sandbox-dest on 127.0.0.1:{dest_port}")),
        "{plan}"
    );

    // The source checklist, checked live: the sandbox's superuser account is in place, and a
    // managed source is fenced by shutdown, so no fencing grants are listed.
    let prepared = cli.ok(&["instance", "prepare", "sandbox-source"]);
    assert!(prepared.contains("checked as postgres"), "{prepared}");
    assert!(
        prepared.contains("migration account (LOGIN, REPLICATION, pg_monitor, CREATEROLE): met"),
        "{prepared}"
    );
    assert!(!prepared.contains("SQL fence"), "{prepared}");
    assert!(!prepared.contains("CREATE ROLE"), "{prepared}");

    // Registering a managed instance's endpoint again (under another loopback name) is
    // accepted, with a warning naming the instance already there.
    let port = source_port.to_string();
    let out = cli.run(&[
        "instance",
        "register",
        "again",
        "--host",
        "localhost",
        "--port",
        &port,
        "--user",
        "postgres",
        "--no-test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: localhost:{source_port} is already registered as sandbox-source"
        )),
        "{}",
        stderr(&out)
    );
    // Another port is another server: no warning.
    let out = cli.run(&[
        "instance",
        "register",
        "elsewhere",
        "--host",
        "localhost",
        "--port",
        "65000",
        "--user",
        "postgres",
        "--no-test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("already registered"),
        "{}",
        stderr(&out)
    );
    cli.ok(&["instance", "remove", "again", "--yes"]);
    cli.ok(&["instance", "remove", "elsewhere", "--yes"]);
    assert!(cli
        .ok(&["sandbox", "remove", "--yes"])
        .contains("removed sandbox-dest, sandbox-source"));
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
}

#[test]
fn a_malformed_port_range_is_refused_and_creates_nothing() {
    let cli = Cli::new();
    for bad in ["5433", "6000-5000", "1-70000"] {
        let out = cli
            .command()
            .args(["instance", "create", "x", "--major", "15"])
            .env("PGRELOCATE_PORTS", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message.contains("PGRELOCATE_PORTS") && message.contains("FIRST-LAST"),
            "{bad}: {message}"
        );
    }
    assert!(!cli.state_dir().join("instances").exists());
}

#[test]
fn malformed_or_privileged_ports_are_refused_and_create_nothing() {
    let mut cli = Cli::new();
    let register = |port: &str| {
        vec![
            "instance",
            "register",
            "src",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--user",
            "u",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let create = |port: &str| {
        vec![
            "instance", "create", "dest", "--major", "15", "--port", port,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    // Typed numbers are refused as typed: not read up to the first non-digit, not clamped.
    for args in [
        register("54x2"),
        register("99999"),
        create("70x1"),
        create("+5433"),
    ] {
        let out = cli.command().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not a number between 1 and 65535"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // A privileged port is refused by the engine before initdb, in words, not pg_ctl's.
    let bin = bin_dir(15);
    let out = cli
        .command()
        .args(create("80"))
        .args(["--bin-dir", &bin])
        .output()
        .unwrap();
    let message = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{message}");
    assert!(
        message.contains("port 80 is a privileged port") && message.contains("1024 to 65535"),
        "{message}"
    );
    assert!(!cli.state_dir().join("instances").exists());
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
}
