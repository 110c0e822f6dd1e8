//! The error every command returns, serialised for the webview as `{code, message}`.
//!
//! `code` is stable for the UI to branch on; `message` is for people. Neither carries
//! raw driver text or a secret: each variant's message is written here or in the engine.

use pgrelocate_engine::home::HomeError;
use serde::ser::SerializeStruct;

/// A command failure as the webview sees it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The state directory could not be determined.
    #[error(transparent)]
    StateDir(#[from] HomeError),
}

impl CommandError {
    /// The stable, machine-readable code the UI branches on.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::StateDir(_) => "state_dir_unavailable",
        }
    }
}

impl serde::Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CommandError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_error_crosses_ipc_as_code_and_message() {
        let err = CommandError::from(HomeError::EmptyOverride);
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "state_dir_unavailable",
                "message": "PGRELOCATE_HOME is set but empty",
            })
        );
    }
}
