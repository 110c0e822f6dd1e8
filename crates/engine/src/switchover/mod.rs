//! Switchover and failover: applications stop writing to the source and continue on the
//! destination, with every acknowledged commit present and the write-unavailability window
//! measured.
//!
//! [`switchover`]: guardrails → fence → catch-up → promote → allow logins again on the
//! destination → prove writes → clean the standby settings → drop (or name) the slot. On a
//! catch-up timeout or any error before promotion the fence is undone and the source takes
//! writes again. [`failover`]: promote without fencing (the source is lost), and report the
//! last replayed position and, when the source still answers, the gap.
//!
//! This module works on explicit inputs ([`Plan`]); the task service builds the plan from a
//! task and records the outcome (see `crate::task::switch`).

pub mod access;
pub mod catchup;
pub mod error;
pub mod failover;
pub mod fence;
pub mod guardrails;
pub mod hook;
pub mod next_steps;
pub mod pg_control;
pub mod promote;
pub mod slot;
pub mod source_host;
pub mod window;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use error::{
    AbortCause, AfterPromotionError, FailoverCause, Outcome, SwitchoverError, UnknownPromotion,
};
pub use failover::{failover, FailoverPreview, FailoverReady, FailoverReport};
pub use fence::{CatchupTarget, FenceRecord, FenceStrategy, TargetKind, UndoError};
pub use guardrails::{FenceChoice, Finding, Guardrail, GuardrailStatus};
pub use hook::{Hook, HookAt, HookError, HookRun};
pub use next_steps::NextStep;
pub use promote::{PromoteMethod, WriteProof};
pub use slot::SlotOutcome;
pub use source_host::{RemoteServer, SourceHost, Unreached};
pub use window::{StepTime, WriteWindow};

use crate::endpoint::Endpoint;
use crate::error_code::{Coded, ErrorCode};
use crate::secrets::Password;
use crate::server::OsUser;
use crate::sql;
use crate::wire::Lsn;
use fence::Fence;
use window::Stopwatch;

/// A server whose data directory and binaries are on this host.
#[derive(Debug, Clone)]
pub struct LocalServer {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Folder with `pg_ctl`.
    pub bin_dir: PathBuf,
    /// OS user the server runs as (when pgrelocate runs as root).
    pub os_user: Option<OsUser>,
}

/// The source.
#[derive(Debug, Clone)]
pub struct Source {
    /// How to reach it, as the migration account.
    pub endpoint: Endpoint,
    /// The account's password.
    pub password: Option<Password>,
    /// Present when the source is managed on this host (the `shutdown` fence).
    pub managed: Option<LocalServer>,
    /// Present when the source is managed on another registered host, which this process
    /// tried to reach (the `shutdown` fence runs there when it was reached).
    pub on_host: Option<SourceHost>,
}

impl Source {
    /// The source reached on another host, when it was.
    pub fn remote(&self) -> Option<&RemoteServer> {
        match &self.on_host {
            Some(SourceHost::Reached(r)) => Some(r),
            _ => None,
        }
    }
}

/// The destination: a managed standby of the source.
#[derive(Debug, Clone)]
pub struct Destination {
    /// How to reach it. Its catalog is the source's, so this is the source's account.
    pub endpoint: Endpoint,
    /// That account's password.
    pub password: Option<Password>,
    /// Its data directory and binaries.
    pub server: LocalServer,
}

/// Everything a switchover or failover works on.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The source.
    pub source: Source,
    /// The destination.
    pub destination: Destination,
    /// The replication slot on the source.
    pub slot_name: String,
    /// The standby's `application_name` (finds its WAL sender on the source).
    pub application_name: String,
    /// The password file of `primary_conninfo`, removed after promotion.
    pub passfile: Option<PathBuf>,
    /// The role made for the standby alone, dropped once the destination is the primary.
    pub standby_role: Option<String>,
    /// The task's id (the endpoint hook's `PGRELOCATE_TASK_ID`).
    pub task_id: String,
}

