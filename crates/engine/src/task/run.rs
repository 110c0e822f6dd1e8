//! Driving a task: precheck → basebackup → startup → increment, each step idempotent so a
//! retried or resumed task can run it again. A failure before `increment` rolls the
//! destination and the source back (see [`super::cancel::rollback`]) before the task is
//! marked failed, so a failed task never holds a slot or a half-built destination.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::event::{CopyProgress, EventKind};
use super::model::{
    CopyResult, Phase, ReplicationState, TablespaceTarget, Task, TaskId, TaskInstance, TaskLayout,
};
use super::monitor::{self, Monitor, Target};
use super::standby::{self, StandbyPlan, FLOOR_SETTINGS};
use super::{cancel, check_report, flag_set, store, Inner, TaskError, TaskRequest};
use crate::assess;
use crate::backup::{self, placement, BackupOptions, Owner};
use crate::reports;
use crate::server::control;
use crate::sql;
use crate::version::ServerVersion;
use crate::wire::{ConnectOptions, ReplicationConnection, SlotName};

/// Creates the task row (phase precheck) after the checks that need no server.
pub(crate) async fn create(inner: &Inner, request: TaskRequest) -> Result<Task, TaskError> {
    let store = inner.store();
    let source = store.instance_by_name(&request.source)?;
    let dest = store.instance_by_name(&request.dest)?;
    if source.id == dest.id {
        return Err(TaskError::SameInstance);
    }
    let managed = dest
        .managed
        .clone()
        .ok_or_else(|| TaskError::DestinationNotManaged(dest.name.to_string()))?;
    if let Some(other) = store::live_task_for_destination(store, &dest.id)? {
        return Err(TaskError::DestinationBusy {
            dest: dest.name.to_string(),
            task: other.id,
            phase: other.phase,
        });
    }
    let report_id = match request.report_id {
        Some(id) => id,
        None => super::latest_report(store, &request.source, &request.dest, request.mode)?.ok_or(
            TaskError::NoReport {
                source_name: request.source.clone(),
                dest: request.dest.clone(),
                mode: request.mode.as_str(),
            },
        )?,
    };
    let report = reports::get(store, &report_id)?;
    check_report(&report, &request.source, &request.dest, request.mode)?;

    let id = TaskId::generate();
    let layout = layout(&id, &managed.data_dir);
    let task = Task::new(
        id,
        request.mode,
        TaskInstance {
            id: source.id.clone(),
            name: source.name.to_string(),
        },
        TaskInstance {
            id: dest.id.clone(),
            name: dest.name.to_string(),
        },
        report.id.clone(),
        request.options,
        layout,
    );
    store::insert(store, &task)?;
    // Held from the start, so no other process takes the new task for an interrupted one.
    store::acquire_lease(store, &task.id, &inner.me, inner.settings.lease_ttl)??;
    inner.note(
        &task.id,
        format!(
            "task created from report {} ({}): {} → {}",
            report.id,
            report.verdict.label(),
            task.source.name,
            task.destination.name
        ),
    );
    Ok(task)
}

/// Where the task puts things: siblings of the data directory, named after the task.
fn layout(id: &TaskId, data_dir: &Path) -> TaskLayout {
    let sibling = |suffix: &str| {
        let mut name = data_dir.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".pgrelocate-{id}-{suffix}"));
        data_dir.with_file_name(name)
    };
    TaskLayout {
        slot_name: id.slot_name(),
        application_name: id.slot_name(),
        data_dir: data_dir.to_path_buf(),
        aside_dir: sibling("empty"),
        copy_dir: sibling("copy"),
        passfile: sibling("pgpass"),
        standby_files: Vec::new(),
        tablespaces: Vec::new(),
    }
}

