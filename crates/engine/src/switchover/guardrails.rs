//! Guardrails, evaluated fresh just before a switchover (and for the dialog before the DBA
//! confirms): source reachable and a primary, destination a healthy standby of the same
//! major, replication streaming, byte lag under a threshold, a fence strategy available;
//! warnings for long-running and prepared transactions.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::access::sql_fence_access;
use super::fence::{FenceStrategy, CLIENT_SESSION};
use super::{Options, Plan};
use crate::sql::{self, SqlError};
use crate::version::ServerVersion;
use crate::wire::Lsn;

/// Connect timeout of the guardrails' connections.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a guardrail came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum GuardrailStatus {
    /// Fine.
    Pass,
    /// A risk the DBA should know about; the switchover may go ahead.
    Warning,
    /// The switchover must not start.
    Error,
}

/// One guardrail: which, how it came out, and what was found (a value; its `Display` is the
/// English the CLI prints, the app words it through `guardrail.finding.<kind>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Guardrail {
    /// Stable id, e.g. `replication.lag`.
    pub id: String,
    /// Outcome.
    pub status: GuardrailStatus,
    /// What was found (and what to do when it is not a pass).
    #[serde(flatten)]
    pub finding: Finding,
}

impl Guardrail {
    /// A guardrail result with its finding.
    pub fn of(id: &str, status: GuardrailStatus, finding: Finding) -> Self {
        Guardrail {
            id: id.to_string(),
            status,
            finding,
        }
    }

    /// A guardrail result in words (as earlier versions stored them).
    pub fn new(id: &str, title: &str, status: GuardrailStatus, message: impl Into<String>) -> Self {
        Guardrail::of(
            id,
            status,
            Finding::Text {
                title: title.to_string(),
                message: message.into(),
            },
        )
    }

    /// Its short title.
    pub fn title(&self) -> &str {
        if let Finding::Text { title, .. } = &self.finding {
            return title;
        }
        match self.id.as_str() {
            "source.reachable" => "Source reachable",
            "destination.healthy" => "Destination healthy",
            "replication.streaming" => "Replication streaming",
            "replication.lag" => "Lag under the threshold",
            "fence.strategy" => "Fence strategy available",
            "fence.source_host" => "Shutdown fence on the source's host",
            "source.long_transactions" => "Long-running transactions",
            "source.prepared_transactions" => "Prepared transactions",
            "source.superuser_sessions" => "Sessions the fence cannot end",
            "source.lost" => "Source lost",
            "task.phase" => "Task in incremental sync",
            "access.rules" => "Access rules carried",
            other => other,
        }
    }

    /// What was found, in English.
    pub fn message(&self) -> String {
        self.finding.to_string()
    }
}