/// What the DBA chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the catch-up may take before the switchover rolls back.
    pub catchup_timeout: Duration,
    /// Replay lag above which the switchover does not start.
    pub max_lag_bytes: u64,
    /// A fence strategy to use instead of the strongest available.
    pub strategy: Option<FenceStrategy>,
    /// Transactions older than this are reported as long-running.
    pub long_transaction: Duration,
    /// The registered host the source is managed on, as the workstation that registered it
    /// knows it: handed to the destination's host, which reaches it itself for the
    /// `shutdown` fence. `None`: looked up in this machine's own store.
    pub source_host: Option<crate::store::HostRecord>,
    /// The endpoint hook to run at the cutover point (see [`hook`]).
    pub hook: Option<Hook>,
}

/// The catch-up timeout when the DBA does not give one.
pub const DEFAULT_CATCHUP_TIMEOUT: Duration = Duration::from_secs(300);

impl Default for Options {
    fn default() -> Self {
        Options {
            catchup_timeout: DEFAULT_CATCHUP_TIMEOUT,
            max_lag_bytes: 64 << 20,
            strategy: None,
            long_transaction: Duration::from_secs(60),
            source_host: None,
            hook: None,
        }
    }
}

/// A step as it happens, for a live display and the task's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Progress {
    /// The guardrails, freshly evaluated.
    Guardrails {
        /// The list.
        checks: Vec<Guardrail>,
    },
    /// The fence begins (the window starts).
    Fencing {
        /// The strategy.
        strategy: FenceStrategy,
        /// What it guarantees.
        guarantee: String,
    },
    /// The fence's record changed (store it: it says what to undo).
    FenceRecorded {
        /// What is in force on the source.
        record: FenceRecord,
    },
    /// Writes on the source are stopped.
    Fenced {
        /// The strategy.
        strategy: FenceStrategy,
        /// Client sessions terminated (`sql`).
        terminated_sessions: u32,
        /// Databases whose logins are blocked (`sql`).
        blocked_databases: Vec<String>,
        /// How long the fence took.
        elapsed_ms: u64,
    },
    /// The destination is catching up.
    CatchUp {
        /// The source's final position.
        target_lsn: Lsn,
        /// What the destination received.
        received_lsn: Option<Lsn>,
        /// What it replayed.
        replayed_lsn: Option<Lsn>,
        /// Bytes left to replay.
        remaining_bytes: u64,
    },
    /// The destination has everything.
    CaughtUp {
        /// The source's final position.
        target_lsn: Lsn,
        /// What the destination replayed.
        replayed_lsn: Lsn,
        /// How long the catch-up took.
        elapsed_ms: u64,
    },
    /// Promotion requested.
    Promoting,
    /// The destination is a primary.
    Promoted {
        /// How.
        method: PromoteMethod,
        /// Its new timeline, when it could be read.
        timeline: Option<u32>,
        /// How long promotion took.
        elapsed_ms: u64,
    },
    /// The endpoint hook starts.
    HookStarted {
        /// When it runs.
        at: HookAt,
        /// The command.
        command: String,
        /// Its timeout.
        timeout_ms: u64,
    },
    /// The endpoint hook ended (its exit status, time and output).
    HookFinished {
        /// How it ended.
        run: HookRun,
    },
    /// Logins allowed again on the destination in these databases.
    DestinationUnfenced {
        /// The databases.
        databases: Vec<String>,
    },
    /// Fresh connections to every database committed on the destination.
    WritesVerified {
        /// Per database.
        databases: Vec<WriteProof>,
        /// The measured window (switchover), or how long promotion and the proof took
        /// (failover).
        write_unavailable_ms: u64,
    },
    /// Failover: fresh connections to every database committed on the promoted destination.
    FailoverVerified {
        /// Per database.
        databases: Vec<WriteProof>,
        /// How long promotion and the proof took (no fence opened a window).
        promotion_ms: u64,
    },
    /// The standby settings and the password file are gone.
    StandbyCleaned {
        /// Files changed or removed.
        files: Vec<String>,
    },
    /// What became of the slot.
    Slot {
        /// The outcome.
        outcome: SlotOutcome,
    },
    /// Something is being undone.
    RollingBack {
        /// What failed (absent in events stored before codes existed).
        #[serde(default = "unknown_cause")]
        code: ErrorCode,
        /// Why, for people.
        reason: String,
    },
    /// The rollback ended.
    RolledBack {
        /// A fresh connection to the source committed.
        source_accepts_writes: bool,
        /// What could not be undone.
        problems: Vec<String>,
    },
    /// Anything else worth a line.
    Note {
        /// The message.
        message: String,
    },
}

