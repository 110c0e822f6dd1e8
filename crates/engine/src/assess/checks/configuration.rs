//! Source configuration: version, wal_level, free WAL senders and slots, WAL retention and
//! archiving.

use std::time::Instant;

use serde_json::json;

use super::{check, count, size, CONFIGURATION};
use crate::assess::check::{Check, Outcome};
use crate::assess::context::{Context, APPLICATION_NAME};
use crate::assess::model::Level;
use crate::assess::queries;
use crate::quote::sql::literal;
use crate::version::{MAX_MAJOR, MIN_MAJOR};
use crate::wire::Lsn;

pub(super) fn checks() -> Vec<Check<Context>> {
    vec![
        check!(
            "src.version",
            CONFIGURATION,
            "Check source version",
            Level::Error,
            ["src.login"],
            version
        ),
        check!(
            "src.wal_level",
            CONFIGURATION,
            "Check wal_level",
            Level::Error,
            ["src.login"],
            wal_level
        ),
        check!(
            "src.wal_senders",
            CONFIGURATION,
            "Check free WAL sender",
            Level::Error,
            ["src.login"],
            wal_senders
        ),
        check!(
            "src.slots",
            CONFIGURATION,
            "Check free replication slot",
            Level::Error,
            ["src.login"],
            slots
        ),
        check!(
            "src.wal_retention",
            CONFIGURATION,
            "Check WAL retention during the copy",
            Level::Error,
            ["src.login"],
            wal_retention
        ),
        check!(
            "src.wal_keep",
            CONFIGURATION,
            "Check wal keep size",
            Level::Warning,
            ["src.login"],
            wal_keep
        ),
        check!(
            "src.archive",
            CONFIGURATION,
            "Check WAL archiving",
            Level::Warning,
            ["src.login"],
            archive
        ),
    ]
}

const RESTART: &str = "then restart the source (this setting needs a restart)";

async fn version(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let out = |o: Outcome| {
        o.evidence("server_version", &f.version_text)
            .evidence("major", f.version.major)
    };
    if f.version.is_supported() {
        out(Outcome::pass(format!(
            "PostgreSQL {} is supported ({MIN_MAJOR} to {MAX_MAJOR})",
            f.version_text
        )))
    } else if f.version.major < MIN_MAJOR {
        out(Outcome::fail(format!(
            "PostgreSQL {} is older than {MIN_MAJOR}",
            f.version_text
        ))
        .impact("pgrelocate speaks the replication protocol of PostgreSQL 10 and later only")
        .remedy("upgrade the source to PostgreSQL 10 or later first (pg_upgrade)"))
    } else {
        out(Outcome::fail(format!(
            "PostgreSQL {} is newer than {MAX_MAJOR}, which this pgrelocate supports",
            f.version_text
        ))
        .impact("its replication protocol and catalogs are untested")
        .remedy("upgrade pgrelocate"))
    }
}

async fn wal_level(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let level = f.value("wal_level");
    let out = |o: Outcome| {
        o.evidence("wal_level", level)
            .evidence("max_wal_senders", f.number("max_wal_senders"))
    };
    if matches!(level, "replica" | "logical") {
        return out(Outcome::pass(format!("wal_level = {level}")));
    }
    let mut lines = vec!["ALTER SYSTEM SET wal_level = 'replica';".to_string()];
    if f.number("max_wal_senders").unwrap_or(0) == 0 {
        lines.push("ALTER SYSTEM SET max_wal_senders = 10;".into());
    }
    lines.push(RESTART.into());
    out(Outcome::fail(format!(
        "wal_level = {level}: the WAL lacks what a standby needs"
    ))
    .impact("no base backup or streaming replication is possible")
    .remedy(format!(
        "run on the source as a superuser:\n{}",
        lines.join("\n")
    )))
}

