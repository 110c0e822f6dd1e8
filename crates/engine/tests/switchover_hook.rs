//! The endpoint hook on real servers: before promotion, a failing hook and one that runs
//! out of time (killed) roll the switchover back — the source takes writes again and the
//! writer loses nothing — and a hook that succeeds sees the old and new endpoints and the
//! task in its environment, inside the measured window. After promotion, a failing hook
//! leaves the switchover a success with a warning carrying the exact command that runs it
//! again, which does.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use pgrelocate_engine::assess::Mode;
use pgrelocate_engine::quote::shell;
use pgrelocate_engine::switchover::{
    AbortCause, Hook, HookAt, NextStep, Options, Progress, SwitchoverError,
};
use pgrelocate_engine::task::{Phase, TaskError};
use pgrelocate_engine::{Coded, ErrorCode};
use pgrelocate_testkit::{ConnParams, Writer};
use support::*;

fn with_hook(command: &str, timeout: Duration, at: HookAt) -> Options {
    Options {
        catchup_timeout: Duration::from_secs(120),
        hook: Some(Hook::new(command, timeout, at).unwrap()),
        ..Options::default()
    }
}

/// A hook command that writes its `PGRELOCATE_*` environment (and whether it saw a
/// password) to `file`, then runs `then`.
fn env_to(file: &Path, then: &str) -> String {
    let file = shell::word(&file.display().to_string());
    format!(
        "env | grep '^PGRELOCATE_' | sort > {file}; echo \"PGPASSWORD=${{PGPASSWORD:-none}}\" >> {file}; {then}"
    )
}

fn expected_env(task: &str, old: &ConnParams, new: &ConnParams, at: &str) -> String {
    format!(
        "PGRELOCATE_HOOK_AT={at}\nPGRELOCATE_NEW_HOST={}\nPGRELOCATE_NEW_PORT={}\n\
         PGRELOCATE_OLD_HOST={}\nPGRELOCATE_OLD_PORT={}\nPGRELOCATE_TASK_ID={task}\n\
         PGPASSWORD=none\n",
        new.host, new.port, old.host, old.port
    )
}

fn hook_finished(steps: &Steps) -> Vec<pgrelocate_engine::switchover::HookRun> {
    steps
        .all()
        .into_iter()
        .filter_map(|p| match p {
            Progress::HookFinished { run } => Some(run),
            _ => None,
        })
        .collect()
}

