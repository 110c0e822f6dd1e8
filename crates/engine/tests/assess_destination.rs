//! Destination checks on real servers and this host's real facts: a non-empty destination,
//! one in recovery, another major, the source itself, a small filesystem (tmpfs mounted by
//! the test, as root), tablespace mappings, extensions and C libraries missing from the
//! destination's binaries, a locale only the source's server sees, and a memory limit.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pgrelocate_engine::assess::{Mode, Options, Status};
use pgrelocate_testkit::Cluster;
use support::{expect, expect_error, expect_warning, options, stop_now, Env};

#[tokio::test]
async fn a_table_in_postgres_and_an_extra_database_make_the_destination_not_empty() {
    let source = Cluster::builder(15).start().await.unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest("dest", 15, None).await;
    env.sql("dest", "postgres", "CREATE TABLE leftover (id int)")
        .await;
    env.sql("dest", "postgres", "CREATE DATABASE extra").await;

    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_error(
        &report,
        "dest.empty",
        &[
            "DROP DATABASE extra;",
            "DROP TABLE leftover CASCADE;",
            "pgrelocate instance create",
        ],
    );
    assert!(
        check.message.contains("database extra"),
        "{}",
        check.message
    );
    assert!(
        check.message.contains("table leftover (in postgres)"),
        "{}",
        check.message
    );

    // The wizard's live view of the destination says the same, and nothing else.
    let live = pgrelocate_engine::assess::destination_prerequisites(
        &env.instances,
        "src",
        "dest",
        options(),
    )
    .await
    .unwrap();
    let ids: Vec<&str> = live.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "dest.managed",
            "dest.primary",
            "dest.empty",
            "dest.version",
            "dest.storage"
        ]
    );
    assert_eq!(live[2].status, Status::Error);
    assert_eq!(live[3].status, Status::Success);

    // The destination assessed onto itself: the same cluster.
    let report = env.assess("dest", "dest", Mode::Migration, options()).await;
    let same = expect_error(&report, "dest.same_system", &["pgrelocate instance create"]);
    assert!(
        same.message.contains("the source itself"),
        "{}",
        same.message
    );
}

#[tokio::test]
async fn a_destination_with_a_client_session_is_never_offered_drop_statements() {
    let source = Cluster::builder(15).start().await.unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    let dest = env.create_dest("dest", 15, None).await;
    env.sql("dest", "postgres", "CREATE TABLE orders (id int)")
        .await;
    env.sql("dest", "postgres", "CREATE DATABASE shop").await;
    // An application works on the destination while it is assessed.
    let password = env.password_of("dest").await.unwrap();
    let (app, connection) = tokio_postgres::Config::new()
        .host(&dest.endpoint.host)
        .port(dest.endpoint.port)
        .user(&dest.endpoint.user)
        .password(password.expose())
        .dbname("shop")
        .application_name("orders-app")
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    app.batch_execute("SELECT 1").await.unwrap();

    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_error(&report, "dest.empty", &["pgrelocate instance create"]);
    assert!(
        !check.remedy.contains("DROP"),
        "a server in use was offered destructive statements:\n{}",
        check.remedy
    );
    assert!(
        check.remedy.contains("serves as a primary")
            && check.remedy.contains("1 client session connected")
            && check.remedy.contains("(orders-app)"),
        "the remedy does not say why nothing is offered:\n{}",
        check.remedy
    );
    assert!(check.message.contains("database shop"), "{}", check.message);

    // The wizard's live view refuses the same way (its Next stays disabled on the error).
    let live = pgrelocate_engine::assess::destination_prerequisites(
        &env.instances,
        "src",
        "dest",
        options(),
    )
    .await
    .unwrap();
    let empty = live.iter().find(|c| c.id == "dest.empty").unwrap();
    assert_eq!(empty.status, Status::Error);
    assert!(!empty.remedy.contains("DROP"), "{}", empty.remedy);
    drop(app);
}

