//! The writer moves to the next target when the first stops taking writes, records every
//! acknowledged commit with the server that acknowledged it, and each one is on that server.

use std::time::Duration;

use pgrelocate_testkit::{Cluster, Writer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_follows_whichever_target_takes_writes_and_loses_nothing() {
    let (first, second) = tokio::join!(Cluster::builder(16).start(), Cluster::builder(16).start());
    let (first, second) = (first.unwrap(), second.unwrap());
    for c in [&first, &second] {
        Writer::prepare(&c.params()).await.unwrap();
    }
    let writer = Writer::start(vec![first.params(), second.params()]);
    assert!(writer.wait_for_target(0, 20, Duration::from_secs(30)).await);

    // The first server turns read-only and ends the writer's session.
    first
        .sql("ALTER SYSTEM SET default_transaction_read_only = on")
        .await
        .unwrap();
    first
        .sql(
            "SELECT pg_reload_conf(); SELECT pg_sleep(0.2); \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'pgrelocate-writer'",
        )
        .await
        .unwrap();
    assert!(writer.wait_for_target(1, 20, Duration::from_secs(30)).await);
    let log = writer.stop().await;

    assert!(log.window(0, 1).is_some());
    let first_ids: Vec<i64> = log
        .acks
        .iter()
        .filter(|a| a.target == 0)
        .map(|a| a.id)
        .collect();
    let on_first: Vec<i64> = first
        .query("SELECT id FROM pgrelocate_writer ORDER BY id")
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        on_first, first_ids,
        "the first server holds exactly what it acknowledged"
    );
    let second_client = second.connect().await.unwrap();
    let missing: Vec<i64> = log
        .missing_on(&second_client)
        .await
        .unwrap()
        .into_iter()
        .filter(|id| !first_ids.contains(id))
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    assert!(
        log.acks.windows(2).all(|w| w[0].id < w[1].id),
        "ids increase"
    );
}