/// What a guardrail found, with what the sentence needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The source answers.
    SourceAnswers {
        /// Its version.
        version: String,
    },
    /// The source is a standby.
    SourceInRecovery,
    /// The source cannot be reached.
    SourceUnreachable {
        /// Why.
        error: String,
    },
    /// The destination cannot be reached.
    DestinationUnreachable {
        /// Why.
        error: String,
    },
    /// The destination cannot be read.
    DestinationUnreadable {
        /// Why.
        error: String,
    },
    /// The destination's WAL positions cannot be read.
    DestinationPositionsUnreadable,
    /// The destination is not in recovery.
    DestinationPromoted,
    /// The two servers run different majors.
    VersionMismatch {
        /// The destination's version.
        destination: String,
        /// The source's version.
        source: String,
    },
    /// WAL replay is paused on the destination.
    ReplayPaused,
    /// The destination is a running standby.
    DestinationRunning,
    /// The destination is a standby.
    DestinationStandby,
    /// The destination is a standby, with its positions.
    DestinationReplayed {
        /// What it received.
        received: Option<Lsn>,
        /// What it replayed.
        replayed: Option<Lsn>,
    },
    /// The destination streams WAL from the source.
    Streaming,
    /// The destination's WAL sender is not streaming.
    SenderState {
        /// Its state.
        state: String,
    },
    /// No WAL sender for the destination.
    NotConnected {
        /// The standby's `application_name`.
        application_name: String,
    },
    /// Not checked: the source cannot be reached.
    SourceNotChecked,
    /// Not checked: both servers must answer.
    ServersNotChecked,
    /// Not checked, for another reason.
    NotChecked {
        /// Why.
        error: String,
    },
    /// The lag is under the threshold.
    LagUnder {
        /// Bytes behind.
        lag_bytes: u64,
        /// The threshold.
        threshold_bytes: u64,
    },
    /// The lag is above the threshold.
    LagOver {
        /// Bytes behind.
        lag_bytes: u64,
        /// The threshold.
        threshold_bytes: u64,
    },
    /// The WAL positions cannot be read.
    PositionsUnreadable,
    /// A fence is available.
    Fence {
        /// Which.
        strategy: FenceStrategy,
        /// `sql`: whether the account is a superuser (otherwise it has the privileges).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        superuser: Option<bool>,
        /// `shutdown` of a source managed on another registered host: that host (its
        /// agent stops the source; this host reached it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        host: Option<String>,
    },
    /// `shutdown` was asked for and the source is not managed here.
    ShutdownNotManaged,
    /// The source is managed on another registered host, which this host (where the
    /// switchover runs) cannot reach or which does not run it: no `shutdown` fence.
    SourceHostUnreachable {
        /// The source's host.
        host: String,
        /// What the failure is (`ssh_auth_failed`, `host_key_mismatch`, …).
        code: crate::ErrorCode,
        /// For people.
        error: String,
    },
    /// The account cannot fence the source with SQL.
    FenceNotGranted {
        /// The account.
        role: String,
        /// What it lacks.
        missing: Vec<String>,
        /// The statements that grant it.
        grants: Vec<String>,
    },
    /// The account's privileges cannot be read.
    PrivilegesUnreadable {
        /// Why.
        error: String,
    },
    /// Transactions running longer than the threshold.
    LongTransactions {
        /// How many.
        count: u64,
        /// The threshold, in seconds.
        threshold_secs: u64,
        /// The longest, in seconds.
        longest_secs: u64,
    },
    /// No transaction runs longer than the threshold.
    NoLongTransactions {
        /// The threshold, in seconds.
        threshold_secs: u64,
    },
    /// Prepared transactions.
    PreparedTransactions {
        /// How many.
        count: u64,
    },
    /// No prepared transaction.
    NoPreparedTransactions,
    /// Superuser sessions the account cannot terminate.
    SuperuserSessions {
        /// How many.
        count: u64,
    },
    /// The source does not answer (a failover).
    SourceSilent {
        /// Why, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        error: Option<String>,
    },
    /// The source still answers (a failover).
    SourceStillAnswers {
        /// Its position.
        lsn: Lsn,
    },
    /// The task is not in incremental sync.
    TaskNotInIncrement {
        /// The task.
        task: String,
        /// Its phase.
        phase: crate::task::Phase,
        /// The operation asked for.
        operation: crate::task::switch::Operation,
    },
    /// The task is in incremental sync.
    TaskInIncrement {
        /// The task.
        task: String,
        /// Its scenario.
        mode: crate::assess::Mode,
        /// Its replication state.
        replication: crate::task::ReplicationState,
    },
    /// Clients the source admits that the destination's `pg_hba.conf` would refuse.
    AccessRulesPending {
        /// How many source rules.
        count: usize,
        /// Their clients, in words.
        networks: String,
        /// The task (for `pgrelocate access apply`).
        task: String,
    },
    /// The destination admits every client network the source admits.
    AccessRulesCovered,
    /// A finding in words (stored by an earlier version).
    // ts-rs would add the tag to an untagged struct variant: its shape is spelled out.
    #[serde(untagged)]
    #[ts(type = "{ title: string, message: string }")]
    Text {
        /// The guardrail's title.
        title: String,
        /// What was found.
        message: String,
    },
}

