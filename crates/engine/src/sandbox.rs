//! The sandbox: a managed source with realistic content and an empty managed destination
//! of the same major, both registered, so the console has something to migrate.
//!
//! The content is made with SQL alone (no `pgbench` needed): pgbench's four tables at scale
//! 1, a second database, a user tablespace, a large object, an unlogged table, a table with
//! a non-ASCII name, and an extension from contrib. It takes a few seconds.

use std::path::PathBuf;

use serde::Serialize;

use crate::instances::{CreateRequest, InstanceError, Instances};
use crate::quote::sql::{ident, literal};
use crate::server::OsUser;
use crate::sql::{self, SqlError};
use crate::store::InstanceRecord;
use crate::version::ServerVersion;

/// Name of the sandbox source instance.
pub const SOURCE: &str = "sandbox-source";
/// Name of the sandbox destination instance.
pub const DESTINATION: &str = "sandbox-dest";
/// The second database on the source.
pub const SECOND_DATABASE: &str = "sandbox_shop";
/// The user tablespace on the source.
pub const TABLESPACE: &str = "sandbox_archive";
/// The table with a non-ASCII name.
pub const NON_ASCII_TABLE: &str = "café_müşteri_顧客";
/// Contrib extensions tried in order; the first one available is created.
pub const EXTENSIONS: [&str; 4] = ["pg_trgm", "hstore", "citext", "pgcrypto"];

/// What `sandbox create` made.
#[derive(Debug, Clone, Serialize)]
pub struct Sandbox {
    /// The source, with content.
    pub source: InstanceRecord,
    /// The empty destination.
    pub destination: InstanceRecord,
    /// The contrib extension created on the source, if the binaries ship one.
    pub extension: Option<String>,
    /// Where the user tablespace lives.
    pub tablespace_dir: PathBuf,
}

/// What `create` would make now: which PostgreSQL and which ports, so the console can say
/// it before anything is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SandboxPlan {
    /// The binaries' version (the newest installed major, or the one asked for).
    pub version: ServerVersion,
    /// Their folder.
    pub bin_dir: PathBuf,
    /// The loopback port the source will listen on.
    pub source_port: u16,
    /// The loopback port the destination will listen on.
    pub destination_port: u16,
}

/// The plan of `create` for `major` (`None`: the newest installed). Fails as `create` would
/// when a sandbox already exists or no installation can run servers. The ports are the ones
/// `create` picks the same way (the first free ones of the range), unless another program
/// takes one meanwhile.
pub async fn plan(instances: &Instances, major: Option<u32>) -> Result<SandboxPlan, InstanceError> {
    for name in [SOURCE, DESTINATION] {
        if instances.store().find_instance(name)?.is_some() {
            return Err(InstanceError::SandboxExists(name.to_string()));
        }
    }
    let major = match major {
        Some(m) => m,
        None => instances
            .discover()
            .await?
            .into_iter()
            .filter(|i| i.can_run_servers && i.version.is_supported())
            .map(|i| i.version.major)
            .max()
            .ok_or(InstanceError::NoInstallation {
                major: crate::version::MAX_MAJOR,
            })?,
    };
    let installation = instances.installation(major, None).await?;
    let ports = instances.free_ports(2)?;
    Ok(SandboxPlan {
        version: installation.version,
        bin_dir: installation.bin_dir,
        source_port: ports[0],
        destination_port: ports[1],
    })
}

/// Creates the sandbox with the newest installed major (or `major`). Fails, changing
/// nothing, when a sandbox already exists.
pub async fn create(instances: &Instances, major: Option<u32>) -> Result<Sandbox, InstanceError> {
    let planned = plan(instances, major).await?;
    let major = planned.version.major;
    let bin_dir = planned.bin_dir;
    let source = instances
        .create(CreateRequest {
            name: SOURCE.into(),
            major,
            bin_dir: Some(bin_dir.clone()),
            ..Default::default()
        })
        .await?;
    let result = async {
        let destination = instances
            .create(CreateRequest {
                name: DESTINATION.into(),
                major,
                bin_dir: Some(bin_dir),
                ..Default::default()
            })
            .await?;
        let (extension, tablespace_dir) = fill(instances, &source).await?;
        Ok(Sandbox {
            source: source.clone(),
            destination,
            extension,
            tablespace_dir,
        })
    }
    .await;
    if result.is_err() {
        let _ = remove(instances).await;
    }
    result
}

/// Removes the sandbox instances and their data. Returns the names removed.
pub async fn remove(instances: &Instances) -> Result<Vec<String>, InstanceError> {
    let mut removed = Vec::new();
    for name in [DESTINATION, SOURCE] {
        if instances.store().find_instance(name)?.is_some() {
            instances.remove(name).await?;
            removed.push(name.to_string());
        }
    }
    Ok(removed)
}

