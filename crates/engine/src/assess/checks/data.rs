//! Source data: what a physical copy does not carry (unlogged contents, logical slots,
//! settings outside the data directory) and what it carries with consequences (prepared
//! transactions, collation versions), plus clocks and checksums.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{check, count, list, size, DATA};
use crate::assess::check::{Check, Outcome};
use crate::assess::context::{describe_pg_error, Context};
use crate::assess::host;
use crate::assess::model::Level;
use crate::assess::queries;
use crate::quote::conf::line as conf_line;
use crate::quote::sql::{ident, literal, qualified};

pub(super) fn checks() -> Vec<Check<Context>> {
    vec![
        check!(
            "src.unlogged",
            DATA,
            "Check unlogged tables",
            Level::Warning,
            ["src.login"],
            unlogged
        ),
        check!(
            "src.logical_slots",
            DATA,
            "Check logical replication",
            Level::Warning,
            ["src.login"],
            logical_slots
        ),
        check!(
            "src.prepared_xacts",
            DATA,
            "Check prepared transactions",
            Level::Warning,
            ["src.login"],
            prepared_xacts
        ),
        check!(
            "src.long_xacts",
            DATA,
            "Check long transactions",
            Level::Warning,
            ["src.login"],
            long_xacts
        ),
        check!(
            "src.collation",
            DATA,
            "Check collation versions",
            Level::Warning,
            ["src.login", "dest.primary"],
            collation
        ),
        check!(
            "src.checksums",
            DATA,
            "Check data checksums",
            Level::Warning,
            ["src.login"],
            checksums
        ),
        check!(
            "src.config_drift",
            DATA,
            "Check configuration drift",
            Level::Warning,
            ["src.login", "dest.primary"],
            config_drift
        ),
        check!(
            "src.clock",
            DATA,
            "Check clock difference",
            Level::Warning,
            ["src.login"],
            clock
        ),
    ]
}

async fn unlogged(ctx: &Context) -> Outcome {
    let contents = match ctx.source_contents().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e),
    };
    let mut found = Vec::new();
    let mut remedy = Vec::new();
    let mut total = 0;
    for db in contents {
        if db.unlogged.is_empty() {
            continue;
        }
        remedy.push(format!("-- in database {}:", ident(&db.name)));
        for (schema, table, bytes) in &db.unlogged {
            total += bytes;
            found.push(json!({"database": db.name, "table": format!("{schema}.{table}"), "size_bytes": bytes}));
            remedy.push(format!(
                "ALTER TABLE {} SET LOGGED;",
                qualified(schema, table)
            ));
        }
    }
    let not_inspected: Vec<String> = contents
        .iter()
        .filter_map(|d| d.error.as_ref().map(|e| format!("{}: {e}", d.name)))
        .collect();
    let out = |o: Outcome| {
        o.evidence("unlogged_tables", &found)
            .evidence("not_inspected", &not_inspected)
    };
    if found.is_empty() {
        return out(Outcome::pass("no unlogged tables"));
    }
    let names: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{}.{} ({})",
                f["database"].as_str().unwrap_or(""),
                f["table"].as_str().unwrap_or(""),
                size(f["size_bytes"].as_u64().unwrap_or(0))
            )
        })
        .collect();
    out(Outcome::warn(format!(
        "{} ({} in all) will arrive empty: {}",
        count(found.len(), "unlogged table"),
        size(total),
        list(&names, 5)
    ))
    .impact("a physical copy carries no unlogged data: those tables are empty on the destination")
    .remedy(format!(
        "if their contents matter, make them logged before the copy (this writes them to WAL):\n{}\nor accept that they start empty",
        remedy.join("\n")
    )))
}

