//! IDENTIFY_SYSTEM, SHOW and physical slots on every supported major (one test per major,
//! so they run in parallel).

mod support;

use pgrelocate_engine::wire::SlotName;
use pgrelocate_testkit::Cluster;
use support::replication;

async fn replication_commands_work(major: u32) {
    let cluster = Cluster::builder(major).start().await.unwrap();
    let mut conn = replication(&cluster).await.unwrap();
    assert_eq!(conn.server_version().major, major);

    let id = conn.identify_system().await.unwrap();
    let system_id: String = cluster
        .query_scalar("SELECT system_identifier::text FROM pg_control_system()")
        .await
        .unwrap();
    assert_eq!(id.system_id.to_string(), system_id);
    assert_eq!(id.timeline, 1);

    assert_eq!(conn.show("wal_segment_size").await.unwrap(), "16MB");
    assert!(conn.show("no such setting").await.is_err());

    let slot = SlotName::new("pgrelocate_test").unwrap();
    let created = conn.create_physical_slot(&slot, false).await.unwrap();
    assert_eq!(created.name, "pgrelocate_test");
    let reserved: bool = cluster
        .query_scalar(
            "SELECT restart_lsn IS NOT NULL FROM pg_replication_slots \
             WHERE slot_name = 'pgrelocate_test' AND slot_type = 'physical' AND NOT temporary",
        )
        .await
        .unwrap();
    assert!(reserved, "the slot does not reserve WAL");
    conn.drop_slot(&slot, true).await.unwrap();
    let left: i64 = cluster
        .query_scalar("SELECT count(*) FROM pg_replication_slots")
        .await
        .unwrap();
    assert_eq!(left, 0);

    // A temporary slot goes away with the connection.
    conn.create_physical_slot(&SlotName::new("pgrelocate_tmp").unwrap(), true)
        .await
        .unwrap();
    conn.close().await.unwrap();
    for _ in 0..50 {
        let n: i64 = cluster
            .query_scalar("SELECT count(*) FROM pg_replication_slots")
            .await
            .unwrap();
        if n == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the temporary slot outlived its connection");
}

macro_rules! per_major {
    ($($name:ident => $major:expr),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            replication_commands_work($major).await;
        }
    )*};
}

per_major! {
    replication_commands_work_on_10 => 10,
    replication_commands_work_on_11 => 11,
    replication_commands_work_on_12 => 12,
    replication_commands_work_on_13 => 13,
    replication_commands_work_on_14 => 14,
    replication_commands_work_on_15 => 15,
    replication_commands_work_on_16 => 16,
    replication_commands_work_on_17 => 17,
    replication_commands_work_on_18 => 18,
}
