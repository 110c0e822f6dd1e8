//! The fences on their own, on one real server: what the `sql` fence stops (a session that
//! turns `default_transaction_read_only` off, new logins, newcomers to the control
//! database), what it cannot (a superuser's session, for an account that is not one), its
//! exact undo; and the `shutdown` fence's reading of the stopped server's control file.

mod support;

use std::time::Duration;

use pgrelocate_engine::switchover::access::sql_fence_access;
use pgrelocate_engine::switchover::fence::{Fence, FenceError, FenceRecord, TargetKind};
use pgrelocate_engine::switchover::pg_control::{self, ClusterState};
use pgrelocate_engine::switchover::{source_accepts_writes, FenceStrategy, Source};
use pgrelocate_engine::wire::Lsn;
use pgrelocate_engine::{Endpoint, Password, SslMode};
use pgrelocate_testkit::{Cluster, ConnParams};
use support::current_lsn;
use tokio_postgres::error::SqlState;

const PASSWORD: &str = "fence-test";

fn source(cluster: &Cluster, user: &str, password: &str) -> Source {
    Source {
        endpoint: Endpoint::new(cluster.host(), cluster.port(), user, None, SslMode::Disable)
            .unwrap(),
        password: Some(Password::new(password)),
        managed: None,
        on_host: None,
    }
}

fn no_journal() -> impl Fn(&FenceRecord) + Send + Sync {
    |_: &FenceRecord| {}
}

fn code(e: &tokio_postgres::Error) -> Option<&SqlState> {
    e.code()
}

async fn connect_err(params: &ConnParams) -> String {
    match params.connect().await {
        Ok(_) => panic!("{} accepted a login", params.dbname),
        Err(e) => format!("{e:?}"),
    }
}