fn or_nothing(lsn: &Option<Lsn>) -> String {
    lsn.map(|l| l.to_string())
        .unwrap_or_else(|| "nothing".into())
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::SourceAnswers { version } => {
                write!(f, "the source answers (PostgreSQL {version})")
            }
            Finding::SourceInRecovery => f.write_str(
                "the source is in recovery (a standby): there is nothing to switch over from",
            ),
            Finding::SourceUnreachable { error } => {
                write!(f, "the source cannot be reached: {error}")
            }
            Finding::DestinationUnreachable { error } => {
                write!(f, "the destination cannot be reached: {error}")
            }
            Finding::DestinationUnreadable { error } => {
                write!(f, "the destination cannot be read: {error}")
            }
            Finding::DestinationPositionsUnreadable => {
                f.write_str("the destination's WAL positions cannot be read")
            }
            Finding::DestinationPromoted => {
                f.write_str("the destination is not in recovery: it was already promoted")
            }
            Finding::VersionMismatch {
                destination,
                source,
            } => write!(
                f,
                "the destination runs PostgreSQL {destination} and the source {source}"
            ),
            Finding::ReplayPaused => f.write_str(
                "WAL replay is paused on the destination: the catch-up waits until it is \
                 resumed (SELECT pg_wal_replay_resume()) and rolls back at the timeout",
            ),
            Finding::DestinationRunning => f.write_str("the destination is a running standby"),
            Finding::DestinationStandby => f.write_str("the destination is a standby"),
            Finding::DestinationReplayed { received, replayed } => write!(
                f,
                "the destination is a standby; it received up to {} and replayed up to {}",
                or_nothing(received),
                or_nothing(replayed)
            ),
            Finding::Streaming => f.write_str("the destination streams WAL from the source"),
            Finding::SenderState { state } => write!(
                f,
                "the destination's WAL sender is in state {state}, not streaming; wait until it \
                 catches up"
            ),
            Finding::NotConnected { application_name } => write!(
                f,
                "the destination is not connected to the source (no WAL sender for \
                 {application_name})"
            ),
            Finding::SourceNotChecked => f.write_str("not checked: the source cannot be reached"),
            Finding::ServersNotChecked => f.write_str("not checked: both servers must answer"),
            Finding::NotChecked { error } => write!(f, "not checked: {error}"),
            Finding::LagUnder {
                lag_bytes,
                threshold_bytes,
            } => write!(
                f,
                "the destination is {} behind (threshold {})",
                mib(*lag_bytes),
                mib(*threshold_bytes)
            ),
            Finding::LagOver {
                lag_bytes,
                threshold_bytes,
            } => write!(
                f,
                "the destination is {} behind, above the threshold of {}: writes would stop \
                 for as long as it takes to replay that; wait until it catches up",
                mib(*lag_bytes),
                mib(*threshold_bytes)
            ),
            Finding::PositionsUnreadable => {
                f.write_str("the WAL positions of the source and the destination cannot be read")
            }
            Finding::Fence {
                strategy: FenceStrategy::Shutdown,
                host,
                ..
            } => write!(
                f,
                "fence: shutdown{}. Guarantee: {}",
                host.as_deref()
                    .map(|h| format!(" (on host {h}, reached from here)"))
                    .unwrap_or_default(),
                FenceStrategy::Shutdown.guarantee()
            ),
            Finding::Fence {
                strategy: FenceStrategy::Sql,
                superuser,
                ..
            } => write!(
                f,
                "fence: sql ({}). Guarantee: {}",
                if *superuser == Some(true) {
                    "superuser"
                } else {
                    "granted privileges"
                },
                FenceStrategy::Sql.guarantee()
            ),
            Finding::ShutdownNotManaged => {
                f.write_str("fence: shutdown needs a source managed on this host; this one is not")
            }
            Finding::SourceHostUnreachable { host, code, error } => write!(
                f,
                "fence: no shutdown fence. The source is managed on host {host}, which the \
                 destination's host cannot fence it on ({code}: {error}); let the destination's \
                 login user reach {host} over SSH with the same host key for a shutdown fence",
                code = code.as_str(),
            ),
            Finding::FenceNotGranted {
                role,
                missing,
                grants,
            } => write!(
                f,
                "fence: none. {role} cannot fence the source with SQL; it lacks {}. Run on the \
                 source as a superuser: {}",
                missing.join(", "),
                grants.join(" ")
            ),
            Finding::PrivilegesUnreadable { error } => {
                write!(f, "the account's privileges cannot be read: {error}")
            }
            Finding::LongTransactions {
                count,
                threshold_secs,
                longest_secs,
            } => write!(
                f,
                "{count} transaction(s) running for more than {threshold_secs} s (the longest \
                 for {longest_secs} s): the fence terminates them and they roll back"
            ),
            Finding::NoLongTransactions { threshold_secs } => write!(
                f,
                "no transaction has been running for more than {threshold_secs} s"
            ),
            Finding::PreparedTransactions { count } => write!(
                f,
                "{count} prepared transaction(s): they are carried over to the destination and \
                 keep their locks there until you COMMIT PREPARED or ROLLBACK PREPARED them"
            ),
            Finding::NoPreparedTransactions => f.write_str("no prepared transaction"),
            Finding::SuperuserSessions { count } => write!(
                f,
                "{count} superuser session(s) are connected, and the account is not a \
                 superuser: it cannot terminate them, and the switchover rolls back unless they \
                 end"
            ),
            Finding::SourceSilent { error: Some(error) } => write!(
                f,
                "the source does not answer ({error}): the destination is promoted without a \
                 fence"
            ),
            Finding::SourceSilent { error: None } => f.write_str(
                "the source does not answer: the destination is promoted without a fence",
            ),
            Finding::SourceStillAnswers { lsn } => write!(
                f,
                "the source still answers (at {lsn}): failover does not stop it, and whatever \
                 is written there from now on is not on the destination; use a switchover"
            ),
            Finding::TaskNotInIncrement {
                task,
                phase,
                operation,
            } => write!(
                f,
                "task {task} is in phase {phase}, not increment: a {} starts only during \
                 incremental sync",
                operation.as_str()
            ),
            Finding::TaskInIncrement {
                task,
                mode,
                replication,
            } => write!(
                f,
                "task {task} ({}) is in incremental sync, replication {replication}",
                mode.as_str()
            ),
            Finding::AccessRulesPending {
                count,
                networks,
                task,
            } => write!(
                f,
                "the new primary would refuse {count} client rule(s) the source admits \
                 ({networks}); review and apply them first: pgrelocate access apply {task}"
            ),
            Finding::AccessRulesCovered => {
                f.write_str("the destination admits every client network the source admits")
            }
            Finding::Text { message, .. } => f.write_str(message),
        }
    }
}

