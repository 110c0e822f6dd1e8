//! The wizard's source checklist against a real source, as the migration account: an
//! existing role without grants gets ALTER/GRANT for what it lacks (never CREATE ROLE), each
//! grant of the fence is shown met or missing, and once granted everything reads as met.

mod support;

use pgrelocate_engine::preparation::{
    self, PrepState, Preparation, PreparationId, SourceChecklist,
};
use pgrelocate_testkit::Cluster;
use support::Env;

fn item(list: &SourceChecklist, id: PreparationId) -> &Preparation {
    list.preparations
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no {id:?} in {list:#?}"))
}

fn missing(p: &Preparation) -> Vec<&str> {
    p.requirements
        .iter()
        .filter(|r| !r.met)
        .map(|r| r.what.as_str())
        .collect()
}

#[tokio::test]
async fn an_existing_account_is_checked_live_and_given_only_what_it_lacks() {
    let source = Cluster::builder(16).start().await.unwrap();
    source
        .create_role("Mig rator", Some("pw one"), "")
        .await
        .unwrap();
    let env = Env::new();
    env.register("src", &source, "Mig rator", Some("pw one"))
        .await;

    let list = preparation::check_source(&env.instances, "src")
        .await
        .unwrap();
    assert!(list.checked, "{list:#?}");
    let account = item(&list, PreparationId::Account);
    assert_eq!(account.state, PrepState::Missing);
    assert_eq!(
        missing(account),
        [
            "the REPLICATION attribute",
            "membership in pg_monitor (or pg_read_all_stats)",
            "the CREATEROLE attribute (the standby gets a role of its own, so this account's \
             password is never written to a disk)"
        ]
    );
    // The role exists: what it lacks, and no CREATE ROLE or password step.
    assert_eq!(
        account.text,
        "ALTER ROLE \"Mig rator\" REPLICATION;\nGRANT pg_monitor TO \"Mig rator\";\n\
         ALTER ROLE \"Mig rator\" CREATEROLE;"
    );
    let fencing = item(&list, PreparationId::Fencing);
    assert_eq!(fencing.state, PrepState::Missing);
    for grant in [
        "GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO \"Mig rator\";",
        "GRANT pg_signal_backend TO \"Mig rator\";",
        "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO \"Mig rator\";",
        "ALTER DATABASE postgres OWNER TO \"Mig rator\";",
    ] {
        assert!(
            fencing.text.contains(grant),
            "{grant} not in:\n{}",
            fencing.text
        );
    }
    assert!(!fencing.text.contains("template1"), "{}", fencing.text);
    assert_eq!(item(&list, PreparationId::WalLevel).state, PrepState::Met);
    assert_eq!(item(&list, PreparationId::WalSenders).state, PrepState::Met);
    assert_eq!(item(&list, PreparationId::Hba).state, PrepState::Unchecked);

    // Run exactly what the checklist gave, as a superuser: then everything is met.
    source
        .sql(&format!("{}\n{}", account.text, fencing.text))
        .await
        .unwrap();
    let list = preparation::check_source(&env.instances, "src")
        .await
        .unwrap();
    for id in [
        PreparationId::Account,
        PreparationId::Fencing,
        PreparationId::WalLevel,
        PreparationId::WalSenders,
    ] {
        let p = item(&list, id);
        assert_eq!(p.state, PrepState::Met, "{p:#?}");
        assert_eq!(p.text, "", "{p:#?}");
    }
}

#[tokio::test]
async fn a_source_that_does_not_answer_gets_the_whole_text_and_says_why() {
    let env = Env::new();
    env.register_nowhere("src").await;
    let list = preparation::check_source(&env.instances, "src")
        .await
        .unwrap();
    assert!(!list.checked);
    assert!(
        list.unchecked_reason
            .as_deref()
            .unwrap()
            .contains("could not be checked"),
        "{list:#?}"
    );
    let account = item(&list, PreparationId::Account);
    assert_eq!(account.state, PrepState::Unchecked);
    assert!(account.text.contains("CREATE ROLE"), "{}", account.text);
    assert!(item(&list, PreparationId::Fencing)
        .text
        .contains("pg_signal_backend"));
}
