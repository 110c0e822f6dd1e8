//! Assertions on assessment reports that print the whole report when they fail, and the
//! options the assessment tests run with.

use pgrelocate_engine::assess::{self, CheckResult, Options, Report, Status};

/// A short WAL sample and patient connections (see [`super::env::assess_options`]).
pub fn options() -> Options {
    super::env::assess_options()
}

/// The check `id`, which must have ended with `status`; the report is printed otherwise.
pub fn expect<'a>(report: &'a Report, id: &str, status: Status) -> &'a CheckResult {
    let check = report
        .check(id)
        .unwrap_or_else(|| panic!("no check {id} in\n{}", assess::export::text(report, false)));
    assert_eq!(
        check.status,
        status,
        "{id}: expected {status:?}, got {:?}: {}\n--- whole report ---\n{}",
        check.status,
        check.message,
        assess::export::text(report, false)
    );
    check
}

/// `expect` for an Error-level failure: the level is Error and the remedy names `fix`.
pub fn expect_error<'a>(report: &'a Report, id: &str, fix: &[&str]) -> &'a CheckResult {
    let check = expect(report, id, Status::Error);
    for needle in fix {
        assert!(
            check.remedy.contains(needle),
            "{id}: the remedy does not name {needle:?}:\n{}",
            check.remedy
        );
    }
    check
}

/// `expect` for a warning whose message mentions `words`.
pub fn expect_warning<'a>(report: &'a Report, id: &str, words: &[&str]) -> &'a CheckResult {
    let check = expect(report, id, Status::Warning);
    for w in words {
        assert!(
            check.message.contains(w),
            "{id}: {:?} lacks {w:?}",
            check.message
        );
    }
    check
}