/// Whether any guardrail forbids the switchover.
pub fn blocking(checks: &[Guardrail]) -> bool {
    checks.iter().any(|c| c.status == GuardrailStatus::Error)
}

/// The guardrails and what they decided.
#[derive(Debug)]
pub struct Evaluation {
    /// The list, in display order.
    pub checks: Vec<Guardrail>,
    /// The fence the switchover would use.
    pub strategy: Option<FenceStrategy>,
    /// The destination's version (decides how it is promoted).
    pub version: Option<ServerVersion>,
    /// Every fence, strongest first, with whether it is available and why not.
    pub fences: Vec<FenceChoice>,
}

impl Evaluation {
    /// The fence the DBA asked for, when it is not available.
    pub fn refused_choice(&self, options: &Options) -> Option<&FenceChoice> {
        let wanted = options.strategy?;
        self.fences
            .iter()
            .find(|c| c.strategy == wanted && !c.available)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn lsn(text: Option<String>) -> Option<Lsn> {
    text.and_then(|t| t.parse().ok())
}

struct SourceView {
    version: ServerVersion,
    in_recovery: bool,
    current: Option<Lsn>,
    sender_state: Option<String>,
}

async fn read_source(
    client: &Client,
    application_name: &str,
) -> Result<SourceView, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, pg_is_in_recovery(), \
                    CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END, \
                    (SELECT state FROM pg_stat_replication WHERE application_name = $1 \
                      ORDER BY backend_start DESC LIMIT 1)",
            &[&application_name],
        )
        .await?;
    Ok(SourceView {
        version: ServerVersion::from_num(row.get::<_, i32>(0) as u32),
        in_recovery: row.get(1),
        current: lsn(row.get(2)),
        sender_state: row.get(3),
    })
}