/// Rolled back because of the hook, with this cause code; the source takes writes again.
async fn assert_rolled_back_by_hook(
    env: &Env,
    task: &pgrelocate_engine::task::Task,
    err: &TaskError,
    code: ErrorCode,
) {
    let TaskError::Switchover(SwitchoverError::RolledBack { reason }) = err else {
        panic!("expected a rollback, got: {err}\n{}", env.history(task));
    };
    assert!(matches!(**reason, AbortCause::Hook(_)), "{reason}");
    assert_eq!(reason.code(), code, "{reason}");
    assert!(
        err.to_string().contains("the source accepts writes again"),
        "{err}"
    );
    let back = env.tasks.get(task.id.as_str()).unwrap();
    assert_eq!(back.phase, Phase::Increment);
    let switch = back.switch.unwrap();
    assert_eq!(switch.fence, None, "something is still fenced");
    assert!(switch.hook.is_some(), "the switch record names the hook");
    let source = env.source_params();
    for db in env.databases() {
        commit_in(&source, &db)
            .await
            .unwrap_or_else(|e| panic!("the source refuses a write in {db:?}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_fails_or_times_out_before_promotion_rolls_back_and_one_that_succeeds_sees_both_endpoints(
) {
    let mut env = Env::with_major(17);
    let task = env
        .streaming_task(SourceKind::Remote, Mode::Migration)
        .await;
    let source = env.source_params();
    let dest = env.dest_params();
    let dir = tempfile::tempdir().unwrap();
    let writer = Writer::start(vec![source.clone(), dest.clone()]);
    assert!(writer.wait_for_target(0, 30, Duration::from_secs(60)).await);

    // A failing hook: rolled back, the source fenced no more, its output in the steps.
    let seen = dir.path().join("failed.env");
    let steps = Steps::default();
    let err = env
        .tasks
        .switchover(
            task.id.as_str(),
            &with_hook(
                &env_to(&seen, "echo 'no route to the DNS API' >&2; exit 7"),
                Duration::from_secs(30),
                HookAt::BeforePromotion,
            ),
            &steps.callback(),
        )
        .await
        .unwrap_err();
    assert_rolled_back_by_hook(&env, &task, &err, ErrorCode::HookFailed).await;
    let runs = hook_finished(&steps);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].exit_code, Some(7));
    assert!(runs[0].stderr.contains("no route to the DNS API"));
    assert!(err.to_string().contains("no route to the DNS API"), "{err}");
    assert!(writer.wait_for_target(0, 30, Duration::from_secs(60)).await);

    // A hook that outlives its timeout: killed, rolled back.
    let started = Instant::now();
    let steps = Steps::default();
    let err = env
        .tasks
        .switchover(
            task.id.as_str(),
            &with_hook("sleep 60", Duration::from_secs(1), HookAt::BeforePromotion),
            &steps.callback(),
        )
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "the hook was not killed"
    );
    assert_rolled_back_by_hook(&env, &task, &err, ErrorCode::HookTimeout).await;
    assert!(hook_finished(&steps)[0].timed_out);
    assert!(writer.wait_for_target(0, 30, Duration::from_secs(60)).await);

    // A hook that succeeds: it saw the task and both endpoints, and no password.
    let seen = dir.path().join("ok.env");
    let steps = Steps::default();
    let report = env
        .tasks
        .switchover(
            task.id.as_str(),
            &with_hook(
                &env_to(&seen, "true"),
                Duration::from_secs(30),
                HookAt::BeforePromotion,
            ),
            &steps.callback(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    print_window(&report);
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        expected_env(task.id.as_str(), &source, &dest, "before_promotion")
    );
    let hook = report.hook.clone().unwrap();
    assert!(hook.succeeded());
    // It ran inside the window: its own step there.
    assert!(
        report.window.steps.iter().any(|s| s.step == "hook"),
        "{:?}",
        report.window.steps
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    assert!(writer.wait_for_target(1, 30, Duration::from_secs(60)).await);
    let log = writer.stop().await;
    let missing = log
        .missing_on(&dest.connect().await.unwrap())
        .await
        .unwrap();
    assert!(missing.is_empty(), "lost: {missing:?}");
    env.tasks.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_fails_after_promotion_leaves_a_success_with_the_command_to_run_it_again() {
    let mut env = Env::with_major(16);
    let task = env
        .streaming_task(SourceKind::Managed, Mode::Migration)
        .await;
    let source = env.source_params();
    let dest = env.dest_params();
    let dir = tempfile::tempdir().unwrap();
    // A path that needs quoting, so the rerun command must quote it.
    let seen = dir.path().join("it's the env");
    let command = env_to(&seen, "echo 'the VIP did not move' >&2; exit 1");

    let steps = Steps::default();
    let report = env
        .tasks
        .switchover(
            task.id.as_str(),
            &with_hook(&command, Duration::from_secs(30), HookAt::AfterPromotion),
            &steps.callback(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", env.history(&task)));
    assert_eq!(
        env.tasks.get(task.id.as_str()).unwrap().phase,
        Phase::Success
    );
    let expected = expected_env(task.id.as_str(), &source, &dest, "after_promotion");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), expected);
    let hook = report.hook.clone().unwrap();
    assert_eq!(hook.exit_code, Some(1));
    assert!(
        !report.window.steps.iter().any(|s| s.step == "hook"),
        "after promotion the hook is outside the window"
    );
    let warning = report
        .warnings
        .iter()
        .find(|w| w.contains("endpoint hook failed"))
        .unwrap_or_else(|| panic!("{:?}", report.warnings));
    assert!(warning.contains("the VIP did not move"), "{warning}");
    assert!(warning.ends_with(&hook.rerun), "{warning}");
    let NextStep::RerunHook { command: rerun } = &report.next_steps[0] else {
        panic!("{:?}", report.next_steps);
    };
    assert_eq!(rerun, &hook.rerun);

    // The rerun command is shell-safe and complete: run as it is, it sees the same.
    std::fs::remove_file(&seen).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(rerun)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), expected);
    env.tasks.shutdown().await;
}