async fn wal_senders(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let max = f.number("max_wal_senders").unwrap_or(0);
    // Our own replication probe is left out: it is gone by the time the copy starts.
    let busy: Vec<String> = match client
        .query(
            "SELECT coalesce(application_name, '') FROM pg_stat_replication \
             WHERE application_name IS DISTINCT FROM $1",
            &[&APPLICATION_NAME],
        )
        .await
    {
        Ok(rows) => rows.iter().map(|r| r.get::<_, String>(0)).collect(),
        Err(e) => return Outcome::skip(crate::assess::context::describe_pg_error(&e)),
    };
    let free = max - busy.len() as i64;
    let out = |o: Outcome| {
        o.evidence("max_wal_senders", max)
            .evidence("in_use", busy.len())
            .evidence("clients", &busy)
    };
    if free >= 1 {
        return out(Outcome::pass(format!("{free} of {max} WAL senders free")));
    }
    out(Outcome::fail(format!(
        "no free WAL sender: {} of max_wal_senders = {max} in use{}",
        busy.len(),
        if busy.is_empty() {
            String::new()
        } else {
            format!(" ({})", super::list(&busy, 5))
        }
    ))
    .impact("the source refuses the base backup and the destination's streaming connection")
    .remedy(format!(
        "run on the source as a superuser:\nALTER SYSTEM SET max_wal_senders = {};\n{RESTART}; \
         or stop a replication client you no longer need",
        busy.len() as i64 + 2
    )))
}

