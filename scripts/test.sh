#!/usr/bin/env bash
# Runs every test of pgrelocate on a Debian 12 / Ubuntu machine, installing what is missing:
# formatting and lints, the Rust workspace (unit + integration tests against real PostgreSQL
# 10–18 servers and the real Secret Service), the UI unit tests, and the desktop end-to-end
# tests driving the real app window over WebDriver.
#
#   bash scripts/test.sh                  # everything
#   bash scripts/test.sh -E 'test(smoke)' # extra arguments go to cargo nextest (a filter)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_packages "${TEST_PACKAGES[@]}"
ensure_rust
ensure_nextest
ensure_node_modules
ensure_tauri_driver

say "fetching PostgreSQL 10-18 builds for the tests (cached)"
cargo run --quiet -p pgrelocate-testkit --bin pgrelocate-testkit -- fetch --all

say "checking formatting and lints"
cargo fmt --all --check
npm run --silent typecheck
build_ui
# The custom-protocol feature embeds dist/ into the desktop binary, which the end-to-end
# tests launch; building everything with it avoids compiling Tauri twice.
FEATURES=(--workspace --features pgrelocate-desktop/custom-protocol)
cargo clippy "${FEATURES[@]}" --all-targets --quiet -- -D warnings

LOG_DIR="$ROOT/artifacts"
mkdir -p "$LOG_DIR"

say "UI unit tests (vitest)"
# A failed UI test must not stop the run (pipefail): the Rust tests still run, and the
# closing line counts both.
set +e
npx vitest run --reporter=default 2>&1 | tee "$LOG_DIR/vitest.log"
ui_status=${PIPESTATUS[0]}
set -e

say "Rust tests, including the desktop end-to-end tests (nextest, Xvfb, D-Bus, gnome-keyring)"
# Benchmarks are not tests (docs/benchmarks.md): only libraries, binaries and test targets.
TARGETS=(--lib --bins --tests)
# The libraries' test harnesses first: the desktop one expands the embedded UI alone, so
# its library and test harness never write the same new asset at once (see test-desktop.sh).
cargo test "${FEATURES[@]}" --lib --no-run --quiet
cargo nextest run "${FEATURES[@]}" "${TARGETS[@]}" --no-run --cargo-quiet
set +e
xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- \
    bash "$ROOT/scripts/with-keyring.sh" \
    cargo nextest run "${FEATURES[@]}" "${TARGETS[@]}" --no-fail-fast "$@" 2>&1 | tee "$LOG_DIR/nextest.log"
rust_status=${PIPESTATUS[0]}
set -e

# One closing line that counts every test of both runners.
rust_line="$(grep -E '[0-9]+ tests? run:' "$LOG_DIR/nextest.log" | tail -1 || true)"
rust_passed="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$rust_line")"
rust_failed="$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$rust_line")"
ui_line="$(sed 's/\x1b\[[0-9;]*m//g' "$LOG_DIR/vitest.log" | grep -E '^ +Tests +' | tail -1 || true)"
ui_passed="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$ui_line")"
ui_failed="$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$ui_line")"
passed=$(( ${rust_passed:-0} + ${ui_passed:-0} ))
failed=$(( ${rust_failed:-0} + ${ui_failed:-0} ))
if [ "$rust_status" -ne 0 ] || [ "$ui_status" -ne 0 ]; then
    [ "$failed" -gt 0 ] || failed=1
fi
if [ "$rust_status" -ne 0 ]; then
    # Why each Rust test failed, at the end where a log's tail shows it: the panic line and
    # the message under it, without the backtrace.
    say "why they failed"
    awk '/panicked at/ { n = 8 }
         n > 0 && /^ *(stack backtrace:|note: |$)/ { n = 0 }
         n > 0 { print; n-- }' "$LOG_DIR/nextest.log" | cut -c1-300 | head -60
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
