//! What the DBA does after a switchover or failover, as values: the CLI renders them in
//! English here ([`NextStep`]'s `Display`, the one place that words them), the desktop app
//! through its translation table (`switch.next.<kind>` in `ui/i18n.ts`).

use serde::{Deserialize, Deserializer, Serialize};

use super::fence::FenceStrategy;

/// One thing to do next, with what it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NextStep {
    /// Point applications at the new primary.
    Reconnect {
        /// The new primary's `host:port`.
        endpoint: String,
        /// Its connection URI (no password), to paste into an application's settings
        /// (empty in reports of earlier versions).
        #[serde(default)]
        uri: String,
        /// The same as libpq keyword/value pairs (empty in reports of earlier versions).
        #[serde(default)]
        keywords: String,
    },
    /// Carry the source's access rules and outside settings over (the access rules could
    /// not be compared).
    CopyAccessRules,
    /// Client rules the source admits are still refused by the new primary: apply them.
    ApplyAccessRules {
        /// How many source rules.
        count: usize,
        /// The command that shows and applies them.
        command: String,
    },
    /// The access rules travelled: what stays is the settings kept outside the data
    /// directory.
    CopyOutsideSettings,
    /// The `sql` fence stays on the source: retire it, never re-open it for writes.
    RetireFencedSource,
    /// The `shutdown` fence stopped the source: retire it, never start it as a primary.
    RetireStoppedSource,
    /// A failover did not fence the source: keep applications off it.
    KeepOffUnfencedSource,
    /// The slot is still on the source: drop it there if the source ever runs again.
    DropSlot {
        /// The slot.
        slot: String,
        /// The statement that drops it.
        drop_with: String,
    },
    /// The endpoint hook failed after promotion: run it again (environment included).
    RerunHook {
        /// The exact, shell-quoted command line.
        command: String,
    },
    /// A step stored as text by an earlier version.
    Text {
        /// Its words.
        text: String,
    },
}

impl NextStep {
    /// Point applications at this new primary.
    pub fn reconnect(new_primary: &crate::endpoint::Endpoint) -> NextStep {
        NextStep::Reconnect {
            endpoint: new_primary.address(),
            uri: new_primary.uri(),
            keywords: new_primary.keywords(),
        }
    }

    /// The access-rule step the switchover's `access.rules` guardrail calls for: rules still
    /// to apply, only the outside settings when they are carried, or the old advice when
    /// they could not be compared.
    pub fn access(checks: &[super::Guardrail]) -> Vec<NextStep> {
        use super::guardrails::Finding;
        match checks
            .iter()
            .find(|g| g.id == "access.rules")
            .map(|g| &g.finding)
        {
            Some(Finding::AccessRulesPending { count, task, .. }) => vec![
                NextStep::ApplyAccessRules {
                    count: *count,
                    command: format!("pgrelocate access apply {task}"),
                },
                NextStep::CopyOutsideSettings,
            ],
            Some(Finding::AccessRulesCovered) => vec![NextStep::CopyOutsideSettings],
            _ => vec![NextStep::CopyAccessRules],
        }
    }

    /// What the DBA copies to act on this step: connection strings, statements, command
    /// lines, each whole (the CLI prints each on its own line, the app gives each a copy
    /// button). Empty for a step that is only words.
    pub fn commands(&self) -> Vec<String> {
        match self {
            NextStep::Reconnect { uri, keywords, .. } => [uri, keywords]
                .into_iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect(),
            NextStep::DropSlot { drop_with, .. } => vec![drop_with.clone()],
            NextStep::RerunHook { command } | NextStep::ApplyAccessRules { command, .. } => {
                vec![command.clone()]
            }
            _ => Vec::new(),
        }
    }

    /// The step that retires the source after this fence (`None`: a failover, no fence).
    pub fn retire(fence: Option<FenceStrategy>) -> NextStep {
        match fence {
            Some(FenceStrategy::Sql) => NextStep::RetireFencedSource,
            Some(FenceStrategy::Shutdown) => NextStep::RetireStoppedSource,
            None => NextStep::KeepOffUnfencedSource,
        }
    }
}

