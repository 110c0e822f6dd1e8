//! Every supported PostgreSQL major starts as a throwaway cluster with SCRAM authentication,
//! answers as the expected version, and goes away when dropped.

use pgrelocate_testkit::server_user::process_exists;
use pgrelocate_testkit::{Auth, Cluster, ClusterBuilder, Error, Flavour, DEBIAN_MAJOR};

/// A password that needs quoting at every level: SQL literal, single-user mode, SCRAM.
const AWKWARD_PASSWORD: &str = "p'w\\x\"ü $1";

async fn assert_answers_over_scram(builder: ClusterBuilder, major: u32) {
    let cluster = builder
        .auth(Auth::Scram)
        .superuser_password(AWKWARD_PASSWORD)
        .start()
        .await
        .expect("cluster starts");

    let version: String = cluster.query_scalar("SELECT version()").await.unwrap();
    assert!(
        version.starts_with(&format!("PostgreSQL {major}.")),
        "expected PostgreSQL {major}, got {version}"
    );
    let version_num: String = cluster
        .query_scalar("SHOW server_version_num")
        .await
        .unwrap();
    assert_eq!(version_num.parse::<u32>().unwrap() / 10000, major);

    let stored: String = cluster
        .query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = current_user")
        .await
        .unwrap();
    assert!(
        stored.starts_with("SCRAM-SHA-256$"),
        "stored as {stored:.14}…"
    );

    let wrong = cluster
        .params()
        .with_user(cluster.superuser(), Some("not the password"))
        .connect()
        .await;
    assert!(
        matches!(wrong, Err(Error::Connect { .. })),
        "a wrong password must be refused"
    );
}

macro_rules! embedded_major_answers_over_scram {
    ($($name:ident => $major:literal),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            assert_answers_over_scram(Cluster::builder($major), $major).await;
        }
    )*};
}

embedded_major_answers_over_scram! {
    postgres_10_answers_over_scram => 10,
    postgres_11_answers_over_scram => 11,
    postgres_12_answers_over_scram => 12,
    postgres_13_answers_over_scram => 13,
    postgres_14_answers_over_scram => 14,
    postgres_15_answers_over_scram => 15,
    postgres_16_answers_over_scram => 16,
    postgres_17_answers_over_scram => 17,
    postgres_18_answers_over_scram => 18,
}

#[tokio::test]
async fn debian_postgres_15_answers_over_scram() {
    assert_answers_over_scram(
        Cluster::builder(DEBIAN_MAJOR).flavour(Flavour::Debian),
        DEBIAN_MAJOR,
    )
    .await;
}

#[tokio::test]
async fn dropped_cluster_leaves_no_server_and_no_directory() {
    let cluster = Cluster::builder(16).start().await.unwrap();
    let pid = cluster.postmaster_pid().expect("server running");
    let root = cluster.root_dir().to_path_buf();
    let params = cluster.params();

    drop(cluster);

    assert!(!process_exists(pid), "postmaster {pid} still running");
    assert!(!root.exists(), "{} still exists", root.display());
    assert!(params.connect().await.is_err(), "the port still answers");
}

#[tokio::test]
async fn cluster_of_a_panicking_test_is_stopped_and_removed() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let cluster = Cluster::builder(14).start().await.unwrap();
        let pid = cluster.postmaster_pid().expect("server running");
        tx.send((pid, cluster.root_dir().to_path_buf())).unwrap();
        panic!("the test fails while its cluster runs");
    });

    let outcome = task.await;
    let (pid, root) = rx.await.expect("the cluster had started");

    assert!(outcome.unwrap_err().is_panic());
    assert!(!process_exists(pid), "postmaster {pid} still running");
    assert!(!root.exists(), "{} still exists", root.display());
}
