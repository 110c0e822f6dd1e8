//! Faults and exits around a running task: the source restarts during incremental sync, a
//! cancel during the full copy and during incremental sync, and a source whose own
//! configuration must not leak into the destination's host settings.

mod support;

use std::time::Duration;

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::backup::MaxRate;
use pgrelocate_engine::task::{
    CopyOptions, EventKind, Phase, ReplicationState, TaskSettings, Tasks,
};
use pgrelocate_testkit::Cluster;
use support::*;

fn no_sync() -> CopyOptions {
    CopyOptions {
        sync: false,
        ..CopyOptions::default()
    }
}

/// A DR task: the process that started it quits during `increment`, another attaches and
/// monitors; the source stops and starts; the task shows `disconnect`, then streams again
/// by itself and stays in `increment`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_restart_during_increment_is_recorded_as_disconnect_then_streaming_again() {
    let source = Cluster::builder(14).start().await.unwrap();
    source
        .sql("CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 1000)")
        .await
        .unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(14).await;
    env.assess_pair(Mode::Dr).await;
    let task = env
        .tasks
        .create(env.request(Mode::Dr, no_sync()))
        .await
        .unwrap();
    env.wait(&task, "streaming", 180, |t| {
        t.replication == ReplicationState::Streaming
    })
    .await;

    // Quitting changes nothing on the servers; another service re-attaches and monitors.
    env.tasks.shutdown().await;
    let other = Tasks::with_settings(
        env.instances.clone(),
        TaskSettings {
            sample_interval: Duration::from_millis(500),
            ..TaskSettings::default()
        },
    );
    let (attached, driving) = other.attach(task.id.as_str()).await.unwrap();
    assert!(driving, "nobody else drives the task");
    assert_eq!(attached.phase, Phase::Increment);

    source.stop().await.unwrap();
    let t = env
        .wait(&task, "disconnect", 60, |t| {
            t.replication == ReplicationState::Disconnect
        })
        .await;
    assert_eq!(t.phase, Phase::Increment);
    source.start().await.unwrap();
    let t = env
        .wait(&task, "streaming again", 120, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    assert_eq!(t.phase, Phase::Increment, "a DR task stays in increment");

    source
        .sql("INSERT INTO orders VALUES (1001)")
        .await
        .unwrap();
    let src = source.connect().await.unwrap();
    let dest = env.dest_as_source(&source).await;
    wait_replayed(&dest, current_lsn(&src).await, 60).await;
    let n: i64 = dest
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1001);

    let states: Vec<ReplicationState> = env
        .tasks
        .events(&task.id, 0)
        .unwrap()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Replication { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    let disconnect = states
        .iter()
        .position(|s| *s == ReplicationState::Disconnect);
    let back = states
        .iter()
        .rposition(|s| *s == ReplicationState::Streaming);
    assert!(
        matches!((disconnect, back), (Some(d), Some(b)) if d < b),
        "replication states recorded: {states:?}"
    );
    other.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_basebackup_restores_the_empty_destination_and_drops_the_slot() {
    let source = Cluster::builder(13).start().await.unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(13).await;
    env.assess_pair(Mode::Migration).await;
    let options = CopyOptions {
        // 32 kB/s: the copy of a fresh cluster takes many minutes.
        max_rate: Some(MaxRate::from_kb_per_sec(32).unwrap()),
        ..no_sync()
    };
    let task = env
        .tasks
        .create(env.request(Mode::Migration, options))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let copied = env
            .tasks
            .events(&task.id, 0)
            .unwrap()
            .iter()
            .any(|e| matches!(&e.kind, EventKind::Copy(p) if p.bytes_done > 0));
        if copied {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no copy progress\n{}",
            env.history(&task)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(slots(&source).await, vec![task.layout.slot_name.clone()]);
    assert!(task.layout.copy_dir.exists(), "the copy is being written");

    let cancelled = env.tasks.cancel(task.id.as_str()).await.unwrap();
    assert_eq!(cancelled.phase, Phase::Cancelled, "{}", env.history(&task));
    assert_eq!(slots(&source).await, Vec::<String>::new());
    assert_destination_restored(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_increment_restores_the_empty_destination_and_drops_the_slot() {
    let source = Cluster::builder(17)
        .superuser_password(TRICKY_PASSWORD)
        .start()
        .await
        .unwrap();
    source
        .sql("CREATE TABLE t AS SELECT generate_series(1, 100) AS n")
        .await
        .unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(17).await;
    env.assess_pair(Mode::Migration).await;
    let task = env
        .tasks
        .create(env.request(Mode::Migration, no_sync()))
        .await
        .unwrap();
    let task = env
        .wait(&task, "streaming", 180, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    assert!(task.layout.passfile.exists());

    let cancelled = env.tasks.cancel(task.id.as_str()).await.unwrap();
    assert_eq!(cancelled.phase, Phase::Cancelled, "{}", env.history(&task));
    assert_eq!(cancelled.replication, ReplicationState::Finish);
    assert_eq!(slots(&source).await, Vec::<String>::new());
    assert!(
        !task.layout.passfile.exists(),
        "the password file is removed"
    );
    assert_destination_restored(&env).await;
    // The destination can be used for a new task.
    env.assess_pair(Mode::Migration).await;
}

/// The source keeps `postgresql.conf` in its data directory with its own port, TLS
/// certificates and log folder; the destination starts with its own settings, keeps the
/// source's ALTER SYSTEM tuning, and has the source's file beside its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_configuration_in_the_data_directory_does_not_replace_the_destination_host_settings()
{
    let source = Cluster::builder(16)
        .setting("ssl", "on")
        .setting("logging_collector", "on")
        .init()
        .await
        .unwrap();
    let root = source.root_dir().to_path_buf();
    let (cert, key) = (root.join("src-server.crt"), root.join("src-server.key"));
    write_certificate(&source, &cert, &key);
    let log_dir = root.join("src-logs");
    std::fs::create_dir(&log_dir).unwrap();
    source.server_user().chown(&log_dir).unwrap();
    let conf = source.data_dir().join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "ssl_cert_file = '{}'\nssl_key_file = '{}'\nlog_directory = '{}'\n",
        cert.display(),
        key.display(),
        log_dir.display()
    ));
    std::fs::write(&conf, text).unwrap();
    source.start().await.unwrap();
    // One statement per call: ALTER SYSTEM refuses to run inside a transaction block.
    source
        .sql("ALTER SYSTEM SET work_mem = '7MB'")
        .await
        .unwrap();
    source.sql("SELECT pg_reload_conf()").await.unwrap();

    let env = Env::new();
    env.register_source(&source).await;
    let dest_record = env.create_dest_of(16).await;
    let data_dir = dest_record.managed.as_ref().unwrap().data_dir.clone();
    let own_conf = std::fs::read_to_string(data_dir.join("postgresql.conf")).unwrap();
    let own_hba = std::fs::read_to_string(data_dir.join("pg_hba.conf")).unwrap();
    env.assess_pair(Mode::Migration).await;
    let task = env
        .tasks
        .create(env.request(Mode::Migration, no_sync()))
        .await
        .unwrap();
    env.wait(&task, "streaming", 180, |t| {
        t.replication == ReplicationState::Streaming
    })
    .await;

    let dest = env.dest_as_source(&source).await;
    let setting = |row: &tokio_postgres::Row, i| row.get::<_, String>(i);
    let row = dest
        .query_one(
            "SELECT current_setting('port'), current_setting('ssl'), current_setting('logging_collector'), \
                    current_setting('log_directory'), current_setting('work_mem')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(setting(&row, 0), dest_record.endpoint.port.to_string());
    assert_eq!(
        setting(&row, 1),
        "off",
        "the source's certificates are not the destination's"
    );
    assert_eq!(setting(&row, 2), "off");
    assert_ne!(setting(&row, 3), log_dir.display().to_string());
    assert_eq!(
        setting(&row, 4),
        "7MB",
        "the source's ALTER SYSTEM tuning is kept"
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("postgresql.conf")).unwrap(),
        own_conf
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("pg_hba.conf")).unwrap(),
        own_hba
    );
    let from_source =
        std::fs::read_to_string(data_dir.join("postgresql.conf.from-source")).unwrap();
    assert!(
        from_source.contains(&cert.display().to_string()),
        "{from_source}"
    );
    assert!(data_dir.join("pg_hba.conf.from-source").is_file());
    env.tasks.shutdown().await;
}

fn write_certificate(source: &Cluster, cert: &std::path::Path, key: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let certificate = params.self_signed(&key_pair).unwrap();
    std::fs::write(cert, certificate.pem()).unwrap();
    std::fs::write(key, key_pair.serialize_pem()).unwrap();
    std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)).unwrap();
    source.server_user().chown(cert).unwrap();
    source.server_user().chown(key).unwrap();
}

