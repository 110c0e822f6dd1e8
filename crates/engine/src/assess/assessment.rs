//! Running an assessment: resolve the two instances and their credentials, run the
//! catalogue, summarise both sides, store the report.

use std::time::Instant;

use super::checks;
use super::context::{Context, Options, Side};
use super::host;
use super::model::{
    CheckResult, DestinationSummary, Mode, Report, SourceSummary, REPORT_SCHEMA_VERSION,
};
use super::runner::{run_checks_observed, CatalogueError};
use crate::instances::{InstanceError, Instances};
use crate::store::reports::{self, ReportError};

/// What to assess.
#[derive(Debug, Clone)]
pub struct AssessRequest {
    /// Registered source instance.
    pub source: String,
    /// Managed destination instance.
    pub dest: String,
    /// Scenario.
    pub mode: Mode,
    /// Tunables (timeouts, tablespace mappings, thresholds).
    pub options: Options,
}

/// Why an assessment could not run (a failed check is not an error: it is in the report).
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error("the check catalogue is inconsistent: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error("the report could not be stored: {0}")]
    Store(#[from] ReportError),
}

async fn side(instances: &Instances, name: &str) -> Result<Side, AssessError> {
    let record = instances
        .store()
        .instance_by_name(name)
        .map_err(InstanceError::from)?;
    // A keyring failure is not fatal here: the login check reports the missing password.
    let password = match instances.password_for(&record).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(instance = %record.name, error = %e, "no password for the assessment");
            None
        }
    };
    // Which task made it a primary, if any: a destination that serves is never offered
    // destructive remedies.
    let promoted_by = crate::store::tasks::promoting_task(instances.store(), &record.id)
        .unwrap_or_else(|e| {
            tracing::warn!(instance = %record.name, error = %e, "tasks unreadable for the assessment");
            None
        })
        .map(|task| task.id.to_string());
    Ok(Side {
        record,
        password,
        promoted_by,
    })
}

/// Runs the whole catalogue for `request`, stores the report and returns it. `progress`
/// hears about each check as it ends.
pub async fn assess(
    instances: &Instances,
    request: AssessRequest,
    progress: &(dyn Fn(&CheckResult) + Sync),
) -> Result<Report, AssessError> {
    let dest_record = instances
        .store()
        .instance_by_name(&request.dest)
        .map_err(InstanceError::from)?;
    if let Some(host) = crate::instances::host_of(&dest_record) {
        return super::remote::assess_on_host(instances, host, request, progress).await;
    }
    // A source managed on a registered host: the local switchover reaches it there.
    let source_host = match instances
        .store()
        .instance_by_name(&request.source)
        .map_err(InstanceError::from)?
        .managed
        .and_then(|m| m.host)
    {
        Some(host) => Some(instances.hosts()?.get(&host).map_err(InstanceError::from)?),
        None => None,
    };
    assess_here(instances, request, source_host, progress).await
}

/// [`assess`] on this machine; `source_host`: the registered host the source is managed
/// on, reached from here by `src.fencing` (a destination's agent, handed it over).
pub(crate) async fn assess_here(
    instances: &Instances,
    request: AssessRequest,
    source_host: Option<crate::store::HostRecord>,
    progress: &(dyn Fn(&CheckResult) + Sync),
) -> Result<Report, AssessError> {
    let created_at = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    let started = Instant::now();
    let source = side(instances, &request.source).await?;
    let dest = side(instances, &request.dest).await?;
    let timeout = request.options.check_timeout;
    let mut ctx = Context::new(request.mode, request.options, source, dest);
    if let Some(host) = source_host {
        ctx = ctx.with_source_host(instances.hosts()?, host);
    }
    let groups =
        run_checks_observed(&ctx, &checks::catalogue(request.mode), timeout, progress).await?;
    let report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        id: new_id(),
        created_at,
        mode: request.mode,
        duration_ms: started.elapsed().as_millis() as u64,
        source: source_summary(&ctx).await,
        destination: destination_summary(&ctx).await,
        verdict: Report::verdict_of(&groups),
        groups,
    };
    reports::save(instances.store(), &report)?;
    tracing::info!(id = %report.id, verdict = ?report.verdict, ms = report.duration_ms, "assessment stored");
    Ok(report)
}

/// The destination's own prerequisites (managed, primary, empty, same major as `source`,
/// storage), checked live for the desktop wizard; nothing is stored.
pub async fn destination_prerequisites(
    instances: &Instances,
    source: &str,
    dest: &str,
    options: Options,
) -> Result<Vec<CheckResult>, AssessError> {
    let dest_record = instances
        .store()
        .instance_by_name(dest)
        .map_err(InstanceError::from)?;
    // Its data directory, owner, server and free space are on its host: checked there.
    if let Some(host) = crate::instances::host_of(&dest_record) {
        return super::remote::destination_prerequisites_on_host(
            instances, host, source, dest, options,
        )
        .await;
    }
    let source = side(instances, source).await?;
    let dest = side(instances, dest).await?;
    let timeout = options.check_timeout;
    let ctx = Context::new(Mode::Migration, options, source, dest);
    let groups =
        run_checks_observed(&ctx, &checks::destination_prerequisites(), timeout, &|_| {}).await?;
    Ok(groups
        .into_iter()
        .flat_map(|g| g.checks)
        .filter(|c| c.id.starts_with("dest."))
        .collect())
}

/// A short random report id (12 hex digits).
fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

async fn source_summary(ctx: &Context) -> SourceSummary {
    let facts = ctx.source_facts().await.ok();
    let system_id = match facts.and_then(|f| f.system_id.clone()) {
        Some(id) => Some(id),
        None => ctx
            .replication()
            .await
            .ok()
            .map(|i| i.system_id.to_string()),
    };
    SourceSummary {
        name: ctx.source.name().to_string(),
        endpoint: ctx.source.endpoint().address(),
        version: facts.map(|f| f.version_text.clone()),
        system_id,
        size_bytes: facts.and_then(|f| f.size_bytes()),
    }
}

async fn destination_summary(ctx: &Context) -> DestinationSummary {
    let data_dir = ctx.dest.managed().map(|m| m.data_dir.clone());
    let version = match ctx.dest.managed() {
        // Only ask the server when it runs: a stopped destination should not delay the report.
        Some(m) if host::postmaster_pid(&m.data_dir).is_some() => {
            ctx.dest_facts().await.ok().map(|f| f.version_text.clone())
        }
        _ => None,
    };
    DestinationSummary {
        name: ctx.dest.name().to_string(),
        endpoint: ctx.dest.endpoint().address(),
        version,
        free_bytes: data_dir.as_deref().and_then(host::free_bytes),
        data_dir: data_dir.map(|d| d.display().to_string()),
    }
}

impl crate::Coded for AssessError {
    fn code(&self) -> crate::ErrorCode {
        match self {
            AssessError::Instance(e) => e.code(),
            AssessError::Catalogue(e) => e.code(),
            AssessError::Store(e) => e.code(),
        }
    }
}
