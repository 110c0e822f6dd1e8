//! The task's replication slot on the source after promotion: dropped where the source still
//! runs (otherwise it keeps WAL there for ever), named for later where it does not.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoint;
use crate::secrets::Password;
use crate::wire::{ConnectOptions, ReplicationConnection, SlotName, WireError};

/// How long a slot still held by a WAL sender (the standby just let go) is waited for.
const RELEASE_WITHIN: Duration = Duration::from_secs(15);

/// What became of the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SlotOutcome {
    /// Dropped on the running source (or already gone).
    Dropped {
        /// The slot.
        slot: String,
    },
    /// Still on the source: drop it there before the source runs again for long.
    Kept {
        /// The slot.
        slot: String,
        /// Why it was not dropped.
        reason: String,
        /// The statement that drops it.
        drop_with: String,
    },
}

impl SlotOutcome {
    /// The slot was left on the source, with the reason.
    pub fn kept(slot: &str, reason: impl Into<String>) -> SlotOutcome {
        SlotOutcome::Kept {
            slot: slot.to_string(),
            reason: reason.into(),
            drop_with: format!("SELECT pg_drop_replication_slot('{slot}');"),
        }
    }
}

/// Drops `slot` on the source over a replication connection (absent is fine), waiting for
/// a WAL sender that still holds it to let go.
pub async fn drop_slot(
    source: &Endpoint,
    password: Option<&Password>,
    slot: &str,
) -> Result<(), WireError> {
    let name = SlotName::new(slot).map_err(|e| WireError::Protocol(e.to_string()))?;
    let options = ConnectOptions {
        application_name: "pgrelocate_switchover".into(),
        connect_timeout: Duration::from_secs(10),
    };
    let mut conn = ReplicationConnection::connect(source, password, &options).await?;
    let started = Instant::now();
    let result = loop {
        match conn.drop_slot(&name, false).await {
            Ok(()) => break Ok(()),
            Err(e) if e.sqlstate() == Some("42704") => break Ok(()),
            Err(e) if e.sqlstate() == Some("55006") && started.elapsed() < RELEASE_WITHIN => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => break Err(e),
        }
    };
    let _ = conn.close().await;
    result
}
