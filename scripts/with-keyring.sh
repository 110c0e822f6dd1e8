#!/usr/bin/env bash
# Runs a command inside the current D-Bus session with an unlocked gnome-keyring, so the
# engine stores passwords in a real Secret Service. Its keyring files go to a throwaway
# folder, never the user's own keyring.
set -euo pipefail
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "run me under dbus-run-session" >&2; exit 2; }
keyring_home="$(mktemp -d)"
trap 'rm -rf "$keyring_home"' EXIT
eval "$(printf 'pgrelocate-test' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL PGRELOCATE_TEST_KEYRING=1
"$@"
