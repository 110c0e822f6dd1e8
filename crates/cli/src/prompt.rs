//! Questions on the terminal.

use std::io::{BufRead, IsTerminal, Write};

use crate::exit::CliError;

/// Asks `question` on the terminal; without a terminal, refuses unless `--yes` was given.
pub fn confirm(question: &str, yes: bool) -> Result<bool, CliError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(
            "refusing to delete without confirmation: pass --yes".into(),
        ));
    }
    ask(question)
}

/// Asks `question` on the terminal and reads a yes (anything else is no).
pub fn ask(question: &str) -> Result<bool, CliError> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| CliError::Io {
            what: "cannot read the answer",
            source,
        })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
