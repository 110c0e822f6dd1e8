//! The way back (issue 15): `Tasks::reverse` turns the old source of a switched- or
//! failed-over task into a standby of the new primary and creates the reverse task (source:
//! the new primary, destination: the old source), which is driven and monitored like any
//! task (same phases from `startup` on, same lag chart), in the forward task's mode.
//!
//! - After the `shutdown` fence the old source's shutdown checkpoint was replayed on the new
//!   primary before it was promoted: its control file still names that checkpoint, so it
//!   follows the new timeline as it is (`recovery_target_timeline = 'latest'`), nothing
//!   copied.
//! - After the `sql` fence or a failover its WAL may have diverged: `pg_rewind` (see
//!   [`super::rejoin`]) when the cluster allows it, else a refusal with the reason
//!   (`rewind_unavailable`) and a fresh copy as the alternative.
//! - Only a source managed on this machine: pgrelocate must reach its files
//!   (`rejoin_refused` otherwise).
//!
//! A switchover of the reverse task is an ordinary switchover; afterwards the pair is ready
//! to be reversed again.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::model::{Operation, Phase, Rejoin, RejoinMethod, Task, TaskId, TaskInstance};
use super::rejoin::{self, OldPrimary, RewindSupport};
use super::{credential, standby, Inner, TaskError, Tasks};
use crate::endpoint::Endpoint;
use crate::secrets::Password;
use crate::server::{control, OsUser, RunState};
use crate::store::leases;
use crate::store::{tasks, InstanceRecord};
use crate::switchover::pg_control::{self, ClusterState};
use crate::switchover::FenceStrategy;
use crate::wire::{ConnectOptions, Lsn, ReplicationConnection, SlotName};
use crate::ErrorCode;

/// How long the new primary may take to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a task cannot be reversed. Nothing was changed on the servers, except where said.
#[derive(Debug, thiserror::Error)]
pub enum ReverseError {
    /// The task or its instances do not allow a way back here.
    #[error("task {task} cannot be reversed: {reason}")]
    Refused { task: TaskId, reason: String },
    /// The old source may have diverged and cannot be rewound.
    #[error(
        "the old source {old_source} may have diverged from {new_primary} ({why}) and cannot be \
         rewound: {reason}. The way back is a fresh copy: make {old_source} an empty \
         destination again and migrate {new_primary} to it"
    )]
    RewindUnavailable {
        old_source: String,
        new_primary: String,
        why: String,
        reason: String,
    },
    /// pg_rewind (or the crash recovery before it) failed.
    #[error(
        "rewinding the old source {old_source} failed ({status}); it is left stopped, with its \
         own configuration files. Output:\n{output}"
    )]
    RewindFailed {
        old_source: String,
        status: String,
        output: String,
    },
}

impl crate::Coded for ReverseError {
    fn code(&self) -> ErrorCode {
        match self {
            ReverseError::Refused { .. } => ErrorCode::RejoinRefused,
            ReverseError::RewindUnavailable { .. } => ErrorCode::RewindUnavailable,
            ReverseError::RewindFailed { .. } => ErrorCode::RewindFailed,
        }
    }
}

/// What the way back of a switched- or failed-over task is now (in [`super::TaskStatus`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct WayBack {
    /// The old source.
    pub old_source: String,
    /// The new primary.
    pub new_primary: String,
    /// How the task ended.
    pub operation: Operation,
    /// How the old source would rejoin.
    pub method: RejoinMethod,
    /// Its WAL may have diverged from the new primary's (`sql` fence, failover).
    pub diverged: bool,
    /// The old source runs (after a failover: as a second primary unless it was started in
    /// recovery).
    pub source_running: bool,
    /// `task reverse` would do it now.
    pub available: bool,
    /// Why not, when it is not available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<ErrorCode>,
    /// The refusal's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
}

/// What a reverse needs to know, read without changing anything.
struct Prepared {
    forward: Task,
    old_record: InstanceRecord,
    old: OldPrimary,
    new_record: InstanceRecord,
    new_password: Option<Password>,
    /// The `shutdown` fence stopped the old source at the switchover.
    shutdown_fenced: bool,
    /// The shutdown checkpoint the new primary replayed (after the `shutdown` fence).
    final_lsn: Option<Lsn>,
    /// `data_checksums` of the new primary (the same cluster).
    checksums: bool,
}