/// What a successful switchover did and measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct SwitchoverReport {
    /// The fence used.
    pub strategy: FenceStrategy,
    /// What it guarantees.
    pub guarantee: String,
    /// The guardrails as evaluated at the start.
    pub guardrails: Vec<Guardrail>,
    /// What stays in force on the source.
    pub fence: FenceRecord,
    /// The source's final position (flushed position or shutdown checkpoint).
    pub source_final_lsn: Lsn,
    /// What the destination had replayed when it was promoted.
    pub replayed_lsn: Lsn,
    /// How the destination was promoted.
    pub promote_method: PromoteMethod,
    /// The destination's new timeline.
    pub timeline: Option<u32>,
    /// The measured write-unavailability window.
    pub window: WriteWindow,
    /// Databases whose logins were allowed again on the destination.
    pub unfenced_on_destination: Vec<String>,
    /// Fresh-connection commits on the destination, per database.
    pub writes_verified: Vec<WriteProof>,
    /// What became of the slot.
    pub slot: SlotOutcome,
    /// The new primary.
    pub new_primary: String,
    /// Steps after promotion that did not work (the switchover still succeeded).
    pub warnings: Vec<String>,
    /// What the DBA does next.
    #[serde(deserialize_with = "next_steps::tolerant")]
    pub next_steps: Vec<NextStep>,
    /// The endpoint hook, when one ran (absent from reports of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hook: Option<HookRun>,
}

/// The guardrails and the fence a switchover would use, without doing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Preview {
    /// The guardrails.
    pub guardrails: Vec<Guardrail>,
    /// The fence that would be used.
    pub strategy: Option<FenceStrategy>,
    /// What it guarantees.
    pub guarantee: Option<String>,
    /// No guardrail forbids the switchover.
    pub ready: bool,
    /// Every fence, strongest first: its guarantee, whether it is available and why not
    /// (absent from previews of earlier versions).
    #[serde(default)]
    pub fences: Vec<FenceChoice>,
    /// The fence used when the DBA chooses none: the strongest available.
    #[serde(default)]
    pub default_strategy: Option<FenceStrategy>,
}

impl Preview {
    /// The refusal a preview that is not ready stands for: the fence asked for cannot be
    /// used (`fence_unavailable`), or a guardrail forbids the switchover.
    pub fn refusal(self, options: &Options) -> SwitchoverError {
        let refused = options.strategy.and_then(|wanted| {
            self.fences
                .iter()
                .find(|c| c.strategy == wanted && !c.available)
                .cloned()
        });
        match refused {
            Some(choice) => SwitchoverError::FenceUnavailable {
                strategy: choice.strategy,
                finding: choice.finding,
                checks: self.guardrails,
            },
            None => SwitchoverError::Guardrails {
                checks: self.guardrails,
            },
        }
    }
}

/// The cause code of a rollback step stored before steps carried one.
fn unknown_cause() -> ErrorCode {
    ErrorCode::Internal
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress) + Send + Sync);

/// Evaluates the guardrails and the fence a switchover would use, changing nothing.
pub async fn preview(plan: &Plan, options: &Options) -> Preview {
    let eval = guardrails::evaluate(plan, options).await;
    Preview {
        ready: !guardrails::blocking(&eval.checks),
        guarantee: eval.strategy.map(|s| s.guarantee().to_string()),
        strategy: eval.strategy,
        guardrails: eval.checks,
        default_strategy: guardrails::default_fence(&eval.fences),
        fences: eval.fences,
    }
}

/// Guardrails that passed: what [`execute`] needs.
#[derive(Debug, Clone)]
pub struct Ready {
    /// The guardrails as evaluated.
    pub checks: Vec<Guardrail>,
    /// The fence to use.
    pub strategy: FenceStrategy,
    /// The destination's version.
    pub version: crate::version::ServerVersion,
}

