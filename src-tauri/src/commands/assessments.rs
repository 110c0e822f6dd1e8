//! Feasibility assessment: the wizard's live steps (source preparations, destination
//! prerequisites), assessment runs streamed over a channel, and the task table.

use std::sync::Arc;

use pgrelocate_engine::assess::model::Counts;
use pgrelocate_engine::assess::{self, checks, AssessRequest, CheckResult, Mode, Options, Verdict};
use pgrelocate_engine::preparation::{self, SourceChecklist, SourcePlan};
use pgrelocate_engine::store::reports;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use super::instances::ConnectionInput;
use crate::error::{CommandError, ErrorBody};
use crate::jobs::Job;
use crate::state::Console;

/// What an assessment run tells the page, in order: started, one `check` per finished
/// check, then `finished` (a report was stored) or `failed` (it could not run).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum AssessmentEvent {
    /// The run began.
    Started {
        /// The run's id (re-subscribe with it).
        job_id: String,
        /// Source instance.
        source: String,
        /// Destination instance.
        destination: String,
        /// Scenario.
        mode: Mode,
        /// When it began (RFC 3339, UTC).
        created_at: String,
        /// How many checks the catalogue holds.
        total_checks: usize,
    },
    /// One check finished.
    Check(CheckResult),
    /// The report was stored.
    Finished {
        /// Its id.
        report_id: String,
        /// Overall result.
        verdict: Verdict,
        /// Checks by status.
        counts: Counts,
    },
    /// The assessment could not run (a failed check is not this: it is in the report).
    Failed(ErrorBody),
}

/// The preparations the source needs: for a registered instance checked on the live source
/// (what is met, SQL for what is missing); for an endpoint being typed, the whole text.
#[tauri::command]
pub async fn source_preparations(
    console: State<'_, Console>,
    source: Option<String>,
    connection: Option<ConnectionInput>,
) -> Result<SourceChecklist, CommandError> {
    match (source, connection) {
        (Some(name), _) => {
            let instances = console.instances()?;
            Ok(preparation::check_source(&instances, &name).await?)
        }
        (None, Some(c)) => {
            let plan = SourcePlan {
                host: c.host,
                port: c.port,
                user: c.user,
                major: None,
                managed_here: false,
            };
            Ok(tauri::async_runtime::spawn_blocking(move || {
                preparation::source_preparations(&plan)
            })
            .await?)
        }
        (None, None) => Err(CommandError::Invalid(
            "name a source instance or give its endpoint".into(),
        )),
    }
}

/// The destination's prerequisites, checked live (nothing is stored).
#[tauri::command]
pub async fn destination_prerequisites(
    console: State<'_, Console>,
    source: String,
    destination: String,
) -> Result<Vec<CheckResult>, CommandError> {
    let instances = console.instances()?;
    Ok(
        assess::destination_prerequisites(&instances, &source, &destination, Options::default())
            .await?,
    )
}

/// Starts an assessment in the background; its events go to `on_event`. Returns the run's id.
#[tauri::command]
pub async fn assessment_start(
    console: State<'_, Console>,
    source: String,
    destination: String,
    mode: Mode,
    on_event: Channel<AssessmentEvent>,
) -> Result<String, CommandError> {
    let instances = console.instances()?;
    let (job_id, job) = console.assessments.start();
    job.subscribe(Box::new(on_event));
    job.publish(AssessmentEvent::Started {
        job_id: job_id.clone(),
        source: source.clone(),
        destination: destination.clone(),
        mode,
        created_at: jiff_now(),
        total_checks: checks::specs(mode).len(),
    });
    tracing::info!(%job_id, %source, %destination, mode = mode.as_str(), "assessment started");
    let request = AssessRequest {
        source,
        dest: destination,
        mode,
        options: Options::default(),
    };
    tauri::async_runtime::spawn(run(instances, request, job));
    Ok(job_id)
}

async fn run(
    instances: Arc<pgrelocate_engine::instances::Instances>,
    request: AssessRequest,
    job: Arc<Job<AssessmentEvent>>,
) {
    let progress = {
        let job = job.clone();
        move |check: &CheckResult| job.publish(AssessmentEvent::Check(check.clone()))
    };
    match assess::assess(&instances, request, &progress).await {
        Ok(report) => job.finish(AssessmentEvent::Finished {
            counts: report.counts(),
            verdict: report.verdict,
            report_id: report.id,
        }),
        Err(e) => {
            let e = CommandError::from(e);
            tracing::warn!(error = %e, "assessment could not run");
            job.finish(AssessmentEvent::Failed(e.body()));
        }
    }
}

/// Re-subscribes a page to a run: every event so far, then the live ones.
#[tauri::command]
pub fn assessment_watch(
    console: State<'_, Console>,
    job_id: String,
    on_event: Channel<AssessmentEvent>,
) -> Result<(), CommandError> {
    let job = console
        .assessments
        .get(&job_id)
        .ok_or(CommandError::NoSuchJob(job_id))?;
    job.subscribe(Box::new(on_event));
    Ok(())
}

/// Where a row of the assessment task table stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    /// The run is going.
    Running,
    /// A stored report: every check passed.
    Success,
    /// A stored report with warnings.
    Warning,
    /// A stored report with blocking findings.
    Error,
    /// The assessment could not run.
    Failed,
}

impl From<Verdict> for RowStatus {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Success => RowStatus::Success,
            Verdict::Warning => RowStatus::Warning,
            Verdict::Error => RowStatus::Error,
        }
    }
}