#[tokio::test]
async fn a_destination_that_cannot_be_inspected_is_not_called_empty() {
    let source = Cluster::builder(15).start().await.unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest("dest", 15, None).await;
    env.sql(
        "dest",
        "postgres",
        "ALTER DATABASE template1 ALLOW_CONNECTIONS false",
    )
    .await;

    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_error(&report, "dest.empty", &["run the", "assessment again"]);
    assert!(
        check
            .message
            .starts_with("cannot tell whether the destination is empty")
            && check.message.contains("template1"),
        "{}",
        check.message
    );
    assert!(
        !check.remedy.contains("DROP"),
        "nothing was found, so nothing is to be dropped:\n{}",
        check.remedy
    );
}

#[tokio::test]
async fn a_destination_in_recovery_is_not_a_primary() {
    let env = Env::new();
    let dest = env.create_dest("standby", 15, None).await;
    env.register_nowhere("external-src").await;
    env.instances.stop("standby").await.unwrap();
    let m = dest.managed.as_ref().unwrap();
    let signal = m.data_dir.join("standby.signal");
    std::fs::write(&signal, "").unwrap();
    chown_to_server_user(&signal, m.os_user.as_deref());
    env.instances.start("standby").await.unwrap();

    let report = env
        .assess("external-src", "standby", Mode::Migration, options())
        .await;
    expect(&report, "dest.managed", Status::Success);
    let check = expect_error(&report, "dest.primary", &["pgrelocate instance create"]);
    assert!(check.message.contains("in recovery"), "{}", check.message);
}

fn chown_to_server_user(path: &Path, os_user: Option<&str>) {
    if let Ok(Some(u)) = pgrelocate_engine::server::OsUser::for_servers(os_user) {
        std::os::unix::fs::chown(path, Some(u.uid), Some(u.gid)).unwrap();
    }
}

#[tokio::test]
async fn another_major_version_is_an_error_naming_the_major_to_create() {
    let source = Cluster::builder(14).start().await.unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest("dest", 15, None).await;
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_error(
        &report,
        "dest.version",
        &["pgrelocate instance create dest-14 --major 14"],
    );
    assert!(check.message.contains("same major"), "{}", check.message);
}

/// A tmpfs mounted on a fresh folder; unmounted (lazily, in case a server still holds it)
/// when dropped.
struct SmallFs(tempfile::TempDir);

