//! `pgrelocate host …` against a real OpenSSH server on loopback (the test kit's
//! `SshServer`, logging in as a user other than root): host keys are trusted only when
//! accepted by fingerprint, a changed key is refused, the agent is uploaded once and runs
//! there, and failures are named with stable codes.

mod instance_support;

use std::process::Output;

use instance_support::hosts::{add_host, body, host_cli, nothing_lost, wait_status};
use instance_support::{files_under, migration, stderr, Cli};
use pgrelocate_testkit::{Cluster, SshServer};
use sha2::{Digest, Sha256};

fn run(cli: &mut Cli, args: &[&str]) -> Output {
    cli.run(args)
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
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
    let names: Vec<String> = files_under(&ssh.remote_cache_dir())
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "the binary and its verified mark, no partial upload: {names:?}"
    );
    assert!(
        names.iter().all(|n| n == "pgrelocate" || n == "verified"),
        "{names:?}"
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

#[tokio::test(flavor = "multi_thread")]
async fn a_managed_instance_on_a_host_lives_there_and_its_password_stays_here() {
    instance_support::require_keyring();
    let ssh = SshServer::start().await.unwrap();
    let mut cli = host_cli(&ssh);
    add_host(&mut cli, &ssh, "b");
    let port = cli.ports.first.to_string();

    let created = cli.json(&[
        "instance", "create", "r'1", "--major", "15", "--host", "b", "--port", &port, "--json",
    ]);
    assert_eq!(created["managed"]["host"], "b", "{created}");
    let data_dir = std::path::PathBuf::from(created["managed"]["data_dir"].as_str().unwrap());
    assert!(
        data_dir.starts_with(ssh.remote_state_dir()),
        "the data directory is the agent's, on the host: {}",
        data_dir.display()
    );
    {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(&data_dir).unwrap().uid();
        let login = pgrelocate_testkit::server_user::ServerUser::get().unwrap();
        assert_eq!(
            owner, login.uid,
            "made by the login user, not by this process"
        );
    }
    assert!(
        !files_under(cli.state_dir())
            .iter()
            .any(|f| f.ends_with("PG_VERSION")),
        "the workstation's state folder holds no data directory"
    );

    let status = cli.json(&["instance", "status", "r'1", "--json"]);
    assert_eq!(status["state"], "running", "{status}");
    assert_eq!(status["connection"]["version"]["major"], 15, "{status}");
    assert!(
        status["storage"]["used_bytes"].as_u64().unwrap() > 1 << 20,
        "{status}"
    );
    let listed = cli.ok(&["instance", "list"]);
    let row = listed.lines().find(|l| l.starts_with("r'1")).unwrap();
    assert!(row.split_whitespace().nth(1) == Some("b"), "{listed}");

    let params = cli.json(&["instance", "parameters", "r'1", "--json"]);
    let port_param = params
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "port")
        .unwrap();
    assert_eq!(port_param["value"], port.as_str());
    let logs = cli.ok(&["instance", "logs", "r'1", "--lines", "50"]);
    assert!(
        logs.contains("database system is ready to accept connections"),
        "{logs}"
    );

    cli.ok(&["instance", "stop", "r'1"]);
    assert_eq!(
        cli.json(&["instance", "status", "r'1", "--json"])["state"],
        "stopped"
    );
    cli.ok(&["instance", "start", "r'1"]);
    assert_eq!(
        cli.json(&["instance", "status", "r'1", "--json"])["state"],
        "running"
    );

    // The superuser password is in this keyring, and in no file on the host.
    let instances = pgrelocate_engine::instances::Instances::open(cli.state_dir()).unwrap();
    let record = instances.store().instance_by_name("r'1").unwrap();
    let password = instances.password_for(&record).await.unwrap().unwrap();
    for file in files_under(&ssh.remote_state_dir()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes
                .windows(password.expose().len())
                .any(|w| w == password.expose().as_bytes()),
            "{} holds the password",
            file.display()
        );
    }

    // The host cannot go while it runs the instance.
    let out = run(&mut cli, &["host", "remove", "b", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(body(&out)["code"], "host_in_use");

    cli.ok(&["instance", "remove", "r'1", "--yes"]);
    assert!(
        !data_dir.exists(),
        "the agent deleted the folder it created"
    );
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );
    cli.ok(&["host", "remove", "b"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_assessment_of_a_destination_on_a_host_runs_there_and_is_kept_on_both_sides() {
    instance_support::require_keyring();
    const PASSWORD: &str = "pa'ss\\word";
    let ssh = SshServer::start().await.unwrap();
    let source = Cluster::builder(15)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    let mut cli = host_cli(&ssh);
    add_host(&mut cli, &ssh, "b");
    migration::register_source(&mut cli, &source, PASSWORD);
    let port = cli.ports.first.to_string();
    cli.json(&[
        "instance", "create", "dst", "--major", "15", "--host", "b", "--port", &port, "--json",
    ]);

    let out = run(
        &mut cli,
        &["assess", "--source", "src", "--dest", "dst", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = body(&out);
    let data_dir = report["destination"]["data_dir"].as_str().unwrap();
    assert!(
        data_dir.starts_with(&ssh.remote_state_dir().display().to_string()),
        "the destination was read on its host: {report:#}"
    );
    let id = report["id"].as_str().unwrap();
    // The same report is stored here (report show/export work from the workstation) …
    let shown = cli.json(&["report", "show", id, "--format", "json"]);
    assert_eq!(shown["id"], id);
    assert_eq!(shown["verdict"], report["verdict"]);
    // … and in the agent's own store on the host, which mirrors the source by id.
    let remote = pgrelocate_engine::store::Store::open(&ssh.remote_state_dir()).unwrap();
    let kept = pgrelocate_engine::store::reports::get(&remote, id).unwrap();
    assert_eq!(
        kept.verdict,
        serde_json::from_value(report["verdict"].clone()).unwrap()
    );
    let mirrored = remote.instance_by_name("src").unwrap();
    assert_eq!(mirrored.endpoint.port, source.port());
    assert!(mirrored.managed.is_none());
    // No password of the source on the host.
    for file in files_under(&ssh.remote_state_dir()) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "{} holds the source's password",
            file.display()
        );
    }
    cli.ok(&["instance", "remove", "dst", "--yes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_migration_into_a_host_is_driven_and_switched_over_there_surviving_the_workstation() {
    use std::io::BufRead;
    instance_support::require_keyring();
    const PASSWORD: &str = "migr\\\"ate";
    let ssh = SshServer::start().await.unwrap();
    let source = Cluster::builder(15)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    // About 40 MB to copy: long enough at 4 MB/s to be caught mid-copy.
    source
        .sql("CREATE TABLE payload AS SELECT g AS id, repeat(md5(g::text), 4) AS body FROM generate_series(1, 150000) g")
        .await
        .unwrap();
    pgrelocate_testkit::Writer::prepare(&source.params())
        .await
        .unwrap();
    let writer = pgrelocate_testkit::Writer::start(vec![source.params()]);
    let mut cli = host_cli(&ssh);
    add_host(&mut cli, &ssh, "b");
    migration::register_source(&mut cli, &source, PASSWORD);
    let port = cli.ports.first.to_string();
    cli.json(&[
        "instance", "create", "dst", "--major", "15", "--host", "b", "--port", &port, "--json",
    ]);

    // migrate assesses on the host, starts the task there, and follows it; it is killed
    // once bytes flow.
    let mut child = cli
        .command()
        .args([
            "migrate",
            "--source",
            "src",
            "--dest",
            "dst",
            "--max-rate",
            "4M",
            "--no-sync",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let started = std::time::Instant::now();
    let mut task_id = None;
    for line in stdout.lines() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        task_id = task_id.or(event["task_id"].as_str().map(str::to_string));
        if event["event"] == "copy" && event["bytes_done"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(240),
            "no copy progress"
        );
    }
    let task_id = task_id.expect("migrate printed no event");
    let killed = child.id();
    child.kill().unwrap(); // SIGKILL: the workstation's process is gone mid-copy
    child.wait().unwrap();

    // The copy goes on on the host; a later read re-attaches and sees it stream.
    let status = wait_status(&mut cli, &task_id, "streaming", |s| {
        s["phase"] == "increment" && s["replication"] == "streaming"
    });
    assert_eq!(status["destination"]["name"], "dst", "{status:#}");
    // Driven on the host, by a process there that is not the one killed here.
    let layout_dir = status["layout"]["data_dir"].as_str().unwrap();
    assert!(
        layout_dir.starts_with(&ssh.remote_state_dir().display().to_string()),
        "{status:#}"
    );
    assert_ne!(
        status["driver"]["pid"].as_u64(),
        Some(u64::from(killed)),
        "{status:#}"
    );
    // The standby streams as a role of the task's own: no file of the host's state (data
    // directory, password file, agent store) holds the DBA's password.
    let role = status["layout"]["standby_role"]
        .as_str()
        .unwrap_or_else(|| panic!("no standby role: {status:#}"))
        .to_string();
    let passfile = std::path::PathBuf::from(status["layout"]["passfile"].as_str().unwrap());
    assert!(passfile.starts_with(ssh.remote_state_dir()), "{status:#}");
    assert!(std::fs::read_to_string(&passfile).unwrap().contains(&role));
    let host_files = held_by(&ssh.remote_state_dir(), PASSWORD);
    assert_eq!(host_files, Vec::<std::path::PathBuf>::new());
    let standby_users = source
        .connect()
        .await
        .unwrap()
        .query("SELECT usename::text FROM pg_stat_replication", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>();
    assert_eq!(standby_users, vec![role.clone()]);
    // The full history is here: the copy's progress and the phases, as the host recorded them.
    let listed = cli.json(&["task", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:#}");
    assert!(
        writer
            .wait_for(50, std::time::Duration::from_secs(60))
            .await,
        "the source kept taking writes"
    );
    assert_eq!(status["replication"], "streaming", "{status:#}");

    // The switchover runs on the host: the workstation's process is killed as soon as it
    // reports the first step, and the host finishes the switchover anyway.
    let dest = pgrelocate_testkit::ConnParams {
        port: cli.ports.first,
        ..source.params()
    };
    writer.set_targets(vec![source.params(), dest.clone()]);
    let mut child = cli
        .command()
        .args(["switchover", &task_id, "--yes", "--timeout", "120"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        let step = line.trim_start().starts_with('[');
        seen.push(line);
        if step {
            break; // the first timed step: fencing has begun on the host
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        seen.last().is_some_and(|l| l.trim_start().starts_with('[')),
        "the switchover printed no step: {seen:#?}"
    );
    let status = wait_status(&mut cli, &task_id, "switched over", |s| {
        s["phase"] == "success"
    });
    let report = &status["switch"]["switchover"];
    assert!(
        report["timeline"].as_u64().is_some_and(|t| t >= 2),
        "{status:#}"
    );
    let log = nothing_lost(writer, &dest).await;
    assert!(log.acked_by(0) > 0 && log.acked_by(1) > 0);
    // The history here holds the switchover's steps as the host recorded them.
    let follow = run(&mut cli, &["task", "follow", &task_id, "--json", "--all"]);
    let history = String::from_utf8_lossy(&follow.stdout);
    assert!(
        history.contains(r#""promoted""#) && history.contains(r#""fencing""#),
        "{history}"
    );
    // The role went with the switchover: from the new primary and the source (sql fence).
    for params in [dest.clone(), source.params()] {
        let row = pgrelocate_testkit::ConnParams {
            dbname: "template1".into(),
            ..params
        }
        .connect()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&role])
        .await
        .unwrap();
        assert_eq!(row.get::<_, i64>(0), 0, "{role}");
    }
}

/// Files under `dir` (readable by this process) whose bytes contain `needle`, as typed or
/// as a libpq password file escapes it.
fn held_by(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let escaped = needle.replace('\\', "\\\\").replace(':', "\\:");
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                if let Ok(bytes) = std::fs::read(entry.path()) {
                    if [needle, escaped.as_str()]
                        .iter()
                        .any(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
                    {
                        found.push(entry.path());
                    }
                }
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_adopted_on_a_host_is_fenced_by_shutdown_at_a_switchover_there() {
    instance_support::require_keyring();
    const PASSWORD: &str = "sh'ut\\down";
    let ssh = SshServer::start().await.unwrap();
    // The host's login user runs the cluster (it owns the data directory).
    let source = Cluster::builder(15)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    pgrelocate_testkit::Writer::prepare(&source.params())
        .await
        .unwrap();
    let mut cli = host_cli(&ssh);
    add_host(&mut cli, &ssh, "b");
    let data_dir = source.data_dir().display().to_string();
    let bin_dir = source.bin_dir().display().to_string();
    let adopt = |dir: &str| {
        [
            "instance",
            "adopt",
            "src",
            "--host",
            "b",
            "--data-dir",
            dir,
            "--bin-dir",
            &bin_dir,
            "--password-stdin",
            "--json",
        ]
        .map(str::to_string)
    };

    // Bad input is named by the host and stores nothing on either side.
    let wrong = cli.run_with_stdin(&args(&adopt(&data_dir)), "not it");
    assert_eq!(body(&wrong)["code"], "auth_failed", "{}", stderr(&wrong));
    let nowhere = cli.run_with_stdin(&args(&adopt("/nonexistent/data")), PASSWORD);
    assert_eq!(
        body(&nowhere)["code"],
        "not_a_cluster",
        "{}",
        stderr(&nowhere)
    );
    assert_eq!(
        cli.json(&["instance", "list", "--json"]),
        serde_json::json!([])
    );

    let adopted = body(&cli.run_with_stdin(&args(&adopt(&data_dir)), PASSWORD));
    assert_eq!(adopted["managed"]["host"], "b", "{adopted:#}");
    assert_eq!(adopted["managed"]["adopted"], true, "{adopted:#}");
    let status = cli.json(&["instance", "status", "src", "--json"]);
    assert_eq!(status["state"], "running", "{status:#}");

    let port = cli.ports.first.to_string();
    cli.json(&[
        "instance", "create", "dst", "--major", "15", "--host", "b", "--port", &port, "--json",
    ]);
    let writer = pgrelocate_testkit::Writer::start(vec![source.params()]);
    let out = cli.run(&[
        "migrate",
        "--source",
        "src",
        "--dest",
        "dst",
        "--no-sync",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let task_id = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["task_id"]
                .as_str()
                .map(str::to_string)
        })
        .expect("migrate printed no task id");
    wait_status(&mut cli, &task_id, "streaming", |s| {
        s["phase"] == "increment" && s["replication"] == "streaming"
    });
    assert!(
        writer
            .wait_for(50, std::time::Duration::from_secs(60))
            .await,
        "the source kept taking writes"
    );

    // The source runs on the destination's host, managed there: the switchover (run there)
    // fences it by shutting it down.
    let dest = pgrelocate_testkit::ConnParams {
        port: cli.ports.first,
        ..source.params()
    };
    writer.set_targets(vec![source.params(), dest.clone()]);
    let switched = cli.run(&[
        "switchover",
        &task_id,
        "--json",
        "--yes",
        "--timeout",
        "120",
    ]);
    let result = body(&switched);
    assert_eq!(result["outcome"], "success", "{result:#}");
    assert_eq!(result["report"]["strategy"], "shutdown", "{result:#}");
    nothing_lost(writer, &dest).await;
    // The old source is down, retired on its host; forgetting it keeps its files.
    let status = cli.json(&["instance", "status", "src", "--json"]);
    assert_eq!(status["state"], "stopped", "{status:#}");
    cli.ok(&["instance", "remove", "src", "--yes"]);
    assert!(source.data_dir().join("PG_VERSION").is_file());
}
