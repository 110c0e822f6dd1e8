//! The task's warnings as values: a stable code (the serde tag) with what it needs. The CLI
//! and the event log's text render them in English here ([`Warning`]'s `Display`, the one
//! place that words them), the desktop app through its translation table
//! (`taskDetail.warning.<code>` in `ui/i18n.ts`).

use serde::{Deserialize, Serialize};

use crate::switchover::{describe, Guardrail, Progress, SlotOutcome};
use crate::ErrorCode;

/// A risk or a problem the DBA should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// The slot keeps more WAL on the source than the threshold.
    SlotRetainedWal {
        /// The slot.
        slot: String,
        /// WAL it keeps, in bytes.
        retained_bytes: u64,
        /// The threshold, in bytes.
        limit_bytes: u64,
    },
    /// The slot is past `max_slot_wal_keep_size` (`wal_status` unreserved).
    SlotAtRisk {
        /// The slot.
        slot: String,
    },
    /// The slot lost WAL the destination needs (`wal_status` lost).
    SlotLost {
        /// The slot.
        slot: String,
    },
    /// The slot is missing on the source.
    SlotMissing {
        /// The slot.
        slot: String,
    },
    /// The destination's filesystem is low on space.
    DestDiskLow {
        /// Bytes free.
        free_bytes: u64,
        /// The threshold, in bytes.
        limit_bytes: u64,
    },
    /// A guardrail did not pass.
    Guardrail {
        /// The guardrail.
        check: Guardrail,
    },
    /// The switchover failed before promotion and was rolled back.
    SwitchoverRolledBack {
        /// What failed.
        cause: ErrorCode,
        /// Why, for people.
        reason: String,
    },
    /// The switchover failed before promotion and the rollback could not undo everything.
    SwitchoverRollbackIncomplete {
        /// What failed.
        cause: ErrorCode,
        /// Why, for people.
        reason: String,
        /// What could not be undone, each with what to do by hand.
        problems: Vec<String>,
    },
    /// A switchover interrupted by the end of its process was settled by this one.
    SwitchoverInterrupted {
        /// The destination had been promoted: its last steps were completed now; otherwise
        /// the switchover was rolled back.
        promoted: bool,
        /// What could not be undone (rolled back), or the steps that did not work
        /// (promoted).
        #[serde(default)]
        problems: Vec<String>,
        /// What became of the slot (promoted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        slot: Option<SlotOutcome>,
    },
    /// A warning stored as text by an earlier version.
    // ts-rs would add the tag to an untagged struct variant: its shape is spelled out.
    #[serde(untagged)]
    #[ts(type = "{ code: string, message: string }")]
    Text {
        /// Its code.
        code: String,
        /// Its words.
        message: String,
    },
}

impl Warning {
    /// The stable code (the `code` field in JSON).
    pub fn code(&self) -> &str {
        match self {
            Warning::SlotRetainedWal { .. } => "slot_retained_wal",
            Warning::SlotAtRisk { .. } => "slot_at_risk",
            Warning::SlotLost { .. } => "slot_lost",
            Warning::SlotMissing { .. } => "slot_missing",
            Warning::DestDiskLow { .. } => "dest_disk_low",
            Warning::Guardrail { .. } => "guardrail",
            Warning::SwitchoverRolledBack { .. } => "switchover_rolled_back",
            Warning::SwitchoverRollbackIncomplete { .. } => "switchover_rollback_incomplete",
            Warning::SwitchoverInterrupted { .. } => "switchover_interrupted",
            Warning::Text { code, .. } => code,
        }
    }
}