impl SmallFs {
    fn mount(bytes: u64) -> SmallFs {
        assert!(
            pgrelocate_engine::server::os_user::running_as_root(),
            "this test mounts a tmpfs and must run as root"
        );
        let dir = tempfile::Builder::new()
            .prefix("pgrelocate-smallfs-")
            .tempdir_in("/tmp")
            .unwrap();
        let status = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes},mode=0755"),
                "pgrelocate-test",
            ])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mount tmpfs failed");
        SmallFs(dir)
    }

    fn resize(&self, bytes: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(self.0.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount failed");
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[tokio::test]
async fn a_small_filesystem_is_an_error_and_little_headroom_a_warning() {
    let source = Cluster::builder(15).start().await.unwrap();
    source
        .sql("CREATE TABLE bulk AS SELECT g AS id, repeat('x', 100) AS filler FROM generate_series(1, 100000) g")
        .await
        .unwrap();
    let fs = SmallFs::mount(64 << 20);
    // Declared after the mount, so its servers stop before the unmount.
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest_in("dest", 15, &fs.path().join("data"))
        .await;

    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_error(&report, "dest.storage", &["--data-dir", "free space"]);
    let required = check.evidence["required_bytes"].as_u64().unwrap();
    let free = check.evidence["free_bytes"].as_u64().unwrap();
    let fs_size = check.evidence["filesystem_bytes"].as_u64().unwrap();
    assert!(free < required, "{check:?}");

    // Room for the copy plus 10 %: enough, but under the 25 % headroom.
    fs.resize(fs_size - free + required * 110 / 100);
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_warning(&report, "dest.storage", &["headroom"]);
    let ratio = check.evidence["ratio"].as_f64().unwrap();
    assert!((1.0..1.25).contains(&ratio), "ratio {ratio}");
}

#[tokio::test]
async fn tablespaces_need_an_empty_mapped_folder() {
    let source = Cluster::builder(15).start().await.unwrap();
    let location = source.create_tablespace("archive").await.unwrap();
    source
        .sql("CREATE TABLE old_orders (id int) TABLESPACE archive; INSERT INTO old_orders VALUES (1)")
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    let dest = env.create_dest("dest", 15, None).await;
    let data_dir = dest.managed.unwrap().data_dir;
    let with = |new: PathBuf| Options {
        tablespace_mappings: vec![(location.clone(), new)],
        ..options()
    };

    // Mapped onto a folder that already holds files: no usable mapping.
    let occupied = tempfile::tempdir().unwrap();
    std::fs::write(occupied.path().join("somebody-else.dat"), "x").unwrap();
    let report = env
        .assess("src", "dest", Mode::Migration, with(occupied.path().into()))
        .await;
    let check = expect_error(
        &report,
        "dest.tablespaces",
        &[
            "--tablespace-mapping",
            &location.display().to_string(),
            "Tablespaces fields of the app's Create Task dialog",
        ],
    );
    assert!(check.message.contains("not empty"), "{}", check.message);

    // Mapped into the destination's data directory: refused too.
    let report = env
        .assess("src", "dest", Mode::Migration, with(data_dir.join("ts")))
        .await;
    let check = expect_error(&report, "dest.tablespaces", &["--tablespace-mapping"]);
    assert!(
        check
            .message
            .contains("inside the destination's data directory"),
        "{}",
        check.message
    );

    // Mapped onto a new folder: fine.
    let fresh = tempfile::tempdir().unwrap();
    let report = env
        .assess(
            "src",
            "dest",
            Mode::Migration,
            with(fresh.path().join("archive")),
        )
        .await;
    expect(&report, "dest.tablespaces", Status::Success);

    // No mapping, and the folder is the (local) source's own: a default beside the destination.
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect_warning(&report, "dest.tablespaces", &["no mapping given"]);
    // Both ways to choose the folders: the app's dialog field and the CLI's flag.
    for both in [
        "Tablespaces fields of the app's Create Task dialog",
        "--tablespace-mapping",
    ] {
        assert!(check.remedy.contains(both), "{}", check.remedy);
    }
}

#[tokio::test]
async fn extensions_and_c_libraries_missing_from_the_destination_binaries_are_errors() {
    // The test kit's build ships PL/Tcl (and ICU 60); Debian's PostgreSQL 15 here has neither
    // the postgresql-15-pltcl package nor that ICU.
    let source = Cluster::builder(15).start().await.unwrap();
    source
        .sql(
            "CREATE EXTENSION pltcl; \
             CREATE FUNCTION lonely_handler() RETURNS language_handler \
               AS '$libdir/pltcl', 'pltcl_call_handler' LANGUAGE C; \
             CREATE TABLE words (w text COLLATE \"und-x-icu\"); \
             CREATE INDEX ON words (w); INSERT INTO words VALUES ('a'), ('B')",
        )
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.create_dest("debian-dest", 15, Some("/usr/lib/postgresql/15/bin".into()))
        .await;

    let report = env
        .assess("src", "debian-dest", Mode::Migration, options())
        .await;
    let ext = expect_error(&report, "dest.extensions", &["pltcl", "postgresql-15"]);
    assert!(ext.message.contains("pltcl"), "{}", ext.message);
    assert!(
        ext.message
            .contains("/usr/share/postgresql/15/extension/pltcl.control"),
        "{}",
        ext.message
    );
    let c = expect_error(
        &report,
        "dest.c_functions",
        &["/usr/lib/postgresql/15/lib/pltcl.so"],
    );
    assert!(c.message.contains("lonely_handler"), "{}", c.message);
    // Indexes sorted by ICU 60 on the source; the destination's ICU differs.
    let coll = expect_warning(&report, "src.collation", &["und-x-icu"]);
    assert!(
        coll.remedy.contains("REINDEX DATABASE postgres;"),
        "{}",
        coll.remedy
    );
}

#[tokio::test]
async fn a_database_locale_missing_on_this_host_is_an_error() {
    // A locale compiled into a folder that only the source's server sees (LOCPATH).
    let locales = tempfile::Builder::new()
        .prefix("pgrelocate-locpath-")
        .tempdir_in("/tmp")
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(locales.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let status = Command::new("localedef")
        .args(["-i", "en_US", "-f", "UTF-8"])
        .arg(locales.path().join("pgr_TEST.utf8"))
        .status()
        .expect("localedef (libc-bin) with locale sources (package locales)");
    assert!(status.success() || locales.path().join("pgr_TEST.utf8/LC_COLLATE").exists());
    let source = Cluster::builder(15)
        .server_env("LOCPATH", locales.path().to_str().unwrap())
        .start()
        .await
        .unwrap();
    source
        .sql("CREATE DATABASE lost_locale LC_COLLATE 'pgr_TEST.utf8' LC_CTYPE 'pgr_TEST.utf8' TEMPLATE template0")
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    env.register_nowhere("external-dest").await;

    let report = env
        .assess("src", "external-dest", Mode::Migration, options())
        .await;
    let check = expect_error(
        &report,
        "dest.locales",
        &["locales-all", "locale-gen", "pgr_TEST.UTF-8 UTF-8"],
    );
    assert!(
        check
            .message
            .contains("pgr_TEST.utf8 (used by lost_locale)"),
        "{}",
        check.message
    );
}

/// A cgroup v1 memory group with a limit, removed on drop.
struct MemoryGroup(PathBuf);

impl MemoryGroup {
    fn new(limit: u64) -> MemoryGroup {
        let dir = PathBuf::from(format!(
            "/sys/fs/cgroup/memory/pgrelocate-test-{}",
            std::process::id()
        ));
        std::fs::create_dir(&dir)
            .expect("this test needs a writable cgroup v1 memory controller (root)");
        std::fs::write(dir.join("memory.limit_in_bytes"), limit.to_string()).unwrap();
        MemoryGroup(dir)
    }

    fn adopt(&self, pid: u32) {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).unwrap();
    }
}

impl Drop for MemoryGroup {
    fn drop(&mut self) {
        if let Ok(pids) = std::fs::read_to_string(self.0.join("cgroup.procs")) {
            for pid in pids.split_whitespace() {
                let _ = std::fs::write("/sys/fs/cgroup/memory/cgroup.procs", pid);
            }
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[tokio::test]
async fn standby_parameters_that_outgrow_the_destinations_memory_are_a_warning() {
    let source = Cluster::builder(15)
        .setting("max_connections", "3000")
        .start()
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "postgres", source.superuser_password())
        .await;
    let dest = env.create_dest("dest", 15, None).await;
    let m = dest.managed.unwrap();

    // Plenty of memory: the raised settings are only shown.
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    let check = expect(&report, "dest.standby_params", Status::Success);
    assert!(
        check.message.contains("max_connections 100 → 3000"),
        "{}",
        check.message
    );

    // The destination's server in a 512 MiB control group, as in a container.
    let group = MemoryGroup::new(512 << 20);
    let pid = std::fs::read_to_string(m.data_dir.join("postmaster.pid")).unwrap();
    group.adopt(pid.lines().next().unwrap().trim().parse().unwrap());
    let report = env.assess("src", "dest", Mode::Migration, options()).await;
    stop_now(&m.bin_dir, &m.data_dir, m.os_user.as_deref());
    let check = expect_warning(
        &report,
        "dest.standby_params",
        &["max_connections 100 → 3000", "shared memory"],
    );
    assert!(
        check.evidence["memory_limit_source"]
            .as_str()
            .unwrap()
            .contains("pgrelocate-test-"),
        "{:?}",
        check.evidence
    );
}
