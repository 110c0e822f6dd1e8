//! `pgrelocate assess`: runs the feasibility assessment, prints the grouped report (colour on
//! a terminal, or one JSON document), optionally writes it to a file, and exits 3 when a
//! check found a blocking error.

use std::io::IsTerminal;
use std::path::PathBuf;

use pgrelocate_engine::assess::export::{self, Format};
use pgrelocate_engine::assess::{self, AssessRequest, Mode, Options, Status, Verdict};

use crate::args::{self, AssessArgs};
use crate::exit::CliError;
use crate::state::open;

/// Runs `assess`.
pub async fn run(args: AssessArgs) -> Result<i32, CliError> {
    let mappings = args
        .tablespace_mappings
        .iter()
        .map(|m| parse_mapping(m))
        .collect::<Result<Vec<_>, _>>()?;
    let format = match &args.out {
        Some(path) => Some(Format::from_path(path).ok_or_else(|| {
            CliError::Usage(format!(
                "cannot tell the format of {} from its extension: use .json, .html, .md or .txt",
                path.display()
            ))
        })?),
        None => None,
    };
    let instances = open()?;
    let request = AssessRequest {
        source: args.source,
        dest: args.dest,
        mode: match args.mode {
            args::Mode::Migration => Mode::Migration,
            args::Mode::Dr => Mode::Dr,
        },
        options: Options {
            tablespace_mappings: mappings,
            ..Options::default()
        },
    };
    let live = !args.json && std::io::stderr().is_terminal();
    let progress = move |c: &assess::CheckResult| {
        if live {
            let mark = match c.status {
                Status::Success => "ok",
                Status::Warning => "warning",
                Status::Error => "error",
                Status::Skipped => "skipped",
            };
            eprintln!("  {mark:<8} {}", c.title);
        } else {
            tracing::info!(check = %c.id, status = ?c.status, "check done");
        }
    };
    let report = assess::assess(&instances, request, &progress)
        .await
        .map_err(CliError::from)?;
    if args.json {
        print!("{}", export::render(&report, Format::Json));
    } else {
        print!("{}", export::text(&report, std::io::stdout().is_terminal()));
        println!(
            "report {} stored; export it with: pgrelocate report export {} --format html --out report.html",
            report.id, report.id
        );
    }
    if let (Some(path), Some(format)) = (&args.out, format) {
        export::write_file(&report, format, path).map_err(CliError::from)?;
        if !args.json {
            println!("written to {}", path.display());
        }
    }
    match report.verdict {
        Verdict::Error => Err(CliError::AssessmentFailed),
        Verdict::Warning | Verdict::Success => Ok(0),
    }
}

/// `OLD=NEW`, both absolute.
fn parse_mapping(text: &str) -> Result<(PathBuf, PathBuf), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "tablespace mapping {text:?} is not OLD=NEW with two absolute paths"
        ))
    };
    let (old, new) = text.split_once('=').ok_or_else(bad)?;
    let (old, new) = (PathBuf::from(old), PathBuf::from(new));
    if !old.is_absolute() || !new.is_absolute() {
        return Err(bad());
    }
    Ok((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_need_two_absolute_paths() {
        assert_eq!(
            parse_mapping("/a/b=/c d").unwrap(),
            (PathBuf::from("/a/b"), PathBuf::from("/c d"))
        );
        assert!(parse_mapping("/a").is_err());
        assert!(parse_mapping("a=/b").is_err());
    }
}