fn refused(task: &Task, reason: impl Into<String>) -> TaskError {
    TaskError::Reverse(ReverseError::Refused {
        task: task.id.clone(),
        reason: reason.into(),
    })
}

/// Reads what the reverse of `forward` needs; refuses what cannot be done here.
async fn prepare(inner: &Inner, forward: Task) -> Result<Prepared, TaskError> {
    let Some(switch) = forward
        .switch
        .clone()
        .filter(|_| forward.phase == Phase::Success)
    else {
        return Err(refused(
            &forward,
            format!(
                "it has not switched or failed over (phase {}): only a completed task has a way back",
                forward.phase
            ),
        ));
    };
    if tasks::remote_of(inner.store(), &forward.id)?.is_some() {
        return Err(refused(
            &forward,
            "it runs on a registered host; rejoining through the host's agent is not supported yet",
        ));
    }
    let store = inner.store();
    let newest = crate::retirement::of(store, &forward.source.id)?;
    if newest.as_ref().map(|r| &r.task_id) != Some(&forward.id) {
        let by = forward
            .reversed_by
            .as_ref()
            .map(|t| format!(" (reverse task {t})"))
            .unwrap_or_default();
        return Err(refused(
            &forward,
            format!(
                "its old source {} takes part in a newer task{by}: the way back starts from that task",
                forward.source.name
            ),
        ));
    }
    let old_record = inner.instance(&forward.source)?;
    let Some(managed) = old_record.managed.clone() else {
        return Err(refused(
            &forward,
            format!(
                "the old source {} is an external instance: pgrelocate cannot reach its files \
                 to make it a standby. The way back is a fresh copy into an empty managed instance",
                old_record.name
            ),
        ));
    };
    if let Some(host) = &managed.host {
        return Err(refused(
            &forward,
            format!(
                "the old source {} runs on the registered host {host}; rejoining a source on \
                 another host through its agent is not supported yet. The way back is a fresh copy",
                old_record.name
            ),
        ));
    }
    let new_record = inner.instance(&forward.destination)?;
    let new_password = inner.password(&new_record).await?;
    let client = crate::sql::connect(&new_record.endpoint, new_password.as_ref(), CONNECT_TIMEOUT)
        .await
        .map_err(|e| {
            refused(
                &forward,
                format!("the new primary {} does not answer: {e}", new_record.name),
            )
        })?;
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), current_setting('data_checksums')",
            &[],
        )
        .await
        .map_err(|e| crate::sql::SqlError::from_driver(&e, &new_record.endpoint))?;
    let (in_recovery, checksums): (bool, String) = (row.get(0), row.get(1));
    if in_recovery {
        return Err(refused(
            &forward,
            format!("the new primary {} is in recovery", new_record.name),
        ));
    }
    let shutdown_fenced = switch.operation == Operation::Switchover
        && switch.fence.as_ref().map(|f| f.strategy) == Some(FenceStrategy::Shutdown);
    let final_lsn = switch.switchover.as_ref().map(|r| r.source_final_lsn);
    Ok(Prepared {
        old: OldPrimary {
            data_dir: managed.data_dir.clone(),
            bin_dir: managed.bin_dir.clone(),
            major: managed.major,
            user: OsUser::for_servers(managed.os_user.as_deref())?,
        },
        forward,
        old_record,
        new_record,
        new_password,
        shutdown_fenced,
        final_lsn,
        checksums: checksums == "on",
    })
}

impl Prepared {
    /// What a rewind of the old source needs, as it is now.
    async fn rewind_support(&self) -> RewindSupport {
        let hints = rejoin::setting(&self.old, "wal_log_hints")
            .await
            .is_ok_and(|v| v == "on");
        RewindSupport {
            checksums: self.checksums,
            wal_log_hints: hints,
            binary: rejoin::rewind_binary(self.old.major, &self.old.bin_dir).await,
        }
    }

    /// Why its WAL may have diverged.
    fn why_diverged(&self) -> String {
        let switch = self.forward.switch.as_ref();
        match switch.map(|s| s.operation) {
            Some(Operation::Failover) => "the task failed over".into(),
            _ if !self.shutdown_fenced => "the switchover used the sql fence".into(),
            _ => "it no longer ends at the shutdown checkpoint the new primary replayed".into(),
        }
    }

    fn unavailable(&self, reason: String) -> TaskError {
        TaskError::Reverse(ReverseError::RewindUnavailable {
            old_source: self.old_record.name.to_string(),
            new_primary: self.new_record.name.to_string(),
            why: self.why_diverged(),
            reason,
        })
    }

