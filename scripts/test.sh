#!/usr/bin/env bash
# Runs hearth's whole test suite on a fresh machine that has only the Rust toolchain:
# installs the system packages the tests need, then runs every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System packages the tests use, from Debian's archive: the admin UI tests drive headless
# Chromium, a CJK font makes their screenshots of the Chinese pages readable, and the
# contract fuzzing needs Python's venv module; the Home Assistant tests start their own mosquitto broker;
# the music scan and Subsonic tests encode their MP3 and FLAC files with lame and flac.
# Then the two Python venvs: the Subsonic client the /rest tests drive (py-opensonic, pinned)
# and, for the whole suite, the contract fuzzer (a pinned schemathesis).
prepare() {
    local packages=(chromium fonts-wqy-microhei python3-venv iproute2 mosquitto lame flac) missing=() p
    for p in "${packages[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ((${#missing[@]})); then
        local sudo=()
        [[ $(id -u) -eq 0 ]] || sudo=(sudo)
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    bash scripts/subsonic-client.sh
    if ((! $#)); then
        bash scripts/schemathesis.sh --venv-only
    fi
}
# Made while hearth builds, since apt and pip mostly wait on downloads; at the lowest
# priority, since the build keeps both cores busy on its own, so that unpacking and
# byte-compiling take only what the build leaves.
mkdir -p target
(
    renice -n 19 -p "$BASHPID" >/dev/null
    prepare "$@"
) </dev/null >target/prepare.log 2>&1 &
preparing=$!

# Style first: it fails in seconds where the tests take minutes.
if ((! $#)); then
    if command -v rustup >/dev/null && ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1; then
        rustup component add rustfmt clippy
    fi
    cargo fmt --check
fi

# One build serves every step: the tests (which also replay each fuzz target's corpus and
# mutated inputs, tests/it/fuzzing.rs) and the contract fuzzing use the same debug binary,
# whose dependencies are optimized (Cargo.toml's dev profile). Coverage-guided fuzzing with
# libFuzzer needs an instrumented build of everything and is run apart: scripts/fuzz.sh.
#
# The lints run in that build too: hearth's own targets (every one, as `cargo clippy
# --all-targets`) are compiled by clippy's driver with warnings denied, which is what `cargo
# clippy` does, except that `cargo clippy` would check every dependency a second time
# without sharing the build's artifacts (about as long as the build itself on two cores).
#
# A CI run builds once from nothing, where incremental compilation only writes caches that
# no later build reads; and its failures are read from the assertion's own file and line,
# which a panic names without debug info (line tables cost about 20 s of such a build).
[[ -z ${CI:-} ]] || export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=false
if ((! $#)); then
    RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)" ||
        { echo "clippy-driver not found: install clippy (rustup component add clippy)" >&2; exit 1; }
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
    export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
    cargo test --locked --all-targets --no-run
fi

if ! wait "$preparing"; then
    cat target/prepare.log >&2
    echo "installing the tests' system packages or Python venvs failed (above)" >&2
    exit 1
fi

# Many tests spend much of their time waiting (on Chromium, on mosquitto, on the Python
# Subsonic client, on the server's timers), so two tests per core keep the cores busy: on
# two cores, with two tests at a time, they were about half idle (docs/decisions.md, "The
# test run's budget").
RUST_TEST_THREADS=${RUST_TEST_THREADS:-$((2 * $(nproc)))}
export RUST_TEST_THREADS
cargo test --locked "$@"

# With arguments (a filter for cargo test) only those tests run; the whole suite goes on
# with contract fuzzing of the five OpenAPI documents (a pinned schemathesis from PyPI in a
# venv under target/).
if ((! $#)); then
    HEARTH_BIN="$PWD/target/debug/hearth" bash scripts/schemathesis.sh
fi
