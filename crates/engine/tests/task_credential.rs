//! The standby's own credential (issue 14): a migration by an account that may create roles
//! gives the standby a `REPLICATION LOGIN` role of the task's own, so no file on the
//! destination's side or in the state folder holds the DBA's password; the role is gone
//! after the switchover (on the new primary and the still running source) and after cancel.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use pgrelocate_engine::assess::{Mode, Status, Verdict};
use pgrelocate_engine::switchover::Options;
use pgrelocate_engine::task::{CopyOptions, Phase, ReplicationState, Task, TaskRequest};
use pgrelocate_testkit::{Cluster, ConnParams};
use support::*;

/// Every file under `dirs` that holds the DBA's password, as typed or as a password file
/// writes it (`:` and `\` escaped).
fn holding_the_password(dirs: &[&Path]) -> Vec<PathBuf> {
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    assert_ne!(escaped, PASSWORD);
    let mut found: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| [files_containing(d, PASSWORD), files_containing(d, &escaped)])
        .flatten()
        .collect();
    found.sort();
    found.dedup();
    found
}

async fn role_exists(params: &ConnParams, role: &str) -> bool {
    let client = ConnParams {
        dbname: "template1".into(),
        ..params.clone()
    }
    .connect()
    .await
    .unwrap();
    let row = client
        .query_one("SELECT count(*) FROM pg_roles WHERE rolname = $1", &[&role])
        .await
        .unwrap();
    row.get::<_, i64>(0) == 1
}