    /// Whether the stopped old source ends at the checkpoint the new primary replayed.
    fn follows_directly(&self) -> Result<(bool, ClusterState), TaskError> {
        let control = pg_control::read(&self.old.data_dir).map_err(|e| {
            TaskError::Inconsistent(format!("cannot read the old source's control file: {e}"))
        })?;
        let clean = matches!(
            control.state,
            ClusterState::ShutDown | ClusterState::ShutDownInRecovery
        );
        let at_final = self.final_lsn == Some(control.checkpoint);
        Ok((self.shutdown_fenced && clean && at_final, control.state))
    }
}

impl Tasks {
    /// The way back: makes the old source of a switched- or failed-over task a standby of the
    /// new primary and creates the reverse task, driven from here; returns it once its
    /// standby connected (or the task failed). See the module's documentation.
    pub async fn reverse(&self, id: &str) -> Result<Task, TaskError> {
        let forward = self.get(id)?;
        let forward = super::switch::reconcile(&self.inner, &forward.id).await?;
        let prepared = prepare(&self.inner, forward).await?;
        let started = Instant::now();
        let inner = &self.inner;
        let old = &prepared.old;

        // A rewind that is impossible is refused before anything is touched.
        let mut support = None;
        if !prepared.shutdown_fenced {
            let s = prepared.rewind_support().await;
            if let Some(reason) = s.missing(old.major) {
                return Err(prepared.unavailable(reason));
            }
            support = Some(s);
        }
        let was_running = control::status(&old.bin_dir, &old.data_dir, old.user.as_ref()).await?
            == RunState::Running;
        if prepared.shutdown_fenced {
            control::stop(&old.bin_dir, &old.data_dir, old.user.as_ref()).await?;
        } else {
            // A clean shutdown's checkpoint would recycle the WAL back to the fork that
            // pg_rewind reads; stopped without one, the crash recovery below keeps it.
            control::stop_immediately(&old.bin_dir, &old.data_dir, old.user.as_ref()).await?;
        }
        let (follow, state) = prepared.follows_directly()?;
        let forward_id = prepared.forward.id.clone();
        let mut bytes = 0;
        let method = if follow {
            RejoinMethod::Follow
        } else {
            let support = match support {
                Some(s) => s,
                None => prepared.rewind_support().await,
            };
            if let Some(reason) = support.missing(old.major) {
                if was_running {
                    control::start(&old.bin_dir, &old.data_dir, old.user.as_ref()).await?;
                }
                return Err(prepared.unavailable(reason));
            }
            let dir = support.binary.clone().unwrap_or_default();
            bytes = self.rewind(&prepared, &dir, state).await?;
            RejoinMethod::Rewind
        };
        // The sql fence's read-only default stays behind in the old source's own
        // configuration: lifted, so it takes writes after a switch-back.
        let fence = prepared
            .forward
            .switch
            .as_ref()
            .and_then(|s| s.fence.as_ref());
        if fence.is_some_and(|f| f.read_only && !f.read_only_before)
            && rejoin::lift_read_only(&old.data_dir, old.user.as_ref())
                .map_err(TaskError::io("edit the configuration in", &old.data_dir))?
        {
            inner.note(
                &forward_id,
                "the sql fence's default_transaction_read_only was removed from the old source's postgresql.auto.conf",
            );
        }
        if rejoin::remove_slot(&old.data_dir, &prepared.forward.layout.slot_name)
            .map_err(TaskError::io("remove the slot in", &old.data_dir))?
        {
            inner.note(
                &forward_id,
                format!(
                    "slot {} removed from the old source (it would hold WAL on the standby)",
                    prepared.forward.layout.slot_name
                ),
            );
        }
        crate::retirement::remove_recovery_signal(&old.data_dir, old.major)?;

        let mut task = self.create_reverse(&prepared).await?;
        let result = self
            .configure(&prepared, &mut task, method, bytes, started)
            .await;
        if let Err(e) = result {
            let _ = leases::release_lease(inner.store(), &task.id, &inner.me);
            let mut failed = inner.get(&task.id)?;
            failed.fail(e.to_string())?;
            inner.save_phase(&failed, Phase::Precheck)?;
            return Err(e);
        }
        let mut forward = inner.get(&forward_id)?;
        forward.reversed_by = Some(task.id.clone());
        tasks::save(inner.store(), &forward)?;
        let figure = format!(
            "{} ({})",
            rejoin::human_bytes(bytes),
            match method {
                RejoinMethod::Follow => "it follows the new timeline directly",
                RejoinMethod::Rewind => "pg_rewind",
            }
        );
        inner.note(
            &forward_id,
            format!(
                "reversed by task {}: {} follows {} as a standby; {figure} copied to rejoin",
                task.id, prepared.old_record.name, prepared.new_record.name
            ),
        );
        self.drive(&task.id)?;
        let timeout = inner.settings.standby_connect_timeout + Duration::from_secs(30);
        self.wait_until(&task.id, "the rejoined standby to connect", timeout, |t| {
            t.phase == Phase::Increment
        })
        .await
    }

