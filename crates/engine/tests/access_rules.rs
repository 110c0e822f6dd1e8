//! Access rules travel (issue 14, item 1) on real servers: `pg_hba_file_rules` is read on
//! every major; a source whose pg_hba admits client networks the destination refuses is
//! shown in the assessment and by `access::show`; `apply` writes them as a marked block at
//! the top of the destination's pg_hba.conf and a client from that network (a loopback
//! alias, the socket bound to it) gets in; `undo` removes exactly the block (the file is
//! byte-identical again) and the client is refused again; names with quotes and
//! backslashes survive; a rule the destination refuses is rolled back with its error line.

mod support;

use std::net::IpAddr;

use pgrelocate_engine::access::{self, AccessError, Origin};
use pgrelocate_engine::assess::export::text;
use pgrelocate_engine::assess::{Mode, Report, Verdict};
use pgrelocate_engine::task::{CopyOptions, ReplicationState, Task, TaskRequest};
use pgrelocate_engine::{Coded, ErrorCode};
use pgrelocate_testkit::{Cluster, ConnParams};
use support::*;

/// A user name a block must quote: a double quote, a backslash, a comma and a space.
const HOSTILE_USER: &str = r#"we"ird\u, ser"#;

fn alias(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// Registers `cluster` as the source, creates the destination, assesses and migrates;
/// returns the assessment's report and the task once it streams.
async fn streaming_task(env: &mut Env, cluster: Cluster) -> (Report, Task) {
    env.register_source(&cluster).await;
    env.source = Some(SourceServer::Remote(cluster));
    env.create_dest_of_major().await;
    let report = env
        .assess(SOURCE, DEST, Mode::Migration, assess_options())
        .await;
    assert_ne!(report.verdict, Verdict::Error, "{}", text(&report, false));
    let task = env
        .tasks
        .create(TaskRequest {
            source: SOURCE.into(),
            dest: DEST.into(),
            mode: Mode::Migration,
            report_id: None,
            options: CopyOptions {
                sync: false,
                ..CopyOptions::default()
            },
        })
        .await
        .unwrap();
    let task = env
        .wait(&task, "streaming", 240, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    (report, task)
}

async fn admitted_from(params: &ConnParams, from: IpAddr) -> Result<(), String> {
    let client = params
        .connect_from(from)
        .await
        .map_err(|e| format!("{e:?}"))?;
    client
        .simple_query("SELECT 1")
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_hba_file_rules_is_read_on_every_major() {
    for major in [10, 12, 15, 16, 18] {
        let cluster = Cluster::builder(major)
            .hba_line(format!(
                "host appdb,\"all\" \"{}\" 10.1.2.0 255.255.255.0 scram-sha-256",
                HOSTILE_USER.replace('"', "\"\"")
            ))
            .start()
            .await
            .unwrap();
        let client = cluster.connect().await.unwrap();
        let rules = access::read::file_rules(&client).await.unwrap();
        let first = &rules[0];
        assert_eq!(first.line, Some(2), "{major}: {rules:?}");
        assert_eq!(
            first.render(),
            format!(
                "host appdb,\"all\" \"{}\" 10.1.2.0/24 scram-sha-256",
                HOSTILE_USER.replace('"', "\"\"")
            )
            // The view shows a quoted keyword without its quotes.
            .replace(",\"all\"", ",all"),
            "{major}"
        );
        assert!(
            rules.iter().any(|r| r.address.is_none()),
            "{major}: local rules"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_admits_the_sources_clients_and_undo_restores_the_file_byte_for_byte() {
    let mut env = Env::new();
    let cluster = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .hba_line("host all all 127.0.0.2/32 scram-sha-256")
        .hba_line(format!(
            "host all \"{}\" 127.0.0.3/32 scram-sha-256",
            HOSTILE_USER.replace('"', "\"\"")
        ))
        .hba_line("host all all samenet scram-sha-256")
        .start()
        .await
        .unwrap();
    let (report, task) = streaming_task(&mut env, cluster).await;
    let id = task.id.as_str();

    // The assessment listed the networks the destination would refuse, as a warning.
    let check = expect_warning(
        &report,
        "dest.access_rules",
        &["2 client rules", "127.0.0.2/32"],
    );
    assert_eq!(
        check.evidence["pending"].as_array().unwrap().len(),
        2,
        "{check:#?}"
    );
    assert!(
        check.remedy.contains("pgrelocate access apply"),
        "{}",
        check.remedy
    );
    let dest_data = env.dest().managed.unwrap().data_dir;
    let hba = dest_data.join("pg_hba.conf");
    let before = std::fs::read(&hba).unwrap();

    let diff = access::show(&env.tasks, id).await.unwrap();
    assert_eq!(diff.origin, Origin::FileRules);
    assert!(diff.has_pending(), "{diff:#?}");
    let lines: Vec<&str> = diff.pending.iter().map(|p| p.line.as_str()).collect();
    assert_eq!(
        lines,
        vec![
            "host all all 127.0.0.2/32 scram-sha-256".to_string(),
            format!(
                "host all \"{}\" 127.0.0.3/32 scram-sha-256",
                HOSTILE_USER.replace('"', "\"\"")
            ),
        ]
    );
    assert!(diff.applied.is_empty());
    assert!(
        diff.skipped.iter().any(|s| s.line.contains("samenet")),
        "{diff:#?}"
    );

    // Before: the destination (a hot standby) refuses a client from 127.0.0.2.
    let dest = env.dest_params();
    let refused = admitted_from(&dest, alias(2)).await.unwrap_err();
    assert!(refused.contains("pg_hba.conf"), "{refused}");
    admitted_from(&dest, alias(1)).await.unwrap();

    let outcome = access::apply_rules(&env.tasks, id).await.unwrap();
    assert!(outcome.changed);
    let after = outcome.rules.unwrap();
    assert!(!after.has_pending(), "{after:#?}");
    assert_eq!(after.applied.len(), 2);
    let text = std::fs::read_to_string(&hba).unwrap();
    assert!(
        text.starts_with(&format!("# BEGIN pgrelocate access rules (task {id})\n")),
        "{text}"
    );
    assert!(text.ends_with(std::str::from_utf8(&before).unwrap()));
    admitted_from(&dest, alias(2)).await.unwrap();
    // The hostile name reached the server intact.
    let client = dest.connect().await.unwrap();
    let users: Vec<String> = client
        .query(
            "SELECT u FROM pg_hba_file_rules, unnest(user_name) u WHERE address = '127.0.0.3'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(users, vec![HOSTILE_USER.to_string()]);

    // Applying again changes nothing.
    let again = access::apply_rules(&env.tasks, id).await.unwrap();
    assert!(!again.changed);

    // A hand-edited block is refused, never clobbered.
    let edited = text.replacen("127.0.0.2/32 scram-sha-256", "127.0.0.2/32 trust", 1);
    std::fs::write(&hba, &edited).unwrap();
    let e = access::undo(&env.tasks, id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AccessRulesInvalid, "{e}");
    assert!(e.to_string().contains("edited by hand"), "{e}");
    assert_eq!(std::fs::read_to_string(&hba).unwrap(), edited);
    std::fs::write(&hba, &text).unwrap();

    // Undo removes exactly the block.
    let undone = access::undo(&env.tasks, id).await.unwrap();
    assert!(undone.changed);
    assert_eq!(std::fs::read(&hba).unwrap(), before);
    let refused = admitted_from(&dest, alias(2)).await.unwrap_err();
    assert!(refused.contains("pg_hba.conf"), "{refused}");
    assert!(!access::undo(&env.tasks, id).await.unwrap().changed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_the_destination_refuses_is_rolled_back_with_its_error_line() {
    let mut env = Env::new();
    let cluster = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .hba_line("hostssl all all 127.0.0.4/32 scram-sha-256")
        .start()
        .await
        .unwrap();
    // TLS on the source only: its postgresql.conf stays behind (pg_hba.conf.from-source's
    // sibling), so the destination runs without TLS and refuses a hostssl rule.
    let certs = work_dir();
    install_server_certificate(&cluster, &["127.0.0.1"], certs.path());
    let conf = cluster.data_dir().join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("\nssl = on\n");
    std::fs::write(&conf, text).unwrap();
    cluster.reload().await.unwrap();
    let (_, task) = streaming_task(&mut env, cluster).await;
    let id = task.id.as_str();

    let hba = env.dest().managed.unwrap().data_dir.join("pg_hba.conf");
    let before = std::fs::read(&hba).unwrap();
    let diff = access::show(&env.tasks, id).await.unwrap();
    assert_eq!(
        diff.pending[0].line,
        "hostssl all all 127.0.0.4/32 scram-sha-256"
    );
    let e = access::apply_rules(&env.tasks, id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AccessRulesInvalid, "{e}");
    let AccessError::Invalid { errors } = &e else {
        panic!("{e}")
    };
    assert!(
        errors[0].starts_with("line 3: hostssl record cannot match because SSL is disabled"),
        "{errors:?}"
    );
    assert!(e.to_string().contains("rolled back"), "{e}");
    assert_eq!(std::fs::read(&hba).unwrap(), before);
    // Nothing beside it either (the temporary file is gone).
    let dir = hba.parent().unwrap();
    assert!(!dir.join(".pg_hba.conf.pgrelocate-tmp").exists());
    // The destination still admits its own clients.
    env.dest_params().connect().await.unwrap();
}