/// The driver of one task in this process. Ends when the task needs nothing more from it,
/// when `stop` fires (detach), or after a cancel requested through `cancel`.
pub(crate) async fn drive(
    inner: Arc<Inner>,
    id: TaskId,
    stop: CancellationToken,
    cancel_flag: Arc<AtomicBool>,
) {
    let heartbeat = tokio::spawn(heartbeat(
        inner.clone(),
        id.clone(),
        stop.clone(),
        cancel_flag.clone(),
    ));
    let result = steps(&inner, &id, &stop).await;
    heartbeat.abort();
    if flag_set(&cancel_flag) {
        if let Err(e) = cancel::finish(&inner, &id).await {
            tracing::error!(task = %id, error = %e, "cancel failed");
            inner.note(&id, format!("cancel failed: {e}"));
        }
    } else if let Err(e) = result {
        let interrupted = matches!(e, TaskError::Stopped)
            || matches!(e, TaskError::Backup(crate::backup::BackupError::Cancelled));
        if let Err(e2) = fail(&inner, &id, &e, interrupted).await {
            tracing::error!(task = %id, error = %e2, "cannot record the failure");
        }
    }
    let _ = store::release_lease(inner.store(), &id, &inner.me);
    inner.driver_finished(&id);
}

/// Records a failure: before `increment` the destination and slot are rolled back first.
/// A stopped driver during `startup` or later leaves the task as it is (resumable).
async fn fail(
    inner: &Inner,
    id: &TaskId,
    error: &TaskError,
    interrupted: bool,
) -> Result<(), TaskError> {
    let mut task = inner.get(id)?;
    let rollback = matches!(
        task.phase,
        Phase::Precheck | Phase::Basebackup | Phase::Startup
    );
    if interrupted && !matches!(task.phase, Phase::Precheck | Phase::Basebackup) {
        return Ok(());
    }
    if !rollback {
        // Monitoring errors do not fail a running standby: record and leave it.
        inner.note(id, format!("monitoring stopped: {error}"));
        return Ok(());
    }
    let reason = if interrupted {
        format!("interrupted during {}: pgrelocate stopped before the copy was complete; retry the task", task.phase)
    } else {
        error.to_string()
    };
    tracing::warn!(task = %id, phase = %task.phase, "task failed: {reason}");
    for warning in cancel::rollback(inner, &mut task).await {
        inner.note(id, warning);
    }
    let from = task.phase;
    task.fail(reason)?;
    inner.save_phase(&task, from)
}

/// Renews the lease and watches for a cancel requested by another process.
async fn heartbeat(
    inner: Arc<Inner>,
    id: TaskId,
    stop: CancellationToken,
    cancel_flag: Arc<AtomicBool>,
) {
    let period = inner.settings.lease_ttl / 3;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(period.min(Duration::from_secs(1))) => {}
        }
        match store::acquire_lease(inner.store(), &id, &inner.me, inner.settings.lease_ttl) {
            Ok(Ok(())) => {}
            Ok(Err(busy)) => {
                tracing::warn!(task = %id, "lease lost to process {} on {}; stopping", busy.pid, busy.host);
                stop.cancel();
                return;
            }
            Err(e) => tracing::warn!(task = %id, error = %e, "cannot renew the lease"),
        }
        if store::cancel_requested(inner.store(), &id).unwrap_or(false) {
            super::set_flag(&cancel_flag);
            stop.cancel();
            return;
        }
    }
}

async fn steps(inner: &Inner, id: &TaskId, stop: &CancellationToken) -> Result<(), TaskError> {
    loop {
        if stop.is_cancelled() {
            return Err(TaskError::Stopped);
        }
        let mut task = inner.get(id)?;
        let from = task.phase;
        match task.phase {
            Phase::Precheck => {
                tokio::select! {
                    r = precheck(inner, &mut task) => r?,
                    _ = stop.cancelled() => return Err(TaskError::Stopped),
                }
                task.begin_basebackup()?;
                inner.save_phase(&task, from)?;
            }
            Phase::Basebackup => {
                let copy = basebackup(inner, &task, stop).await?;
                task.begin_startup(copy)?;
                inner.save_phase(&task, from)?;
            }
            Phase::Startup => {
                let timeout = inner.settings.standby_connect_timeout;
                finish_startup(inner, &mut task, stop, timeout).await?;
            }
            Phase::Increment => return monitor_loop(inner, id, stop).await,
            _ => return Ok(()),
        }
    }
}