    /// Rewinds the stopped old source to the new primary: crash recovery first when it was
    /// not shut down cleanly, its own configuration files kept. Returns the bytes copied.
    async fn rewind(
        &self,
        prepared: &Prepared,
        rewind_dir: &std::path::Path,
        state: ClusterState,
    ) -> Result<u64, TaskError> {
        let inner = &self.inner;
        let old = &prepared.old;
        let id = &prepared.forward.id;
        let failed = |status: String, output: String| {
            TaskError::Reverse(ReverseError::RewindFailed {
                old_source: prepared.old_record.name.to_string(),
                status,
                output,
            })
        };
        // pg_rewind reads the new primary's timeline from its control file, which only a
        // checkpoint after the promotion brings up to date.
        let client = crate::sql::connect(
            &prepared.new_record.endpoint,
            prepared.new_password.as_ref(),
            CONNECT_TIMEOUT,
        )
        .await?;
        client
            .batch_execute("CHECKPOINT")
            .await
            .map_err(|e| crate::sql::SqlError::from_driver(&e, &prepared.new_record.endpoint))?;
        drop(client);
        if !matches!(
            state,
            ClusterState::ShutDown | ClusterState::ShutDownInRecovery
        ) {
            inner.note(
                id,
                format!(
                    "the old source {} was not shut down cleanly: crash recovery in single-user mode first",
                    prepared.old_record.name
                ),
            );
            rejoin::crash_recovery(old)
                .await
                .map_err(|e| failed("crash recovery".into(), e.to_string()))?;
        }
        let own = rejoin::OwnFiles::save(&old.data_dir)
            .map_err(TaskError::io("read the configuration in", &old.data_dir))?;
        let passfile = rewind_passfile(&old.data_dir);
        let password_line = prepared.new_password.as_ref().map(|p| {
            format!(
                "*:*:*:*:{}\n",
                p.expose().replace('\\', "\\\\").replace(':', "\\:")
            )
        });
        if let Some(line) = &password_line {
            standby::write_owned(&passfile, line.as_bytes(), 0o600, old.user.as_ref())
                .map_err(TaskError::io("write", &passfile))?;
        }
        let conninfo = rewind_conninfo(
            &prepared.new_record.endpoint,
            password_line.as_ref().map(|_| passfile.as_path()),
        );
        inner.note(
            id,
            format!(
                "pg_rewind ({}) of {} from {}",
                rewind_dir.display(),
                prepared.old_record.name,
                prepared.new_record.name
            ),
        );
        let outcome = rejoin::rewind(old, rewind_dir, &conninfo).await;
        let _ = std::fs::remove_file(&passfile);
        let restored = own.restore(old.user.as_ref());
        let rewound = outcome.map_err(|(status, output)| failed(status, output))?;
        restored.map_err(TaskError::io("restore the configuration in", &old.data_dir))?;
        inner.note(
            id,
            format!(
                "pg_rewind copied {}; the old source keeps its own postgresql.conf, pg_hba.conf \
                 and postgresql.auto.conf",
                rejoin::human_bytes(rewound.bytes)
            ),
        );
        tracing::debug!(output = %rewound.output, "pg_rewind");
        Ok(rewound.bytes)
    }

    /// The reverse task's row (phase precheck, held by this process).
    async fn create_reverse(&self, prepared: &Prepared) -> Result<Task, TaskError> {
        let inner = &self.inner;
        let forward = &prepared.forward;
        let id = TaskId::generate();
        let layout = super::run::layout(&id, &prepared.old.data_dir);
        let task = Task::new(
            id,
            forward.mode,
            TaskInstance {
                id: prepared.new_record.id.clone(),
                name: prepared.new_record.name.to_string(),
            },
            TaskInstance {
                id: prepared.old_record.id.clone(),
                name: prepared.old_record.name.to_string(),
            },
            forward.report_id.clone(),
            forward.options.clone(),
            layout,
        );
        tasks::insert(inner.store(), &task)?;
        leases::acquire_lease(inner.store(), &task.id, &inner.me, inner.settings.lease_ttl)??;
        inner.note(
            &task.id,
            format!(
                "reverse task of {}: {} → {} (the way back)",
                forward.id, task.source.name, task.destination.name
            ),
        );
        Ok(task)
    }