async fn logical_slots(ctx: &Context) -> Outcome {
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let slots: Vec<(String, String, String)> = match client
        .query(
            "SELECT slot_name::text, coalesce(plugin::text, ''), coalesce(database::text, '') \
             FROM pg_replication_slots WHERE slot_type = 'logical' ORDER BY 1",
            &[],
        )
        .await
    {
        Ok(rows) => rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect(),
        Err(e) => return Outcome::skip(describe_pg_error(&e)),
    };
    // subconninfo is hidden from ordinary roles; the other columns are readable.
    let subscriptions: Vec<(String, String)> = client
        .query(
            "SELECT s.subname::text, d.datname::text FROM pg_subscription s \
             JOIN pg_database d ON d.oid = s.subdbid ORDER BY 2, 1",
            &[],
        )
        .await
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default();
    let out = |o: Outcome| {
        o.evidence(
            "logical_slots",
            slots
                .iter()
                .map(|(n, p, d)| json!({"name": n, "plugin": p, "database": d}))
                .collect::<Vec<_>>(),
        )
        .evidence(
            "subscriptions",
            subscriptions
                .iter()
                .map(|(n, d)| json!({"name": n, "database": d}))
                .collect::<Vec<_>>(),
        )
    };
    if slots.is_empty() && subscriptions.is_empty() {
        return out(Outcome::pass(
            "no logical replication slots or subscriptions",
        ));
    }
    let mut what = Vec::new();
    let mut remedy = Vec::new();
    for (name, plugin, db) in &slots {
        what.push(format!("slot {name} ({plugin}, database {db})"));
        remedy.push(format!(
            "-- in database {}:\nSELECT pg_create_logical_replication_slot({}, {});",
            ident(db),
            literal(name),
            literal(plugin)
        ));
    }
    for (name, db) in &subscriptions {
        what.push(format!("subscription {name} (database {db})"));
        remedy.push(format!(
            "-- in database {}: check subscription {} (ALTER SUBSCRIPTION {} ENABLE / REFRESH PUBLICATION, or recreate it)",
            ident(db),
            ident(name),
            ident(name)
        ));
    }
    out(Outcome::warn(format!(
        "logical replication does not carry over: {}",
        list(&what, 5)
    ))
    .impact("logical slots are not copied (their consumers lose their position); subscriptions arrive but their slots on the publishers stay tied to the old source")
    .remedy(format!("after the switchover, recreate them on the destination:\n{}", remedy.join("\n"))))
}

async fn prepared_xacts(ctx: &Context) -> Outcome {
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let rows: Vec<(String, String, String, String)> = match client
        .query(
            "SELECT gid, prepared::text, owner::text, database::text FROM pg_prepared_xacts ORDER BY prepared",
            &[],
        )
        .await
    {
        Ok(rows) => rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect(),
        Err(e) => return Outcome::skip(describe_pg_error(&e)),
    };
    let out = |o: Outcome| {
        o.evidence(
            "prepared_transactions",
            rows.iter()
                .map(|(g, p, o, d)| json!({"gid": g, "prepared": p, "owner": o, "database": d}))
                .collect::<Vec<_>>(),
        )
    };
    if rows.is_empty() {
        return out(Outcome::pass("no prepared transactions"));
    }
    out(Outcome::warn(format!(
        "{} open: {}",
        count(rows.len(), "prepared transaction"),
        list(&rows.iter().map(|(g, p, _, d)| format!("{g} in {d} since {p}")).collect::<Vec<_>>(), 5)
    ))
    .impact("they are copied too and keep holding their locks and old row versions on the destination until someone commits or rolls them back")
    .remedy(format!(
        "finish them on the source (in their database), e.g.:\n{}",
        rows.iter()
            .map(|(g, _, _, d)| format!("-- in database {}:\nCOMMIT PREPARED {};  -- or ROLLBACK PREPARED", ident(d), literal(g)))
            .collect::<Vec<_>>()
            .join("\n")
    )))
}

