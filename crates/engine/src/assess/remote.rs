//! An assessment whose destination runs on a registered host: the host's agent runs the
//! checks (connectivity and replication are tried from where the standby will connect),
//! and the report is stored on both sides under the same id.

use super::assessment::{AssessError, AssessRequest};
use super::model::{CheckResult, Report};
use crate::agent::protocol::{RemoteAssess, Request, Secret};
use crate::host::HostError;
use crate::instances::{InstanceError, Instances};
use crate::store::reports;
use crate::store::InstanceRecord;

async fn password(instances: &Instances, record: &InstanceRecord) -> Option<Secret> {
    match instances.password_for(record).await {
        Ok(p) => p.as_ref().map(Secret::new),
        Err(e) => {
            // As locally: the login check reports the missing password.
            tracing::warn!(instance = %record.name, error = %e, "no password for the assessment");
            None
        }
    }
}

/// The destination's own prerequisites (the wizard's live step), checked by `host`'s agent
/// where the destination's data directory is; nothing is stored.
pub(super) async fn destination_prerequisites_on_host(
    instances: &Instances,
    host: &str,
    source: &str,
    dest: &str,
    options: crate::assess::Options,
) -> Result<Vec<CheckResult>, AssessError> {
    let call = remote_assess(
        instances,
        source,
        dest,
        crate::assess::Mode::Migration,
        options,
    )
    .await?;
    let agent = instances
        .hosts()?
        .agent(host)
        .await
        .map_err(InstanceError::from)?;
    Ok(agent
        .call(Request::DestinationPrerequisites(call))
        .await
        .map_err(|e| InstanceError::from(HostError::from(e)))?)
}

/// What the agent needs to run checks of `source` into `dest` there: the source's record
/// and both passwords from this keyring.
async fn remote_assess(
    instances: &Instances,
    source: &str,
    dest: &str,
    mode: crate::assess::Mode,
    options: crate::assess::Options,
) -> Result<RemoteAssess, AssessError> {
    let store = instances.store();
    let source = store
        .instance_by_name(source)
        .map_err(InstanceError::from)?;
    let dest = store.instance_by_name(dest).map_err(InstanceError::from)?;
    // A source managed on another registered host: the destination's host reaches it
    // itself for the `shutdown` fence (as `Tasks::with_source_host` for the switchover).
    let source_host = match source.managed.as_ref().and_then(|m| m.host.as_deref()) {
        Some(host) if Some(host) != crate::instances::host_of(&dest) => {
            Some(instances.hosts()?.get(host).map_err(InstanceError::from)?)
        }
        _ => None,
    };
    Ok(RemoteAssess {
        source_host,
        source_password: password(instances, &source).await,
        dest_password: password(instances, &dest).await,
        source,
        dest: dest.name.to_string(),
        mode,
        options,
    })
}

/// Runs `request` on `host` and stores the report here too.
pub(super) async fn assess_on_host(
    instances: &Instances,
    host: &str,
    request: AssessRequest,
    progress: &(dyn Fn(&CheckResult) + Sync),
) -> Result<Report, AssessError> {
    let store = instances.store();
    let call = remote_assess(
        instances,
        &request.source,
        &request.dest,
        request.mode,
        request.options,
    )
    .await?;
    let agent = instances
        .hosts()?
        .agent(host)
        .await
        .map_err(InstanceError::from)?;
    let report: Report = agent
        .call_with_events(Request::Assess(call), |event| {
            if let Ok(check) = serde_json::from_value::<CheckResult>(event) {
                progress(&check);
            }
        })
        .await
        .map_err(|e| InstanceError::from(HostError::from(e)))?;
    reports::save(store, &report)?;
    tracing::info!(id = %report.id, host, verdict = ?report.verdict, "assessment run on the destination's host stored");
    Ok(report)
}