    /// Makes the stopped old source a standby of the new primary: standby settings, the
    /// standby's credential, a slot on the new primary; then `precheck → startup`.
    async fn configure(
        &self,
        prepared: &Prepared,
        task: &mut Task,
        method: RejoinMethod,
        bytes: u64,
        started: Instant,
    ) -> Result<(), TaskError> {
        let inner = &self.inner;
        let old = &prepared.old;
        let plan = standby_plan(prepared).await?;
        let cred = credential::standby_credential(
            inner,
            task,
            &prepared.new_record,
            prepared.new_password.clone(),
        )
        .await?;
        let layout = task.layout.clone();
        let passfile = match &cred.password {
            Some(pw) => {
                standby::write_passfile(&layout.passfile, &cred.endpoint, pw, old.user.as_ref())
                    .map_err(TaskError::io("write", &layout.passfile))?;
                Some(layout.passfile.as_path())
            }
            None => None,
        };
        let conninfo = standby::primary_conninfo(
            &cred.endpoint,
            plan.version,
            passfile,
            &layout.application_name,
        );
        create_slot(prepared, &layout.slot_name).await?;
        inner.note(
            &task.id,
            format!(
                "created replication slot {} on {}",
                layout.slot_name, prepared.new_record.name
            ),
        );
        let written = standby::write_standby_config(
            &old.data_dir,
            task.id.as_str(),
            &plan,
            &conninfo,
            &layout.slot_name,
            old.user.as_ref(),
        )
        .map_err(TaskError::io(
            "write the standby configuration in",
            &old.data_dir,
        ))?;
        task.layout.standby_files = written;
        task.plan = Some(plan);
        let rejoin = Rejoin {
            forward_task: prepared.forward.id.clone(),
            method,
            bytes_copied: bytes,
            data_bytes: rejoin::dir_bytes(&old.data_dir),
            duration_ms: started.elapsed().as_millis() as u64,
            at: super::model::now(),
        };
        inner.note(
            &task.id,
            format!(
                "the old source rejoined by {method}: {} copied of {} of data (follows the new \
                 primary's latest timeline)",
                rejoin::human_bytes(rejoin.bytes_copied),
                rejoin::human_bytes(rejoin.data_bytes)
            ),
        );
        task.begin_rejoined(rejoin)?;
        inner.save_phase(task, Phase::Precheck)?;
        Ok(())
    }

    /// The way back of a task as it is now (`None` unless it switched or failed over and is
    /// still its old source's newest task). Changes nothing.
    pub async fn way_back(&self, id: &str) -> Result<Option<WayBack>, TaskError> {
        let task = self.get(id)?;
        Ok(way_back(&self.inner, &task).await)
    }
}

/// See [`Tasks::way_back`].
pub(crate) async fn way_back(inner: &Inner, task: &Task) -> Option<WayBack> {
    let switch = task
        .switch
        .as_ref()
        .filter(|_| task.phase == Phase::Success)?;
    let newest = crate::retirement::of(inner.store(), &task.source.id).ok()??;
    if newest.task_id != task.id {
        return None;
    }
    let shutdown_fenced = switch.operation == Operation::Switchover
        && switch.fence.as_ref().map(|f| f.strategy) == Some(FenceStrategy::Shutdown);
    let method = if shutdown_fenced {
        RejoinMethod::Follow
    } else {
        RejoinMethod::Rewind
    };
    let mut way = WayBack {
        old_source: task.source.name.clone(),
        new_primary: task.destination.name.clone(),
        operation: switch.operation,
        method,
        diverged: !shutdown_fenced,
        source_running: false,
        available: false,
        code: None,
        reason: None,
    };
    let refuse = |mut way: WayBack, e: TaskError| {
        use crate::Coded;
        way.code = Some(e.code());
        way.reason = Some(e.to_string());
        Some(way)
    };
    let prepared = match prepare(inner, task.clone()).await {
        Ok(p) => p,
        Err(e) => return refuse(way, e),
    };
    let old = &prepared.old;
    way.source_running = matches!(
        control::status(&old.bin_dir, &old.data_dir, old.user.as_ref()).await,
        Ok(RunState::Running)
    );
    if !shutdown_fenced {
        if let Some(reason) = prepared.rewind_support().await.missing(old.major) {
            return refuse(way, prepared.unavailable(reason));
        }
    }
    way.available = true;
    Some(way)
}