/// Evaluates the guardrails (reported as progress); an error when one forbids the switchover.
pub async fn check(
    plan: &Plan,
    options: &Options,
    progress: ProgressFn<'_>,
) -> Result<Ready, SwitchoverError> {
    let eval = guardrails::evaluate(plan, options).await;
    progress(&Progress::Guardrails {
        checks: eval.checks.clone(),
    });
    if let Some(choice) = eval.refused_choice(options) {
        return Err(SwitchoverError::FenceUnavailable {
            strategy: choice.strategy,
            finding: choice.finding.clone(),
            checks: eval.checks,
        });
    }
    match (
        eval.strategy,
        eval.version,
        guardrails::blocking(&eval.checks),
    ) {
        (Some(strategy), Some(version), false) => Ok(Ready {
            checks: eval.checks,
            strategy,
            version,
        }),
        _ => Err(SwitchoverError::Guardrails {
            checks: eval.checks,
        }),
    }
}

/// Runs a switchover: see the module documentation.
pub async fn switchover(
    plan: &Plan,
    options: &Options,
    progress: ProgressFn<'_>,
) -> Result<SwitchoverReport, SwitchoverError> {
    let ready = check(plan, options, progress).await?;
    execute(plan, ready, options, progress).await
}

/// Runs a switchover whose guardrails passed: fence, catch-up, promote, verify, clean up.
pub async fn execute(
    plan: &Plan,
    ready: Ready,
    options: &Options,
    progress: ProgressFn<'_>,
) -> Result<SwitchoverReport, SwitchoverError> {
    let Ready {
        checks,
        strategy,
        version,
    } = ready;
    let dest_endpoint = &plan.destination.endpoint;
    let dest_password = plan.destination.password.as_ref();
    let dest = sql::connect(dest_endpoint, dest_password, Duration::from_secs(10))
        .await
        .map_err(SwitchoverError::Destination)?;
    // Carried access rules in force before the fence: the new primary admits those
    // clients the moment it is promoted.
    crate::access::service::reload_if_applied(
        &dest,
        &plan.task_id,
        &plan.destination.server.data_dir,
    )
    .await;

    progress(&Progress::Fencing {
        strategy,
        guarantee: strategy.guarantee().to_string(),
    });
    // Connections and a checkpoint first, while the source still takes writes.
    let dest_control = match fence::destination_control(dest_endpoint, dest_password).await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::info!(error = %e, "no control connection to the destination yet");
            None
        }
    };
    let mut fence = Fence::new(strategy, &plan.source);
    if let Err(e) = fence.prepare().await {
        return Err(roll_back(plan, fence, AbortCause::Prepare(e), progress).await);
    }
    let mut watch = Stopwatch::start();
    let journal = |record: &FenceRecord| {
        progress(&Progress::FenceRecorded {
            record: record.clone(),
        })
    };
    if let Err(e) = fence.apply(&journal).await {
        return Err(roll_back(plan, fence, AbortCause::Fence(e), progress).await);
    }
    let fence_ms = watch.lap("fence");
    progress(&Progress::Fenced {
        strategy,
        terminated_sessions: fence.record().terminated_sessions,
        blocked_databases: fence.record().blocked_databases.clone(),
        elapsed_ms: fence_ms,
    });

    let target = match fence.target().await {
        Ok(t) => t,
        Err(e) => {
            return Err(roll_back(plan, fence, AbortCause::Target(e), progress).await);
        }
    };
    let caught_up = catchup::wait(
        &dest,
        dest_endpoint,
        &mut fence,
        target,
        options.catchup_timeout,
        progress,
    )
    .await;
    let (mut target, mut replayed) = match caught_up {
        Ok(x) => x,
        Err(e) => return Err(roll_back(plan, fence, AbortCause::Catchup(e), progress).await),
    };
    watch.lap("catchup");

    let mut hook_run = None;
    if let Some(hook) = options
        .hook
        .as_ref()
        .filter(|h| h.at == HookAt::BeforePromotion)
    {
        match run_hook(plan, hook, progress).await {
            Ok(run) => hook_run = Some(run),
            Err(e) => return Err(roll_back(plan, fence, AbortCause::Hook(e), progress).await),
        }
        watch.lap("hook");
        // The fence did not watch while the hook ran: a newcomer it finds now moves the
        // target, and the destination catches up to that too.
        let again = match fence.guard().await {
            Ok(0) => None,
            Ok(_) => Some(fence.target().await),
            Err(e) => Some(Err(e)),
        };
        if let Some(next) = again {
            let next = match next {
                Ok(t) => t,
                Err(e) => return Err(roll_back(plan, fence, AbortCause::Target(e), progress).await),
            };
            match catchup::wait(
                &dest,
                dest_endpoint,
                &mut fence,
                next,
                options.catchup_timeout,
                progress,
            )
            .await
            {
                Ok((t, r)) => (target, replayed) = (t, r),
                Err(e) => {
                    return Err(roll_back(plan, fence, AbortCause::Catchup(e), progress).await)
                }
            }
            watch.lap("catchup");
        }
    }

    progress(&Progress::Promoting);
    let promote_started = Instant::now();
    let method =
        match promote::promote(&dest, dest_endpoint, &plan.destination.server, version).await {
            Ok(m) => m,
            // The request may have reached the server all the same: ask it.
            Err(e) => match promote::in_recovery(&dest, dest_endpoint).await {
                Ok(true) => {
                    return Err(roll_back(plan, fence, AbortCause::Promotion(e), progress).await);
                }
                Ok(false) => {
                    progress(&Progress::Note {
                        message: format!(
                            "promotion reported an error ({e}) but the destination left recovery"
                        ),
                    });
                    PromoteMethod::PgCtl
                }
                Err(e2) => {
                    fence.hold();
                    return Err(SwitchoverError::PromotionUnknown(Box::new(
                        UnknownPromotion::Unconfirmed {
                            request: e,
                            check: e2,
                        },
                    )));
                }
            },
        };
    if let Err(e) = promote::wait_until_primary(&dest, dest_endpoint).await {
        fence.hold();
        return Err(SwitchoverError::PromotionUnknown(Box::new(
            UnknownPromotion::Wait(e),
        )));
    }
    let mut warnings = Vec::new();
    let timeline = match promote::timeline(&dest, dest_endpoint).await {
        Ok(t) => Some(t),
        Err(e) => {
            warnings.push(format!("the new timeline could not be read: {e}"));
            None
        }
    };
    watch.lap("promote");
    progress(&Progress::Promoted {
        method,
        timeline,
        elapsed_ms: window::ms(promote_started.elapsed()),
    });

    // From here on the destination is the primary: nothing is rolled back any more.
    let record = fence.hold();
    let unfenced =
        fence::undo_replicated(dest_control.as_ref(), dest_endpoint, dest_password, &record)
            .await
            .map_err(|source| {
                SwitchoverError::AfterPromotion(Box::new(AfterPromotionError::Unfence {
                    source,
                    record: FenceRecord {
                        read_only: false,
                        ..record.clone()
                    },
                }))
            })?;
    watch.lap("unfence");
    progress(&Progress::DestinationUnfenced {
        databases: unfenced.clone(),
    });
    let proofs = promote::prove_writes(&dest, dest_endpoint, dest_password)
        .await
        .map_err(|e| SwitchoverError::AfterPromotion(Box::new(AfterPromotionError::Writes(e))))?;
    watch.lap("verify");
    let window = watch.finish();
    progress(&Progress::WritesVerified {
        databases: proofs.clone(),
        write_unavailable_ms: window.write_unavailable_ms,
    });

    let mut rerun_hook = None;
    if let Some(hook) = options
        .hook
        .as_ref()
        .filter(|h| h.at == HookAt::AfterPromotion)
    {
        // Nothing can be rolled back any more: a failure is a warning with the rerun command.
        match run_hook(plan, hook, progress).await {
            Ok(run) => hook_run = Some(run),
            Err(e) => {
                warnings.push(e.to_string());
                rerun_hook = Some(e.rerun().to_string());
                hook_run = e.run().cloned();
            }
        }
    }

    clean_standby(plan, progress, &mut warnings);
    drop_standby_role(
        plan,
        strategy == FenceStrategy::Sql,
        progress,
        &mut warnings,
    )
    .await;
    let slot = match strategy {
        FenceStrategy::Sql => release_slot(plan).await,
        FenceStrategy::Shutdown => SlotOutcome::kept(
            &plan.slot_name,
            "the source is stopped; drop the slot if it is ever started again",
        ),
    };
    progress(&Progress::Slot {
        outcome: slot.clone(),
    });
    let mut next = next_steps(plan, Some(&record), &slot, &checks);
    if let Some(command) = rerun_hook {
        next.insert(0, NextStep::RerunHook { command });
    }
    Ok(SwitchoverReport {
        strategy,
        guarantee: strategy.guarantee().to_string(),
        guardrails: checks,
        next_steps: next,
        hook: hook_run,
        fence: record,
        source_final_lsn: target.lsn,
        replayed_lsn: replayed,
        promote_method: method,
        timeline,
        window,
        unfenced_on_destination: unfenced,
        writes_verified: proofs,
        slot,
        new_primary: dest_endpoint.address(),
        warnings,
    })
}

