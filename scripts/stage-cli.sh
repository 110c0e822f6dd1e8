#!/usr/bin/env bash
# Tauri's beforeBundleCommand: builds the `pgrelocate` CLI in release and puts it where
# tauri.conf.json's deb `files` map takes it from, so the package installs /usr/bin/pgrelocate
# beside the desktop app. (The map needs a fixed path; CARGO_TARGET_DIR can move the target.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet -p pgrelocate-cli
target="$(cargo metadata --format-version 1 --no-deps | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory')"
mkdir -p gen/cli
cp "$target/release/pgrelocate" gen/cli/pgrelocate