/// precheck: the report, the destination's prerequisites again, and what the standby
/// configuration needs from both servers.
async fn precheck(inner: &Inner, task: &mut Task) -> Result<(), TaskError> {
    let report = reports::get(inner.store(), &task.report_id)?;
    check_report(
        &report,
        &task.source.name,
        &task.destination.name,
        task.mode,
    )?;
    let source = inner.instance(&task.source)?;
    let (dest, _, _) = inner.managed_dest(task)?;

    let options = assess::Options {
        tablespace_mappings: task
            .options
            .tablespace_mappings
            .iter()
            .map(|m| (m.old.clone(), m.new.clone()))
            .collect(),
        slot_name: Some(task.layout.slot_name.clone()),
        ..assess::Options::default()
    };
    let checks = assess::destination_prerequisites(
        &inner.instances,
        source.name.as_str(),
        dest.name.as_str(),
        options,
    )
    .await?;
    let blocking: Vec<String> = checks
        .iter()
        .filter(|c| c.status == assess::Status::Error)
        .map(|c| format!("{}: {}", c.id, c.message))
        .collect();
    if !blocking.is_empty() {
        return Err(TaskError::DestinationNotReady(blocking.join("; ")));
    }
    inner.note(
        &task.id,
        format!("destination checks passed ({} checks)", checks.len()),
    );

    let timeout = sql::DEFAULT_CONNECT_TIMEOUT;
    let src_pw = inner.password(&source).await?;
    let src = sql::connect(&source.endpoint, src_pw.as_ref(), timeout).await?;
    let src_err =
        |e: tokio_postgres::Error| TaskError::Sql(sql::SqlError::from_driver(&e, &source.endpoint));
    let version_num: i32 = src
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(src_err)?
        .get(0);
    let version = ServerVersion::from_num(version_num as u32);
    let names: Vec<String> = FLOOR_SETTINGS.iter().map(|s| s.to_string()).collect();
    let floor_query =
        "SELECT name, setting::int8 FROM pg_settings WHERE name = ANY($1) ORDER BY name";
    let source_floors: Vec<(String, i64)> = src
        .query(floor_query, &[&names])
        .await
        .map_err(src_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let tablespaces: Vec<(i64, String, String)> = src
        .query(
            "SELECT oid::int8, pg_tablespace_location(oid), spcname::text FROM pg_tablespace \
             WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid",
            &[],
        )
        .await
        .map_err(src_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    drop(src);

    let dest_pw = inner.password(&dest).await?;
    let dst = sql::connect(&dest.endpoint, dest_pw.as_ref(), timeout).await?;
    let dst_err =
        |e: tokio_postgres::Error| TaskError::Sql(sql::SqlError::from_driver(&e, &dest.endpoint));
    let row = dst
        .query_one(
            "SELECT current_setting('port')::int, current_setting('listen_addresses'), \
                    current_setting('unix_socket_directories')",
            &[],
        )
        .await
        .map_err(dst_err)?;
    let (port, listen_addresses, socket_dirs): (i32, String, String) =
        (row.get(0), row.get(1), row.get(2));
    let dest_floors: Vec<(String, i64)> = dst
        .query(floor_query, &[&names])
        .await
        .map_err(dst_err)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    drop(dst);
    let floors = source_floors
        .into_iter()
        .map(|(name, value)| {
            let own = dest_floors
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .unwrap_or(0);
            (name, value.max(own))
        })
        .collect();

    // A source on this very host owns its tablespace folders: without a mapping, the copy
    // goes beside the destination's data directory — the rule the assessment proposed.
    let local_source = source.managed.is_some() || source.endpoint.is_loopback();
    let dest_data_dir = dest
        .managed
        .as_ref()
        .map(|m| m.data_dir.clone())
        .ok_or_else(|| TaskError::DestinationNotReady("the destination is not managed".into()))?;
    let mut targets = Vec::new();
    for (oid, location, name) in tablespaces {
        // The backup's own rule (one code path): a canonical absolute location, and an
        // existing directory only when mapped; checked here so the task stops before the slot.
        let old = placement::check_location(oid as u32, &location)?;
        let mapped = task
            .options
            .tablespace_mappings
            .iter()
            .find(|m| m.old == old)
            .map(|m| m.new.clone());
        let target = match mapped {
            Some(new) => new,
            None if local_source && placement::exists(&old) => {
                let target = assess::default_tablespace_target(&dest_data_dir, &name);
                inner.note(
                    &task.id,
                    format!(
                        "tablespace {name} ({location}) is this host's source folder: copying \
                         it to {} (give --tablespace-mapping to choose another folder)",
                        target.display()
                    ),
                );
                target
            }
            None => placement::place(oid as u32, &location, &[])?.dir,
        };
        let existed = match std::fs::read_dir(&target) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(TaskError::DestinationNotReady(format!(
                        "tablespace {oid} would be copied into {}, which is not empty; map it \
                         elsewhere with --tablespace-mapping {location}=NEW_DIR",
                        target.display()
                    )));
                }
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(TaskError::io("inspect", &target)(e)),
        };
        targets.push(TablespaceTarget {
            oid: oid as u32,
            source_location: location,
            target,
            existed,
        });
    }
    task.layout.tablespaces = targets;
    task.plan = Some(StandbyPlan {
        version,
        port: port as u16,
        listen_addresses,
        socket_dirs,
        floors,
    });
    store::save(inner.store(), task)?;
    Ok(())
}