/// Runs the endpoint hook, reporting its start and end.
async fn run_hook(
    plan: &Plan,
    hook: &Hook,
    progress: ProgressFn<'_>,
) -> Result<HookRun, HookError> {
    progress(&Progress::HookStarted {
        at: hook.at,
        command: hook.command.clone(),
        timeout_ms: hook.timeout_ms,
    });
    let result = hook::run(hook, &hook::HookEnv::of(plan, hook.at)).await;
    if let Some(run) = result
        .as_ref()
        .ok()
        .or(result.as_ref().err().and_then(|e| e.run()))
    {
        progress(&Progress::HookFinished { run: run.clone() });
    }
    result
}

/// Undoes the fence and proves that the source takes writes again.
async fn roll_back(
    plan: &Plan,
    mut fence: Fence<'_>,
    reason: AbortCause,
    progress: ProgressFn<'_>,
) -> SwitchoverError {
    tracing::warn!("switchover rolling back: {reason}");
    progress(&Progress::RollingBack {
        code: reason.code(),
        reason: reason.to_string(),
    });
    let mut problems = fence.undo().await.err().unwrap_or_default();
    progress(&Progress::FenceRecorded {
        record: fence.record().clone(),
    });
    if problems.is_empty() {
        if let Err(e) = source_accepts_writes(&plan.source).await {
            problems.push(e);
        }
    }
    progress(&Progress::RolledBack {
        source_accepts_writes: problems.is_empty(),
        problems: problems.iter().map(|p| p.to_string()).collect(),
    });
    if problems.is_empty() {
        SwitchoverError::RolledBack {
            reason: Box::new(reason),
        }
    } else {
        SwitchoverError::RollbackIncomplete {
            reason: Box::new(reason),
            problems,
        }
    }
}