/// Where pg_rewind's password file goes while it runs: beside the data directory.
fn rewind_passfile(data_dir: &std::path::Path) -> std::path::PathBuf {
    let mut name = data_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".pgrelocate-rewind-pgpass");
    data_dir.with_file_name(name)
}

/// pg_rewind's `--source-server`: the new primary with its stored login, no password inside.
fn rewind_conninfo(e: &Endpoint, passfile: Option<&std::path::Path>) -> String {
    let mut parts = vec![
        ("host", e.host.clone()),
        ("port", e.port.to_string()),
        ("user", e.user.clone()),
        ("dbname", e.dbname.clone()),
        ("sslmode", e.sslmode.as_str().to_string()),
        ("application_name", "pgrelocate_rewind".to_string()),
    ];
    if let Some(root) = &e.ssl_root_cert {
        parts.push(("sslrootcert", root.display().to_string()));
    }
    if let Some(p) = passfile {
        parts.push(("passfile", p.display().to_string()));
    }
    parts
        .iter()
        .map(|(k, v)| format!("{k}={}", standby::conninfo_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rejoined standby's settings: its own port, listen addresses and socket folders (from
/// its configuration), and each hot-standby floor at least the new primary's.
async fn standby_plan(prepared: &Prepared) -> Result<standby::StandbyPlan, TaskError> {
    let old = &prepared.old;
    let listen = rejoin::setting(old, "listen_addresses").await?;
    let sockets = rejoin::setting(old, "unix_socket_directories").await?;
    let client = crate::sql::connect(
        &prepared.new_record.endpoint,
        prepared.new_password.as_ref(),
        CONNECT_TIMEOUT,
    )
    .await?;
    let mut floors = Vec::new();
    for name in standby::FLOOR_SETTINGS {
        let primary: i64 = client
            .query_one("SELECT current_setting($1)::bigint", &[&name])
            .await
            .map_err(|e| crate::sql::SqlError::from_driver(&e, &prepared.new_record.endpoint))?
            .get(0);
        let own: i64 = rejoin::setting(old, name)
            .await
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        floors.push((name.to_string(), primary.max(own)));
    }
    Ok(standby::StandbyPlan {
        version: rejoin::version(old.major),
        port: prepared.old_record.endpoint.port,
        listen_addresses: listen,
        socket_dirs: sockets,
        floors,
    })
}

/// The reverse task's slot on the new primary (one of the same name left by an earlier
/// attempt is dropped first).
async fn create_slot(prepared: &Prepared, name: &str) -> Result<(), TaskError> {
    let options = ConnectOptions {
        application_name: "pgrelocate_task".into(),
        ..ConnectOptions::default()
    };
    let mut conn = ReplicationConnection::connect(
        &prepared.new_record.endpoint,
        prepared.new_password.as_ref(),
        &options,
    )
    .await?;
    let slot = SlotName::new(name).map_err(|e| TaskError::Inconsistent(e.to_string()))?;
    match conn.drop_slot(&slot, false).await {
        Ok(()) => {}
        Err(e) if e.sqlstate() == Some("42704") => {}
        Err(e) => return Err(e.into()),
    }
    conn.create_physical_slot(&slot, false).await?;
    let _ = conn.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::SslMode;

    #[test]
    fn the_rewind_source_carries_no_password() {
        let e = Endpoint::new("127.0.0.1", 5433, "postgres", None, SslMode::Disable).unwrap();
        let c = rewind_conninfo(
            &e,
            Some(std::path::Path::new("/d.pgrelocate-rewind-pgpass")),
        );
        assert!(
            c.starts_with("host='127.0.0.1' port='5433' user='postgres' dbname="),
            "{c}"
        );
        assert!(c.ends_with("passfile='/d.pgrelocate-rewind-pgpass'"), "{c}");
        assert_eq!(
            rewind_passfile(std::path::Path::new("/srv/pg/data")),
            std::path::Path::new("/srv/pg/data.pgrelocate-rewind-pgpass")
        );
    }
}
