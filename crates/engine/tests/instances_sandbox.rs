//! The sandbox comes up with its content on the source and an empty destination of the
//! same major, and goes away completely.

mod support;

use std::sync::Arc;

use pgrelocate_engine::instances::State;
use pgrelocate_engine::sandbox;
use pgrelocate_engine::secrets::{CredentialStore, Keyring};
use pgrelocate_engine::sql;

#[tokio::test]
async fn sandbox_comes_up_with_its_content_and_goes_away() {
    let dir = support::state_dir("pgrelocate-sandbox-test-");
    let keyring = Arc::new(Keyring::in_memory());
    let inst = support::instances(dir.path(), keyring.clone());
    // A folder the user added: the pinned 18 build.
    let bin =
        tokio::task::spawn_blocking(|| pgrelocate_testkit::Installation::embedded(18).unwrap())
            .await
            .unwrap();
    inst.store().add_bin_folder(bin.bin_dir()).unwrap();

    // The plan the console shows before anything is made is what `create` makes.
    let plan = sandbox::plan(&inst, Some(18)).await.unwrap();
    assert_eq!(plan.version.major, 18);
    assert_ne!(plan.source_port, plan.destination_port);
    let made = sandbox::create(&inst, Some(18)).await.unwrap();
    assert_eq!(made.extension.as_deref(), Some("pg_trgm"));
    assert_eq!(made.source.endpoint.port, plan.source_port);
    assert_eq!(made.destination.endpoint.port, plan.destination_port);
    assert_eq!(made.source.managed.as_ref().unwrap().bin_dir, plan.bin_dir);
    // Once it exists there is nothing to plan: `create` would refuse.
    let err = sandbox::plan(&inst, Some(18)).await.unwrap_err();
    assert!(err.to_string().contains("sandbox remove"), "{err}");
    for name in [sandbox::SOURCE, sandbox::DESTINATION] {
        let status = inst.status(name).await.unwrap();
        assert_eq!(status.state, State::Running, "{status:?}");
        assert_eq!(status.connection.unwrap().version.major, 18);
    }
    let err = sandbox::create(&inst, Some(18)).await.unwrap_err();
    assert!(err.to_string().contains("sandbox remove"), "{err}");

    let password = inst.password_for(&made.source).await.unwrap();
    let src = sql::connect(
        &made.source.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .unwrap();
    let row = src
        .query_one(
            "SELECT (SELECT count(*) FROM pgbench_accounts),
                    (SELECT count(*) FROM pgbench_tellers),
                    (SELECT count(*) FROM pg_database WHERE datname = 'sandbox_shop'),
                    (SELECT spcname FROM pg_tablespace t JOIN pg_class c ON c.reltablespace = t.oid
                      WHERE c.relname = 'archived_orders'),
                    (SELECT count(*) FROM pg_largeobject_metadata),
                    (SELECT relpersistence::text FROM pg_class WHERE relname = 'session_cache'),
                    (SELECT count(*) FROM \"café_müşteri_顧客\"),
                    (SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'),
                    (SELECT convert_from(lo_get(body), 'UTF8') FROM documents)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 100_000);
    assert_eq!(row.get::<_, i64>(1), 10);
    assert_eq!(row.get::<_, i64>(2), 1);
    assert_eq!(row.get::<_, String>(3), sandbox::TABLESPACE);
    assert_eq!(row.get::<_, i64>(4), 1);
    assert_eq!(row.get::<_, String>(5), "u");
    assert_eq!(row.get::<_, i64>(6), 3);
    assert_eq!(row.get::<_, String>(7), "pg_trgm");
    assert!(row.get::<_, String>(8).contains("byte for byte"));
    assert!(made.tablespace_dir.is_dir());
    drop(src);

    let mut shop = made.source.endpoint.clone();
    shop.dbname = sandbox::SECOND_DATABASE.into();
    let client = sql::connect(&shop, password.as_ref(), sql::DEFAULT_CONNECT_TIMEOUT)
        .await
        .unwrap();
    let orders: i64 = client
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(orders, 10_000);
    drop(client);

    // The destination is empty: no user table, no extra database.
    let dest_pw = inst.password_for(&made.destination).await.unwrap();
    let dest = sql::connect(
        &made.destination.endpoint,
        dest_pw.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await
    .unwrap();
    let row = dest
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE n.nspname = 'public'),
                    (SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1'))",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (0, 0));
    drop(dest);

    let removed = sandbox::remove(&inst).await.unwrap();
    assert_eq!(removed, [sandbox::DESTINATION, sandbox::SOURCE]);
    assert!(inst.store().list_instances().unwrap().is_empty());
    for record in [&made.source, &made.destination] {
        let created = record
            .managed
            .as_ref()
            .unwrap()
            .created_dir
            .clone()
            .unwrap();
        assert!(!created.exists(), "{} left behind", created.display());
        assert_eq!(keyring.load(&record.id).unwrap(), None);
    }
    assert!(!made.tablespace_dir.exists());
}
