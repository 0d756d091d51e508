#!/usr/bin/env bash
# Runs hearth's whole test suite on a fresh machine that has only the Rust toolchain:
# installs the system packages the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System packages the tests use, from Debian's archive: the admin UI tests drive headless
# Chromium, a CJK font makes their screenshots of the Chinese pages readable, and the
# contract fuzzing needs Python's venv module; the Home Assistant tests start their own mosquitto broker;
# the Subsonic tests encode their MP3s with lame.
packages=(chromium fonts-wqy-microhei python3-venv iproute2 mosquitto lame)
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

# Style and lints first: they fail in seconds where the tests take minutes.
if ((! $#)); then
    if command -v rustup >/dev/null && ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1; then
        rustup component add rustfmt clippy
    fi
    cargo fmt --check
    cargo clippy --all-targets --locked -- -D warnings
fi

# The crash-safety test kills and restarts the release binary, as a box runs it.
cargo build --release --locked
export HEARTH_RELEASE_BIN="$PWD/target/release/hearth"

# The Subsonic client the /rest tests drive (py-opensonic, pinned, in a venv under target/).
bash scripts/subsonic-client.sh

cargo test --locked "$@"

# With arguments (a filter for cargo test) only those tests run; the whole suite goes on
# with contract fuzzing of the five OpenAPI documents against the release binary (a pinned
# schemathesis from PyPI in a venv under target/) and a short run of each parser fuzz target.
if ((! $#)); then
    bash scripts/schemathesis.sh
    bash scripts/fuzz.sh
fi