async fn long_xacts(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let threshold = ctx.options.long_transaction.as_secs_f64();
    let rows = match client
        .query(queries::long_transactions(f.version), &[&threshold])
        .await
    {
        Ok(r) => r,
        Err(e) => return Outcome::skip(describe_pg_error(&e)),
    };
    type Row = (i32, Option<String>, Option<String>, f64, Option<String>);
    let found: Vec<Row> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let sees_all = f.superuser || f.monitor;
    let out = |o: Outcome| {
        o.evidence("threshold_secs", threshold)
            .evidence("sees_all_sessions", sees_all)
            .evidence(
                "transactions",
                found.iter().map(|(p, u, d, a, s)| json!({"pid": p, "user": u, "database": d, "age_secs": a.round(), "state": s})).collect::<Vec<_>>(),
            )
    };
    let visibility = if sees_all {
        ""
    } else {
        " (only this role's own sessions are visible without pg_monitor)"
    };
    if found.is_empty() {
        return out(Outcome::pass(format!(
            "no transaction open longer than {} s{visibility}",
            threshold.round()
        )));
    }
    out(Outcome::warn(format!(
        "{} open longer than {} s: {}{visibility}",
        count(found.len(), "transaction"),
        threshold.round(),
        list(
            &found
                .iter()
                .map(|(p, u, d, a, s)| format!(
                    "pid {p} ({}@{}, {}, {} s)",
                    u.as_deref().unwrap_or("?"),
                    d.as_deref().unwrap_or("?"),
                    s.as_deref().unwrap_or("?"),
                    a.round()
                ))
                .collect::<Vec<_>>(),
            5
        )
    ))
    .impact("old transactions hold back cleanup of dead rows while the copy runs, and are terminated at switchover")
    .remedy(format!(
        "finish them, or end them on the source:\n{}",
        found.iter().map(|(p, ..)| format!("SELECT pg_terminate_backend({p});")).collect::<Vec<_>>().join("\n")
    )))
}

