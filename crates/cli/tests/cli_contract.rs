//! The CLI contract that scripts rely on: subcommands, exit codes, PGRELOCATE_HOME.

use std::process::Command;

fn pgrelocate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pgrelocate"))
}

#[test]
fn help_lists_every_subcommand_of_the_contract() {
    let out = pgrelocate().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for sub in [
        "instance",
        "assess",
        "report",
        "migrate",
        "task",
        "switchover",
        "failover",
        "backup",
        "sandbox",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(sub)),
            "--help lacks {sub}:\n{help}"
        );
    }
}

#[test]
fn version_prints_the_package_version() {
    let out = pgrelocate().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("pgrelocate {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn state_directory_follows_pgrelocate_home() {
    let dir = tempfile::tempdir().unwrap();
    let out = pgrelocate()
        .arg("home")
        .env("PGRELOCATE_HOME", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        dir.path().to_str().unwrap()
    );
}

#[test]
fn usage_errors_exit_with_2_and_say_what_is_wrong() {
    let out = pgrelocate()
        .args([
            "instance", "register", "src", "--host", "h", "--port", "70000", "--user", "u",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("70000") && err.contains("between 1 and 65535"),
        "{err}"
    );
}
