//! The task page's Access rules card: the reviewed diff of the source's client rules
//! against the destination's `pg_hba.conf`, applied as a marked block, and undone.

use pgrelocate_engine::access::{self, AccessDiff, AccessOutcome};
use tauri::State;

use crate::error::CommandError;
use crate::state::Console;

/// Which client networks the source admits that the destination would refuse, and the
/// task's block in force. Changes nothing.
#[tauri::command]
pub async fn access_diff(
    console: State<'_, Console>,
    id: String,
) -> Result<AccessDiff, CommandError> {
    Ok(access::show(&console.tasks()?, &id).await?)
}

/// Writes the pending rules at the top of the destination's `pg_hba.conf`, checks and
/// reloads it (rolled back with the server's error lines when it refuses them).
#[tauri::command]
pub async fn access_apply(
    console: State<'_, Console>,
    id: String,
) -> Result<AccessOutcome, CommandError> {
    Ok(access::apply_rules(&console.tasks()?, &id).await?)
}

/// Removes exactly the task's block and reloads.
#[tauri::command]
pub async fn access_undo(
    console: State<'_, Console>,
    id: String,
) -> Result<AccessOutcome, CommandError> {
    Ok(access::undo(&console.tasks()?, &id).await?)
}
