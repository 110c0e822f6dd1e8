//! Runs a catalogue of checks: concurrently where independent, each under a timeout, and a
//! check whose prerequisite did not pass is `skipped` with the reason.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures::future::join_all;

use super::check::{Check, CheckSpec};
use super::model::{CheckResult, Group, Status};

/// Why a catalogue cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("check {0} is declared twice")]
    Duplicate(&'static str),
    #[error("check {check} depends on {missing}, which is not in the catalogue")]
    UnknownDependency {
        check: &'static str,
        missing: &'static str,
    },
    #[error("checks {0:?} depend on each other in a cycle")]
    Cycle(Vec<&'static str>),
}

/// Orders checks into waves: every check comes after all its prerequisites.
pub fn waves<C>(checks: &[Check<C>]) -> Result<Vec<Vec<Check<C>>>, CatalogueError> {
    let mut seen = HashMap::new();
    for c in checks {
        if seen.insert(c.spec.id, ()).is_some() {
            return Err(CatalogueError::Duplicate(c.spec.id));
        }
    }
    for c in checks {
        for dep in c.spec.depends_on {
            if !seen.contains_key(dep) {
                return Err(CatalogueError::UnknownDependency {
                    check: c.spec.id,
                    missing: dep,
                });
            }
        }
    }
    let mut placed: HashMap<&str, usize> = HashMap::new();
    let mut waves: Vec<Vec<Check<C>>> = Vec::new();
    let mut pending: Vec<Check<C>> = checks.to_vec();
    while !pending.is_empty() {
        let (ready, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|c| c.spec.depends_on.iter().all(|d| placed.contains_key(d)));
        if ready.is_empty() {
            return Err(CatalogueError::Cycle(
                rest.iter().map(|c| c.spec.id).collect(),
            ));
        }
        for c in &ready {
            placed.insert(c.spec.id, waves.len());
        }
        waves.push(ready);
        pending = rest;
    }
    Ok(waves)
}

/// Runs every check against `ctx` and returns the results grouped in catalogue order.
pub async fn run_checks<C: Sync>(
    ctx: &C,
    checks: &[Check<C>],
    timeout: Duration,
) -> Result<Vec<Group>, CatalogueError> {
    run_checks_observed(ctx, checks, timeout, &|_| {}).await
}

/// [`run_checks`], telling `observer` about each result as soon as its check ends (a UI
/// shows progress with it).
pub async fn run_checks_observed<C: Sync>(
    ctx: &C,
    checks: &[Check<C>],
    timeout: Duration,
    observer: &(dyn Fn(&CheckResult) + Sync),
) -> Result<Vec<Group>, CatalogueError> {
    let mut results: HashMap<&'static str, CheckResult> = HashMap::new();
    for wave in waves(checks)? {
        let runs = wave.iter().map(|check| {
            let blocked: Vec<&str> = check
                .spec
                .depends_on
                .iter()
                .copied()
                .filter(|d| {
                    !matches!(
                        results.get(d).map(|r| r.status),
                        Some(Status::Success | Status::Warning)
                    )
                })
                .collect();
            async move {
                let result = run_one(ctx, *check, blocked, timeout).await;
                observer(&result);
                result
            }
        });
        for result in join_all(runs).await {
            let id = checks
                .iter()
                .find(|c| c.spec.id == result.id)
                .map(|c| c.spec.id)
                .expect("result of a known check");
            results.insert(id, result);
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for check in checks {
        let result = results.remove(check.spec.id).expect("every check ran");
        match groups.iter_mut().find(|g| g.name == check.spec.group) {
            Some(g) => g.checks.push(result),
            None => groups.push(Group {
                name: check.spec.group.to_string(),
                checks: vec![result],
            }),
        }
    }
    Ok(groups)
}

async fn run_one<C: Sync>(
    ctx: &C,
    check: Check<C>,
    blocked_by: Vec<&str>,
    timeout: Duration,
) -> CheckResult {
    let spec = check.spec;
    if !blocked_by.is_empty() {
        return skipped(
            &spec,
            format!(
                "skipped: depends on {}, which did not pass",
                blocked_by.join(", ")
            ),
            0,
        );
    }
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, (check.run)(ctx)).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(outcome) => CheckResult {
            id: spec.id.to_string(),
            title: spec.title.to_string(),
            status: outcome.status_under(&spec),
            message: outcome.message,
            impact: outcome.impact,
            remedy: outcome.remedy,
            evidence: outcome.evidence,
            duration_ms,
        },
        Err(_) => CheckResult {
            id: spec.id.to_string(),
            title: spec.title.to_string(),
            status: spec.fails_as.into(),
            message: format!(
                "the check did not finish within {} s",
                timeout.as_secs_f32()
            ),
            impact: "pgrelocate could not confirm this prerequisite".into(),
            remedy: "make sure both servers answer promptly, then run the assessment again".into(),
            evidence: BTreeMap::from([(
                "timeout_ms".to_string(),
                serde_json::json!(timeout.as_millis() as u64),
            )]),
            duration_ms,
        },
    }
}

fn skipped(spec: &CheckSpec, message: String, duration_ms: u64) -> CheckResult {
    CheckResult {
        id: spec.id.to_string(),
        title: spec.title.to_string(),
        status: Status::Skipped,
        message,
        impact: String::new(),
        remedy: String::new(),
        evidence: BTreeMap::new(),
        duration_ms,
    }
}

impl crate::Coded for CatalogueError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::AssessmentFailed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::check::Outcome;
    use crate::assess::model::Level;
    use futures::FutureExt;

    struct Ctx {
        reachable: bool,
    }

    fn reach(ctx: &Ctx) -> futures::future::BoxFuture<'_, Outcome> {
        async move {
            if ctx.reachable {
                Outcome::pass("connected")
            } else {
                Outcome::fail("connection refused").remedy("open the port")
            }
        }
        .boxed()
    }

    fn login(_: &Ctx) -> futures::future::BoxFuture<'_, Outcome> {
        async { Outcome::pass("logged in") }.boxed()
    }

    fn slow(_: &Ctx) -> futures::future::BoxFuture<'_, Outcome> {
        async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Outcome::pass("never")
        }
        .boxed()
    }

    fn spec(id: &'static str, deps: &'static [&'static str]) -> CheckSpec {
        CheckSpec {
            id,
            group: if id.starts_with("src") {
                "Source"
            } else {
                "Destination"
            },
            title: id,
            fails_as: Level::Error,
            depends_on: deps,
        }
    }

    fn catalogue() -> Vec<Check<Ctx>> {
        vec![
            Check {
                spec: spec("src.reachable", &[]),
                run: reach,
            },
            Check {
                spec: spec("src.login", &["src.reachable"]),
                run: login,
            },
            Check {
                spec: spec("dest.slow", &[]),
                run: slow,
            },
        ]
    }

    #[tokio::test]
    async fn a_check_whose_prerequisite_failed_is_skipped_with_the_reason() {
        let groups = run_checks(
            &Ctx { reachable: false },
            &catalogue(),
            Duration::from_millis(200),
        )
        .await
        .unwrap();
        let src = &groups[0];
        assert_eq!(src.name, "Source");
        assert_eq!(src.checks[0].status, Status::Error);
        assert_eq!(src.checks[0].remedy, "open the port");
        assert_eq!(src.checks[1].status, Status::Skipped);
        assert!(src.checks[1].message.contains("src.reachable"));
    }

    #[tokio::test]
    async fn a_check_that_hangs_fails_at_its_level_within_the_timeout() {
        let started = Instant::now();
        let groups = run_checks(
            &Ctx { reachable: true },
            &catalogue(),
            Duration::from_millis(200),
        )
        .await
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(groups[1].checks[0].status, Status::Error);
        assert!(groups[1].checks[0].message.contains("did not finish"));
        assert_eq!(groups[0].checks[1].status, Status::Success);
    }

    #[test]
    fn catalogue_errors_are_caught() {
        let bad = vec![Check::<Ctx> {
            spec: spec("a", &["b"]),
            run: login,
        }];
        assert!(matches!(
            waves(&bad),
            Err(CatalogueError::UnknownDependency { .. })
        ));
        let cycle = vec![
            Check::<Ctx> {
                spec: spec("a", &["b"]),
                run: login,
            },
            Check::<Ctx> {
                spec: spec("b", &["a"]),
                run: login,
            },
        ];
        assert!(matches!(waves(&cycle), Err(CatalogueError::Cycle(_))));
    }
}