fn owner_of(user: Option<&crate::server::OsUser>) -> Option<Owner> {
    user.map(|u| Owner {
        uid: u.uid,
        gid: u.gid,
    })
}

/// Creates the slot afresh (dropping one of ours left by an earlier attempt).
pub(crate) async fn create_slot(inner: &Inner, task: &Task) -> Result<(), TaskError> {
    let source = inner.instance(&task.source)?;
    let password = inner.password(&source).await?;
    let options = ConnectOptions {
        application_name: "pgrelocate_task".into(),
        ..ConnectOptions::default()
    };
    let mut conn =
        ReplicationConnection::connect(&source.endpoint, password.as_ref(), &options).await?;
    let slot = SlotName::new(&task.layout.slot_name)
        .map_err(|e| TaskError::Inconsistent(e.to_string()))?;
    match conn.drop_slot(&slot, false).await {
        Ok(()) => inner.note(
            &task.id,
            format!("dropped slot {} left by an earlier attempt", slot.as_str()),
        ),
        Err(e) if e.sqlstate() == Some("42704") => {}
        Err(e) => return Err(e.into()),
    }
    conn.create_physical_slot(&slot, false).await?;
    let _ = conn.close().await;
    inner.note(
        &task.id,
        format!("created replication slot {} on the source", slot.as_str()),
    );
    Ok(())
}

/// basebackup: the slot first (it keeps every WAL segment from the backup's start), then
/// the copy into a fresh directory beside the data directory.
async fn basebackup(
    inner: &Inner,
    task: &Task,
    stop: &CancellationToken,
) -> Result<CopyResult, TaskError> {
    tokio::select! {
        r = create_slot(inner, task) => r?,
        _ = stop.cancelled() => return Err(TaskError::Stopped),
    }
    let copy_dir = &task.layout.copy_dir;
    if copy_dir.exists() {
        std::fs::remove_dir_all(copy_dir)
            .map_err(TaskError::io("remove the earlier copy", copy_dir))?;
    }
    let source = inner.instance(&task.source)?;
    let password = inner.password(&source).await?;
    let (_, _, user) = inner.managed_dest(task)?;
    let options = BackupOptions {
        target_dir: copy_dir.clone(),
        // The targets precheck settled on (given mappings, or the default folder for a
        // source on this host), so the copy goes exactly where the layout says.
        tablespace_mappings: task
            .layout
            .tablespaces
            .iter()
            .map(|t| crate::backup::options::TablespaceMapping {
                old: crate::backup::options::normalize(Path::new(&t.source_location)),
                new: t.target.clone(),
            })
            // A tablespace copied to its own location is passed as a mapping only when the
            // DBA mapped it so: otherwise the backup checks again that nothing exists there.
            .filter(|m| {
                m.old != m.new
                    || task
                        .options
                        .tablespace_mappings
                        .iter()
                        .any(|o| o.old == m.old)
            })
            .collect(),
        compression: task.options.compression,
        max_rate: task.options.max_rate,
        owner: owner_of(user.as_ref()),
        sync: task.options.sync,
        application_name: format!("{}_copy", task.layout.slot_name),
    };
    let (tx, mut rx) = backup::progress::channel();
    let every = inner.settings.progress_interval;
    let forward = async {
        let mut last: Option<Instant> = None;
        while rx.changed().await.is_ok() {
            let p = CopyProgress::from(&*rx.borrow_and_update());
            let phase_end = p.stage != "copying";
            if phase_end || last.is_none_or(|t| t.elapsed() >= every) {
                last = Some(Instant::now());
                let _ = inner.emit(&task.id, EventKind::Copy(p));
            }
        }
    };
    let run = backup::run(
        &source.endpoint,
        password.as_ref(),
        &options,
        tx,
        stop.child_token(),
    );
    let (outcome, ()) = tokio::join!(run, forward);
    let outcome = outcome?;
    inner.note(
        &task.id,
        format!(
            "full copy done: {} files, {} MiB in {:.1} s, WAL from {} to {}",
            outcome.files,
            outcome.bytes >> 20,
            outcome.elapsed_secs,
            outcome.start_lsn,
            outcome.end_lsn
        ),
    );
    Ok(CopyResult {
        start_lsn: outcome.start_lsn,
        end_lsn: outcome.end_lsn,
        timeline: outcome.timeline,
        system_id: outcome.system_id.to_string(),
        bytes: outcome.bytes,
        files: outcome.files,
    })
}