/// The task streams as its own role, and only that role's password is on disk.
async fn streams_as_its_own_role(env: &Env, task: &Task) -> String {
    let role = task
        .layout
        .standby_role
        .clone()
        .unwrap_or_else(|| panic!("no standby role\n{}", env.history(task)));
    assert_eq!(role, format!("pgrelocate_standby_{}", task.id));
    let source = env.source_params();
    assert!(role_exists(&source, &role).await);
    let client = source.connect().await.unwrap();
    let users: Vec<String> = client
        .query(
            "SELECT usename::text FROM pg_stat_replication WHERE application_name = $1",
            &[&task.layout.application_name],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(users, vec![role.clone()], "{}", env.history(task));

    let data_dir = env.dest().managed.unwrap().data_dir;
    let passfile_dir = task.layout.passfile.parent().unwrap();
    assert_eq!(
        holding_the_password(&[&data_dir, passfile_dir, env.dir.path()]),
        Vec::<PathBuf>::new(),
        "the DBA's password is on disk"
    );
    let passfile = std::fs::read_to_string(&task.layout.passfile).unwrap();
    assert!(passfile.contains(&role), "{passfile}");
    let events = env.history(task);
    assert!(
        events.contains(&format!("standby role {role} created on the source")),
        "{events}"
    );
    role
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_role_is_gone_after_the_switchover() {
    let mut env = Env::with_major(16);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let role = streams_as_its_own_role(&env, &task).await;

    let steps = Steps::default();
    let options = Options {
        catchup_timeout: Duration::from_secs(120),
        ..Options::default()
    };
    let report = env
        .tasks
        .switchover(task.id.as_str(), &options, &steps.callback())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        !role_exists(&env.dest_params(), &role).await,
        "on the new primary"
    );
    assert!(
        !role_exists(&env.source_params(), &role).await,
        "on the source"
    );
    assert!(!task.layout.passfile.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_role_is_gone_after_cancel() {
    let mut env = Env::with_major(14);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let role = streams_as_its_own_role(&env, &task).await;

    let cancelled = env.tasks.cancel(task.id.as_str()).await.unwrap();
    assert_eq!(cancelled.phase, Phase::Cancelled, "{}", env.history(&task));
    assert!(
        !role_exists(&env.source_params(), &role).await,
        "{}",
        env.history(&task)
    );
    assert!(!task.layout.passfile.exists());
}

/// The users of the source's WAL senders for `task`.
async fn replication_users(source: &pgrelocate_testkit::Cluster, task: &Task) -> Vec<String> {
    let client = source.connect().await.unwrap();
    client
        .query(
            "SELECT usename::text FROM pg_stat_replication WHERE application_name = $1",
            &[&task.layout.application_name],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn streaming(env: &Env, report_id: Option<String>, mode: Mode) -> Task {
    let task = env
        .tasks
        .create(TaskRequest {
            report_id,
            ..env.request(
                mode,
                CopyOptions {
                    sync: false,
                    ..CopyOptions::default()
                },
            )
        })
        .await
        .unwrap();
    env.wait(&task, "streaming", 240, |t| {
        t.replication == ReplicationState::Streaming
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_refusing_the_role_for_replication_keeps_the_password_file() {
    // pg_hba admits replication for the DBA's account by name only.
    let source = Cluster::builder(15)
        .superuser("dba")
        .superuser_password(PASSWORD)
        .without_default_hba()
        .hba_line("local all all trust")
        .hba_line("host replication dba 127.0.0.1/32 scram-sha-256")
        .hba_line("host all all 127.0.0.1/32 scram-sha-256")
        .start()
        .await
        .unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(15).await;
    let report = env
        .assess(SOURCE, DEST, Mode::Migration, assess_options())
        .await;
    let check = expect(&report, "src.standby_role", Status::Success);
    assert!(check.message.contains("its own role"), "{}", check.message);
    let task = streaming(&env, Some(report.id.clone()), Mode::Migration).await;

    assert_eq!(task.layout.standby_role, None, "{}", env.history(&task));
    assert_eq!(
        replication_users(&source, &task).await,
        vec!["dba".to_string()]
    );
    let history = env.history(&task);
    assert!(
        history.contains("refused a replication connection"),
        "{history}"
    );
    assert!(
        history.contains(&format!(
            "host    replication pgrelocate_standby_{} 127.0.0.1/32 scram-sha-256",
            task.id
        )),
        "{history}"
    );
    let role = format!("pgrelocate_standby_{}", task.id);
    assert!(
        !role_exists(&source.params(), &role).await,
        "the refused role is dropped"
    );
    // The DBA's password is in the password file, and only there (the grep finds it).
    assert_eq!(
        holding_the_password(&[task.layout.passfile.parent().unwrap(), env.dir.path()]),
        vec![task.layout.passfile.clone()]
    );
    env.tasks.cancel(task.id.as_str()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_createrole_the_assessment_warns_and_the_password_file_stays() {
    let source = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    source
        .create_role("mover", Some("mover's pw"), "REPLICATION")
        .await
        .unwrap();
    source
        .connect()
        .await
        .unwrap()
        .batch_execute("GRANT pg_monitor, pg_signal_backend TO mover")
        .await
        .unwrap();
    let env = Env::new();
    env.register(SOURCE, &source, "mover", Some("mover's pw"))
        .await;
    env.create_dest_of(16).await;
    let report = env.assess(SOURCE, DEST, Mode::Dr, assess_options()).await;
    let check = expect_warning(&report, "src.standby_role", &["cannot create roles"]);
    assert!(
        check.remedy.contains("ALTER ROLE mover CREATEROLE;"),
        "{}",
        check.remedy
    );
    assert_ne!(
        report.verdict,
        Verdict::Error,
        "{}",
        pgrelocate_engine::assess::export::text(&report, false)
    );
    let task = streaming(&env, Some(report.id.clone()), Mode::Dr).await;
    assert_eq!(task.layout.standby_role, None);
    assert_eq!(
        replication_users(&source, &task).await,
        vec!["mover".to_string()]
    );
    let history = env.history(&task);
    assert!(history.contains("CREATEROLE"), "{history}");
    env.tasks.cancel(task.id.as_str()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_with_createrole_and_replication_gives_the_standby_its_own_role() {
    // From 16 on, CREATEROLE with REPLICATION may create a REPLICATION role (and drop it).
    let source = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    source
        .create_role("mover", Some("mover's pw"), "REPLICATION CREATEROLE")
        .await
        .unwrap();
    source
        .connect()
        .await
        .unwrap()
        .batch_execute("GRANT pg_monitor, pg_signal_backend TO mover")
        .await
        .unwrap();
    let env = Env::new();
    env.register(SOURCE, &source, "mover", Some("mover's pw"))
        .await;
    env.create_dest_of(16).await;
    let report = env.assess(SOURCE, DEST, Mode::Dr, assess_options()).await;
    expect(&report, "src.standby_role", Status::Success);
    let task = streaming(&env, Some(report.id.clone()), Mode::Dr).await;
    let role = task
        .layout
        .standby_role
        .clone()
        .unwrap_or_else(|| panic!("no standby role\n{}", env.history(&task)));
    assert_eq!(replication_users(&source, &task).await, vec![role.clone()]);
    let data_dir = env.dest().managed.unwrap().data_dir;
    let needle = "mover's pw";
    let held: Vec<PathBuf> = [data_dir.parent().unwrap(), env.dir.path()]
        .iter()
        .flat_map(|d| files_containing(d, needle))
        .collect();
    assert_eq!(held, Vec::<PathBuf>::new());

    env.tasks.cancel(task.id.as_str()).await.unwrap();
    assert!(
        !role_exists(&source.params(), &role).await,
        "{}",
        env.history(&task)
    );
}
