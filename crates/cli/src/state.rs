//! The state directory the commands work on.

use pgrelocate_engine::instances::Instances;

use crate::exit::CliError;

/// Opens the state directory with the OS keyring.
pub fn open() -> Result<Instances, CliError> {
    let dir = pgrelocate_engine::home::state_dir()?;
    Ok(Instances::open(&dir)?)
}
