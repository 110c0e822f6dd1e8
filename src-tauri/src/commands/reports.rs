//! The assessment report view and its export through a native save dialog. The webview
//! only asks; the Rust side shows the dialog and the engine writes the file (atomically).

use std::path::PathBuf;

use pgrelocate_engine::assess::export::{self, Format};
use pgrelocate_engine::assess::{self, Freshness, Report};
use pgrelocate_engine::store::reports;
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;

use crate::error::CommandError;
use crate::state::Console;

/// Test seam: when set to a folder, exports go there under the suggested file name instead
/// of asking through the native dialog (WebDriver cannot drive a GTK file chooser).
pub const SAVE_DIR_FOR_TESTS: &str = "PGRELOCATE_SAVE_DIR_FOR_TESTS";

/// A stored report, whole.
#[tauri::command]
pub fn report_get(console: State<'_, Console>, id: String) -> Result<Report, CommandError> {
    Ok(reports::get(console.instances()?.store(), &id)?)
}

/// Whether a report still describes its source: its age, and the source's size then and
/// now (measured live).
#[tauri::command]
pub async fn report_freshness(
    console: State<'_, Console>,
    id: String,
) -> Result<Freshness, CommandError> {
    let instances = console.instances()?;
    Ok(assess::freshness(&instances, &id).await?)
}

/// Where an export went.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    /// The file written; `None` when the DBA closed the dialog.
    pub path: Option<String>,
}

/// Asks where to save the report in `format`, then writes it there.
#[tauri::command]
pub async fn report_export(
    app: AppHandle,
    console: State<'_, Console>,
    id: String,
    format: Format,
) -> Result<Exported, CommandError> {
    let report = reports::get(console.instances()?.store(), &id)?;
    let suggested = format!("pgrelocate-assessment-{}.{}", report.id, format.extension());
    let Some(path) = choose_save_path(&app, &suggested, format).await? else {
        return Ok(Exported { path: None });
    };
    let target = path.clone();
    tauri::async_runtime::spawn_blocking(move || export::write_file(&report, format, &target))
        .await??;
    tracing::info!(report = %id, path = %path.display(), "report exported");
    Ok(Exported {
        path: Some(path.display().to_string()),
    })
}

/// The native save dialog (or the test folder); `None` when cancelled.
async fn choose_save_path(
    app: &AppHandle,
    suggested: &str,
    format: Format,
) -> Result<Option<PathBuf>, CommandError> {
    if let Some(dir) = std::env::var_os(SAVE_DIR_FOR_TESTS).filter(|d| !d.is_empty()) {
        return Ok(Some(PathBuf::from(dir).join(suggested)));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Export assessment report")
        .set_file_name(suggested)
        .add_filter(filter_name(format), &[format.extension()])
        .save_file(move |picked| {
            let _ = tx.send(picked);
        });
    let picked = rx
        .await
        .map_err(|_| CommandError::Dialog("the dialog closed without an answer".into()))?;
    picked
        .map(|p| {
            p.into_path()
                .map_err(|e| CommandError::Dialog(e.to_string()))
        })
        .transpose()
}

fn filter_name(format: Format) -> &'static str {
    match format {
        Format::Json => "JSON",
        Format::Html => "HTML page",
        Format::Md => "Markdown",
        Format::Text => "Text",
    }
}