/// Waits (briefly: a reload reaches new sessions asynchronously) until a fresh connection
/// to the source commits.
pub async fn source_accepts_writes(source: &Source) -> Result<(), UndoError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match promote::prove_database(
            &source.endpoint,
            source.password.as_ref(),
            &source.endpoint.dbname,
        )
        .await
        {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(UndoError::SourceWrites(e)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Removes the standby settings and the password file; failures become warnings.
pub fn clean_standby(plan: &Plan, progress: ProgressFn<'_>, warnings: &mut Vec<String>) {
    let mut files = match promote::remove_standby_settings(&plan.destination.server) {
        Ok(files) => files,
        Err(e) => {
            warnings.push(e.to_string());
            Vec::new()
        }
    };
    if let Some(passfile) = &plan.passfile {
        match std::fs::remove_file(passfile) {
            Ok(()) => files.push(passfile.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => warnings.push(format!("cannot remove {}: {e}", passfile.display())),
        }
    }
    progress(&Progress::StandbyCleaned {
        files: files.iter().map(|f| f.display().to_string()).collect(),
    });
}

/// Drops the standby's own role on the new primary (it came with the copy) and, when
/// `on_source`, on the source that still runs; failures become warnings with the command.
pub async fn drop_standby_role(
    plan: &Plan,
    on_source: bool,
    progress: ProgressFn<'_>,
    warnings: &mut Vec<String>,
) {
    let Some(role) = &plan.standby_role else {
        return;
    };
    let dest = &plan.destination;
    let mut ends = vec![("the new primary", &dest.endpoint, dest.password.as_ref())];
    if on_source {
        ends.push((
            "the source",
            &plan.source.endpoint,
            plan.source.password.as_ref(),
        ));
    } else {
        progress(&Progress::Note {
            message: format!(
                "the stopped source keeps the standby role {role}: drop it there with {} if \
                 it is ever started again",
                crate::standby_role::drop_command(role)
            ),
        });
    }
    for (what, endpoint, password) in ends {
        match crate::standby_role::drop(endpoint, password, role).await {
            Ok(()) => progress(&Progress::Note {
                message: format!("dropped the standby role {role} on {what}"),
            }),
            Err(e) => warnings.push(format!(
                "the standby role {role} could not be dropped on {what} ({e}); drop it there \
                 with {}",
                crate::standby_role::drop_command(role)
            )),
        }
    }
}

/// Drops the slot on the running source, or says why it stays.
pub async fn release_slot(plan: &Plan) -> SlotOutcome {
    match slot::drop_slot(
        &plan.source.endpoint,
        plan.source.password.as_ref(),
        &plan.slot_name,
    )
    .await
    {
        Ok(()) => SlotOutcome::Dropped {
            slot: plan.slot_name.clone(),
        },
        Err(e) => SlotOutcome::kept(&plan.slot_name, format!("it could not be dropped: {e}")),
    }
}

/// What the DBA does next.
fn next_steps(
    plan: &Plan,
    fence: Option<&FenceRecord>,
    slot: &SlotOutcome,
    checks: &[Guardrail],
) -> Vec<NextStep> {
    let mut steps = vec![NextStep::reconnect(&plan.destination.endpoint)];
    steps.extend(NextStep::access(checks));
    steps.push(NextStep::retire(fence.map(|f| f.strategy)));
    if let SlotOutcome::Kept {
        slot, drop_with, ..
    } = slot
    {
        steps.push(NextStep::DropSlot {
            slot: slot.clone(),
            drop_with: drop_with.clone(),
        });
    }
    steps
}

/// A one-line description of a step, for a terminal (`None`: nothing to say, e.g. a fence
/// record). The words are [`Progress`]'s `Display`.
pub fn describe(p: &Progress) -> Option<String> {
    p.has_line().then(|| p.to_string())
}

impl Progress {
    /// Whether the step is worth a line in a terminal or the event log (a fence record, or
    /// a destination with no login to allow again, is not).
    pub fn has_line(&self) -> bool {
        match self {
            Progress::FenceRecorded { .. } => false,
            Progress::DestinationUnfenced { databases } => !databases.is_empty(),
            _ => true,
        }
    }
}

/// The step in English, one line: what the CLI prints and the event log's text (the app
/// words the same values through `switch.line.<step>` in `ui/i18n.ts`).
impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Guardrails { checks } => {
                let count = |s| checks.iter().filter(|c| c.status == s).count();
                write!(
                    f,
                    "guardrails: {} passed, {} warning(s), {} error(s)",
                    count(GuardrailStatus::Pass),
                    count(GuardrailStatus::Warning),
                    count(GuardrailStatus::Error)
                )?;
                for c in checks.iter().filter(|c| c.status != GuardrailStatus::Pass) {
                    write!(f, "; {}: {}", c.title(), c.finding)?;
                }
                Ok(())
            }
            Progress::Fencing { strategy, .. } => {
                write!(f, "fencing the source (strategy {strategy})")
            }
            Progress::FenceRecorded { record } => {
                write!(f, "fence record stored (strategy {})", record.strategy)
            }
            Progress::Fenced {
                strategy: FenceStrategy::Shutdown,
                elapsed_ms,
                ..
            } => write!(
                f,
                "source fenced: checkpoint and clean shutdown in {elapsed_ms} ms"
            ),
            Progress::Fenced {
                terminated_sessions,
                blocked_databases,
                elapsed_ms,
                ..
            } => write!(
                f,
                "source fenced in {elapsed_ms} ms: logins blocked in {} database(s), read-only \
                 by default, {terminated_sessions} client session(s) terminated",
                blocked_databases.len()
            ),
            Progress::CatchUp {
                target_lsn,
                replayed_lsn,
                remaining_bytes,
                ..
            } => write!(
                f,
                "catching up: {remaining_bytes} byte(s) behind {target_lsn} (replayed {})",
                replayed_lsn
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "nothing".into())
            ),
            Progress::CaughtUp {
                target_lsn,
                replayed_lsn,
                elapsed_ms,
            } => write!(
                f,
                "caught up in {elapsed_ms} ms: the destination replayed up to {replayed_lsn} \
                 (the source's final position is {target_lsn})"
            ),
            Progress::Promoting => f.write_str("promoting the destination"),
            Progress::Promoted {
                method,
                timeline,
                elapsed_ms,
            } => write!(
                f,
                "promoted with {} in {elapsed_ms} ms{}",
                method.as_str(),
                timeline
                    .map(|t| format!("; new timeline {t}"))
                    .unwrap_or_default()
            ),
            Progress::HookStarted {
                at,
                command,
                timeout_ms,
            } => write!(
                f,
                "running the endpoint hook {at} (timeout {} s): {command}",
                timeout_ms / 1000
            ),
            Progress::HookFinished { run } => {
                match (run.timed_out, run.exit_code) {
                    (true, _) => write!(
                        f,
                        "endpoint hook killed after {} ms (timeout)",
                        run.elapsed_ms
                    )?,
                    (false, Some(c)) => write!(
                        f,
                        "endpoint hook exited with status {c} in {} ms",
                        run.elapsed_ms
                    )?,
                    (false, None) => write!(
                        f,
                        "endpoint hook killed by a signal after {} ms",
                        run.elapsed_ms
                    )?,
                }
                for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                    let text = text.trim();
                    if !text.is_empty() {
                        write!(f, "; {name}: {text}")?;
                    }
                }
                Ok(())
            }
            Progress::DestinationUnfenced { databases } if databases.is_empty() => {
                f.write_str("no login to allow again on the destination")
            }
            Progress::DestinationUnfenced { databases } => write!(
                f,
                "logins allowed again on the destination in {}",
                databases.join(", ")
            ),
            Progress::WritesVerified {
                databases,
                write_unavailable_ms,
            } => {
                let unchecked: Vec<&str> = databases
                    .iter()
                    .filter(|d| !d.committed)
                    .map(|d| d.database.as_str())
                    .collect();
                write!(
                    f,
                    "a fresh connection committed on the destination in {} database(s){}; \
                     writes were unavailable for {write_unavailable_ms} ms",
                    databases.len() - unchecked.len(),
                    if unchecked.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (not checked, no CONNECT privilege: {})",
                            unchecked.join(", ")
                        )
                    }
                )
            }
            Progress::FailoverVerified {
                databases,
                promotion_ms,
            } => write!(
                f,
                "a fresh connection committed on the destination in {} database(s); promotion \
                 took {promotion_ms} ms",
                databases.iter().filter(|d| d.committed).count()
            ),
            Progress::StandbyCleaned { files } => write!(
                f,
                "standby settings and password file removed ({} file(s))",
                files.len()
            ),
            Progress::Slot {
                outcome: SlotOutcome::Dropped { slot },
            } => write!(f, "slot {slot} dropped on the source"),
            Progress::Slot {
                outcome:
                    SlotOutcome::Kept {
                        slot,
                        reason,
                        drop_with,
                    },
            } => write!(f, "slot {slot} kept on the source: {reason} ({drop_with})"),
            Progress::RollingBack { reason, .. } => write!(f, "rolling back: {reason}"),
            Progress::RolledBack {
                source_accepts_writes: true,
                ..
            } => f.write_str("rolled back: the source accepts writes again"),
            Progress::RolledBack { problems, .. } => {
                write!(f, "rollback incomplete: {}", problems.join("; "))
            }
            Progress::Note { message } => f.write_str(message),
        }
    }
}
