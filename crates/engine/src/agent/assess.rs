//! The assessment on a destination's host: the checks connect from where the standby will,
//! so a source the workstation reaches but the host does not is found out here.

use std::sync::Arc;

use super::protocol::RemoteAssess;
use crate::assess::{self, AssessError, AssessRequest, CheckResult, Report};
use crate::instances::{InstanceError, Instances};
use crate::secrets::memory::Memory;
use crate::secrets::CredentialStore;

/// Runs the assessment on this host and stores its report in the agent's store (the
/// workstation stores the same report under the same id).
pub async fn run(
    req: RemoteAssess,
    progress: &(dyn Fn(&CheckResult) + Sync),
) -> Result<Report, AssessError> {
    let (instances, source) = prepare(&req).await?;
    assess::assess_here(
        &instances,
        AssessRequest {
            source,
            dest: req.dest,
            mode: req.mode,
            options: req.options,
        },
        req.source_host,
        progress,
    )
    .await
}

/// The destination's own prerequisites, checked on this host (its data directory, owner,
/// server and free space are here, not on the workstation).
pub async fn destination_prerequisites(req: RemoteAssess) -> Result<Vec<CheckResult>, AssessError> {
    let (instances, source) = prepare(&req).await?;
    assess::destination_prerequisites(&instances, &source, &req.dest, req.options).await
}

/// The agent's instances with the workstation's source mirrored by id and both passwords
/// in memory only; returns them and the source's name here.
async fn prepare(req: &RemoteAssess) -> Result<(Instances, String), AssessError> {
    let dir = crate::home::state_dir().map_err(InstanceError::from)?;
    let memory = Arc::new(Memory::default());
    let instances =
        Instances::with_credentials(&dir, Ok(memory.clone() as Arc<dyn CredentialStore>))?;
    let source = instances
        .store()
        .upsert_external(&req.source)
        .map_err(InstanceError::from)?;
    let dest = instances
        .store()
        .instance_by_name(&req.dest)
        .map_err(InstanceError::from)?;
    if let Some(p) = &req.source_password {
        memory
            .save(&source.id, &p.password())
            .map_err(InstanceError::from)?;
    }
    if let Some(p) = &req.dest_password {
        memory
            .save(&dest.id, &p.password())
            .map_err(InstanceError::from)?;
    }
    Ok((instances, source.name.to_string()))
}
