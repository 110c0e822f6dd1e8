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

/// One guardrail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Guardrail {
    /// Stable id, e.g. `replication.lag`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Outcome.
    pub status: GuardrailStatus,
    /// What was found (and what to do when it is not a pass).
    pub message: String,
}

impl Guardrail {
    /// A guardrail result.
    pub fn new(id: &str, title: &str, status: GuardrailStatus, message: impl Into<String>) -> Self {
        Guardrail {
            id: id.to_string(),
            title: title.to_string(),
            status,
            message: message.into(),
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
    checks.push(match &source {
        Ok(s) if s.in_recovery => Guardrail::new(
            "source.reachable",
            "Source reachable",
            Error,
            "the source is in recovery (a standby): there is nothing to switch over from",
        ),
        Ok(s) => Guardrail::new(
            "source.reachable",
            "Source reachable",
            Pass,
            format!("the source answers (PostgreSQL {})", s.version),
        ),
        Err(e) => Guardrail::new(
            "source.reachable",
            "Source reachable",
            Error,
            format!("the source cannot be reached: {e}"),
        ),
    });

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
    checks.push(match (&dest, &source) {
        (Err(e), _) => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Error,
            format!("the destination cannot be reached: {e}"),
        ),
        (Ok(d), _) if !d.in_recovery => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Error,
            "the destination is not in recovery: it was already promoted",
        ),
        (Ok(d), Ok(s)) if d.version.major != s.version.major => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Error,
            format!(
                "the destination runs PostgreSQL {} and the source {}",
                d.version, s.version
            ),
        ),
        (Ok(d), _) if d.paused => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Warning,
            "WAL replay is paused on the destination: the catch-up waits until it is resumed \
             (SELECT pg_wal_replay_resume()) and rolls back at the timeout",
        ),
        (Ok(_), _) => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Pass,
            "the destination is a running standby",
        ),
    });

    checks.push(match &source {
        Ok(s) => match s.sender_state.as_deref() {
            Some("streaming") => Guardrail::new(
                "replication.streaming",
                "Replication streaming",
                Pass,
                "the destination streams WAL from the source",
            ),
            Some(state) => Guardrail::new(
                "replication.streaming",
                "Replication streaming",
                Error,
                format!("the destination's WAL sender is in state {state}, not streaming; wait until it catches up"),
            ),
            None => Guardrail::new(
                "replication.streaming",
                "Replication streaming",
                Error,
                format!(
                    "the destination is not connected to the source (no WAL sender for {})",
                    plan.application_name
                ),
            ),
        },
        Err(_) => Guardrail::new(
            "replication.streaming",
            "Replication streaming",
            Error,
            "not checked: the source cannot be reached",
        ),
    });

    checks.push(match (&source, &dest) {
        (Ok(s), Ok(d)) => match (s.current, d.replayed) {
            (Some(current), Some(replayed)) => {
                let lag = current.0.saturating_sub(replayed.0);
                if lag <= options.max_lag_bytes {
                    Guardrail::new(
                        "replication.lag",
                        "Lag under the threshold",
                        Pass,
                        format!(
                            "the destination is {} behind (threshold {})",
                            mib(lag),
                            mib(options.max_lag_bytes)
                        ),
                    )
                } else {
                    Guardrail::new(
                        "replication.lag",
                        "Lag under the threshold",
                        Error,
                        format!(
                            "the destination is {} behind, above the threshold of {}: writes \
                             would stop for as long as it takes to replay that; wait until it \
                             catches up",
                            mib(lag),
                            mib(options.max_lag_bytes)
                        ),
                    )
                }
            }
            _ => Guardrail::new(
                "replication.lag",
                "Lag under the threshold",
                Error,
                "the WAL positions of the source and the destination cannot be read",
            ),
        },
        _ => Guardrail::new(
            "replication.lag",
            "Lag under the threshold",
            Error,
            "not checked: both servers must answer",
        ),
    });

    let (fence_check, strategy) = fence_strategy(plan, options, source_client.as_ref().ok()).await;
    checks.push(fence_check);
    if let (Ok(client), Some(strategy)) = (&source_client, strategy) {
        checks.extend(session_warnings(client, strategy, options).await);
    }
    Evaluation {
        checks,
        strategy,
        version: dest.ok().map(|d| d.version),
    }
}

/// Our errors are not `Clone`; the guardrail only needs the message.
fn clone_error(e: &SqlError) -> SqlError {
    SqlError::Other {
        address: String::new(),
        reason: e.to_string(),
    }
}