impl std::fmt::Display for NextStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NextStep::Reconnect { endpoint, .. } => write!(
                f,
                "Reconnect applications to the new primary at {endpoint} (their own user and \
                 password; the connection string below carries neither a password nor a pool)."
            ),
            NextStep::CopyAccessRules => f.write_str(
                "Copy access rules from the source: its pg_hba.conf (saved beside the \
                 destination's own as pg_hba.conf.from-source when it came with the copy) and \
                 the settings kept outside its data directory. Roles and passwords on the \
                 destination are the source's.",
            ),
            NextStep::ApplyAccessRules { count, .. } => write!(
                f,
                "The new primary still refuses {count} client rule(s) the source admitted: \
                 review and apply them (a marked block at the top of its pg_hba.conf, undone \
                 with `access undo`):"
            ),
            NextStep::CopyOutsideSettings => f.write_str(
                "Copy the settings the source keeps outside its data directory (included \
                 files, certificates, a custom hba_file); its client rules travelled. Roles and \
                 passwords on the destination are the source's.",
            ),
            NextStep::RetireFencedSource => f.write_str(
                "The source stays fenced (logins refused in every database but template1, \
                 read-only by default): retire it once applications have moved; never re-open \
                 it for writes.",
            ),
            NextStep::RetireStoppedSource => {
                f.write_str("The source is stopped: retire it; never start it again as a primary.")
            }
            NextStep::KeepOffUnfencedSource => f.write_str(
                "The source was not fenced: if it still runs, stop it or keep applications off \
                 it; anything written there now is not on the destination.",
            ),
            NextStep::DropSlot { slot, .. } => write!(
                f,
                "Slot {slot} is still on the source; if the source is ever started, drop it \
                 there at once:"
            ),
            NextStep::RerunHook { .. } => write!(
                f,
                "The endpoint hook failed after promotion: once its cause is fixed, run it \
                 again:"
            ),
            NextStep::Text { text } => f.write_str(text),
        }
    }
}

/// Reads next steps stored either way: values, or the sentences earlier versions stored.
pub fn tolerant<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NextStep>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Step(NextStep),
        Text(String),
    }
    Ok(Vec::<Stored>::deserialize(d)?
        .into_iter()
        .map(|s| match s {
            Stored::Step(step) => step,
            Stored::Text(text) => NextStep::Text { text },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_stored_as_sentences_still_load() {
        #[derive(Deserialize)]
        struct Report {
            #[serde(deserialize_with = "tolerant")]
            next_steps: Vec<NextStep>,
        }
        let old: Report = serde_json::from_str(
            r#"{"next_steps": ["Reconnect applications.", {"kind": "copy_access_rules"}]}"#,
        )
        .unwrap();
        assert_eq!(
            old.next_steps,
            vec![
                NextStep::Text {
                    text: "Reconnect applications.".into()
                },
                NextStep::CopyAccessRules
            ]
        );
    }

    #[test]
    fn a_kept_slot_is_a_step_with_its_drop_statement() {
        let step = NextStep::DropSlot {
            slot: "pgrelocate_t".into(),
            drop_with: "SELECT pg_drop_replication_slot('pgrelocate_t');".into(),
        };
        let json = serde_json::to_value(&step).unwrap();
        assert_eq!(json["kind"], "drop_slot");
        assert_eq!(json["slot"], "pgrelocate_t");
        assert!(step.to_string().contains("pgrelocate_t"));
        assert_eq!(
            step.commands(),
            vec!["SELECT pg_drop_replication_slot('pgrelocate_t');".to_string()]
        );
    }

    #[test]
    fn the_access_step_follows_the_access_rules_guardrail() {
        use crate::switchover::{Finding, Guardrail, GuardrailStatus};
        let pending = Guardrail::of(
            "access.rules",
            GuardrailStatus::Warning,
            Finding::AccessRulesPending {
                count: 2,
                networks: "10.1.0.0/16".into(),
                task: "42ef39b6e467".into(),
            },
        );
        let steps = NextStep::access(&[pending]);
        assert_eq!(
            steps[0].commands(),
            vec!["pgrelocate access apply 42ef39b6e467".to_string()]
        );
        assert!(steps[0].to_string().contains("2 client rule(s)"));
        assert_eq!(steps[1], NextStep::CopyOutsideSettings);
        let covered = Guardrail::of(
            "access.rules",
            GuardrailStatus::Pass,
            Finding::AccessRulesCovered,
        );
        assert_eq!(
            NextStep::access(&[covered]),
            vec![NextStep::CopyOutsideSettings]
        );
        assert_eq!(NextStep::access(&[]), vec![NextStep::CopyAccessRules]);
    }

    #[test]
    fn a_reconnect_step_carries_both_connection_strings_and_old_ones_still_load() {
        let at = crate::endpoint::Endpoint::new(
            "10.0.0.7",
            5433,
            "app",
            Some("shop"),
            crate::endpoint::SslMode::Require,
        )
        .unwrap();
        let step = NextStep::reconnect(&at);
        assert_eq!(
            step.commands(),
            vec![
                "postgresql://app@10.0.0.7:5433/shop?sslmode=require".to_string(),
                "host='10.0.0.7' port=5433 user='app' dbname='shop' sslmode=require".to_string()
            ]
        );
        let old: NextStep =
            serde_json::from_str(r#"{"kind": "reconnect", "endpoint": "10.0.0.7:5433"}"#).unwrap();
        assert!(old.commands().is_empty());
    }
}
