//! Replication commands other than BASE_BACKUP: IDENTIFY_SYSTEM, SHOW, and physical slots,
//! each in the syntax of the connected server's version.

use super::connection::ReplicationConnection;
use super::error::WireError;
use super::lsn::Lsn;

/// What IDENTIFY_SYSTEM reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemIdentity {
    /// The cluster's system identifier (the same on a primary and its standbys).
    pub system_id: u64,
    /// Current timeline.
    pub timeline: u32,
    /// Current WAL flush position.
    pub xlogpos: Lsn,
}

/// A replication slot name: 1 to 63 of `a-z`, `0-9`, `_`, as PostgreSQL requires.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotName(String);

/// A slot name PostgreSQL would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid replication slot name (1-63 characters of a-z, 0-9 and _)")]
pub struct SlotNameError(pub String);

impl SlotName {
    /// Validates a slot name.
    pub fn new(name: &str) -> Result<Self, SlotNameError> {
        let ok = !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(SlotName(name.to_string()))
        } else {
            Err(SlotNameError(name.to_string()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A slot that CREATE_REPLICATION_SLOT made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSlot {
    /// The slot's name.
    pub name: String,
    /// Consistent point (0/0 for physical slots).
    pub consistent_point: Option<Lsn>,
}

fn field<'a>(
    set: &'a super::connection::ResultSet,
    column: &str,
    command: &str,
) -> Result<&'a str, WireError> {
    set.get(0, column)
        .ok_or_else(|| WireError::Protocol(format!("{command} returned no {column} value")))
}

fn single_set(
    mut sets: Vec<super::connection::ResultSet>,
    command: &str,
) -> Result<super::connection::ResultSet, WireError> {
    match sets.len() {
        1 if !sets[0].rows.is_empty() => Ok(sets.remove(0)),
        _ => Err(WireError::Protocol(format!(
            "{command} did not return exactly one row"
        ))),
    }
}

impl ReplicationConnection {
    /// `IDENTIFY_SYSTEM`: system identifier, timeline and current WAL position.
    pub async fn identify_system(&mut self) -> Result<SystemIdentity, WireError> {
        let set = single_set(
            self.simple_query("IDENTIFY_SYSTEM").await?,
            "IDENTIFY_SYSTEM",
        )?;
        let bad =
            |what: &str| WireError::Protocol(format!("IDENTIFY_SYSTEM returned a bad {what}"));
        Ok(SystemIdentity {
            system_id: field(&set, "systemid", "IDENTIFY_SYSTEM")?
                .parse()
                .map_err(|_| bad("systemid"))?,
            timeline: field(&set, "timeline", "IDENTIFY_SYSTEM")?
                .parse()
                .map_err(|_| bad("timeline"))?,
            xlogpos: field(&set, "xlogpos", "IDENTIFY_SYSTEM")?
                .parse()
                .map_err(|_| bad("xlogpos"))?,
        })
    }

    /// `SHOW name`: a server setting's current value, as text with its unit (e.g. `16MB`).
    pub async fn show(&mut self, name: &str) -> Result<String, WireError> {
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(WireError::Protocol(format!(
                "{name:?} is not a setting name"
            )));
        }
        let set = single_set(self.simple_query(&format!("SHOW {name}")).await?, "SHOW")?;
        set.rows[0]
            .first()
            .cloned()
            .flatten()
            .ok_or_else(|| WireError::Protocol(format!("SHOW {name} returned NULL")))
    }

    /// `CREATE_REPLICATION_SLOT … PHYSICAL` reserving WAL from the last checkpoint's redo
    /// point, so every segment from a later backup's start is kept.
    pub async fn create_physical_slot(
        &mut self,
        name: &SlotName,
        temporary: bool,
    ) -> Result<CreatedSlot, WireError> {
        let sql = self
            .server_version()
            .create_physical_slot_command(name.as_str(), temporary);
        let set = single_set(self.simple_query(&sql).await?, "CREATE_REPLICATION_SLOT")?;
        Ok(CreatedSlot {
            name: field(&set, "slot_name", "CREATE_REPLICATION_SLOT")?.to_string(),
            consistent_point: set.get(0, "consistent_point").and_then(|s| s.parse().ok()),
        })
    }

    /// `DROP_REPLICATION_SLOT`; with `wait`, waits for a client still using it to go away.
    pub async fn drop_slot(&mut self, name: &SlotName, wait: bool) -> Result<(), WireError> {
        let sql = format!(
            "DROP_REPLICATION_SLOT \"{}\"{}",
            name.as_str(),
            if wait { " WAIT" } else { "" }
        );
        self.simple_query(&sql).await.map(|_| ())
    }
}

impl crate::Coded for SlotNameError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidOption
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_follow_postgres_rules() {
        assert!(SlotName::new("pgrelocate_42").is_ok());
        for bad in ["", "Upper", "with-dash", "x\"; DROP", &"a".repeat(64)] {
            assert!(SlotName::new(bad).is_err(), "{bad}");
        }
    }
}