/// The strongest fence available, or the one asked for when it is available.
async fn fence_strategy(
    plan: &Plan,
    options: &Options,
    source: Option<&Client>,
) -> (Guardrail, Option<FenceStrategy>) {
    use GuardrailStatus::*;
    let title = "Fence strategy available";
    let managed = plan
        .source
        .managed
        .as_ref()
        .is_some_and(|m| m.data_dir.join("PG_VERSION").is_file());
    let wanted = options.strategy.unwrap_or(if managed {
        FenceStrategy::Shutdown
    } else {
        FenceStrategy::Sql
    });
    match wanted {
        FenceStrategy::Shutdown if managed => (
            Guardrail::new(
                "fence.strategy",
                title,
                Pass,
                format!(
                    "fence: shutdown. Guarantee: {}",
                    FenceStrategy::Shutdown.guarantee()
                ),
            ),
            Some(FenceStrategy::Shutdown),
        ),
        FenceStrategy::Shutdown => (
            Guardrail::new(
                "fence.strategy",
                title,
                Error,
                "fence: shutdown needs a source managed on this host; this one is not",
            ),
            None,
        ),
        FenceStrategy::Sql => {
            let Some(client) = source else {
                return (
                    Guardrail::new(
                        "fence.strategy",
                        title,
                        Error,
                        "not checked: the source cannot be reached",
                    ),
                    None,
                );
            };
            match sql_fence_access(client).await {
                Ok(access) if access.can_fence() => (
                    Guardrail::new(
                        "fence.strategy",
                        title,
                        Pass,
                        format!(
                            "fence: sql ({}). Guarantee: {}",
                            if access.superuser {
                                "superuser"
                            } else {
                                "granted privileges"
                            },
                            FenceStrategy::Sql.guarantee()
                        ),
                    ),
                    Some(FenceStrategy::Sql),
                ),
                Ok(access) => (
                    Guardrail::new(
                        "fence.strategy",
                        title,
                        Error,
                        format!(
                            "fence: none. {} cannot fence the source with SQL; it lacks {}. \
                             Run on the source as a superuser: {}",
                            access.role,
                            access
                                .gaps
                                .iter()
                                .map(|g| g.what.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            access
                                .gaps
                                .iter()
                                .map(|g| g.grant.as_str())
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                    ),
                    None,
                ),
                Err(e) => (
                    Guardrail::new(
                        "fence.strategy",
                        title,
                        Error,
                        format!(
                            "the account's privileges cannot be read: {}",
                            SqlError::from_driver(&e, &plan.source.endpoint)
                        ),
                    ),
                    None,
                ),
            }
        }
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
    out.push(match long {
        Ok(r) if r.get::<_, i64>(0) > 0 => Guardrail::new(
            "source.long_transactions",
            "Long-running transactions",
            Warning,
            format!(
                "{} transaction(s) running for more than {secs:.0} s (the longest for {:.0} s): \
                 the fence terminates them and they roll back",
                r.get::<_, i64>(0),
                r.get::<_, f64>(1)
            ),
        ),
        Ok(_) => Guardrail::new(
            "source.long_transactions",
            "Long-running transactions",
            Pass,
            format!("no transaction has been running for more than {secs:.0} s"),
        ),
        Err(e) => Guardrail::new(
            "source.long_transactions",
            "Long-running transactions",
            Warning,
            format!("not checked: {e}"),
        ),
    });
    let prepared = client
        .query_one("SELECT count(*) FROM pg_prepared_xacts", &[])
        .await;
    out.push(match prepared {
        Ok(r) if r.get::<_, i64>(0) > 0 => Guardrail::new(
            "source.prepared_transactions",
            "Prepared transactions",
            Warning,
            format!(
                "{} prepared transaction(s): they are carried over to the destination and keep \
                 their locks there until you COMMIT PREPARED or ROLLBACK PREPARED them",
                r.get::<_, i64>(0)
            ),
        ),
        Ok(_) => Guardrail::new(
            "source.prepared_transactions",
            "Prepared transactions",
            Pass,
            "no prepared transaction",
        ),
        Err(e) => Guardrail::new(
            "source.prepared_transactions",
            "Prepared transactions",
            Warning,
            format!("not checked: {e}"),
        ),
    });
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
                out.push(Guardrail::new(
                    "source.superuser_sessions",
                    "Sessions the fence cannot end",
                    Warning,
                    format!(
                        "{count} superuser session(s) are connected, and the account is not a \
                         superuser: it cannot terminate them, and the switchover rolls back \
                         unless they end"
                    ),
                ));
            }
        }
    }
    out
}