/// startup: stop the destination, move its empty data directory aside, configure the copy as
/// a standby, put it in place, start it and wait until it connects to the source; returns
/// the state it connected in. Each part checks what is already done, so an interrupted
/// startup can run again.
/// startup → increment: puts the copy in place as a standby, starts it and waits up to
/// `connect_timeout` for it to connect. Every step checks what is done, so a driver or a
/// reader ([`super::settle`]) can run it again after an interruption anywhere in it.
pub(crate) async fn finish_startup(
    inner: &Inner,
    task: &mut Task,
    stop: &CancellationToken,
    connect_timeout: Duration,
) -> Result<(), TaskError> {
    let from = task.phase;
    let connected = startup(inner, task, stop, connect_timeout).await?;
    // One save for the phase and the state the standby connected in: a reader
    // never sees a streaming standby still in startup.
    task.begin_increment()?;
    let replication_was = task.observe_replication(connected);
    inner.save_phase(task, from)?;
    if let Some(was) = replication_was {
        inner.replication_changed(task, was)?;
    }
    if task.mode == assess::Mode::Dr {
        inner.note(
            &task.id,
            "DR construction: the destination stays a streaming standby until failover or cancel",
        );
    }
    Ok(())
}

async fn startup(
    inner: &Inner,
    task: &mut Task,
    stop: &CancellationToken,
    connect_timeout: Duration,
) -> Result<ReplicationState, TaskError> {
    let (_, managed, user) = inner.managed_dest(task)?;
    let layout = task.layout.clone();
    let plan = task
        .plan
        .clone()
        .ok_or_else(|| TaskError::Inconsistent("the task has no standby plan; retry it".into()))?;
    control::stop(&managed.bin_dir, &layout.data_dir, user.as_ref()).await?;
    if layout.copy_dir.exists() {
        if !layout.aside_dir.exists() {
            std::fs::rename(&layout.data_dir, &layout.aside_dir)
                .map_err(TaskError::io("move aside", &layout.data_dir))?;
            inner.note(
                &task.id,
                format!(
                    "the empty destination is kept at {}",
                    layout.aside_dir.display()
                ),
            );
        } else if layout.data_dir.exists() {
            // Left by an interrupted earlier startup: the original is already aside.
            std::fs::remove_dir_all(&layout.data_dir)
                .map_err(TaskError::io("remove", &layout.data_dir))?;
        }
        let source = inner.instance(&task.source)?;
        let password = inner.password(&source).await?;
        standby::keep_destination_files(&layout.copy_dir, &layout.aside_dir, user.as_ref())
            .map_err(TaskError::io(
                "keep the destination's configuration in",
                &layout.copy_dir,
            ))?;
        let passfile = match &password {
            Some(pw) => {
                standby::write_passfile(&layout.passfile, &source.endpoint, pw, user.as_ref())
                    .map_err(TaskError::io("write", &layout.passfile))?;
                Some(layout.passfile.as_path())
            }
            None => None,
        };
        let conninfo = standby::primary_conninfo(
            &source.endpoint,
            plan.version,
            passfile,
            &layout.application_name,
        );
        let written = standby::write_standby_config(
            &layout.copy_dir,
            task.id.as_str(),
            &plan,
            &conninfo,
            &layout.slot_name,
            user.as_ref(),
        )
        .map_err(TaskError::io(
            "write the standby configuration in",
            &layout.copy_dir,
        ))?;
        std::fs::rename(&layout.copy_dir, &layout.data_dir)
            .map_err(TaskError::io("move into place", &layout.copy_dir))?;
        task.layout.standby_files = written
            .iter()
            .filter_map(|f| f.file_name().map(|n| layout.data_dir.join(n)))
            .collect();
        store::save(inner.store(), task)?;
        inner.note(&task.id, "standby configuration written; the destination keeps its own postgresql.conf and pg_hba.conf");
    } else if !standby::is_configured(&layout.data_dir, task.id.as_str()) {
        return Err(TaskError::Inconsistent(format!(
            "neither the copy {} nor a configured standby in {} exists; cancel and start again",
            layout.copy_dir.display(),
            layout.data_dir.display()
        )));
    }
    control::start(&managed.bin_dir, &layout.data_dir, user.as_ref()).await?;
    inner.note(&task.id, "destination started as a standby");

    let mut monitor = Monitor::new(monitor_target(inner, task).await?);
    let deadline = Instant::now() + connect_timeout;
    loop {
        let sample = monitor.sample().await;
        let state = sample.state();
        if matches!(
            state,
            ReplicationState::Catchup | ReplicationState::Streaming
        ) {
            return Ok(state);
        }
        if Instant::now() > deadline {
            let log =
                std::fs::read_to_string(control::log_file(&layout.data_dir)).unwrap_or_default();
            return Err(TaskError::StandbyDidNotConnect {
                secs: connect_timeout.as_secs(),
                log: crate::server::tail(&log, 10),
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.cancelled() => return Err(TaskError::Stopped),
        }
    }
}

/// Where the monitor of a task looks. The standby's catalog is the source's, so the
/// destination is read with the source's role and password (its own superuser password
/// went aside with its empty data directory).
pub(crate) async fn monitor_target(inner: &Inner, task: &Task) -> Result<Target, TaskError> {
    let source = inner.instance(&task.source)?;
    let (dest, managed, _) = inner.managed_dest(task)?;
    let version = match &task.plan {
        Some(p) => p.version,
        None => ServerVersion::new(managed.major, 0),
    };
    let source_password = inner.password(&source).await?;
    let mut dest_endpoint = dest.endpoint.clone();
    dest_endpoint.user = source.endpoint.user.clone();
    dest_endpoint.dbname = source.endpoint.dbname.clone();
    Ok(Target {
        dest_password: source_password.clone(),
        source_password,
        source: source.endpoint,
        dest: dest_endpoint,
        dest_data_dir: managed.data_dir,
        version,
        slot_name: task.layout.slot_name.clone(),
        application_name: task.layout.application_name.clone(),
    })
}

/// increment: sample at a steady rate, record state changes, samples and new risks.
async fn monitor_loop(
    inner: &Inner,
    id: &TaskId,
    stop: &CancellationToken,
) -> Result<(), TaskError> {
    let task = inner.get(id)?;
    let mut monitor = Monitor::new(monitor_target(inner, &task).await?);
    let mut active: Vec<String> = Vec::new();
    inner.note(
        id,
        format!(
            "monitoring from process {} on {}",
            inner.me.pid, inner.me.host
        ),
    );
    loop {
        let sample = monitor.sample().await;
        let mut task = inner.get(id)?;
        if task.phase != Phase::Increment {
            return Ok(());
        }
        inner.observe(&mut task, sample.state())?;
        let risks = monitor::risks(&sample, &task.layout.slot_name, &inner.settings.thresholds);
        for risk in &risks {
            if !active.iter().any(|code| code == risk.code()) {
                tracing::warn!(task = %id, code = risk.code(), "{risk}");
                inner.emit(id, EventKind::Warning(risk.clone()))?;
            }
        }
        active = risks.iter().map(|r| r.code().to_string()).collect();
        inner.emit(id, EventKind::Sample(Box::new(sample)))?;
        tokio::select! {
            _ = tokio::time::sleep(inner.settings.sample_interval) => {}
            _ = stop.cancelled() => return Ok(()),
        }
    }
}