struct DestView {
    version: ServerVersion,
    in_recovery: bool,
    paused: bool,
    replayed: Option<Lsn>,
}

async fn read_dest(client: &Client) -> Result<DestView, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, pg_is_in_recovery(), \
                    CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END, \
                    pg_last_wal_replay_lsn()::text",
            &[],
        )
        .await?;
    Ok(DestView {
        version: ServerVersion::from_num(row.get::<_, i32>(0) as u32),
        in_recovery: row.get(1),
        paused: row.get(2),
        replayed: lsn(row.get(3)),
    })
}

/// Evaluates every guardrail for `plan`.
pub async fn evaluate(plan: &Plan, options: &Options) -> Evaluation {
    use GuardrailStatus::*;
    let mut checks = Vec::new();
    let source_client = sql::connect(
        &plan.source.endpoint,
        plan.source.password.as_ref(),
        CONNECT_TIMEOUT,
    )
    .await;
    let source = match &source_client {
        Ok(c) => read_source(c, &plan.application_name)
            .await
            .map_err(|e| SqlError::from_driver(&e, &plan.source.endpoint)),
        Err(e) => Err(clone_error(e)),
    };
    checks.push(Guardrail::of(
        "source.reachable",
        match &source {
            Ok(s) if s.in_recovery => Error,
            Ok(_) => Pass,
            Err(_) => Error,
        },
        match &source {
            Ok(s) if s.in_recovery => Finding::SourceInRecovery,
            Ok(s) => Finding::SourceAnswers {
                version: s.version.to_string(),
            },
            Err(e) => Finding::SourceUnreachable {
                error: e.to_string(),
            },
        },
    ));

    let dest_client = sql::connect(
        &plan.destination.endpoint,
        plan.destination.password.as_ref(),
        CONNECT_TIMEOUT,
    )
    .await;
    let dest = match &dest_client {
        Ok(c) => read_dest(c)
            .await
            .map_err(|e| SqlError::from_driver(&e, &plan.destination.endpoint)),
        Err(e) => Err(clone_error(e)),
    };
    let (status, finding) = match (&dest, &source) {
        (Err(e), _) => (
            Error,
            Finding::DestinationUnreachable {
                error: e.to_string(),
            },
        ),
        (Ok(d), _) if !d.in_recovery => (Error, Finding::DestinationPromoted),
        (Ok(d), Ok(s)) if d.version.major != s.version.major => (
            Error,
            Finding::VersionMismatch {
                destination: d.version.to_string(),
                source: s.version.to_string(),
            },
        ),
        (Ok(d), _) if d.paused => (Warning, Finding::ReplayPaused),
        (Ok(_), _) => (Pass, Finding::DestinationRunning),
    };
    checks.push(Guardrail::of("destination.healthy", status, finding));

    let (status, finding) = match &source {
        Ok(s) => match s.sender_state.as_deref() {
            Some("streaming") => (Pass, Finding::Streaming),
            Some(state) => (
                Error,
                Finding::SenderState {
                    state: state.to_string(),
                },
            ),
            None => (
                Error,
                Finding::NotConnected {
                    application_name: plan.application_name.clone(),
                },
            ),
        },
        Err(_) => (Error, Finding::SourceNotChecked),
    };
    checks.push(Guardrail::of("replication.streaming", status, finding));

    let (status, finding) = match (&source, &dest) {
        (Ok(s), Ok(d)) => match (s.current, d.replayed) {
            (Some(current), Some(replayed)) => {
                let lag_bytes = current.0.saturating_sub(replayed.0);
                let threshold_bytes = options.max_lag_bytes;
                if lag_bytes <= threshold_bytes {
                    (
                        Pass,
                        Finding::LagUnder {
                            lag_bytes,
                            threshold_bytes,
                        },
                    )
                } else {
                    (
                        Error,
                        Finding::LagOver {
                            lag_bytes,
                            threshold_bytes,
                        },
                    )
                }
            }
            _ => (Error, Finding::PositionsUnreadable),
        },
        _ => (Error, Finding::ServersNotChecked),
    };
    checks.push(Guardrail::of("replication.lag", status, finding));

    let fences = fence_choices(plan, source_client.as_ref().ok()).await;
    let (fence_check, strategy) = chosen_fence(&fences, options);
    checks.push(fence_check);
    if strategy == Some(FenceStrategy::Sql) && options.strategy.is_none() {
        // The weaker fence because the source's host was not reached: say why.
        if let Some(finding) = unreached(plan) {
            checks.push(Guardrail::of(
                "fence.source_host",
                GuardrailStatus::Warning,
                finding,
            ));
        }
    }
    if let (Ok(client), Some(strategy)) = (&source_client, strategy) {
        checks.extend(session_warnings(client, strategy, options).await);
    }
    checks.push(access_rules(plan, source_client.as_ref().ok()).await);
    Evaluation {
        checks,
        strategy,
        version: dest.ok().map(|d| d.version),
        fences,
    }
}