async fn slots(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let rows = match client.query(queries::slots(f.version), &[]).await {
        Ok(r) => r,
        Err(e) => return Outcome::skip(crate::assess::context::describe_pg_error(&e)),
    };
    let slots: Vec<(String, String, bool, Option<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let max = f.number("max_replication_slots").unwrap_or(0);
    let free = max - slots.len() as i64;
    let evidence: Vec<serde_json::Value> = slots
        .iter()
        .map(|(n, t, a, w)| json!({"name": n, "type": t, "active": a, "wal_status": w}))
        .collect();
    let out = |o: Outcome| {
        o.evidence("max_replication_slots", max)
            .evidence("slots", &evidence)
    };
    let drop = |name: &str| format!("SELECT pg_drop_replication_slot({});", literal(name));
    if let Some(wanted) = &ctx.options.slot_name {
        if slots.iter().any(|(n, ..)| n == wanted) {
            return out(
                Outcome::fail(format!("a replication slot named {wanted} already exists"))
                    .impact("the migration cannot create its slot")
                    .remedy(format!(
                        "if it is left over from an earlier attempt, drop it on the source:\n{}",
                        drop(wanted)
                    )),
            );
        }
    }
    if free < 1 {
        let inactive: Vec<&String> = slots
            .iter()
            .filter(|(_, _, a, _)| !a)
            .map(|(n, ..)| n)
            .collect();
        let mut remedy = format!(
            "run on the source as a superuser:\nALTER SYSTEM SET max_replication_slots = {};\n{RESTART}",
            slots.len() as i64 + 1
        );
        if !inactive.is_empty() {
            remedy.push_str("\nor drop an unused slot:\n");
            remedy.push_str(
                &inactive
                    .iter()
                    .map(|n| drop(n))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        return out(Outcome::fail(format!(
            "no free replication slot: {} of max_replication_slots = {max} in use",
            slots.len()
        ))
        .impact("the migration cannot create the slot that keeps the WAL the destination needs")
        .remedy(remedy));
    }
    let stale: Vec<&String> = slots
        .iter()
        .filter(|(n, t, a, _)| n.starts_with("pgrelocate_") && t == "physical" && !a)
        .map(|(n, ..)| n)
        .collect();
    if !stale.is_empty() {
        return out(Outcome::warn(format!(
            "{free} of {max} slots free, but inactive pgrelocate slots remain: {}",
            stale.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .impact("an inactive slot keeps every WAL segment since it was last used: the source's pg_wal grows without bound")
        .remedy(format!(
            "if no task uses them any more, drop them on the source:\n{}",
            stale.iter().map(|n| drop(n)).collect::<Vec<_>>().join("\n")
        )));
    }
    out(Outcome::pass(format!(
        "{free} of {max} replication slots free"
    )))
}

async fn current_lsn(client: &tokio_postgres::Client, in_recovery: bool) -> Option<Lsn> {
    let sql = if in_recovery {
        "SELECT pg_last_wal_receive_lsn()::text"
    } else {
        "SELECT pg_current_wal_lsn()::text"
    };
    let row = client.query_one(sql, &[]).await.ok()?;
    row.get::<_, Option<String>>(0)?.parse().ok()
}

async fn wal_retention(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let Some(first) = current_lsn(client, f.in_recovery).await else {
        return Outcome::skip("the source's WAL position cannot be read");
    };
    let started = Instant::now();
    tokio::time::sleep(ctx.options.wal_sample).await;
    let Some(second) = current_lsn(client, f.in_recovery).await else {
        return Outcome::skip("the source's WAL position cannot be read");
    };
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let rate = second.0.saturating_sub(first.0) as f64 / secs;
    let source_size = f.size_bytes().unwrap_or(0);
    let copy_secs = source_size as f64 / ctx.options.assumed_copy_rate.max(1) as f64;
    // The copy starts with a checkpoint and ends with a segment switch: at least two
    // segments are kept whatever the write rate.
    let written = (rate * copy_secs) as u64;
    let floor = 2 * f.wal_segment_bytes();
    let expected = written + floor;
    let limit = if f.version.has_slot_wal_status() {
        f.bytes("max_slot_wal_keep_size")
    } else {
        None
    };
    let idle_timeout = f.number("idle_replication_slot_timeout").filter(|t| *t > 0);
    let out = |o: Outcome| {
        o.evidence("wal_rate_bytes_per_sec", rate.round() as u64)
            .evidence("sample_secs", (secs * 10.0).round() / 10.0)
            .evidence("source_size_bytes", source_size)
            .evidence(
                "assumed_copy_rate_bytes_per_sec",
                ctx.options.assumed_copy_rate,
            )
            .evidence("estimated_copy_secs", copy_secs.round() as u64)
            .evidence("expected_wal_bytes", expected)
            .evidence("max_slot_wal_keep_size_bytes", limit)
            .evidence("idle_replication_slot_timeout", idle_timeout)
    };
    // Both parts, so the figures add up for the reader: at a low write rate the two-segment
    // floor is almost all of it.
    let summary = format!(
        "{}/s of WAL (sampled over {:.1} s); a copy of {} takes about {} s, so about {} of WAL \
         accumulates ({} written during the copy + {} for the two segments every copy keeps)",
        size(rate as u64),
        secs,
        size(source_size),
        copy_secs.round() as u64,
        size(expected),
        size(written),
        size(floor)
    );
    if let Some(limit) = limit.filter(|l| *l >= 0) {
        if (limit as u64) < expected {
            let suggested_mb = (expected * 2).div_ceil(1024 * 1024).max(1024);
            return out(Outcome::fail(format!(
                "max_slot_wal_keep_size = {} is below the WAL expected during the copy: {summary}",
                size(limit as u64)
            ))
            .impact("the source would invalidate the migration's slot (wal_status 'lost') before the destination catches up; the copy would have to start over")
            .remedy(format!(
                "run on the source as a superuser:\nALTER SYSTEM SET max_slot_wal_keep_size = '{suggested_mb}MB';  -- or -1 for no limit\nSELECT pg_reload_conf();"
            )));
        }
    }
    if let Some(t) = idle_timeout {
        return out(Outcome::warn(format!(
            "idle_replication_slot_timeout = {t} s: {summary}"
        ))
        .impact("the source invalidates a slot left idle longer than that, e.g. while the destination is stopped")
        .remedy("run on the source as a superuser:\nALTER SYSTEM SET idle_replication_slot_timeout = 0;\nSELECT pg_reload_conf();"));
    }
    if expected > ctx.options.large_wal_bytes {
        return out(Outcome::warn(format!("large WAL retention: {summary}"))
            .impact("the slot keeps all of it in the source's pg_wal until the destination has it: the source's disk may fill")
            .remedy("make sure the source's pg_wal filesystem has that much room, or run the copy in a quieter period"));
    }
    out(Outcome::pass(summary))
}

async fn wal_keep(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let name = f.version.wal_keep_setting();
    let keep = queries::wal_keep_bytes(
        f.version,
        f.number(name).unwrap_or(0),
        f.wal_segment_bytes(),
    );
    let limit = if f.version.has_slot_wal_status() {
        f.bytes("max_slot_wal_keep_size")
    } else {
        None
    };
    let out = |o: Outcome| {
        o.evidence(name, f.value(name))
            .evidence("wal_keep_bytes", keep)
            .evidence("max_slot_wal_keep_size_bytes", limit)
    };
    match limit {
        Some(l) if l >= 0 && keep == 0 => out(Outcome::warn(format!(
            "{name} = 0 while max_slot_wal_keep_size limits the slot to {}",
            size(l as u64)
        ))
        .impact("if the slot is invalidated, nothing else keeps WAL for a lagging destination: it must be copied again")
        .remedy(format!(
            "keep some WAL beside the slot (run on the source as a superuser):\nALTER SYSTEM SET wal_keep_size = '{}MB';\nSELECT pg_reload_conf();",
            (l as u64 / (1024 * 1024)).clamp(1024, 16 * 1024)
        ))),
        _ => out(Outcome::pass(format!(
            "{name} = {}{}: informational, the migration's replication slot keeps the WAL the destination needs",
            f.value(name),
            f.setting(name).map(|s| s.unit.as_str()).unwrap_or("")
        ))),
    }
}

async fn archive(ctx: &Context) -> Outcome {
    let f = match ctx.source_facts_or_skip().await {
        Ok(f) => f,
        Err(o) => return o,
    };
    let mode = f.value("archive_mode");
    if mode == "off" {
        return Outcome::pass("archiving is off").evidence("archive_mode", mode);
    }
    let configured: Vec<(String, String)> = queries::archive_settings(f.version)
        .iter()
        .map(|n| (n.to_string(), f.value(n).to_string()))
        .filter(|(_, v)| !v.is_empty() && v != "(disabled)")
        .collect();
    let out = |o: Outcome| {
        o.evidence("archive_mode", mode).evidence(
            "archiver",
            configured
                .iter()
                .map(|(n, v)| format!("{n} = {v}"))
                .collect::<Vec<_>>(),
        )
    };
    if configured.is_empty() {
        return out(Outcome::warn(format!(
            "archive_mode = {mode}, but no {} is set",
            queries::archive_settings(f.version).join(" or ")
        ))
        .impact("segments waiting for archiving pile up in pg_wal; a shutdown fence waits for archiving")
        .remedy("set archive_command (or archive_library) on the source, or turn archive_mode off (restart needed)"));
    }
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(e.to_string()),
    };
    let row = match client
        .query_one(
            "SELECT archived_count, failed_count, last_failed_wal, \
             coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) \
             FROM pg_stat_archiver",
            &[],
        )
        .await
    {
        Ok(r) => r,
        Err(e) => return out(Outcome::skip(crate::assess::context::describe_pg_error(&e))),
    };
    let archived: i64 = row.get(0);
    let failed: i64 = row.get(1);
    let last_failed: Option<String> = row.get(2);
    let failing: bool = row.get(3);
    let out = |o: Outcome| {
        out(o)
            .evidence("archived_count", archived)
            .evidence("failed_count", failed)
            .evidence("last_failed_wal", &last_failed)
    };
    if failing {
        return out(Outcome::warn(format!(
            "archiving is failing: {} since the statistics reset, the last for segment {}, and no success since",
            count(failed as usize, "failure"),
            last_failed.as_deref().unwrap_or("?")
        ))
        .impact("WAL piles up in the source's pg_wal, and a shutdown fence can hang waiting for the archiver")
        .remedy("fix archive_command on the source: its server log shows the command's error"));
    }
    out(Outcome::pass(format!(
        "archiving works ({archived} segments archived)"
    )))
}
