//! `dest.access_rules`: the client networks the source admits (its `pg_hba_file_rules`)
//! that the destination's `pg_hba.conf` would refuse, evaluated first-match. A warning:
//! applications from those networks would be refused by the new primary until the rules
//! are carried (`pgrelocate access apply TASK_ID` once the task runs).

use super::{check, count, list, DESTINATION};
use crate::access::{diff, read};
use crate::assess::check::{Check, Outcome};
use crate::assess::context::Context;
use crate::assess::model::Level;

pub(super) fn checks() -> Vec<Check<Context>> {
    vec![check!(
        "dest.access_rules",
        DESTINATION,
        "Check client access rules",
        Level::Warning,
        ["dest.managed", "src.login"],
        access_rules
    )]
}

async fn access_rules(ctx: &Context) -> Outcome {
    let Some(m) = ctx.dest.managed() else {
        return Outcome::skip("the destination is not managed: its pg_hba.conf is not read");
    };
    let client = match ctx.source_sql().await {
        Ok(c) => c,
        Err(e) => return Outcome::skip(format!("the source cannot be queried: {e}")),
    };
    let source = match read::file_rules(client).await {
        Ok(r) => r,
        Err(e) => {
            let user = &ctx.source.endpoint().user;
            return Outcome::warn(format!(
                "the source's client rules cannot be read (pg_hba_file_rules: {e})"
            ))
            .impact("clients the source admits may be refused by the new primary, unnoticed")
            .remedy(format!(
                "as a superuser on the source: GRANT SELECT ON pg_catalog.pg_hba_file_rules TO {u}; \
                 GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO {u};",
                u = crate::quote::sql::ident(user)
            ));
        }
    };
    let path = read::hba_file(&m.data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::skip(format!(
                "the destination's {} cannot be read here: {e}",
                path.display()
            ))
        }
    };
    let d = diff::diff(&source, &read::text_rules(&text));
    let networks = d.networks();
    let skipped: Vec<String> = d
        .skipped
        .iter()
        .map(|s| format!("{} ({})", s.rule.render(), s.reason))
        .collect();
    if networks.is_empty() {
        return Outcome::pass(
            "the destination's pg_hba.conf admits every client network the source admits",
        )
        .evidence("destination_file", path.display().to_string())
        .evidence("not_carried", &skipped);
    }
    let lines: Vec<String> = d.pending.iter().map(|p| p.rule.render()).collect();
    Outcome::warn(format!(
        "the destination would refuse {} the source admits: {}",
        count(networks.len(), "client rule"),
        list(&networks, 3)
    ))
    .impact(
        "after the switchover, applications connecting from those networks are refused by \
         the new primary",
    )
    .remedy(format!(
        "once the task runs, review and apply them: pgrelocate access apply TASK_ID (or the \
         task page's Access rules card); or add at the top of {}:\n{}",
        path.display(),
        lines.join("\n")
    ))
    .evidence("pending", &networks)
    .evidence("lines", &lines)
    .evidence("destination_file", path.display().to_string())
    .evidence("not_carried", &skipped)
}
