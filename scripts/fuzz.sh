#!/usr/bin/env bash
# Builds the fuzz targets under fuzz/ and runs each briefly from its seed corpus, failing
# on any crash, broken property, timeout or out-of-memory (see fuzz/README.md). Needs only
# the stable toolchain and a C++ compiler: cargo-fuzz's unstable compiler flags are let
# through with RUSTC_BOOTSTRAP=1.
#
#   bash scripts/fuzz.sh                      every target, 30 s each
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh base64_image
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo_fuzz_version=0.13.2
seconds=${FUZZ_SECONDS:-30}
# Targets this fast stop here before their time is up.
runs=${FUZZ_RUNS:-2000000}

if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]]; then
    cargo install --locked cargo-fuzz --version "$cargo_fuzz_version"
fi
export RUSTC_BOOTSTRAP=1

if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
for target in "${targets[@]}"; do
    cargo fuzz build "$target"
done

# The corpus a run grows lives under fuzz/target (ignored by git), apart from the seeds.
logs=fuzz/target/logs
mkdir -p "$logs"
passed=0
failed=()
for target in "${targets[@]}"; do
    grown="fuzz/target/corpus/$target"
    mkdir -p "$grown"
    log="$logs/$target.log"
    if cargo fuzz run "$target" "$grown" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -runs="$runs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1; then
        executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
        echo "fuzz $target: ${executed:-?} inputs in ${took:-?} s, no failure"
        passed=$((passed + 1))
    else
        echo "fuzz $target: FAILED; the end of $log:"
        tail -n 40 "$log"
        echo "Reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run $target fuzz/artifacts/$target/<the file named above>"
        failed+=("$target")
    fi
done
echo "fuzz: $passed passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
