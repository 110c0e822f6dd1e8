//! Failover: the source is gone or unreachable, so the destination is promoted without a
//! fence, after the DBA confirmed it (the caller asks). The report states the last position
//! the destination replayed and, when the source still answers, how far behind it is.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::guardrails::{blocking, Finding, Guardrail, GuardrailStatus};
use super::{catchup, clean_standby, next_steps, promote, release_slot, slot};
use super::{
    AfterPromotionError, FailoverCause, Plan, Progress, ProgressFn, PromoteMethod, SlotOutcome,
    SwitchoverError, UnknownPromotion, WriteProof,
};
use crate::sql;
use crate::wire::Lsn;

/// How long the source gets to answer before it counts as unreachable.
const SOURCE_PROBE: Duration = Duration::from_secs(3);

/// What a failover did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FailoverReport {
    /// The checks made before promotion.
    pub guardrails: Vec<Guardrail>,
    /// What the destination had received before promotion.
    pub received_lsn: Option<Lsn>,
    /// The last position the destination replayed: everything up to it is there.
    pub last_replayed_lsn: Lsn,
    /// How it was promoted.
    pub promote_method: PromoteMethod,
    /// Its new timeline.
    pub timeline: Option<u32>,
    /// Promotion and write proofs, in milliseconds.
    pub promote_ms: u64,
    /// The source answered after promotion.
    pub source_reachable: bool,
    /// The source's WAL position then.
    pub source_lsn: Option<Lsn>,
    /// WAL the source has that the destination does not (bytes), when it answered.
    pub gap_bytes: Option<u64>,
    /// Since when the task had seen the source disconnected (RFC 3339), when it had: the
    /// promotion time is then not a write-unavailability window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_unreachable_since: Option<String>,
    /// Fresh-connection commits on the destination, per database.
    pub writes_verified: Vec<WriteProof>,
    /// What became of the slot.
    pub slot: SlotOutcome,
    /// Steps after promotion that did not work.
    pub warnings: Vec<String>,
    /// What the DBA does next.
    #[serde(deserialize_with = "super::next_steps::tolerant")]
    pub next_steps: Vec<super::NextStep>,
}

async fn source_position(plan: &Plan) -> Option<Lsn> {
    source_probe(plan).await.ok()
}

/// The source's WAL position, or why it does not answer.
async fn source_probe(plan: &Plan) -> Result<Lsn, String> {
    let client = sql::connect(
        &plan.source.endpoint,
        plan.source.password.as_ref(),
        SOURCE_PROBE,
    )
    .await
    .map_err(|e| e.to_string())?;
    let row = tokio::time::timeout(
        SOURCE_PROBE,
        client.query_one(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                    ELSE pg_current_wal_lsn() END::text",
            &[],
        ),
    )
    .await
    .map_err(|_| format!("no answer within {} s", SOURCE_PROBE.as_secs()))?
    .map_err(|e| sql::SqlError::from_driver(&e, &plan.source.endpoint).to_string())?;
    row.get::<_, Option<String>>(0)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| "the source reports no WAL position".to_string())
}

/// What a failover would cost, read from the servers at the time of asking (the Failover
/// dialog, `failover --preview`). Changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FailoverPreview {
    /// When the figures were read (RFC 3339, UTC).
    pub read_at: String,
    /// The checks a failover makes (the task's phase first); an error forbids it.
    pub guardrails: Vec<Guardrail>,
    /// The source answered just now.
    pub source_answers: bool,
    /// Its WAL position then.
    pub source_lsn: Option<Lsn>,
    /// Why it does not answer.
    pub source_error: Option<String>,
    /// Since when the task has seen it disconnected (RFC 3339), when it has.
    pub source_unreachable_since: Option<String>,
    /// `pg_last_wal_receive_lsn()` on the destination.
    pub received_lsn: Option<Lsn>,
    /// When the destination last heard from the source (`pg_stat_wal_receiver`'s
    /// `last_msg_receipt_time`; none once its receiver stopped).
    pub received_at: Option<String>,
    /// `pg_last_wal_replay_lsn()`: everything up to it survives the failover.
    pub replayed_lsn: Option<Lsn>,
    /// `pg_last_xact_replay_timestamp()`: the commit time of the last replayed transaction.
    pub replayed_at: Option<String>,
    /// Bytes of WAL the source has that the destination did not replay (when it answers).
    pub loss_bytes: Option<u64>,
    /// Milliseconds since the last replayed transaction committed: what is lost is at most
    /// what was committed since (on an idle source this grows without any loss).
    pub loss_since_replay_ms: Option<u64>,
    /// The endpoint applications reconnect to afterwards.
    pub new_endpoint: String,
    /// No check forbids the failover.
    pub ready: bool,
}

/// What the destination reports for a preview.
struct StandbyFigures {
    in_recovery: bool,
    received: Option<Lsn>,
    received_at: Option<String>,
    replayed: Option<Lsn>,
    replayed_at: Option<String>,
    replay_age_ms: Option<f64>,
}

