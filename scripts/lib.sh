# Shared set-up steps for scripts/run-app.sh and scripts/test.sh. Source it; don't run it.
# Every step checks first and installs only what is missing, so a second run is quick.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Downloads and builds live outside the clone, so a fresh clone on the same machine is
# warm while a fresh machine still works. PGRELOCATE_CACHE moves all of it. (The test kit's
# PostgreSQL builds default to /var/cache/pgrelocate for root, since the servers run as the
# `postgres` user, who cannot enter root's home; see crates/testkit/README.md.)
BUILD_CACHE="${PGRELOCATE_CACHE:-$HOME/.cache/pgrelocate}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$BUILD_CACHE/target}"
export PATH="$BUILD_CACHE/tools/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-auto}"
mkdir -p "$BUILD_CACHE"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# System packages: the desktop toolkit, PostgreSQL 15 (verifier and baseline for tests),
# the keyring, the virtual display and the WebDriver for the end-to-end tests;
# fonts-wqy-microhei: a CJK font, so the Chinese console (and its screenshots) shows glyphs.
APP_PACKAGES=(build-essential pkg-config curl ca-certificates libssl-dev fonts-wqy-microhei
    libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
    gnome-keyring dbus dbus-x11 libsecret-tools openssh-client
    postgresql postgresql-contrib)
# e2fsprogs: chattr, which the housekeeping test uses to make a directory unremovable.
# openssh-server: the test kit's SshServer, a remote host on a loopback port (openssh-client
# comes with it: pgrelocate reaches hosts with the system ssh).
TEST_PACKAGES=("${APP_PACKAGES[@]}" openssh-server webkit2gtk-driver xvfb xauth chromium locales procps util-linux libfaketime e2fsprogs)

ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null; then
        say "installing the Rust toolchain (rustup)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
}

ensure_nextest() {
    if ! command -v cargo-nextest >/dev/null; then
        say "installing cargo-nextest"
        cargo install cargo-nextest --locked --root "$BUILD_CACHE/tools"
    fi
}

ensure_node_modules() {
    command -v npm >/dev/null || die "Node.js 20+ and npm are needed (apt-get install nodejs npm, or nodesource)"
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [ "$major" -ge 20 ] || die "Node.js $major is too old: the UI needs Node.js 20 or newer"
    # Reinstall only when the lock file changed since the last install.
    local stamp="$ROOT/node_modules/.package-lock.sha"
    local want
    want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing npm packages"
        (cd "$ROOT" && npm ci --no-audit --no-fund --cache "$BUILD_CACHE/npm" >/dev/null)
        echo "$want" >"$stamp"
    fi
}

ensure_tauri_driver() {
    if ! command -v tauri-driver >/dev/null; then
        say "installing tauri-driver"
        cargo install tauri-driver --version '^2' --locked --root "$BUILD_CACHE/tools"
    fi
}

build_ui() {
    say "building the UI"
    (cd "$ROOT" && npm run --silent build)
}