async fn collation(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let contents = match ctx.source_contents().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e),
    };
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let mut differences = Vec::new();
    let mut reindex: BTreeSet<String> = BTreeSet::new();
    let mut evidence = BTreeMap::new();

    // libc: databases whose default collation is not C/POSIX, and indexes on libc collations.
    let mut libc_users: BTreeSet<String> = f
        .databases
        .iter()
        .filter(|d| d.provider == "c" && !host::is_builtin_locale(&d.collate))
        .map(|d| d.name.clone())
        .collect();
    for db in contents {
        if db
            .index_collations
            .iter()
            .any(|(n, p, _)| p == "c" && !host::is_builtin_locale(n))
        {
            libc_users.insert(db.name.clone());
        }
    }
    let source_libc = match queries::libc_collation_version(f.version) {
        Some(q) => client
            .query_opt(q, &[])
            .await
            .ok()
            .flatten()
            .and_then(|r| r.get::<_, Option<String>>(0)),
        None => None,
    };
    let host_libc = host::libc_version();
    evidence.insert("source_libc_version", json!(source_libc));
    evidence.insert("host_libc_version", json!(host_libc));
    evidence.insert("databases_using_libc_collations", json!(libc_users));
    if !libc_users.is_empty() {
        match (&source_libc, &host_libc) {
            (Some(s), Some(h)) if s != h => {
                differences.push(format!("C library collations {s} on the source, {h} here"));
                reindex.extend(libc_users.iter().cloned());
            }
            (None, _) if f.version.major < 13 => differences.push(format!(
                "PostgreSQL {} does not report its C library's collation version; this host has {}",
                f.version,
                host_libc.as_deref().unwrap_or("an unknown one")
            )),
            _ => {}
        }
    }

    // ICU: collations used by indexes, compared with the same collation on the destination.
    let mut icu: BTreeMap<String, (Option<String>, BTreeSet<String>)> = BTreeMap::new();
    for db in contents {
        for (name, provider, version) in &db.index_collations {
            if provider == "i" {
                let e = icu
                    .entry(name.clone())
                    .or_insert((version.clone(), BTreeSet::new()));
                e.1.insert(db.name.clone());
            }
        }
    }
    for db in f.databases.iter().filter(|d| d.provider == "i") {
        let e = icu
            .entry("und-x-icu".into())
            .or_insert((None, BTreeSet::new()));
        e.1.insert(db.name.clone());
    }
    if icu.contains_key("und-x-icu") && icu["und-x-icu"].0.is_none() {
        let v = client
            .query_opt("SELECT pg_collation_actual_version(oid) FROM pg_collation WHERE collname = 'und-x-icu'", &[])
            .await
            .ok()
            .flatten()
            .and_then(|r| r.get::<_, Option<String>>(0));
        if let Some(e) = icu.get_mut("und-x-icu") {
            e.0 = v;
        }
    }
    if !icu.is_empty() {
        let names: Vec<String> = icu.keys().cloned().collect();
        let dest: BTreeMap<String, Option<String>> = match ctx.dest_sql().await {
            Ok(c) => c
                .query(
                    "SELECT collname::text, pg_collation_actual_version(oid) FROM pg_collation \
                     WHERE collprovider = 'i' AND collname = ANY($1)",
                    &[&names],
                )
                .await
                .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
                .unwrap_or_default(),
            Err(_) => BTreeMap::new(),
        };
        let mut rows = Vec::new();
        for (name, (version, dbs)) in &icu {
            let there = dest.get(name).cloned().flatten();
            rows.push(json!({"collation": name, "source": version, "destination": there, "databases": dbs}));
            if version.is_some() && there != *version {
                differences.push(format!(
                    "ICU collation {name} version {} on the source, {} on the destination",
                    version.as_deref().unwrap_or("?"),
                    there.as_deref().unwrap_or("missing")
                ));
                reindex.extend(dbs.iter().cloned());
            }
        }
        evidence.insert("icu_collations", json!(rows));
    }
    let out = |o: Outcome| evidence.iter().fold(o, |o, (k, v)| o.evidence(k, v));
    if differences.is_empty() {
        return out(Outcome::pass(
            "collation versions match (or only byte-order collations are used)",
        ));
    }
    let steps: Vec<String> = if reindex.is_empty() {
        libc_users
            .iter()
            .map(|d| format!("REINDEX DATABASE {};", ident(d)))
            .collect()
    } else {
        reindex
            .iter()
            .flat_map(|d| {
                let mut v = vec![
                    format!("-- in database {}:", ident(d)),
                    format!("REINDEX DATABASE {};", ident(d)),
                ];
                if f.version.major >= 15 {
                    v.push(format!(
                        "ALTER DATABASE {} REFRESH COLLATION VERSION;",
                        ident(d)
                    ));
                }
                v
            })
            .collect()
    };
    out(Outcome::warn(differences.join("; "))
        .impact("text sorts differently under another collation version: indexes on text columns can return wrong results until rebuilt")
        .remedy(format!("plan a REINDEX after the switchover:\n{}", steps.join("\n"))))
}

async fn checksums(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let (sums, hints) = (f.value("data_checksums"), f.value("wal_log_hints"));
    let out = |o: Outcome| {
        o.evidence("data_checksums", sums)
            .evidence("wal_log_hints", hints)
    };
    if sums == "on" || hints == "on" {
        return out(Outcome::pass(format!(
            "data_checksums = {sums}, wal_log_hints = {hints}"
        )));
    }
    out(Outcome::warn("neither data checksums nor wal_log_hints are on")
        .impact("after the switchover the old source cannot be rewound (pg_rewind) to follow the destination: going back needs a full copy")
        .remedy(format!("run on the source as a superuser:\nALTER SYSTEM SET wal_log_hints = on;\n{}", "then restart the source (this setting needs a restart)")))
}

/// Settings that belong to each host, or that pgrelocate sets on the destination itself.
const HOST_SETTINGS: &[&str] = &[
    "port",
    "listen_addresses",
    "unix_socket_directories",
    "unix_socket_group",
    "unix_socket_permissions",
    "data_directory",
    "config_file",
    "hba_file",
    "ident_file",
    "external_pid_file",
    "hot_standby",
    "primary_conninfo",
    "primary_slot_name",
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "ssl_cert_file",
    "ssl_key_file",
    "ssl_ca_file",
    "ssl_crl_file",
    "password_encryption",
];

