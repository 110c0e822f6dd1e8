#!/usr/bin/env bash
# Installs what is missing, creates the sandbox (a demo source with data and an empty
# destination, both managed on this machine) and opens the pgrelocate desktop app.
#
#   bash scripts/run-app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# Debian's PostgreSQL 15 provides the sandbox's server binaries.
ensure_packages "${APP_PACKAGES[@]}"
ensure_rust
ensure_node_modules
build_ui
say "building pgrelocate (CLI and desktop app)"
cargo build --quiet -p pgrelocate-cli -p pgrelocate-desktop --features pgrelocate-desktop/custom-protocol
BIN="$CARGO_TARGET_DIR/debug"

launch() {
    if ! "$BIN/pgrelocate" instance list --json | grep -q '"sandbox-source"'; then
        say "creating the sandbox (source with sample data + empty destination)"
        "$BIN/pgrelocate" sandbox create
    else
        say "starting the sandbox's servers"
        "$BIN/pgrelocate" instance start sandbox-source || true
        "$BIN/pgrelocate" instance start sandbox-dest || true
    fi
    say "opening the desktop app"
    exec "$BIN/pgrelocate-desktop"
}

# Without a desktop session there is no keyring: the app gets a private gnome-keyring whose
# files persist under the cache, so stored passwords (the sandbox's too) survive restarts.
export PGRELOCATE_KEYRING_DIR="${PGRELOCATE_KEYRING_DIR:-$BUILD_CACHE/keyring}"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    say "no display found: starting a virtual one (Xvfb); set DISPLAY to use yours"
    exec xvfb-run -a dbus-run-session -- bash "$ROOT/scripts/with-keyring.sh" bash -c "$(declare -f launch say); BIN='$BIN'; launch"
elif [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
    exec dbus-run-session -- bash "$ROOT/scripts/with-keyring.sh" bash -c "$(declare -f launch say); BIN='$BIN'; launch"
else
    launch
fi
