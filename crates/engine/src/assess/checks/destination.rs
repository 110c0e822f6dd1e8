//! Destination: a managed, empty primary of the same major on this host, with room, the
//! same binary format, and the locales, extensions and libraries the source's data needs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{check, count, count_of, list, shell_word, size, DESTINATION};
use crate::assess::check::{Check, Outcome};
use crate::assess::context::{Context, ServerFacts};
use crate::assess::host::{self, ServerDirs};
use crate::assess::model::Level;
use crate::backup::placement::{self, DirState};
use crate::quote::sql::ident;
pub use crate::task::plan::default_tablespace_target;
use crate::task::plan::{self, FLOOR_SETTINGS};
use crate::version::ServerVersion;

pub(super) fn checks() -> Vec<Check<Context>> {
    vec![
        check!(
            "dest.managed",
            DESTINATION,
            "Check destination is managed on this host",
            Level::Error,
            [],
            managed
        ),
        check!(
            "dest.primary",
            DESTINATION,
            "Check destination is a primary",
            Level::Error,
            ["dest.managed"],
            primary
        ),
        check!(
            "dest.empty",
            DESTINATION,
            "Check destination is empty",
            Level::Error,
            ["dest.primary"],
            empty
        ),
        check!(
            "dest.same_system",
            DESTINATION,
            "Check destination is another cluster",
            Level::Error,
            ["dest.managed", "src.login"],
            same_system
        ),
        check!(
            "dest.version",
            DESTINATION,
            "Check major version",
            Level::Error,
            ["dest.primary", "src.login"],
            version
        ),
        check!(
            "dest.storage",
            DESTINATION,
            "Check destination free space",
            Level::Error,
            ["dest.managed", "src.login"],
            storage
        ),
        check!(
            "dest.binary_compat",
            DESTINATION,
            "Check binary compatibility",
            Level::Error,
            ["dest.primary", "src.login"],
            binary_compat
        ),
        check!(
            "dest.locales",
            DESTINATION,
            "Check locales on the destination host",
            Level::Error,
            ["src.login"],
            locales
        ),
        check!(
            "dest.tablespaces",
            DESTINATION,
            "Check tablespace mapping",
            Level::Error,
            ["dest.managed", "src.login"],
            tablespaces
        ),
        check!(
            "dest.extensions",
            DESTINATION,
            "Check extensions on the destination",
            Level::Error,
            ["dest.managed", "src.login"],
            extensions
        ),
        check!(
            "dest.c_functions",
            DESTINATION,
            "Check C function libraries",
            Level::Error,
            ["dest.managed", "src.login"],
            c_functions
        ),
        check!(
            "dest.standby_params",
            DESTINATION,
            "Check standby parameters",
            Level::Warning,
            ["dest.primary", "src.login"],
            standby_params
        ),
    ]
}

/// Fraction of the memory available to the destination its shared memory may take before
/// the host looks unable to give it (the rest is for sessions, sorts and the page cache).
const SHARED_MEMORY_SHARE: f64 = 0.5;

async fn source_major_hint(ctx: &Context) -> String {
    match ctx.source_facts().await {
        Ok(f) => f.version.major.to_string(),
        Err(_) => "<source major>".into(),
    }
}

async fn managed(ctx: &Context) -> Outcome {
    let name = ctx.dest.name();
    let Some(m) = ctx.dest.managed() else {
        return Outcome::fail(format!(
            "{name} is an external instance: pgrelocate only connects to it"
        ))
        .impact(
            "a physical copy rebuilds the destination's data directory, which must be on this host",
        )
        .remedy(format!(
            "create a managed destination on this host:\npgrelocate instance create {} --major {}",
            shell_word(&format!("{name}-managed")),
            source_major_hint(ctx).await
        ))
        .evidence("kind", "external");
    };
    let data_dir = m.data_dir.display().to_string();
    let base = |o: Outcome| {
        o.evidence("data_dir", &data_dir)
            .evidence("bin_dir", m.bin_dir.display().to_string())
            .evidence("major", m.major)
            .evidence("os_user", m.os_user.clone())
    };
    if !m.data_dir.join("PG_VERSION").is_file() {
        return base(
            Outcome::fail(format!("the data directory {data_dir} is missing or not a cluster"))
                .impact("there is no destination cluster to replace")
                .remedy(format!(
                    "remove and create it again:\npgrelocate instance remove {n}\npgrelocate instance create {n} --major {}",
                    m.major,
                    n = shell_word(name)
                )),
        );
    }
    if !m.bin_dir.join("postgres").is_file() || !m.bin_dir.join("pg_ctl").is_file() {
        return base(
            Outcome::fail(format!(
                "the server binaries in {} are gone",
                m.bin_dir.display()
            ))
            .impact("pgrelocate cannot start or stop the destination")
            .remedy(format!(
                "install PostgreSQL {} server binaries in {} again",
                m.major,
                m.bin_dir.display()
            )),
        );
    }
    let expected_uid = match &m.os_user {
        Some(user) => crate::server::OsUser::lookup(user).ok().map(|u| u.uid),
        // SAFETY: geteuid has no preconditions.
        None => Some(unsafe { libc::geteuid() }),
    };
    let owner = host::owner_uid(&m.data_dir);
    if expected_uid.is_some() && owner != expected_uid {
        let user = m
            .os_user
            .clone()
            .unwrap_or_else(|| "the current user".into());
        return base(
            Outcome::fail(format!(
                "{data_dir} is owned by uid {}, not by {user}",
                owner.map(|o| o.to_string()).unwrap_or_else(|| "?".into())
            ))
            .impact("the server refuses to start on a data directory it does not own")
            .remedy(format!(
                "chown -R {}: {}",
                shell_word(&user),
                shell_word(&data_dir)
            )),
        );
    }
    if host::postmaster_pid(&m.data_dir).is_none() {
        return base(
            Outcome::fail(format!("{name} is stopped"))
                .impact("the destination's state cannot be checked while it is stopped")
                .remedy(format!("pgrelocate instance start {}", shell_word(name)))
                .evidence("state", "stopped"),
        );
    }
    base(
        Outcome::pass(format!(
            "{name} is managed here: PostgreSQL {} in {data_dir}, running",
            m.major
        ))
        .evidence("state", "running"),
    )
}