/// A source on this host with a tablespace and no mapping: the assessment proposes a folder
/// beside the destination's data directory, and the task copies the tablespace there (the
/// source's own folder is not empty, so it cannot be the target).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_local_tablespace_goes_where_the_assessment_proposed() {
    let source = Cluster::builder(16).start().await.unwrap();
    let location = source.create_tablespace("archive").await.unwrap();
    source
        .sql("CREATE TABLE old_orders (id int) TABLESPACE archive; INSERT INTO old_orders SELECT generate_series(1, 500)")
        .await
        .unwrap();
    let env = Env::new();
    env.register_source(&source).await;
    env.create_dest_of(16).await;
    let report = env.assess_pair(Mode::Migration).await;
    assert!(!report.is_empty());
    let task = env
        .tasks
        .create(env.request(Mode::Migration, no_sync()))
        .await
        .unwrap();
    let t = env
        .wait(&task, "streaming", 180, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    let data_dir = env.dest().managed.unwrap().data_dir;
    let expected = pgrelocate_engine::assess::default_tablespace_target(&data_dir, "archive");
    assert_eq!(t.layout.tablespaces.len(), 1, "{}", env.history(&t));
    assert_eq!(t.layout.tablespaces[0].target, expected);
    assert!(
        std::fs::read_dir(&expected).unwrap().next().is_some(),
        "the copy wrote into {}",
        expected.display()
    );
    let dest = env.dest_as_source(&source).await;
    let n: i64 = dest
        .query_one("SELECT count(*) FROM old_orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 500);
    // The source's own folder was only read.
    assert!(location.exists());
    env.tasks.cancel(task.id.as_str()).await.unwrap();
}