async fn standby_figures(plan: &Plan) -> Result<StandbyFigures, String> {
    let dest = sql::connect(
        &plan.destination.endpoint,
        plan.destination.password.as_ref(),
        Duration::from_secs(10),
    )
    .await
    .map_err(|e| e.to_string())?;
    // The same names on 10–18 (pg_last_wal_*: renamed from pg_last_xlog_* in 10).
    let row = dest
        .query_one(
            "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text, \
                    pg_last_wal_replay_lsn()::text, \
                    to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', \
                            'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
                    (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8, \
                    (SELECT to_char(last_msg_receipt_time AT TIME ZONE 'UTC', \
                            'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') \
                     FROM pg_stat_wal_receiver LIMIT 1)",
            &[],
        )
        .await
        .map_err(|e| sql::SqlError::from_driver(&e, &plan.destination.endpoint).to_string())?;
    let lsn = |i: usize| {
        row.get::<_, Option<String>>(i)
            .and_then(|t| t.parse::<Lsn>().ok())
    };
    Ok(StandbyFigures {
        in_recovery: row.get(0),
        received: lsn(1),
        replayed: lsn(2),
        replayed_at: row.get(3),
        replay_age_ms: row.get(4),
        received_at: row.get(5),
    })
}

/// Reads what a failover would cost now: the destination's positions and the source's, and
/// the checks [`check`] would make (`require_source_lost`: a migration task).
pub async fn preview(plan: &Plan, require_source_lost: bool) -> FailoverPreview {
    use GuardrailStatus::*;
    let (standby, source) = tokio::join!(standby_figures(plan), source_probe(plan));
    let mut guardrails = Vec::new();
    let (status, finding) = match &standby {
        Err(e) => (
            Error,
            Finding::DestinationUnreadable {
                error: e.to_string(),
            },
        ),
        Ok(s) if !s.in_recovery => (Error, Finding::DestinationPromoted),
        Ok(_) => (Pass, Finding::DestinationStandby),
    };
    guardrails.push(Guardrail::of("destination.healthy", status, finding));
    guardrails.push(match &source {
        Err(e) => Guardrail::of(
            "source.lost",
            Pass,
            Finding::SourceSilent {
                error: Some(e.to_string()),
            },
        ),
        Ok(lsn) => Guardrail::of(
            "source.lost",
            if require_source_lost { Error } else { Warning },
            Finding::SourceStillAnswers { lsn: *lsn },
        ),
    });
    let standby = standby.ok();
    let replayed = standby.as_ref().and_then(|s| s.replayed);
    let source_lsn = source.as_ref().ok().copied();
    FailoverPreview {
        read_at: jiff::Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        ready: !blocking(&guardrails),
        guardrails,
        source_answers: source.is_ok(),
        source_lsn,
        source_error: source.err(),
        source_unreachable_since: None,
        received_lsn: standby.as_ref().and_then(|s| s.received),
        received_at: standby.as_ref().and_then(|s| s.received_at.clone()),
        replayed_lsn: replayed,
        replayed_at: standby.as_ref().and_then(|s| s.replayed_at.clone()),
        loss_bytes: match (source_lsn, replayed) {
            (Some(s), Some(r)) => Some(s.0.saturating_sub(r.0)),
            _ => None,
        },
        loss_since_replay_ms: standby
            .as_ref()
            .and_then(|s| s.replay_age_ms)
            .map(|ms| ms.max(0.0) as u64),
        new_endpoint: plan.destination.endpoint.address(),
    }
}

/// Checks that passed: what [`execute`] needs.
pub struct FailoverReady {
    checks: Vec<Guardrail>,
    dest: tokio_postgres::Client,
    positions: catchup::Positions,
}

impl std::fmt::Debug for FailoverReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailoverReady")
            .field("checks", &self.checks)
            .field("positions", &self.positions)
            .finish_non_exhaustive()
    }
}

/// Checks that the destination is a standby and whether the source still answers (an error
/// then when `require_source_lost`, a warning otherwise); reported as progress.
pub async fn check(
    plan: &Plan,
    require_source_lost: bool,
    progress: ProgressFn<'_>,
) -> Result<FailoverReady, SwitchoverError> {
    use GuardrailStatus::*;
    let dest_endpoint = &plan.destination.endpoint;
    let dest_password = plan.destination.password.as_ref();
    let mut checks = Vec::new();
    let dest = sql::connect(dest_endpoint, dest_password, Duration::from_secs(10)).await;
    let positions = match &dest {
        Ok(client) => catchup::positions(client).await.ok(),
        Err(_) => None,
    };
    let (status, finding) = match (&dest, positions) {
        (Err(e), _) => (
            Error,
            Finding::DestinationUnreachable {
                error: e.to_string(),
            },
        ),
        (Ok(_), None) => (Error, Finding::DestinationPositionsUnreadable),
        (Ok(_), Some(p)) if !p.in_recovery => (Error, Finding::DestinationPromoted),
        (Ok(_), Some(p)) => (
            Pass,
            Finding::DestinationReplayed {
                received: p.received,
                replayed: p.replayed,
            },
        ),
    };
    checks.push(Guardrail::of("destination.healthy", status, finding));
    checks.push(match source_position(plan).await {
        None => Guardrail::of("source.lost", Pass, Finding::SourceSilent { error: None }),
        Some(lsn) => Guardrail::of(
            "source.lost",
            if require_source_lost { Error } else { Warning },
            Finding::SourceStillAnswers { lsn },
        ),
    });
    progress(&Progress::Guardrails {
        checks: checks.clone(),
    });
    match (dest, positions, blocking(&checks)) {
        (Ok(dest), Some(positions), false) => Ok(FailoverReady {
            checks,
            dest,
            positions,
        }),
        _ => Err(SwitchoverError::FailoverRefused { checks }),
    }
}