/// Loads the content into the source; returns the extension made and the tablespace folder.
async fn fill(
    instances: &Instances,
    source: &InstanceRecord,
) -> Result<(Option<String>, PathBuf), InstanceError> {
    let managed = source
        .managed
        .as_ref()
        .expect("the sandbox source is managed");
    let password = instances.password_for(source).await?;
    let map = |e: tokio_postgres::Error| SqlError::from_driver(&e, &source.endpoint);
    let client = sql::connect(
        &source.endpoint,
        password.as_ref(),
        sql::DEFAULT_CONNECT_TIMEOUT,
    )
    .await?;

    // The tablespace lives beside the data directory, inside the folder `remove` deletes.
    let base = managed.created_dir.clone().unwrap_or_else(|| {
        managed
            .data_dir
            .parent()
            .unwrap_or(&managed.data_dir)
            .to_path_buf()
    });
    let ts_parent = base.join("tablespaces");
    let ts_dir = ts_parent.join(TABLESPACE);
    let os_user = OsUser::for_servers(managed.os_user.as_deref())?;
    std::fs::create_dir_all(&ts_parent).map_err(crate::server::ServerError::io(&ts_parent))?;
    crate::server::os_user::create_private_dir(&ts_dir, os_user.as_ref())?;

    // One statement at a time: CREATE TABLESPACE and CREATE DATABASE refuse to run inside
    // the implicit transaction of a multi-statement query.
    let script = format!(
            "CREATE TABLE pgbench_branches (bid int NOT NULL PRIMARY KEY, bbalance int, filler char(88)) WITH (fillfactor = 100);
             CREATE TABLE pgbench_tellers (tid int NOT NULL PRIMARY KEY, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100);
             CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor = 100);
             CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
             INSERT INTO pgbench_branches (bid, bbalance) VALUES (1, 0);
             INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT t, 1, 0 FROM generate_series(1, 10) t;
             INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT a, 1, 0, '' FROM generate_series(1, 100000) a;
             ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid);
             INSERT INTO pgbench_history SELECT (a % 10) + 1, 1, a, (a % 1000) - 500, now() - a * interval '1 second', ''
               FROM generate_series(1, 1000) a;

             CREATE TABLESPACE {ts} LOCATION {location};
             CREATE TABLE archived_orders (id int PRIMARY KEY, placed date, total numeric(10, 2)) TABLESPACE {ts};
             INSERT INTO archived_orders SELECT i, date '2020-01-01' + i % 1000, (i % 997) / 10.0 FROM generate_series(1, 5000) i;

             CREATE UNLOGGED TABLE session_cache (key text PRIMARY KEY, value jsonb, expires timestamptz);
             INSERT INTO session_cache SELECT 'session-' || i, jsonb_build_object('user', i), now() + interval '1 hour' FROM generate_series(1, 500) i;

             CREATE TABLE {table} (id int PRIMARY KEY, nom text NOT NULL, ville text);
             INSERT INTO {table} VALUES (1, 'Zoë Ångström', 'Malmö'), (2, 'Çağrı Öztürk', 'İzmir'), (3, '山田 太郎', '東京');

             CREATE TABLE documents (name text PRIMARY KEY, body oid NOT NULL);
             INSERT INTO documents VALUES ('welcome.txt', lo_from_bytea(0, convert_to('Moved by pgrelocate, byte for byte.', 'UTF8')));

             CREATE DATABASE {db}",
            ts = ident(TABLESPACE),
            location = literal(&ts_dir.to_string_lossy()),
            table = ident(NON_ASCII_TABLE),
            db = ident(SECOND_DATABASE),
    );
    for statement in script.split(";\n") {
        client.batch_execute(statement).await.map_err(map)?;
    }

    let available: Vec<String> = client
        .query("SELECT name FROM pg_available_extensions", &[])
        .await
        .map_err(map)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let extension = EXTENSIONS
        .iter()
        .find(|e| available.iter().any(|a| a == *e))
        .map(|e| e.to_string());
    match &extension {
        Some(ext) => client
            .batch_execute(&format!("CREATE EXTENSION {}", ident(ext)))
            .await
            .map_err(map)?,
        None => tracing::warn!(
            bin_dir = %managed.bin_dir.display(),
            "no contrib extension ({}) is installed with these binaries; the sandbox has none",
            EXTENSIONS.join(", ")
        ),
    }
    drop(client);

    let mut shop = source.endpoint.clone();
    shop.dbname = SECOND_DATABASE.into();
    let client = sql::connect(&shop, password.as_ref(), sql::DEFAULT_CONNECT_TIMEOUT).await?;
    client
        .batch_execute(
            "CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10, 2));
             INSERT INTO products SELECT i, 'product ' || i, (i % 500) + 0.99 FROM generate_series(1, 2000) i;
             CREATE TABLE orders (id bigserial PRIMARY KEY, product_id int REFERENCES products, quantity int, placed timestamptz DEFAULT now());
             INSERT INTO orders (product_id, quantity) SELECT (i % 2000) + 1, (i % 5) + 1 FROM generate_series(1, 10000) i;
             CREATE VIEW revenue AS SELECT p.name, sum(o.quantity * p.price) AS total FROM orders o JOIN products p ON p.id = o.product_id GROUP BY p.name;",
        )
        .await
        .map_err(|e| SqlError::from_driver(&e, &shop))?;
    Ok((extension, ts_dir))
}