/// `access.rules`: a warning (never blocking) while clients the source admits would be
/// refused by the new primary.
async fn access_rules(plan: &Plan, source: Option<&Client>) -> Guardrail {
    let client = source.ok_or_else(|| "the source cannot be reached".to_string());
    match crate::access::service::pending_for(
        &plan.task_id,
        client,
        &plan.destination.server.data_dir,
    )
    .await
    {
        Ok(d) if d.has_pending() => {
            let networks: Vec<String> = d
                .pending
                .iter()
                .filter(|p| !p.refused.is_empty())
                .map(|p| p.clients.clone())
                .collect();
            Guardrail::of(
                "access.rules",
                GuardrailStatus::Warning,
                Finding::AccessRulesPending {
                    count: networks.len(),
                    networks: networks.join("; "),
                    task: plan.task_id.clone(),
                },
            )
        }
        Ok(_) => Guardrail::of(
            "access.rules",
            GuardrailStatus::Pass,
            Finding::AccessRulesCovered,
        ),
        Err(e) => Guardrail::of(
            "access.rules",
            GuardrailStatus::Warning,
            Finding::NotChecked {
                error: e.to_string(),
            },
        ),
    }
}

/// Our errors are not `Clone`; the guardrail only needs the message.
fn clone_error(e: &SqlError) -> SqlError {
    SqlError::Other {
        address: String::new(),
        reason: e.to_string(),
    }
}

/// A fence, what it guarantees, and whether it can be used now (and why not). The
/// preview lists every fence, strongest first, so the DBA can choose one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FenceChoice {
    /// Which fence.
    pub strategy: FenceStrategy,
    /// What it guarantees.
    pub guarantee: String,
    /// It can be used now.
    pub available: bool,
    /// What was found: the fence's details when it is available (`fence`), else why not
    /// (`shutdown_not_managed`, `source_host_unreachable`, `fence_not_granted`, …).
    pub finding: Finding,
}

impl FenceChoice {
    fn new(strategy: FenceStrategy, available: bool, finding: Finding) -> Self {
        FenceChoice {
            strategy,
            guarantee: strategy.guarantee().to_string(),
            available,
            finding,
        }
    }
}

