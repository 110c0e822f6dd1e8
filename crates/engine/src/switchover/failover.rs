//! Failover: the source is gone or unreachable, so the destination is promoted without a
//! fence, after the DBA confirmed it (the caller asks). The report states the last position
//! the destination replayed and, when the source still answers, how far behind it is.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::guardrails::{blocking, Guardrail, GuardrailStatus};
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
    let client = sql::connect(
        &plan.source.endpoint,
        plan.source.password.as_ref(),
        SOURCE_PROBE,
    )
    .await
    .ok()?;
    let row = tokio::time::timeout(
        SOURCE_PROBE,
        client.query_one(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
                    ELSE pg_current_wal_lsn() END::text",
            &[],
        ),
    )
    .await
    .ok()?
    .ok()?;
    row.get::<_, Option<String>>(0)?.parse().ok()
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
    checks.push(match (&dest, positions) {
        (Err(e), _) => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Error,
            format!("the destination cannot be reached: {e}"),
        ),
        (Ok(_), None) => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Error,
            "the destination's WAL positions cannot be read",
        ),
        (Ok(_), Some(p)) if !p.in_recovery => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Error,
            "the destination is not in recovery: it was already promoted",
        ),
        (Ok(_), Some(p)) => Guardrail::new(
            "destination.healthy",
            "Destination healthy",
            Pass,
            format!(
                "the destination is a standby; it received up to {} and replayed up to {}",
                p.received
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "nothing".into()),
                p.replayed
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "nothing".into()),
            ),
        ),
    });
    checks.push(match source_position(plan).await {
        None => Guardrail::new(
            "source.lost",
            "Source lost",
            Pass,
            "the source does not answer: the destination is promoted without a fence",
        ),
        Some(lsn) => Guardrail::new(
            "source.lost",
            "Source lost",
            if require_source_lost { Error } else { Warning },
            format!(
                "the source still answers (at {lsn}): failover does not stop it, and whatever \
                 is written there from now on is not on the destination; use a switchover"
            ),
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
    progress(&Progress::WritesVerified {
        databases: proofs.clone(),
        write_unavailable_ms: promote_ms,
    });
    clean_standby(plan, progress, &mut warnings);

    let source_lsn = source_position(plan).await;
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
        writes_verified: proofs,
        next_steps: next_steps(plan, None, &slot),
        slot,
        warnings,
    })
}
