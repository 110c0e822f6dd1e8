#!/usr/bin/env bash
# Runs a command inside the current D-Bus session with an unlocked gnome-keyring, so the
# engine stores passwords in a real Secret Service. The keyring's files go to
# $PGRELOCATE_KEYRING_DIR when set (run-app.sh keeps one under the cache so the sandbox's
# passwords survive between runs), else to a throwaway folder. The user's own keyring is
# never touched.
set -euo pipefail
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "run me under dbus-run-session" >&2; exit 2; }
if [ -n "${PGRELOCATE_KEYRING_DIR:-}" ]; then
    keyring_home="$PGRELOCATE_KEYRING_DIR"
    mkdir -p "$keyring_home"
    chmod 700 "$keyring_home"
else
    keyring_home="$(mktemp -d)"
    trap 'rm -rf "$keyring_home"' EXIT
fi
eval "$(printf 'pgrelocate-local' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