/// Every fence, strongest first, each with whether it is available and why not.
async fn fence_choices(plan: &Plan, source: Option<&Client>) -> Vec<FenceChoice> {
    let local = plan
        .source
        .managed
        .as_ref()
        .is_some_and(|m| m.data_dir.join("PG_VERSION").is_file());
    let remote = plan.source.remote().map(|r| r.host.name.clone());
    let shutdown = if local || remote.is_some() {
        FenceChoice::new(
            FenceStrategy::Shutdown,
            true,
            Finding::Fence {
                strategy: FenceStrategy::Shutdown,
                superuser: None,
                host: if local { None } else { remote },
            },
        )
    } else {
        FenceChoice::new(
            FenceStrategy::Shutdown,
            false,
            unreached(plan).unwrap_or(Finding::ShutdownNotManaged),
        )
    };
    let sql = match source {
        None => FenceChoice::new(FenceStrategy::Sql, false, Finding::SourceNotChecked),
        Some(client) => match sql_fence_access(client).await {
            Ok(access) if access.can_fence() => FenceChoice::new(
                FenceStrategy::Sql,
                true,
                Finding::Fence {
                    strategy: FenceStrategy::Sql,
                    superuser: Some(access.superuser),
                    host: None,
                },
            ),
            Ok(access) => FenceChoice::new(
                FenceStrategy::Sql,
                false,
                Finding::FenceNotGranted {
                    role: access.role.clone(),
                    missing: access.gaps.iter().map(|g| g.what.clone()).collect(),
                    grants: access.gaps.iter().map(|g| g.grant.clone()).collect(),
                },
            ),
            Err(e) => FenceChoice::new(
                FenceStrategy::Sql,
                false,
                Finding::PrivilegesUnreadable {
                    error: SqlError::from_driver(&e, &plan.source.endpoint).to_string(),
                },
            ),
        },
    };
    vec![shutdown, sql]
}

/// The fence that will be used: the one asked for, else the strongest available. The
/// guardrail passes when it is available; otherwise it says why not (for no choice and
/// no fence at all, why the `sql` fence — the one any source may have — is not).
fn chosen_fence(choices: &[FenceChoice], options: &Options) -> (Guardrail, Option<FenceStrategy>) {
    let check = |status, finding| Guardrail::of("fence.strategy", status, finding);
    let wanted = options
        .strategy
        .or_else(|| default_fence(choices))
        .unwrap_or(FenceStrategy::Sql);
    match choices.iter().find(|c| c.strategy == wanted) {
        Some(c) if c.available => (
            check(GuardrailStatus::Pass, c.finding.clone()),
            Some(c.strategy),
        ),
        Some(c) => (check(GuardrailStatus::Error, c.finding.clone()), None),
        None => (
            check(GuardrailStatus::Error, Finding::SourceNotChecked),
            None,
        ),
    }
}

/// The strongest fence available.
pub fn default_fence(choices: &[FenceChoice]) -> Option<FenceStrategy> {
    choices.iter().find(|c| c.available).map(|c| c.strategy)
}

/// Why a source managed on another host cannot be fenced there, when it cannot.
fn unreached(plan: &Plan) -> Option<Finding> {
    match &plan.source.on_host {
        Some(super::SourceHost::Unreachable(u)) => Some(Finding::SourceHostUnreachable {
            host: u.host.clone(),
            code: u.code,
            error: u.error.clone(),
        }),
        _ => None,
    }
}

