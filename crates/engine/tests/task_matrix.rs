//! For every major 10–18: a source under continuous pgbench load is migrated into a managed
//! destination, which reaches `streaming`, replays past a fixed LSN, and holds the same data
//! once the load pauses. The superuser password has quotes, a colon and a backslash: it must
//! work through the password file and appear in no file of the destination's data directory.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::task::{CopyOptions, EventKind, Phase, ReplicationState};
use pgrelocate_testkit::Cluster;
use support::*;

async fn migrates_under_write_load(major: u32) {
    let source = Cluster::builder(major)
        .superuser_password(TRICKY_PASSWORD)
        .start()
        .await
        .unwrap();
    let env = Env::new();
    // SCRAM only: pgrelocate's clients enforce it on every major, and from 16 on the
    // standby's walreceiver gets it in primary_conninfo, so streaming proves libpq took it.
    env.register_source_requiring(&source, Some("scram-sha-256"))
        .await;
    env.create_dest_of(major).await;
    pgbench_init(&source, 1);
    let mut load = Load::start(&source);
    env.assess_pair(Mode::Migration).await;

    let options = CopyOptions {
        sync: false,
        ..CopyOptions::default()
    };
    let task = env
        .tasks
        .create(env.request(Mode::Migration, options))
        .await
        .unwrap();
    let task = env
        .wait(&task, "streaming", 240, |t| {
            t.replication == ReplicationState::Streaming
        })
        .await;
    assert_eq!(task.phase, Phase::Increment);

    // The standby catches up to a position taken while the load runs.
    let src = source.connect().await.unwrap();
    let dest = env.dest_as_source(&source).await;
    let fixed = current_lsn(&src).await;
    wait_replayed(&dest, fixed, 120).await;

    // Pause the load; once the standby has everything, both hold the same rows.
    load.stop(&source).await;
    let end = current_lsn(&src).await;
    wait_replayed(&dest, end, 120).await;
    let (src_sums, src_history) = pgbench_checksums(&src).await;
    let (dest_sums, _) = pgbench_checksums(&dest).await;
    assert!(src_history > 0, "the load wrote nothing");
    assert_eq!(src_sums, dest_sums);

    // A standby on the destination's own port, following our slot.
    let record = env.dest();
    let row = dest
        .query_one(
            "SELECT pg_is_in_recovery(), current_setting('port')::int",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(row.get::<_, i32>(1), i32::from(record.endpoint.port));
    assert_eq!(slots(&source).await, vec![task.layout.slot_name.clone()]);

    // The password lives only in the password file: 0600, owned by the server user.
    let data_dir = record.managed.as_ref().unwrap().data_dir.clone();
    assert_eq!(
        files_containing(&data_dir, TRICKY_PASSWORD),
        Vec::<std::path::PathBuf>::new()
    );
    let meta = std::fs::metadata(&task.layout.passfile).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), std::fs::metadata(&data_dir).unwrap().uid());
    assert!(!task.layout.passfile.starts_with(&data_dir));
    let expected_standby_file = if major < 12 {
        "recovery.conf"
    } else {
        "standby.signal"
    };
    assert!(data_dir.join(expected_standby_file).is_file());

    // The event log tells the story in order, with lag samples for the chart.
    let events = env.tasks.events(&task.id, 0).unwrap();
    let phases: Vec<Phase> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Phase { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [Phase::Basebackup, Phase::Startup, Phase::Increment]
    );
    // The standby's first connected state is recorded with the move to increment, never
    // before it: whoever sees a connected standby sees the task in increment.
    let increment = events.iter().position(|e| {
        matches!(
            e.kind,
            EventKind::Phase {
                to: Phase::Increment,
                ..
            }
        )
    });
    let connected = events
        .iter()
        .position(|e| matches!(e.kind, EventKind::Replication { .. }));
    assert!(
        matches!((increment, connected), (Some(i), Some(c)) if i < c),
        "the standby connected before the task entered increment:\n{}",
        env.history(&task)
    );
    let samples = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Sample(_)))
        .count();
    assert!(samples >= 1, "no monitoring sample\n{}", env.history(&task));
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::Copy(_))));
    env.tasks.shutdown().await;
}

macro_rules! matrix {
    ($($name:ident => $major:expr),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                migrates_under_write_load($major).await;
            }
        )*
    };
}

matrix! {
    pg10_migrates_under_write_load_and_catches_up => 10,
    pg11_migrates_under_write_load_and_catches_up => 11,
    pg12_migrates_under_write_load_and_catches_up => 12,
    pg13_migrates_under_write_load_and_catches_up => 13,
    pg14_migrates_under_write_load_and_catches_up => 14,
    pg15_migrates_under_write_load_and_catches_up => 15,
    pg16_migrates_under_write_load_and_catches_up => 16,
    pg17_migrates_under_write_load_and_catches_up => 17,
    pg18_migrates_under_write_load_and_catches_up => 18,
}