async fn a_session_that_turns_read_only_off_cannot_commit_after_the_sql_fence(major: u32) {
    let cluster = Cluster::builder(major)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    cluster.sql("CREATE DATABASE appdb").await.unwrap();
    cluster.sql("CREATE TABLE t (x int)").await.unwrap();
    let params = cluster.params();
    // A superuser's session from before the fence, and a look at the WAL position.
    let before = params.connect().await.unwrap();
    before
        .batch_execute("INSERT INTO t VALUES (0)")
        .await
        .unwrap();
    let start = current_lsn(&before).await;

    let src = source(&cluster, cluster.superuser(), PASSWORD);
    let mut fence = Fence::new(FenceStrategy::Sql, &src);
    fence.prepare().await.unwrap();
    fence.apply(&no_journal()).await.unwrap();
    let record = fence.record().clone();
    assert_eq!(record.control_database.as_deref(), Some("template1"));
    assert_eq!(record.blocked_databases, ["appdb", "postgres"]);
    assert!(
        record.read_only && record.terminated_sessions >= 1,
        "{record:?}"
    );

    // The old session turns the read-only default off and tries to commit: it was
    // terminated, so nothing it sends can commit.
    let err = before
        .batch_execute("SET default_transaction_read_only = off; INSERT INTO t VALUES (1)")
        .await
        .unwrap_err();
    assert!(
        err.is_closed() || code(&err) == Some(&SqlState::ADMIN_SHUTDOWN),
        "the old session could still talk to the server: {err}"
    );
    // Nobody logs in again, superusers included.
    for db in ["postgres", "appdb"] {
        let refused = connect_err(&params.clone().with_dbname(db)).await;
        assert!(
            refused.contains("not currently accepting connections"),
            "{db}: {refused}"
        );
    }
    // The control database admits logins, read-only by default; a newcomer that turns it
    // off is terminated by the fence's watch before it can do anything more.
    let newcomer = params
        .clone()
        .with_dbname("template1")
        .connect()
        .await
        .unwrap();
    let err = newcomer
        .batch_execute("CREATE TABLE t1 (x int)")
        .await
        .unwrap_err();
    assert_eq!(
        code(&err),
        Some(&SqlState::READ_ONLY_SQL_TRANSACTION),
        "{err}"
    );
    assert_eq!(fence.guard().await.unwrap(), 1);
    let err = newcomer
        .batch_execute("SET default_transaction_read_only = off; CREATE TABLE t1 (x int)")
        .await
        .unwrap_err();
    assert!(
        err.is_closed() || code(&err) == Some(&SqlState::ADMIN_SHUTDOWN),
        "{err}"
    );

    // The target covers everything written before the fence.
    let target = fence.target().await.unwrap();
    assert_eq!(target.kind, TargetKind::FlushedPosition);
    assert!(target.lsn > start, "{} <= {start}", target.lsn);

    // Undo: logins and writes work again, and the record says nothing is left.
    fence.undo().await.unwrap();
    assert!(fence.record().blocked_databases.is_empty() && !fence.record().read_only);
    source_accepts_writes(&src).await.unwrap();
    let after = params.connect().await.unwrap();
    after
        .batch_execute("INSERT INTO t VALUES (2)")
        .await
        .unwrap();
    let rows: i64 = after
        .query_one("SELECT count(*) FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        rows, 2,
        "only the commits before the fence and after the undo"
    );
    params.clone().with_dbname("appdb").connect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg10_a_session_that_turns_read_only_off_cannot_commit_after_the_sql_fence() {
    a_session_that_turns_read_only_off_cannot_commit_after_the_sql_fence(10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg18_a_session_that_turns_read_only_off_cannot_commit_after_the_sql_fence() {
    a_session_that_turns_read_only_off_cannot_commit_after_the_sql_fence(18).await;
}

/// A role with exactly the grants the assessment asks for can fence; a superuser's session
/// it cannot terminate makes the fence fail, and the undo gives everything back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_account_fences_but_stops_at_a_superuser_session_and_undoes_it() {
    let cluster = Cluster::builder(16)
        .superuser_password(PASSWORD)
        .start()
        .await
        .unwrap();
    cluster
        .create_role("fencer", Some(PASSWORD), "REPLICATION")
        .await
        .unwrap();
    cluster
        .create_role("app", Some(PASSWORD), "")
        .await
        .unwrap();
    let src = source(&cluster, "fencer", PASSWORD);
    let fencer = src_client(&cluster, "fencer").await;
    let access = sql_fence_access(&fencer).await.unwrap();
    assert!(!access.can_fence());
    let wanted: Vec<&str> = access.gaps.iter().map(|g| g.what.as_str()).collect();
    assert_eq!(
        wanted,
        [
            "ALTER SYSTEM on default_transaction_read_only",
            "membership in pg_signal_backend",
            "EXECUTE on pg_reload_conf()",
            "ownership of database postgres",
        ]
    );
    let grants: Vec<String> = access.gaps.iter().map(|g| g.grant.clone()).collect();
    cluster.sql(&grants.join("\n")).await.unwrap();
    let access = sql_fence_access(&fencer).await.unwrap();
    assert!(access.can_fence() && !access.superuser, "{access:?}");

    // An application session is terminated; a superuser's is not.
    let app = cluster
        .params()
        .with_user("app", Some(PASSWORD))
        .connect()
        .await
        .unwrap();
    let admin = cluster.params().connect().await.unwrap();
    let mut fence = Fence::new(FenceStrategy::Sql, &src);
    fence.prepare().await.unwrap();
    let started = std::time::Instant::now();
    let err = fence.apply(&no_journal()).await.unwrap_err();
    let FenceError::SessionsRemain { count, detail, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*count, 1, "{detail}");
    assert!(detail.contains("superuser"), "{detail}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        app.batch_execute("SELECT 1").await.is_err(),
        "the app session survived"
    );

    fence.undo().await.unwrap();
    source_accepts_writes(&src).await.unwrap();
    admin
        .batch_execute("CREATE TABLE still_here (x int)")
        .await
        .unwrap();
    cluster
        .params()
        .with_user("app", Some(PASSWORD))
        .connect()
        .await
        .unwrap();
}

async fn src_client(cluster: &Cluster, user: &str) -> tokio_postgres::Client {
    cluster
        .params()
        .with_user(user, Some(PASSWORD))
        .connect()
        .await
        .unwrap()
}

/// After a clean stop the control file names the shutdown checkpoint: the same position the
/// server reports as its latest checkpoint once started again.
async fn the_control_file_names_the_shutdown_checkpoint(major: u32) {
    let cluster = Cluster::builder(major).start().await.unwrap();
    cluster
        .sql("CREATE TABLE t AS SELECT generate_series(1, 1000) AS x")
        .await
        .unwrap();
    cluster.stop().await.unwrap();
    let control = pg_control::read(&cluster.data_dir()).unwrap();
    assert_eq!(control.state, ClusterState::ShutDown);
    cluster.start().await.unwrap();
    let reported: String = cluster
        .query_scalar("SELECT checkpoint_lsn::text FROM pg_control_checkpoint()")
        .await
        .unwrap();
    assert_eq!(control.checkpoint, reported.parse::<Lsn>().unwrap());
    cluster.stop_immediate().await.unwrap();
    let crashed = pg_control::read(&cluster.data_dir()).unwrap();
    assert_eq!(crashed.state, ClusterState::Other(6), "in production");
}

macro_rules! control_file {
    ($($name:ident => $major:expr),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                the_control_file_names_the_shutdown_checkpoint($major).await;
            }
        )*
    };
}

control_file! {
    pg10_the_control_file_names_the_shutdown_checkpoint => 10,
    pg11_the_control_file_names_the_shutdown_checkpoint => 11,
    pg12_the_control_file_names_the_shutdown_checkpoint => 12,
    pg13_the_control_file_names_the_shutdown_checkpoint => 13,
    pg14_the_control_file_names_the_shutdown_checkpoint => 14,
    pg15_the_control_file_names_the_shutdown_checkpoint => 15,
    pg16_the_control_file_names_the_shutdown_checkpoint => 16,
    pg17_the_control_file_names_the_shutdown_checkpoint => 17,
    pg18_the_control_file_names_the_shutdown_checkpoint => 18,
}