fn mib(bytes: u64) -> u64 {
    bytes / (1 << 20)
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::SlotRetainedWal {
                slot,
                retained_bytes,
                limit_bytes,
            } => write!(
                f,
                "slot {slot} keeps {} MiB of WAL on the source (warning above {} MiB): the \
                 destination is behind or disconnected; watch the source's disk",
                mib(*retained_bytes),
                mib(*limit_bytes)
            ),
            Warning::SlotAtRisk { slot } => write!(
                f,
                "slot {slot} is past max_slot_wal_keep_size (wal_status unreserved): WAL the \
                 destination needs may be removed at the next checkpoint"
            ),
            Warning::SlotLost { slot } => write!(
                f,
                "slot {slot} lost WAL the destination needs (wal_status lost): the destination \
                 cannot catch up; cancel the task and start it again"
            ),
            Warning::SlotMissing { slot } => write!(f, "slot {slot} is missing on the source"),
            Warning::DestDiskLow {
                free_bytes,
                limit_bytes,
            } => write!(
                f,
                "the destination's filesystem has {} MiB free (warning below {} MiB)",
                mib(*free_bytes),
                mib(*limit_bytes)
            ),
            Warning::Guardrail { check } => write!(f, "{}: {}", check.title(), check.finding),
            Warning::SwitchoverRolledBack { reason, .. } => write!(
                f,
                "the switchover was rolled back: {reason}. Nothing was lost and the source \
                 accepts writes again"
            ),
            Warning::SwitchoverRollbackIncomplete {
                reason, problems, ..
            } => write!(
                f,
                "the switchover failed ({reason}) and could not be fully rolled back: {}. The \
                 destination was not promoted",
                problems.join("; ")
            ),
            Warning::SwitchoverInterrupted {
                promoted: false,
                problems,
                ..
            } if problems.is_empty() => f.write_str(
                "an interrupted switchover was rolled back: the destination had not been \
                 promoted; the fence was undone",
            ),
            Warning::SwitchoverInterrupted {
                promoted: false,
                problems,
                ..
            } => write!(
                f,
                "an interrupted switchover was rolled back, but the fence could not be fully \
                 undone: {}",
                problems.join("; ")
            ),
            Warning::SwitchoverInterrupted {
                promoted: true,
                problems,
                slot,
            } => {
                f.write_str(
                    "an interrupted switchover had promoted the destination; its last steps \
                     were completed now (no window was measured)",
                )?;
                if let Some(line) = slot.as_ref().and_then(|outcome| {
                    describe(&Progress::Slot {
                        outcome: outcome.clone(),
                    })
                }) {
                    write!(f, "; {line}")?;
                }
                for p in problems {
                    write!(f, "; {p}")?;
                }
                Ok(())
            }
            Warning::Text { message, .. } => f.write_str(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::EventKind;

    #[test]
    fn a_warning_is_its_code_with_parameters() {
        let w = Warning::SlotLost {
            slot: "pgrelocate_t".into(),
        };
        let json = serde_json::to_value(EventKind::Warning(w.clone())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"event": "warning", "code": "slot_lost", "slot": "pgrelocate_t"})
        );
        assert_eq!(w.code(), "slot_lost");
        assert!(w.to_string().starts_with("slot pgrelocate_t lost WAL"));
        let back: EventKind = serde_json::from_value(json).unwrap();
        assert_eq!(back, EventKind::Warning(w));
    }

    #[test]
    fn warnings_stored_as_sentences_still_load() {
        for old in [
            r#"{"event": "warning", "code": "slot_lost", "message": "slot x lost WAL"}"#,
            r#"{"event": "warning", "code": "guardrail.source.long_transactions", "message": "Long-running transactions: 1"}"#,
        ] {
            let kind: EventKind = serde_json::from_str(old).unwrap();
            let EventKind::Warning(w @ Warning::Text { .. }) = &kind else {
                panic!("{kind:?}");
            };
            let stored: serde_json::Value = serde_json::from_str(old).unwrap();
            assert_eq!(w.code(), stored["code"]);
            assert_eq!(w.to_string(), stored["message"]);
            // Written back as it was stored.
            assert_eq!(serde_json::to_value(&kind).unwrap(), stored);
        }
    }
}