/// A row of the assessment task table.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AssessmentRow {
    /// The stored report's id, once there is one.
    pub report_id: Option<String>,
    /// The run's id while it runs (or when it could not run).
    pub job_id: Option<String>,
    /// Source instance.
    pub source: String,
    /// Destination instance.
    pub destination: String,
    /// Scenario.
    pub mode: Mode,
    /// When it began.
    pub created_at: String,
    /// Where it stands.
    pub status: RowStatus,
    /// Checks by status (finished reports).
    pub counts: Option<Counts>,
    /// Checks finished so far (running).
    pub checks_done: usize,
    /// Checks in the catalogue.
    pub checks_total: usize,
    /// Why it could not run.
    pub error: Option<ErrorBody>,
    /// Wall time (finished reports).
    pub duration_ms: Option<u64>,
}

/// Every assessment: runs in progress or that could not run, then stored reports, newest first.
#[tauri::command]
pub fn assessment_list(console: State<'_, Console>) -> Result<Vec<AssessmentRow>, CommandError> {
    let instances = console.instances()?;
    let mut rows: Vec<AssessmentRow> = console
        .assessments
        .all()
        .into_iter()
        .filter_map(|(id, job)| live_row(id, &job.events()))
        .collect();
    rows.extend(
        reports::list(instances.store())?
            .into_iter()
            .map(|r| AssessmentRow {
                status: r.verdict.into(),
                checks_done: r.counts.errors
                    + r.counts.warnings
                    + r.counts.skipped
                    + r.counts.passed,
                checks_total: checks::specs(r.mode).len(),
                report_id: Some(r.id),
                job_id: None,
                source: r.source,
                destination: r.destination,
                mode: r.mode,
                created_at: r.created_at,
                counts: Some(r.counts),
                error: None,
                duration_ms: Some(r.duration_ms),
            }),
    );
    rows.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    Ok(rows)
}

/// The table row of a run that is still going or could not run; `None` once its report is stored.
fn live_row(job_id: String, events: &[AssessmentEvent]) -> Option<AssessmentRow> {
    let Some(AssessmentEvent::Started {
        source,
        destination,
        mode,
        created_at,
        total_checks,
        ..
    }) = events.first()
    else {
        return None;
    };
    let mut row = AssessmentRow {
        report_id: None,
        job_id: Some(job_id),
        source: source.clone(),
        destination: destination.clone(),
        mode: *mode,
        created_at: created_at.clone(),
        status: RowStatus::Running,
        counts: None,
        checks_done: 0,
        checks_total: *total_checks,
        error: None,
        duration_ms: None,
    };
    for event in events {
        match event {
            AssessmentEvent::Check(_) => row.checks_done += 1,
            AssessmentEvent::Finished { .. } => return None,
            AssessmentEvent::Failed(e) => {
                row.status = RowStatus::Failed;
                row.error = Some(e.clone());
            }
            AssessmentEvent::Started { .. } => {}
        }
    }
    Some(row)
}

/// Deletes a stored report, or forgets a run that could not run.
#[tauri::command]
pub fn assessment_delete(
    console: State<'_, Console>,
    report_id: Option<String>,
    job_id: Option<String>,
) -> Result<(), CommandError> {
    if let Some(id) = report_id {
        reports::delete(console.instances()?.store(), &id)?;
    }
    if let Some(id) = job_id {
        console.assessments.remove(&id);
    }
    Ok(())
}

fn jiff_now() -> String {
    let now = jiff::Timestamp::now();
    now.round(jiff::Unit::Second).unwrap_or(now).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started() -> AssessmentEvent {
        AssessmentEvent::Started {
            job_id: "j1".into(),
            source: "sandbox-source".into(),
            destination: "sandbox-dest".into(),
            mode: Mode::Migration,
            created_at: "2026-11-24T08:00:00Z".into(),
            total_checks: 34,
        }
    }

    #[test]
    fn events_cross_ipc_tagged_with_their_data() {
        let json = serde_json::to_value(AssessmentEvent::Finished {
            report_id: "abc".into(),
            verdict: Verdict::Warning,
            counts: Counts {
                errors: 0,
                warnings: 2,
                skipped: 0,
                passed: 32,
            },
        })
        .unwrap();
        assert_eq!(json["event"], "finished");
        assert_eq!(json["data"]["report_id"], "abc");
        assert_eq!(json["data"]["verdict"], "warning");
        let failed = serde_json::to_value(AssessmentEvent::Failed(ErrorBody {
            code: pgrelocate_engine::ErrorCode::NotFound,
            message: "no instance named \"x\"".into(),
        }))
        .unwrap();
        assert_eq!(
            failed,
            serde_json::json!({"event": "failed", "data": {"code": "not_found", "message": "no instance named \"x\""}})
        );
    }

    #[test]
    fn a_running_assessment_counts_its_finished_checks_and_disappears_once_stored() {
        let check = AssessmentEvent::Check(CheckResult {
            id: "src.reachable".into(),
            title: "Check reachability".into(),
            status: assess::Status::Success,
            message: "ok".into(),
            impact: String::new(),
            remedy: String::new(),
            evidence: Default::default(),
            duration_ms: 1,
        });
        let row = live_row("j1".into(), &[started(), check.clone(), check.clone()]).unwrap();
        assert_eq!(
            (row.status, row.checks_done, row.checks_total),
            (RowStatus::Running, 2, 34)
        );
        let finished = AssessmentEvent::Finished {
            report_id: "r".into(),
            verdict: Verdict::Success,
            counts: Counts::default(),
        };
        assert!(live_row("j1".into(), &[started(), check, finished]).is_none());
        let failed = AssessmentEvent::Failed(ErrorBody {
            code: pgrelocate_engine::ErrorCode::NotFound,
            message: "gone".into(),
        });
        let row = live_row("j1".into(), &[started(), failed]).unwrap();
        assert_eq!(row.status, RowStatus::Failed);
        assert_eq!(row.error.unwrap().message, "gone");
    }
}
