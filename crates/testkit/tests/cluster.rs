//! The cluster options tests rely on do what they say, on a real server.

use pgrelocate_testkit::{Auth, Cluster, Error};

#[tokio::test]
async fn extra_hba_lines_take_precedence_over_the_defaults() {
    let cluster = Cluster::builder(17)
        .hba_line("host all blocked 127.0.0.1/32 reject")
        .start()
        .await
        .unwrap();
    cluster
        .create_role("blocked", Some("pw"), "")
        .await
        .unwrap();
    cluster
        .create_role("allowed", Some("pw"), "")
        .await
        .unwrap();

    let allowed = cluster.params().with_user("allowed", Some("pw"));
    allowed
        .connect()
        .await
        .expect("default line lets `allowed` in");
    let blocked = cluster
        .params()
        .with_user("blocked", Some("pw"))
        .connect()
        .await;
    assert!(matches!(blocked, Err(Error::Connect { .. })));
}

#[tokio::test]
async fn roles_with_awkward_passwords_log_in_to_new_databases() {
    let cluster = Cluster::builder(12).start().await.unwrap();
    let password = "it's a \\ \"quoted\"\tpässword";
    cluster
        .create_role("repl user", Some(password), "REPLICATION")
        .await
        .unwrap();
    cluster.create_database("Zürich db").await.unwrap();

    let client = cluster
        .params()
        .with_user("repl user", Some(password))
        .with_dbname("Zürich db")
        .connect()
        .await
        .unwrap();
    let row = client
        .query_one("SELECT current_user::text, current_database()::text, rolreplication FROM pg_roles WHERE rolname = current_user", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "repl user");
    assert_eq!(row.get::<_, String>(1), "Zürich db");
    assert!(row.get::<_, bool>(2));
}

#[tokio::test]
async fn settings_and_checksums_reach_the_server() {
    let cluster = Cluster::builder(13)
        .setting("wal_level", "logical")
        .setting("work_mem", "7MB")
        .data_checksums(true)
        .start()
        .await
        .unwrap();
    let wal_level: String = cluster.query_scalar("SHOW wal_level").await.unwrap();
    let work_mem: String = cluster.query_scalar("SHOW work_mem").await.unwrap();
    let checksums: String = cluster.query_scalar("SHOW data_checksums").await.unwrap();
    let listen: String = cluster.query_scalar("SHOW listen_addresses").await.unwrap();
    assert_eq!(
        (
            wal_level.as_str(),
            work_mem.as_str(),
            checksums.as_str(),
            listen.as_str()
        ),
        ("logical", "7MB", "on", "127.0.0.1")
    );
}

#[tokio::test]
async fn md5_auth_stores_md5_passwords() {
    let cluster = Cluster::builder(18).auth(Auth::Md5).start().await.unwrap();
    let stored: String = cluster
        .query_scalar("SELECT rolpassword FROM pg_authid WHERE rolname = current_user")
        .await
        .unwrap();
    assert!(stored.starts_with("md5"), "stored as {stored:.5}…");
}

#[tokio::test]
async fn data_survives_restart_and_stop_start_on_the_same_port() {
    let cluster = Cluster::builder(11).auth(Auth::Trust).init().await.unwrap();
    assert!(!cluster.is_running(), "init() does not start the server");

    cluster.start().await.unwrap();
    let port = cluster.port();
    cluster
        .sql("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42);")
        .await
        .unwrap();
    cluster.restart().await.unwrap();
    cluster.stop().await.unwrap();
    assert!(!cluster.is_running());
    assert!(cluster.connect().await.is_err(), "stopped server answers");
    cluster.start().await.unwrap();

    assert_eq!(cluster.port(), port);
    let v: i32 = cluster.query_scalar("SELECT v FROM kept").await.unwrap();
    assert_eq!(v, 42);
    assert!(cluster
        .log()
        .contains("database system is ready to accept connections"));
}

#[tokio::test]
async fn immediate_stop_needs_crash_recovery_at_next_start() {
    let cluster = Cluster::builder(16).start().await.unwrap();
    cluster.stop_immediate().await.unwrap();
    cluster.start().await.unwrap();
    assert!(
        cluster.log().contains("was not properly shut down"),
        "no crash recovery in the log"
    );
}

#[tokio::test]
async fn tablespaces_live_in_the_cluster_directory() {
    let cluster = Cluster::builder(15).start().await.unwrap();
    let dir = cluster.create_tablespace("ts one").await.unwrap();
    cluster
        .sql("CREATE TABLE t (v int) TABLESPACE \"ts one\"; INSERT INTO t VALUES (1);")
        .await
        .unwrap();

    let location: String = cluster
        .query_scalar(
            "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts one'",
        )
        .await
        .unwrap();
    assert_eq!(location, dir.to_string_lossy());
    assert!(dir.starts_with(cluster.root_dir()));
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_some(),
        "tablespace is empty"
    );
}

#[tokio::test]
async fn connection_parameters_never_print_the_password() {
    let cluster = Cluster::builder(16)
        .superuser_password("s3cret-value")
        .init()
        .await
        .unwrap();
    let printed = format!("{:?}", cluster.params());
    assert!(!printed.contains("s3cret-value"), "{printed}");
    assert!(printed.contains(&cluster.port().to_string()));
}

#[tokio::test]
async fn first_start_moves_to_a_free_port_when_its_port_was_taken() {
    let cluster = Cluster::builder(10).init().await.unwrap();
    let planned = cluster.port();
    // Another process grabs the port between the choice and the server's bind.
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", planned)).unwrap();

    cluster.start().await.unwrap();

    assert_ne!(cluster.port(), planned);
    let port: String = cluster.query_scalar("SHOW port").await.unwrap();
    assert_eq!(port, cluster.port().to_string());
}