async fn primary(ctx: &Context) -> Outcome {
    let f = match ctx.dest_facts().await {
        Ok(f) => f,
        Err(e) => {
            return Outcome::fail(format!("cannot query the destination: {e}"))
                .impact("the destination's state cannot be checked")
                .remedy(format!(
                    "see what is wrong with:\npgrelocate instance status {}",
                    shell_word(ctx.dest.name())
                ))
        }
    };
    if f.in_recovery {
        Outcome::fail(format!(
            "{} is in recovery (a standby of another server)",
            ctx.dest.name()
        ))
        .impact(
            "a standby cannot become the copy's target: its data directory follows another primary",
        )
        .remedy(format!(
            "use a primary: create a fresh destination\npgrelocate instance create {} --major {}",
            shell_word(&format!("{}-new", ctx.dest.name())),
            f.version.major
        ))
        .evidence("in_recovery", true)
    } else {
        Outcome::pass("the destination is a primary (not in recovery)")
            .evidence("in_recovery", false)
    }
}

/// User objects found in one destination database.
async fn objects_in(ctx: &Context, dbname: &str) -> Result<Vec<(String, String)>, String> {
    let mut endpoint = ctx.dest.endpoint().clone();
    endpoint.dbname = dbname.to_string();
    let client = crate::sql::connect(
        &endpoint,
        ctx.dest.password.as_ref(),
        ctx.options.connect_timeout,
    )
    .await
    .map_err(|e| e.to_string())?;
    // Objects created after initdb have oids from 16384 on; extension members are listed
    // through their extension.
    let not_member = |catalog: &str, col: &str| {
        format!(
            "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass \
             AND d.objid = {col} AND d.deptype = 'e')"
        )
    };
    let sql = format!(
        "SELECT kind, name FROM ( \
           SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' \
                  WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind, \
                  c.oid::regclass::text AS name \
           FROM pg_class c WHERE c.oid >= 16384 AND c.relkind IN ('r','p','v','m','S','f') \
             AND c.relpersistence <> 't' AND {} \
             AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d \
                 WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a','i'))) \
           UNION ALL SELECT 'function', p.oid::regprocedure::text FROM pg_proc p \
           WHERE p.oid >= 16384 AND {} \
           UNION ALL SELECT 'type', t.oid::regtype::text FROM pg_type t \
           WHERE t.oid >= 16384 AND t.typtype IN ('e','d','r','m') AND {} \
           UNION ALL SELECT 'extension', extname::text FROM pg_extension WHERE extname <> 'plpgsql' \
           UNION ALL SELECT 'schema', nspname::text FROM pg_namespace n \
           WHERE n.oid >= 16384 AND nspname NOT LIKE 'pg\\_temp\\_%' \
             AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%' AND {} \
         ) s ORDER BY 1, 2",
        not_member("pg_class", "c.oid"),
        not_member("pg_proc", "p.oid"),
        not_member("pg_type", "t.oid"),
        not_member("pg_namespace", "n.oid"),
    );
    let rows = client
        .query(sql.as_str(), &[])
        .await
        .map_err(|e| crate::assess::context::describe_pg_error(&e))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

fn drop_statement(kind: &str, name: &str) -> String {
    match kind {
        "extension" => format!("DROP EXTENSION {} CASCADE;", ident(name)),
        "schema" => format!("DROP SCHEMA {} CASCADE;", ident(name)),
        "function" => format!("DROP FUNCTION {name} CASCADE;"),
        "type" => format!("DROP TYPE {name} CASCADE;"),
        other => format!("DROP {} {name} CASCADE;", other.to_uppercase()),
    }
}

async fn empty(ctx: &Context) -> Outcome {
    let client = match ctx.dest_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let query = |sql: &'static str| async move {
        client
            .query(sql, &[])
            .await
            .map(|rows| {
                rows.iter()
                    .map(|r| r.get::<_, String>(0))
                    .collect::<Vec<_>>()
            })
            .map_err(|e| crate::assess::context::describe_pg_error(&e))
    };
    let databases = match query(
        "SELECT datname::text FROM pg_database \
         WHERE datname NOT IN ('template0', 'template1', 'postgres') ORDER BY 1",
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return Outcome::fail(format!("cannot list the destination's databases: {e}")),
    };
    let roles = query("SELECT rolname::text FROM pg_roles WHERE oid >= 16384 ORDER BY 1")
        .await
        .unwrap_or_default();
    let tablespaces =
        query("SELECT spcname::text FROM pg_tablespace WHERE oid >= 16384 ORDER BY 1")
            .await
            .unwrap_or_default();
    let mut found: Vec<String> = Vec::new();
    let mut drops: Vec<String> = Vec::new();
    for db in &databases {
        found.push(format!("database {db}"));
        drops.push(format!("DROP DATABASE {};", ident(db)));
    }
    let mut objects = BTreeMap::new();
    let mut uninspected: Vec<String> = Vec::new();
    for db in ["postgres", "template1"] {
        match objects_in(ctx, db).await {
            Ok(list) if !list.is_empty() => {
                drops.push(format!("-- in database {db}:"));
                for (kind, name) in &list {
                    found.push(format!("{kind} {name} (in {db})"));
                    drops.push(drop_statement(kind, name));
                }
                objects.insert(db, list);
            }
            Ok(_) => {}
            Err(e) => uninspected.push(format!("database {db} could not be inspected: {e}")),
        }
    }
    for ts in &tablespaces {
        found.push(format!("tablespace {ts}"));
        drops.push(format!("DROP TABLESPACE {};", ident(ts)));
    }
    for role in &roles {
        found.push(format!("role {role}"));
        drops.push(format!("DROP ROLE {};", ident(role)));
    }
    let evidence = |o: Outcome| {
        o.evidence("databases", &databases)
            .evidence("roles", &roles)
            .evidence("tablespaces", &tablespaces)
            .evidence(
                "objects",
                objects
                    .iter()
                    .map(|(db, l)| {
                        (
                            db.to_string(),
                            l.iter()
                                .map(|(k, n)| format!("{k} {n}"))
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            )
    };
    if found.is_empty() && uninspected.is_empty() {
        return evidence(Outcome::pass(
            "only template0, template1 and postgres exist, with no user objects or roles",
        ));
    }
    if found.is_empty() {
        // Nothing to drop was seen: the remedy is to let us look, not to drop anything.
        return evidence(
            Outcome::fail(format!(
                "cannot tell whether the destination is empty: {}",
                uninspected.join("; ")
            ))
            .impact("a copy into a destination that holds data would destroy that data")
            .remedy(
                "make sure the destination accepts connections from this host with its \
                 stored account (pgrelocate instance status shows why not), then run the \
                 assessment again",
            ),
        );
    }
    found.extend(uninspected);
    let major = ctx.dest.managed().map(|m| m.major).unwrap_or(0);
    let fresh = format!(
        "pgrelocate instance create {} --major {major}",
        shell_word(&format!("{}-new", ctx.dest.name()))
    );
    let serving = serves_as_primary(ctx, client).await;
    if !serving.is_empty() {
        // Dropping things on a server in use would destroy what its clients work with.
        return evidence(
            Outcome::fail(format!(
                "the destination is not empty, and it serves as a primary: {}; it holds {}",
                serving.join("; "),
                list(&found, 6)
            ))
            .impact(
                "the copy replaces the whole data directory: a server in use would lose \
                 everything its clients work with",
            )
            .remedy(format!(
                "pgrelocate offers nothing to drop on a server that serves as a primary ({}). \
                 Choose another destination, or create a fresh one:\n{fresh}",
                serving.join("; ")
            ))
            .evidence("serves_as_primary", &serving),
        );
    }
    evidence(
        Outcome::fail(format!(
            "the destination is not empty: {}",
            list(&found, 6)
        ))
        .impact("the copy replaces the whole data directory: everything listed would be lost")
        .remedy(format!(
            "if none of it is needed, drop it on the destination:\n{}\nor create a fresh destination:\n{fresh}",
            drops.join("\n"),
        ))
        .evidence("serves_as_primary", Vec::<String>::new()),
    )
}

/// Why the destination is a primary in use, if it is: client sessions other than
/// pgrelocate's own, standbys streaming from it, or the task that promoted it.
async fn serves_as_primary(ctx: &Context, client: &tokio_postgres::Client) -> Vec<String> {
    let mut why = Vec::new();
    if let Some(task) = &ctx.dest.promoted_by {
        why.push(format!("task {task} promoted it"));
    }
    let sessions = client
        .query(
            "SELECT backend_type = 'walsender', \
                    format('%s@%s%s%s', usename, coalesce(datname, '-'), \
                           coalesce(' from ' || host(client_addr), ''), \
                           coalesce(nullif(' (' || application_name || ')', ' ()'), '')) \
             FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND backend_type IN ('client backend', 'walsender') \
               AND application_name IS DISTINCT FROM 'pgrelocate' \
             ORDER BY 2",
            &[],
        )
        .await;
    match sessions {
        Ok(rows) => {
            let (standbys, clients): (Vec<_>, Vec<_>) =
                rows.iter().partition(|r| r.get::<_, bool>(0));
            let names = |rows: &[&tokio_postgres::Row]| {
                rows.iter()
                    .map(|r| r.get::<_, String>(1))
                    .collect::<Vec<_>>()
            };
            if !clients.is_empty() {
                why.push(format!(
                    "{} connected: {}",
                    count(clients.len(), "client session"),
                    list(&names(&clients), 3)
                ));
            }
            if !standbys.is_empty() {
                why.push(format!(
                    "{} streaming from it: {}",
                    count(standbys.len(), "standby"),
                    list(&names(&standbys), 3)
                ));
            }
        }
        // Unknown is not "idle": without the list, nothing destructive is offered either.
        Err(e) => why.push(format!(
            "its sessions could not be listed ({})",
            crate::assess::context::describe_pg_error(&e)
        )),
    }
    why
}

/// The destination's system identifier, read from its control file on this host.
fn control_file_system_id(data_dir: &Path) -> Option<String> {
    let bytes = std::fs::read(data_dir.join("global/pg_control")).ok()?;
    let id = u64::from_ne_bytes(bytes.get(..8)?.try_into().ok()?);
    Some(id.to_string())
}

async fn same_system(ctx: &Context) -> Outcome {
    let src = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let source_id = match &src.system_id {
        Some(id) => Some(id.clone()),
        None => ctx
            .replication()
            .await
            .ok()
            .map(|i| i.system_id.to_string()),
    };
    let dest_id = ctx
        .dest
        .managed()
        .and_then(|m| control_file_system_id(&m.data_dir));
    let (Some(source_id), Some(dest_id)) = (source_id, dest_id) else {
        return Outcome::skip("a system identifier could not be read (the source's needs pg_control_system() or a replication connection)");
    };
    let out = |o: Outcome| {
        o.evidence("source_system_identifier", &source_id)
            .evidence("destination_system_identifier", &dest_id)
    };
    if source_id != dest_id {
        return out(Outcome::pass(
            "source and destination are different clusters",
        ));
    }
    let what = if ctx.source.record.id == ctx.dest.record.id {
        "the destination is the source itself".to_string()
    } else {
        "the destination is the source cluster or already a copy of it".to_string()
    };
    out(
        Outcome::fail(format!("{what} (system identifier {source_id})"))
            .impact("copying a cluster onto itself (or its copy) would destroy it")
            .remedy(format!(
            "pick another destination, or create one:\npgrelocate instance create {} --major {}",
            shell_word(&format!("{}-dest", ctx.source.name())),
            src.version.major
        )),
    )
}

async fn version(ctx: &Context) -> Outcome {
    let (src, dst) = match (
        ctx.source_facts_or_skip().await,
        ctx.dest_facts_or_skip().await,
    ) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(o), _) | (_, Err(o)) => return o,
    };
    judge_versions(src.version, dst.version, ctx.dest.name())
        .evidence("source_version", &src.version_text)
        .evidence("destination_version", &dst.version_text)
}

/// Same major required; an older destination minor is a warning.
fn judge_versions(src: ServerVersion, dst: ServerVersion, dest_name: &str) -> Outcome {
    if src.major != dst.major {
        return Outcome::fail(format!(
            "the source runs PostgreSQL {src}, the destination {dst}: a physical copy needs the same major version"
        ))
        .impact("the destination's server cannot read the source's data files")
        .remedy(format!(
            "create a destination of major {}:\npgrelocate instance create {} --major {}",
            src.major,
            shell_word(&format!("{dest_name}-{}", src.major)),
            src.major
        ));
    }
    if dst.minor < src.minor {
        return Outcome::warn(format!(
            "same major {}, but the destination's minor release {dst} is older than the source's {src}",
            src.major
        ))
        .impact("WAL from a newer minor release can use records an older one cannot replay; older minors also miss bug fixes")
        .remedy(format!(
            "update the destination's PostgreSQL {} binaries to {src} or later",
            dst.major
        ));
    }
    Outcome::pass(format!(
        "same major version: source {src}, destination {dst}"
    ))
}

/// Bytes the copy needs on each filesystem (by device), with the targets on it.
struct Needs {
    data_device: Option<u64>,
    by_device: BTreeMap<u64, (u64, Vec<String>)>,
}

/// Where each source tablespace goes: the mapping's target, else its own location.
fn tablespace_target(ctx: &Context, location: &Path) -> PathBuf {
    ctx.options
        .tablespace_mappings
        .iter()
        .find(|(old, _)| old == location)
        .map(|(_, new)| new.clone())
        .unwrap_or_else(|| location.to_path_buf())
}

fn needs(ctx: &Context, src: &ServerFacts, data_dir: &Path) -> Option<Needs> {
    let total = src.size_bytes()?;
    let data_device = host::device_of(data_dir);
    let mut by_device: BTreeMap<u64, (u64, Vec<String>)> = BTreeMap::new();
    let mut main = total;
    for ts in &src.tablespaces {
        let (Some(size), target) = (ts.size, tablespace_target(ctx, &ts.location)) else {
            continue;
        };
        let Some(device) = host::device_of(&target) else {
            continue;
        };
        if Some(device) != data_device {
            main = main.saturating_sub(size);
            let e = by_device.entry(device).or_default();
            e.0 += size;
            e.1.push(target.display().to_string());
        }
    }
    if let Some(d) = data_device {
        let e = by_device.entry(d).or_default();
        e.0 += main;
        e.1.push(data_dir.display().to_string());
    }
    Some(Needs {
        data_device,
        by_device,
    })
}

async fn storage(ctx: &Context) -> Outcome {
    let src = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let Some(m) = ctx.dest.managed() else {
        return Outcome::skip("the destination is not managed");
    };
    let Some(free) = host::free_bytes(&m.data_dir) else {
        return Outcome::fail(format!(
            "cannot read the free space of {}",
            m.data_dir.display()
        ));
    };
    let Some(needs) = needs(ctx, src, &m.data_dir) else {
        return Outcome::warn(
            "the source's size could not be measured (pg_database_size needs CONNECT on every database)",
        )
        .impact("the copy may not fit")
        .remedy("grant CONNECT on every database to the role, or check the sizes by hand")
        .evidence("free_bytes", free);
    };
    let required = needs
        .data_device
        .and_then(|d| needs.by_device.get(&d))
        .map(|(b, _)| *b)
        .unwrap_or(0);
    let ratio = if required == 0 {
        f64::INFINITY
    } else {
        free as f64 / required as f64
    };
    let out = |o: Outcome| {
        o.evidence("free_bytes", free)
            .evidence("required_bytes", required)
            .evidence("source_size_bytes", src.size_bytes())
            .evidence("filesystem_bytes", host::filesystem_bytes(&m.data_dir))
            .evidence("data_dir", m.data_dir.display().to_string())
            .evidence("ratio", (ratio * 100.0).round() / 100.0)
    };
    let remedy = format!(
        "free space on the filesystem of {}, or create the destination on a larger one:\n\
         pgrelocate instance create {} --major {} --data-dir <folder on a larger filesystem>",
        m.data_dir.display(),
        shell_word(&format!("{}-big", ctx.dest.name())),
        m.major
    );
    if free < required {
        out(Outcome::fail(format!(
            "{} free on the destination's filesystem, the copy needs {}",
            size(free),
            size(required)
        ))
        .impact("the copy would fill the filesystem and fail")
        .remedy(remedy))
    } else if ratio < 1.25 {
        out(Outcome::warn(format!(
            "{} free for a copy of {}: less than 25 % headroom",
            size(free),
            size(required)
        ))
        .impact("WAL that accumulates while the destination catches up, and the source's growth, may fill the filesystem")
        .remedy(remedy))
    } else {
        out(Outcome::pass(format!(
            "{} free for a copy of {}",
            size(free),
            size(required)
        )))
    }
}

/// `x86_64` and `64-bit` from `version()`: `PostgreSQL 15.4 on x86_64-pc-linux-gnu, compiled
/// by gcc …, 64-bit`.
fn platform(build: &str) -> (String, String) {
    let arch = build
        .split(" on ")
        .nth(1)
        .and_then(|s| s.split(['-', ',', ' ']).next())
        .unwrap_or("")
        .to_string();
    let word = build
        .rsplit(", ")
        .next()
        .filter(|s| s.ends_with("-bit"))
        .unwrap_or("")
        .to_string();
    (arch, word)
}

async fn binary_compat(ctx: &Context) -> Outcome {
    let (src, dst) = match (
        ctx.source_facts_or_skip().await,
        ctx.dest_facts_or_skip().await,
    ) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(o), _) | (_, Err(o)) => return o,
    };
    let (sa, sw) = platform(&src.build);
    let (da, dw) = platform(&dst.build);
    let mut compared = vec![
        ("architecture".to_string(), sa, da),
        ("word size".to_string(), sw, dw),
    ];
    // Compile-time constants the control file records; a server refuses other values.
    let mut names = vec![
        "block_size",
        "wal_block_size",
        "segment_size",
        "integer_datetimes",
        "max_identifier_length",
        "max_index_keys",
    ];
    // wal_segment_size is chosen at initdb (and travels with the copy) from 11; in 10 it is
    // compiled in.
    if src.version.major == 10 {
        names.push("wal_segment_size");
    }
    for n in names {
        compared.push((
            n.to_string(),
            src.bytes(n)
                .map(|b| b.to_string())
                .unwrap_or_else(|| src.value(n).to_string()),
            dst.bytes(n)
                .map(|b| b.to_string())
                .unwrap_or_else(|| dst.value(n).to_string()),
        ));
    }
    let evidence: BTreeMap<String, serde_json::Value> = compared
        .iter()
        .map(|(n, s, d)| (n.clone(), json!({"source": s, "destination": d})))
        .collect();
    let differ: Vec<String> = compared
        .iter()
        .filter(|(_, s, d)| s != d)
        .map(|(n, s, d)| format!("{n} {s} vs {d}"))
        .collect();
    if differ.is_empty() {
        Outcome::pass("same architecture, word size, block sizes and build options")
            .evidence("compared", evidence)
    } else {
        Outcome::fail(format!("the builds differ: {}", differ.join("; ")))
            .impact("the destination's server cannot read data files written by the source's build")
            .remedy("use destination binaries built for the same CPU architecture, word size and block sizes as the source's (the same distribution's packages usually are)")
            .evidence("compared", evidence)
    }
}