/// Long-running and prepared transactions, and sessions the account may not terminate.
async fn session_warnings(
    client: &Client,
    strategy: FenceStrategy,
    options: &Options,
) -> Vec<Guardrail> {
    use GuardrailStatus::*;
    let mut out = Vec::new();
    let secs = options.long_transaction.as_secs_f64();
    let threshold_secs = secs.round() as u64;
    let long = client
        .query_one(
            &format!(
                "SELECT count(*), coalesce(max(extract(epoch FROM now() - a.xact_start)), 0)::float8 \
                 FROM pg_stat_activity a WHERE {CLIENT_SESSION} \
                 AND a.xact_start < now() - make_interval(secs => $1)"
            ),
            &[&secs],
        )
        .await;
    let (status, finding) = match long {
        Ok(r) if r.get::<_, i64>(0) > 0 => (
            Warning,
            Finding::LongTransactions {
                count: r.get::<_, i64>(0) as u64,
                threshold_secs,
                longest_secs: r.get::<_, f64>(1).round() as u64,
            },
        ),
        Ok(_) => (Pass, Finding::NoLongTransactions { threshold_secs }),
        Err(e) => (
            Warning,
            Finding::NotChecked {
                error: e.to_string(),
            },
        ),
    };
    out.push(Guardrail::of("source.long_transactions", status, finding));
    let prepared = client
        .query_one("SELECT count(*) FROM pg_prepared_xacts", &[])
        .await;
    let (status, finding) = match prepared {
        Ok(r) if r.get::<_, i64>(0) > 0 => (
            Warning,
            Finding::PreparedTransactions {
                count: r.get::<_, i64>(0) as u64,
            },
        ),
        Ok(_) => (Pass, Finding::NoPreparedTransactions),
        Err(e) => (
            Warning,
            Finding::NotChecked {
                error: e.to_string(),
            },
        ),
    };
    out.push(Guardrail::of(
        "source.prepared_transactions",
        status,
        finding,
    ));
    if strategy == FenceStrategy::Sql {
        let superusers = client
            .query_one(
                &format!(
                    "SELECT count(*) FILTER (WHERE r.rolsuper), \
                            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) \
                     FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid \
                     WHERE {CLIENT_SESSION}"
                ),
                &[],
            )
            .await;
        if let Ok(r) = superusers {
            let (count, me_super): (i64, Option<bool>) = (r.get(0), r.get(1));
            if count > 0 && me_super != Some(true) {
                out.push(Guardrail::of(
                    "source.superuser_sessions",
                    Warning,
                    Finding::SuperuserSessions {
                        count: count as u64,
                    },
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guardrail_is_its_finding_with_parameters() {
        let g = Guardrail::of(
            "replication.lag",
            GuardrailStatus::Error,
            Finding::LagOver {
                lag_bytes: 900 << 20,
                threshold_bytes: 64 << 20,
            },
        );
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["id"], "replication.lag");
        assert_eq!(json["kind"], "lag_over");
        assert_eq!(json["lag_bytes"], 900u64 << 20);
        assert_eq!(g.title(), "Lag under the threshold");
        assert!(g
            .message()
            .starts_with("the destination is 900.0 MiB behind, above the threshold of 64.0 MiB"));
        assert_eq!(serde_json::from_value::<Guardrail>(json).unwrap(), g);
    }

    #[test]
    fn an_unreached_source_host_is_a_value_with_its_cause_code() {
        let g = Guardrail::of(
            "fence.source_host",
            GuardrailStatus::Warning,
            Finding::SourceHostUnreachable {
                host: "db-a".into(),
                code: crate::ErrorCode::SshAuthFailed,
                error: "SSH refused the login to db-a".into(),
            },
        );
        let json = serde_json::to_value(&g).unwrap();
        assert_eq!(json["kind"], "source_host_unreachable");
        assert_eq!(json["code"], "ssh_auth_failed");
        assert_eq!(json["host"], "db-a");
        assert_eq!(g.title(), "Shutdown fence on the source's host");
        assert!(g
            .message()
            .contains("(ssh_auth_failed: SSH refused the login to db-a)"));
        assert_eq!(serde_json::from_value::<Guardrail>(json).unwrap(), g);
        // A stored local shutdown fence (no host) still reads, and says nothing of hosts.
        let local: Guardrail = serde_json::from_value(serde_json::json!({
            "id": "fence.strategy", "status": "pass", "kind": "fence", "strategy": "shutdown"
        }))
        .unwrap();
        assert!(local.message().starts_with("fence: shutdown. Guarantee"));
    }

    #[test]
    fn guardrails_stored_as_sentences_still_load() {
        let old = serde_json::json!({
            "id": "source.long_transactions",
            "title": "Long-running transactions",
            "status": "warning",
            "message": "1 transaction(s) running for more than 60 s"
        });
        let g: Guardrail = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(g.title(), "Long-running transactions");
        assert_eq!(g.message(), "1 transaction(s) running for more than 60 s");
        assert_eq!(g.status, GuardrailStatus::Warning);
        assert_eq!(serde_json::to_value(&g).unwrap(), old);
    }
}