/// Promotes the destination without fencing the source: [`check`] then [`execute`].
pub async fn failover(
    plan: &Plan,
    require_source_lost: bool,
    progress: ProgressFn<'_>,
) -> Result<FailoverReport, SwitchoverError> {
    let ready = check(plan, require_source_lost, progress).await?;
    execute(plan, ready, progress).await
}

/// Promotes the destination of a failover whose checks passed.
pub async fn execute(
    plan: &Plan,
    ready: FailoverReady,
    progress: ProgressFn<'_>,
) -> Result<FailoverReport, SwitchoverError> {
    let FailoverReady {
        checks,
        dest,
        positions,
    } = ready;
    let dest_endpoint = &plan.destination.endpoint;
    let dest_password = plan.destination.password.as_ref();
    progress(&Progress::Promoting);
    let started = Instant::now();
    let version = {
        let row = dest
            .query_one("SELECT current_setting('server_version_num')::int", &[])
            .await
            .map_err(|e| {
                SwitchoverError::FailoverFailed(Box::new(FailoverCause::Version(
                    sql::SqlError::from_driver(&e, dest_endpoint),
                )))
            })?;
        crate::version::ServerVersion::from_num(row.get::<_, i32>(0) as u32)
    };
    let method =
        match promote::promote(&dest, dest_endpoint, &plan.destination.server, version).await {
            Ok(m) => m,
            Err(e) => match promote::in_recovery(&dest, dest_endpoint).await {
                Ok(false) => PromoteMethod::PgCtl,
                _ => {
                    return Err(SwitchoverError::FailoverFailed(Box::new(
                        FailoverCause::Promote(e),
                    )))
                }
            },
        };
    promote::wait_until_primary(&dest, dest_endpoint)
        .await
        .map_err(|e| SwitchoverError::PromotionUnknown(Box::new(UnknownPromotion::Wait(e))))?;
    let mut warnings = Vec::new();
    let timeline = match promote::timeline(&dest, dest_endpoint).await {
        Ok(t) => Some(t),
        Err(e) => {
            warnings.push(format!("the new timeline could not be read: {e}"));
            None
        }
    };
    // After promotion this stays at the last record replayed during recovery.
    let last_replayed = catchup::positions(&dest)
        .await
        .ok()
        .and_then(|p| p.replayed)
        .or(positions.replayed)
        .unwrap_or_default();
    progress(&Progress::Promoted {
        method,
        timeline,
        elapsed_ms: super::window::ms(started.elapsed()),
    });
    let proofs = promote::prove_writes(&dest, dest_endpoint, dest_password)
        .await
        .map_err(|e| SwitchoverError::AfterPromotion(Box::new(AfterPromotionError::Writes(e))))?;
    let promote_ms = super::window::ms(started.elapsed());
    // Not a write-unavailability window: no fence started one, and the source may have
    // been gone for minutes.
    progress(&Progress::FailoverVerified {
        databases: proofs.clone(),
        promotion_ms: promote_ms,
    });
    clean_standby(plan, progress, &mut warnings);

    let source_lsn = source_position(plan).await;
    // A source that still answers (it is no primary any more for this task) loses the role too.
    super::drop_standby_role(plan, source_lsn.is_some(), progress, &mut warnings).await;
    let slot = match source_lsn {
        Some(_) => release_slot(plan).await,
        None => slot::SlotOutcome::kept(
            &plan.slot_name,
            "the source does not answer; drop the slot if it is ever started again",
        ),
    };
    progress(&Progress::Slot {
        outcome: slot.clone(),
    });
    let next_steps = next_steps(plan, None, &slot, &checks);
    Ok(FailoverReport {
        guardrails: checks,
        received_lsn: positions.received,
        last_replayed_lsn: last_replayed,
        promote_method: method,
        timeline,
        promote_ms,
        source_reachable: source_lsn.is_some(),
        gap_bytes: source_lsn.map(|s| s.0.saturating_sub(last_replayed.0)),
        source_lsn,
        source_unreachable_since: None,
        writes_verified: proofs,
        next_steps,
        slot,
        warnings,
    })
}