/// Whether a source setting that differs on the destination is one to carry over. Not a
/// `wal_level = minimal`: the source cannot be copied with it (the replication checks say
/// so), and the destination must not take it.
fn worth_carrying(name: &str, value: &str) -> bool {
    !(name == "wal_level" && value == "minimal")
}

async fn config_drift(ctx: &Context) -> Outcome {
    let (src, dst) = match (
        ctx.source_facts_or_skip().await,
        ctx.dest_facts_or_skip().await,
    ) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(o), _) | (_, Err(o)) => return o,
    };
    let sees_files = src.superuser || src.read_all_settings;
    let mut drift: Vec<(&String, &str, &str)> = src
        .settings
        .iter()
        .filter(|(name, s)| {
            s.source == "configuration file"
                && !HOST_SETTINGS.contains(&name.as_str())
                && !s
                    .sourcefile
                    .as_deref()
                    .is_some_and(|f| f.ends_with("postgresql.auto.conf"))
        })
        .filter(|(name, s)| worth_carrying(name, &s.value))
        .filter_map(|(name, s)| {
            let there = dst.setting(name)?;
            (there.value != s.value).then_some((name, s.display.as_str(), there.display.as_str()))
        })
        .collect();
    drift.sort();
    let rows: Vec<serde_json::Value> = drift
        .iter()
        .map(|(n, s, d)| json!({"name": n, "source": s, "destination": d}))
        .collect();
    let out = |o: Outcome| {
        o.evidence("settings", &rows)
            .evidence("source_files_visible", sees_files)
    };
    if drift.is_empty() {
        return out(Outcome::pass(
            "the source's configuration-file settings match the destination's (postgresql.auto.conf travels with the copy)",
        ));
    }
    let caveat = if sees_files {
        ""
    } else {
        " (without pg_read_all_settings, settings from postgresql.auto.conf — which do travel — cannot be told apart)"
    };
    out(Outcome::warn(format!(
        "{} set in the source's configuration files differ on the destination{caveat}: {}",
        count(drift.len(), "setting"),
        list(&drift.iter().map(|(n, s, d)| format!("{n} = {s} (destination {d})")).collect::<Vec<_>>(), 6)
    ))
    .impact("postgresql.conf stays behind (the destination keeps its own): after the switchover these settings take the destination's values")
    .remedy(format!(
        "carry the ones you need into the destination's postgresql.conf (or ALTER SYSTEM on it):\n{}",
        drift.iter().map(|(n, s, _)| conf_line(n, s)).collect::<Vec<_>>().join("\n")
    )))
}

async fn clock(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let offset = f.clock_offset;
    let tolerance = ctx.options.clock_tolerance.as_secs_f64();
    let out = |o: Outcome| {
        o.evidence("offset_secs", (offset * 1000.0).round() / 1000.0)
            .evidence("tolerance_secs", tolerance)
    };
    if offset.abs() <= tolerance {
        return out(Outcome::pass(format!(
            "clocks agree within {:.3} s",
            offset.abs()
        )));
    }
    out(Outcome::warn(format!(
        "the source's clock is {:.1} s {} this host's",
        offset.abs(),
        if offset > 0.0 { "ahead of" } else { "behind" }
    ))
    .impact(
        "time-based replication lag and the measured switchover window would be wrong by that much",
    )
    .remedy("synchronise both hosts' clocks with NTP (chrony or systemd-timesyncd)"))
}

#[cfg(test)]
mod tests {
    use super::worth_carrying;

    #[test]
    fn a_minimal_wal_level_is_never_advised_for_the_destination() {
        assert!(!worth_carrying("wal_level", "minimal"));
        assert!(worth_carrying("wal_level", "logical"));
        assert!(worth_carrying("work_mem", "64MB"));
    }
}
