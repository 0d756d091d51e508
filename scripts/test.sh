#!/usr/bin/env bash
# Runs hearth's whole test suite on a fresh machine that has only the Rust toolchain:
# installs the system packages the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System packages the tests use, from Debian's archive: the admin UI tests drive headless
# Chromium, and a CJK font makes their screenshots of the Chinese pages readable.
packages=(chromium fonts-wqy-microhei)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The crash-safety test kills and restarts the release binary, as a box runs it.
cargo build --release --locked
export HEARTH_RELEASE_BIN="$PWD/target/release/hearth"

cargo test --locked "$@"
