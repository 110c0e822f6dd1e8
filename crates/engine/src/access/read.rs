//! Reading client rules: the source's from `pg_hba_file_rules` (10+; only the columns
//! every version from 10 to 18 has — `rule_number` and `file_name` came in 16), else from
//! the copy's `pg_hba.conf.from-source`; the destination's from its `pg_hba.conf`.

use std::path::{Path, PathBuf};

use tokio_postgres::Client;

use super::error::AccessError;
use super::rule::{self, Address, ConnType, Rule, Token};
use crate::task::standby::FROM_SOURCE;

/// The rules PostgreSQL loaded from the file on disk, in order, without the lines it
/// reports as erroneous.
const FILE_RULES: &str = "SELECT line_number, type, database, user_name, address, netmask, \
                          auth_method, options, error \
                          FROM pg_catalog.pg_hba_file_rules";

/// Where the source's rules came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The live source's `pg_hba_file_rules`.
    FileRules,
    /// The copy's `pg_hba.conf.from-source` in the destination's data directory.
    CopiedFile,
}

/// A row of `pg_hba_file_rules` as a rule (`None`: an error line).
fn from_row(row: &tokio_postgres::Row) -> Result<Option<Rule>, String> {
    if row.get::<_, Option<String>>(8).is_some() {
        return Ok(None);
    }
    let kind: Option<String> = row.get(1);
    let Some(conn_type) = kind.as_deref().and_then(ConnType::parse) else {
        return Err(format!("unknown rule type {kind:?}"));
    };
    let tokens = |v: Option<Vec<String>>| -> Vec<Token> {
        v.unwrap_or_default()
            .into_iter()
            .map(
                |t| match t.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                    // 16+ shows a quoted keyword with its quotes.
                    Some(inner) => Token {
                        text: inner.to_string(),
                        quoted: true,
                    },
                    None => Token::plain(t.as_str()),
                },
            )
            .collect()
    };
    let address: Option<String> = row.get(4);
    let netmask: Option<String> = row.get(5);
    let address = match (conn_type, address) {
        (ConnType::Local, _) => None,
        (_, Some(a)) => Some(Address::parse(&a, netmask.as_deref())?),
        (_, None) => return Err("a network rule without an address".into()),
    };
    Ok(Some(Rule {
        line: row.get::<_, Option<i32>>(0).map(|n| n as u32),
        conn_type,
        databases: tokens(row.get(2)),
        users: tokens(row.get(3)),
        address,
        method: row.get::<_, Option<String>>(6).unwrap_or_default(),
        options: row.get::<_, Option<Vec<String>>>(7).unwrap_or_default(),
    }))
}

/// The rules a server has on disk, from `pg_hba_file_rules`.
pub async fn file_rules(client: &Client) -> Result<Vec<Rule>, String> {
    let rows = client
        .query(FILE_RULES, &[])
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => e.to_string(),
        })?;
    let mut out = Vec::new();
    for row in &rows {
        if let Some(r) = from_row(row)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// The lines `pg_hba_file_rules` reports as erroneous (`line N: error`).
pub async fn file_errors(client: &Client) -> Result<Vec<String>, AccessError> {
    let rows = client
        .query(
            "SELECT line_number, error FROM pg_catalog.pg_hba_file_rules WHERE error IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| {
            AccessError::CheckUnreadable(match e.as_db_error() {
                Some(db) => db.message().to_string(),
                None => e.to_string(),
            })
        })?;
    Ok(rows
        .iter()
        .map(|r| {
            let line: Option<i32> = r.get(0);
            let error: String = r.get(1);
            match line {
                Some(n) => format!("line {n}: {error}"),
                None => error,
            }
        })
        .collect())
}

/// The copy's saved source file in `data_dir`.
pub fn copied_file(data_dir: &Path) -> PathBuf {
    data_dir.join(format!("pg_hba.conf{FROM_SOURCE}"))
}

/// The destination's `pg_hba.conf` in `data_dir`.
pub fn hba_file(data_dir: &Path) -> PathBuf {
    data_dir.join("pg_hba.conf")
}

/// A file's text.
pub fn read_text(path: &Path) -> Result<String, AccessError> {
    std::fs::read_to_string(path).map_err(|source| AccessError::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

/// The rules of a file's text (includes and invalid lines left out).
pub fn text_rules(text: &str) -> Vec<Rule> {
    rule::rules(&rule::parse_file(text))
}

/// The source's rules: its live `pg_hba_file_rules` when `client` reads it, else the copy's
/// `pg_hba.conf.from-source` under `data_dir`.
pub async fn source_rules(
    client: Result<&Client, String>,
    data_dir: Option<&Path>,
) -> Result<(Vec<Rule>, Origin), AccessError> {
    let live = match client {
        Ok(c) => match file_rules(c).await {
            Ok(rules) => return Ok((rules, Origin::FileRules)),
            Err(e) => e,
        },
        Err(e) => e,
    };
    let file = match data_dir {
        Some(dir) => {
            let path = copied_file(dir);
            match std::fs::read_to_string(&path) {
                Ok(text) => return Ok((text_rules(&text), Origin::CopiedFile)),
                Err(e) => format!("{} is not readable ({e})", path.display()),
            }
        }
        None => "no copy is in place yet".into(),
    };
    Err(AccessError::SourceUnreadable { live, file })
}
