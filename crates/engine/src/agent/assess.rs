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
    assess::assess(
        &instances,
        AssessRequest {
            source: source.name.to_string(),
            dest: req.dest,
            mode: req.mode,
            options: req.options,
        },
        progress,
    )
    .await
}