async fn locales(ctx: &Context) -> Outcome {
    let src = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut icu: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for db in &src.databases {
        for locale in [&db.collate, &db.ctype] {
            needed
                .entry(locale.clone())
                .or_default()
                .insert(db.name.clone());
        }
        if db.provider == "i" {
            if let Some(l) = &db.icu_locale {
                icu.entry(l.clone()).or_default().insert(db.name.clone());
            }
        }
    }
    let missing: Vec<(String, Vec<String>)> = needed
        .iter()
        .filter(|(locale, _)| !host::libc_locale_exists(locale))
        .map(|(l, dbs)| (l.clone(), dbs.iter().cloned().collect()))
        .collect();
    let mut problems: Vec<String> = missing
        .iter()
        .map(|(l, dbs)| format!("{l} (used by {})", dbs.join(", ")))
        .collect();
    if !icu.is_empty() {
        let has_icu = match ctx.dest_sql().await {
            Ok(c) => c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i')",
                    &[],
                )
                .await
                .map(|r| r.get::<_, bool>(0))
                .unwrap_or(false),
            Err(_) => true,
        };
        if !has_icu {
            problems.push(format!(
                "ICU locales {} (the destination's binaries are built without ICU)",
                icu.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let out = |o: Outcome| {
        o.evidence(
            "locales",
            needed
                .iter()
                .map(|(l, d)| (l.clone(), d.iter().cloned().collect::<Vec<_>>()))
                .collect::<BTreeMap<_, _>>(),
        )
        .evidence("icu_locales", icu.keys().cloned().collect::<Vec<_>>())
    };
    if problems.is_empty() {
        return out(Outcome::pass(format!(
            "every database locale exists on this host ({})",
            needed.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let gen_lines: Vec<String> = missing
        .iter()
        .map(|(l, _)| {
            let (name, charset) = l.split_once('.').unwrap_or((l.as_str(), "UTF-8"));
            let charset = if charset.eq_ignore_ascii_case("utf8") {
                "UTF-8"
            } else {
                charset
            };
            format!("{name}.{charset} {charset}")
        })
        .collect();
    out(Outcome::fail(format!(
        "missing on this host: {}",
        problems.join("; ")
    ))
    .impact("the copied cluster refuses connections to those databases (or sorts text differently)")
    .remedy(format!(
        "install the locales on this host, e.g. on Debian/Ubuntu: apt-get install locales-all\n\
         or add these lines to /etc/locale.gen and run locale-gen:\n{}",
        gen_lines.join("\n")
    ))
    .evidence("missing", missing.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>()))
}

/// Where the desktop app takes the mappings the CLI takes as `--tablespace-mapping`: the
/// remedies name both, so neither kind of user is sent to the other's tool.
const TABLESPACE_FIELDS: &str = "the Tablespaces fields of the app's Create Task dialog";

async fn tablespaces(ctx: &Context) -> Outcome {
    let src = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let Some(m) = ctx.dest.managed() else {
        return Outcome::skip("the destination is not managed");
    };
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut defaulted = Vec::new();
    let mut targets: BTreeMap<PathBuf, String> = BTreeMap::new();
    // A source on this very host owns its tablespace folders: without a mapping, the copy
    // goes beside the destination's data directory instead (the task's own rule).
    let local_source = plan::source_on_this_host(&ctx.source.record);
    for ts in &src.tablespaces {
        let place = plan::place_tablespace(
            &ts.location,
            &ts.name,
            &ctx.options.tablespace_mappings,
            local_source,
            placement::exists(&ts.location),
            &m.data_dir,
        );
        let (target, mapped) = (place.target, place.mapped);
        if place.defaulted {
            defaulted.push(format!("{} → {}", ts.location.display(), target.display()));
        }
        let state = if !target.is_absolute() {
            Err("is not an absolute path".to_string())
        } else if target.starts_with(&m.data_dir) {
            Err("is inside the destination's data directory".to_string())
        } else if let Some(other) = targets.get(&target) {
            Err(format!("is also the target of tablespace {other}"))
        } else if !mapped && placement::exists(&target) {
            // The copy's rule (backup::placement): an existing folder only when mapped.
            Err("already exists on this host, and an existing folder is used only when mapped: give a mapping (OLD=OLD to use that folder)".to_string())
        } else {
            match placement::dir_state(&target).map(DirState::is_missing_or_empty) {
                Ok(true) => Ok(()),
                Ok(false) if !mapped => Err("exists and is not empty (it is the source's own folder, or another cluster's): give a mapping".to_string()),
                Ok(false) => Err("exists and is not empty".to_string()),
                Err(e) => Err(format!("cannot be read: {e}")),
            }
        };
        targets.insert(target.clone(), ts.name.clone());
        let free = host::free_bytes(&target);
        let room = match (ts.size, free) {
            (Some(s), Some(f)) if f < s => {
                Err(format!("needs {}, {} free there", size(s), size(f)))
            }
            _ => Ok(()),
        };
        rows.push(json!({
            "name": ts.name, "location": ts.location, "target": target,
            "mapped": mapped, "size_bytes": ts.size, "free_bytes": free,
            "usable": state.is_ok() && room.is_ok(),
        }));
        if let Err(e) = state.and(room) {
            problems.push((ts, target, e));
        }
    }
    let unknown: Vec<String> = ctx
        .options
        .tablespace_mappings
        .iter()
        .filter(|(old, _)| !src.tablespaces.iter().any(|t| &t.location == old))
        .map(|(old, _)| old.display().to_string())
        .collect();
    let out = |o: Outcome| {
        o.evidence("tablespaces", &rows)
            .evidence("unused_mappings", &unknown)
    };
    if src.tablespaces.is_empty() && unknown.is_empty() {
        return out(Outcome::pass("the source has no user tablespaces"));
    }
    if problems.is_empty() {
        if !defaulted.is_empty() {
            return out(Outcome::warn(format!(
                "no mapping given for tablespaces whose folders belong to the source on this host; the copy will use {}",
                defaulted.join(", ")
            ))
            .impact("the tablespaces land in those default folders")
            .remedy(format!(
                "to choose other folders, set them in {TABLESPACE_FIELDS}, or pass --tablespace-mapping OLD=NEW to pgrelocate migrate, for: {}",
                src.tablespaces.iter().map(|t| t.location.display().to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        if !unknown.is_empty() {
            return out(Outcome::warn(format!(
                "mapping for {} matches no source tablespace",
                unknown.join(", ")
            ))
            .impact("a mistyped mapping leaves the real tablespace unmapped")
            .remedy("give OLD exactly as pg_tablespace_location() shows it on the source"));
        }
        return out(Outcome::pass(format!(
            "{} mapped to usable folders",
            count(src.tablespaces.len(), "tablespace")
        )));
    }
    let mappings: Vec<String> = src
        .tablespaces
        .iter()
        .map(|t| {
            let new = problems
                .iter()
                .find(|(p, _, _)| p.name == t.name)
                .map(|_| default_tablespace_target(&m.data_dir, &t.name))
                .unwrap_or_else(|| tablespace_target(ctx, &t.location));
            format!(
                "--tablespace-mapping {}",
                shell_word(&format!("{}={}", t.location.display(), new.display()))
            )
        })
        .collect();
    out(Outcome::fail(format!(
        "no usable destination folder for {}",
        problems
            .iter()
            .map(|(t, target, e)| format!("tablespace {} → {} {e}", t.name, target.display()))
            .collect::<Vec<_>>()
            .join("; ")
    ))
    .impact("the copy cannot place those tablespaces' files")
    .remedy(format!(
        "map each tablespace to an empty (or new) folder on this host with room, in {TABLESPACE_FIELDS}, or with the CLI, e.g.:\n\
         pgrelocate migrate --source {} --dest {} {}",
        shell_word(ctx.source.name()),
        shell_word(ctx.dest.name()),
        mappings.join(" ")
    )))
}

async fn dirs_or_skip(ctx: &Context) -> Result<&ServerDirs, Outcome> {
    ctx.dest_dirs().await.ok_or_else(|| {
        Outcome::skip("cannot tell where the destination's binaries keep extensions and libraries")
    })
}

async fn extensions(ctx: &Context) -> Outcome {
    let src = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let contents = match ctx.source_contents().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e),
    };
    let dirs = match dirs_or_skip(ctx).await {
        Ok(d) => d,
        Err(o) => return o,
    };
    // extension -> (version, databases, libraries)
    let mut wanted: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<String>)> =
        BTreeMap::new();
    for db in contents {
        for (name, version) in &db.extensions {
            let e = wanted.entry((name.clone(), version.clone())).or_default();
            e.0.insert(db.name.clone());
            for (_, probin, ext) in &db.c_functions {
                if ext.as_deref() == Some(name.as_str()) {
                    e.1.insert(probin.clone());
                }
            }
        }
    }
    let mut missing = Vec::new();
    let mut rows = Vec::new();
    for ((name, version), (dbs, libs)) in &wanted {
        let mut lacks = Vec::new();
        if !dirs.control_file(name).is_file() {
            lacks.push(format!(
                "control file {}",
                dirs.control_file(name).display()
            ));
        } else if !dirs.has_version_script(name, version) {
            lacks.push(format!("scripts for version {version}"));
        }
        for lib in libs {
            if !dirs.has_library(lib) {
                lacks.push(format!("library {}", dirs.library_path(lib).display()));
            }
        }
        rows.push(json!({"extension": name, "version": version, "databases": dbs, "libraries": libs, "missing": lacks}));
        if !lacks.is_empty() {
            missing.push(format!(
                "{name} {version} (in {}): no {}",
                dbs.iter().cloned().collect::<Vec<_>>().join(", "),
                lacks.join(", no ")
            ));
        }
    }
    let preload: Vec<String> = src
        .value("shared_preload_libraries")
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for lib in &preload {
        if !dirs.has_library(lib) {
            missing.push(format!(
                "shared_preload_libraries module {lib} (no {})",
                dirs.library_path(lib).display()
            ));
        }
    }
    let skipped: Vec<String> = contents
        .iter()
        .filter_map(|d| d.error.as_ref().map(|e| format!("{}: {e}", d.name)))
        .collect();
    let out = |o: Outcome| {
        o.evidence("extensions", &rows)
            .evidence("shared_preload_libraries", &preload)
            .evidence("share_dir", dirs.share_dir.display().to_string())
            .evidence("pkglib_dir", dirs.pkglib_dir.display().to_string())
            .evidence("not_inspected", &skipped)
    };
    if !missing.is_empty() {
        let names: BTreeSet<&str> = wanted.keys().map(|(n, _)| n.as_str()).collect();
        let major = ctx
            .dest
            .managed()
            .map(|m| m.major)
            .unwrap_or(src.version.major);
        return out(Outcome::fail(format!(
            "the destination's binaries lack {}",
            missing.join("; ")
        ))
        .impact("the copied databases would fail when they use those extensions; a missing preload library stops the server from starting")
        .remedy(format!(
            "install the packages providing these extensions for PostgreSQL {major} on this host \
             (into {} and {}); on Debian/Ubuntu they are postgresql-{major}-<name> or postgresql-contrib \
             packages. Needed: {}",
            dirs.share_dir.join("extension").display(),
            dirs.pkglib_dir.display(),
            names.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    if !skipped.is_empty() {
        return out(Outcome::warn(format!(
            "every inspected extension is present, but {} could not be inspected: {}",
            count(skipped.len(), "database"),
            skipped.join("; ")
        ))
        .impact("extensions of those databases are unchecked")
        .remedy("grant the role CONNECT on every database"));
    }
    out(Outcome::pass(format!(
        "{} and {} found in the destination's binaries",
        count(wanted.len(), "extension"),
        count_of(preload.len(), "preloaded library", "preloaded libraries")
    )))
}

async fn c_functions(ctx: &Context) -> Outcome {
    let contents = match ctx.source_contents().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e),
    };
    let dirs = match dirs_or_skip(ctx).await {
        Ok(d) => d,
        Err(o) => return o,
    };
    let mut by_library: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut total = 0;
    for db in contents {
        for (signature, probin, ext) in &db.c_functions {
            if ext.is_none() {
                total += 1;
                by_library
                    .entry(probin.clone())
                    .or_default()
                    .push(format!("{}.{signature}", db.name));
            }
        }
    }
    let missing: Vec<(&String, &Vec<String>)> = by_library
        .iter()
        .filter(|(lib, _)| !dirs.has_library(lib))
        .collect();
    let out = |o: Outcome| {
        o.evidence("libraries", &by_library)
            .evidence("pkglib_dir", dirs.pkglib_dir.display().to_string())
    };
    if missing.is_empty() {
        return out(Outcome::pass(format!(
            "{} outside extensions, every library present",
            count(total, "C function")
        )));
    }
    out(Outcome::fail(format!(
        "C functions whose library the destination lacks: {}",
        missing
            .iter()
            .map(|(lib, f)| format!("{lib} ({} resolves to {}; used by {})", lib, dirs.library_path(lib).display(), list(f, 3)))
            .collect::<Vec<_>>()
            .join("; ")
    ))
    .impact("calls to those functions fail on the destination (and triggers or indexes using them break)")
    .remedy(format!(
        "install these libraries for the destination's PostgreSQL into {}:\n{}",
        dirs.pkglib_dir.display(),
        missing
            .iter()
            .map(|(lib, _)| dirs.library_path(lib).display().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    )))
}

/// Shared memory a server needs, estimated from its settings (bytes): fitted to PostgreSQL
/// 15's `shared_memory_size` (about 29 kB per process slot, 370 B per lock-table entry, plus
/// shared_buffers and a fixed part).
fn shared_memory_estimate(shared_buffers: i64, p: &BTreeMap<&str, i64>) -> i64 {
    let slots = p["max_connections"]
        + p["max_worker_processes"]
        + p["max_wal_senders"]
        + 4
        + p["max_prepared_transactions"];
    let locks = p["max_locks_per_transaction"] * slots;
    shared_buffers + 16 * 1024 * 1024 + slots * 29 * 1024 + locks * 370
}

async fn standby_params(ctx: &Context) -> Outcome {
    let (src, dst) = match (
        ctx.source_facts_or_skip().await,
        ctx.dest_facts_or_skip().await,
    ) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(o), _) | (_, Err(o)) => return o,
    };
    // The floors the task writes (the shared plan), over the values both servers report.
    let values = |f: &ServerFacts| -> Vec<(String, i64)> {
        FLOOR_SETTINGS
            .iter()
            .map(|n| (n.to_string(), f.number(n).unwrap_or(0)))
            .collect()
    };
    let floors = plan::standby_floors(&values(src), &values(dst));
    let mut current = BTreeMap::new();
    let mut planned = BTreeMap::new();
    let mut raised = Vec::new();
    for (n, (_, floor)) in FLOOR_SETTINGS.into_iter().zip(floors) {
        let d = dst.number(n).unwrap_or(0);
        current.insert(n, d);
        planned.insert(n, floor);
        if floor > d {
            raised.push(format!("{n} {d} → {floor}"));
        }
    }
    let shared_buffers = dst.bytes("shared_buffers").unwrap_or(128 * 1024 * 1024);
    // 15+ reports its own shared memory; add the estimated growth to it.
    let now = dst
        .bytes("shared_memory_size")
        .filter(|b| *b > 0)
        .unwrap_or_else(|| shared_memory_estimate(shared_buffers, &current));
    let need = now + shared_memory_estimate(shared_buffers, &planned)
        - shared_memory_estimate(shared_buffers, &current);
    let pid = ctx
        .dest
        .managed()
        .and_then(|m| host::postmaster_pid(&m.data_dir));
    let limit = host::memory_limit(pid);
    let evidence: BTreeMap<&str, serde_json::Value> = FLOOR_SETTINGS
        .iter()
        .map(|n| {
            (
                *n,
                json!({"source": src.number(n), "destination": current[n], "planned": planned[n]}),
            )
        })
        .collect();
    let out = |o: Outcome| {
        o.evidence("parameters", &evidence)
            .evidence("shared_memory_bytes", need)
            .evidence("memory_limit_bytes", limit.as_ref().map(|l| l.bytes))
            .evidence(
                "memory_limit_source",
                limit.as_ref().map(|l| l.source.clone()),
            )
    };
    let applied = if raised.is_empty() {
        "the destination's settings already cover the source's".to_string()
    } else {
        format!(
            "raised automatically for hot standby: {}",
            raised.join(", ")
        )
    };
    if let Some(l) = &limit {
        if need as f64 > l.bytes as f64 * SHARED_MEMORY_SHARE {
            return out(Outcome::warn(format!(
                "{applied}; the destination then needs about {} of shared memory, more than half of the {} this host gives it ({})",
                size(need.max(0) as u64),
                size(l.bytes),
                l.source
            ))
            .impact("the destination may fail to start as a standby, or leave too little memory for its sessions")
            .remedy("give the destination's host (or its container / control group) more memory, or lower max_connections / max_locks_per_transaction on the source before the copy"));
        }
    }
    out(Outcome::pass(format!(
        "{applied} (about {} of shared memory)",
        size(need.max(0) as u64)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_is_read_from_version() {
        assert_eq!(
            platform("PostgreSQL 15.4 on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit"),
            ("x86_64".to_string(), "64-bit".to_string())
        );
        assert_eq!(
            platform(
                "PostgreSQL 16.1 on aarch64-apple-darwin23.0.0, compiled by Apple clang, 64-bit"
            )
            .0,
            "aarch64"
        );
    }

    #[test]
    fn an_older_destination_minor_is_a_warning_another_major_an_error() {
        use crate::assess::check::OutcomeStatus;
        let v = ServerVersion::new;
        assert_eq!(
            judge_versions(v(15, 18), v(15, 18), "d").status,
            OutcomeStatus::Pass
        );
        assert_eq!(
            judge_versions(v(15, 14), v(15, 18), "d").status,
            OutcomeStatus::Pass
        );
        let older = judge_versions(v(15, 18), v(15, 14), "d");
        assert_eq!(older.status, OutcomeStatus::Warn);
        assert!(older.remedy.contains("15.18 or later"), "{}", older.remedy);
        let other = judge_versions(v(14, 3), v(15, 18), "d");
        assert_eq!(other.status, OutcomeStatus::Fail);
        assert!(other
            .remedy
            .contains("pgrelocate instance create d-14 --major 14"));
    }

    #[test]
    fn shared_memory_grows_with_connections_and_locks() {
        let base: BTreeMap<&str, i64> = [
            ("max_connections", 100),
            ("max_worker_processes", 8),
            ("max_wal_senders", 10),
            ("max_prepared_transactions", 0),
            ("max_locks_per_transaction", 64),
        ]
        .into();
        let sb = 128 * 1024 * 1024;
        let small = shared_memory_estimate(sb, &base);
        // PostgreSQL 15 reports 143 MB for these settings.
        assert!((140..=160).contains(&(small >> 20)), "{}", small >> 20);
        let mut more = base.clone();
        more.insert("max_connections", 1100);
        // …and 192 MB with 1000 more connections.
        let big = shared_memory_estimate(sb, &more);
        assert!((185..=205).contains(&(big >> 20)), "{}", big >> 20);
    }
}
