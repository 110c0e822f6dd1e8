//! The standby's own credential (issue 14): a migration by an account that may create roles
//! gives the standby a `REPLICATION LOGIN` role of the task's own, so no file on the
//! destination's side or in the state folder holds the DBA's password; the role is gone
//! after the switchover (on the new primary and the still running source) and after cancel.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::switchover::Options;
use pgrelocate_engine::task::{Phase, Task};
use pgrelocate_testkit::ConnParams;
use support::*;

/// Every file under `dirs` that holds the DBA's password.
fn holding_the_password(dirs: &[&Path]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| files_containing(d, PASSWORD))
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
