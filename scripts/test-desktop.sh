#!/usr/bin/env bash
# The desktop app's tests alone: UI type check and unit tests (Vitest), the production UI
# build, then the end-to-end tests that drive the real window through tauri-driver and
# WebKitWebDriver under Xvfb, with a real gnome-keyring and real PostgreSQL servers (the
# sandbox uses this host's PostgreSQL). Installs what is missing, like scripts/test.sh.
#
#   bash scripts/test-desktop.sh                   # everything above
#   bash scripts/test-desktop.sh -E 'test(smoke)'  # extra arguments go to cargo nextest
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_packages "${TEST_PACKAGES[@]}"
ensure_rust
ensure_nextest
ensure_node_modules
ensure_tauri_driver

say "UI type check"
npm run --silent typecheck

say "UI unit tests (vitest)"
npm test

# The custom-protocol feature embeds dist/ into the app binary the end-to-end tests launch.
build_ui
# Expand the embedded UI once before the parallel build: tauri-codegen writes each new UI
# asset into the build script's OUT_DIR while expanding generate_context!, and when the
# library and its unit-test harness compile side by side, one can embed the other's
# half-written file (a blank window). `cargo test --no-run --lib` compiles in the same
# configuration (dev-dependency features unified) as the test run, so it shares that OUT_DIR.
say "building the desktop app with the embedded UI"
cargo test --quiet --no-run -p pgrelocate-desktop --features custom-protocol --lib

# e2e_hosts uploads the CLI binary of this build (target/debug/pgrelocate) as the remote agent.
say "building the CLI (the agent the hosts test runs over SSH)"
cargo build --quiet -p pgrelocate-cli

say "desktop end-to-end tests (real window under Xvfb, real keyring, real PostgreSQL)"
xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- \
    bash "$ROOT/scripts/with-keyring.sh" \
    cargo nextest run -p pgrelocate-desktop --features custom-protocol -E 'binary(/^e2e_/)' "$@"
