//! Where pgrelocate keeps its state: `$PGRELOCATE_HOME`, else the platform data directory.

use std::path::PathBuf;

/// Environment variable that overrides the state directory (tests always set it).
pub const HOME_ENV: &str = "PGRELOCATE_HOME";

/// Errors finding the state directory.
#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    #[error("no state directory: set {HOME_ENV} or a HOME with a data directory")]
    NoDataDir,
    #[error("{HOME_ENV} is set but empty")]
    EmptyOverride,
}

/// The state directory: `$PGRELOCATE_HOME` if set, else e.g. `~/.local/share/pgrelocate`.
pub fn state_dir() -> Result<PathBuf, HomeError> {
    match std::env::var_os(HOME_ENV) {
        Some(v) if v.is_empty() => Err(HomeError::EmptyOverride),
        Some(v) => Ok(PathBuf::from(v)),
        None => directories::ProjectDirs::from("", "", "pgrelocate")
            .map(|d| d.data_dir().to_path_buf())
            .ok_or(HomeError::NoDataDir),
    }
}

impl crate::Coded for HomeError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::StateDirUnavailable
    }
}
