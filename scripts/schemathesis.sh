#!/usr/bin/env bash
# Contract fuzzing: schemathesis generates requests from each surface's own OpenAPI document
# (/openapi/<surface>.json) and checks every answer against it: no 5xx, a declared status,
# a declared content type, a body matching the declared schema (the surface's envelope) and
# declared headers. Each surface gets a server of its own (the release binary on loopback
# with a fresh data folder, seeded with an administrator, its tokens and a few rows of each
# kind), so the surfaces run at the same time and none changes what another one sees.
# Exits non-zero on any finding.
#
#   bash scripts/schemathesis.sh                    # every surface
#   bash scripts/schemathesis.sh care music         # some of them
#   bash scripts/schemathesis.sh --venv-only        # only make the venv (scripts/test.sh)
#   HEARTH_BIN=target/debug/hearth bash scripts/schemathesis.sh
#
# Settings are in scripts/schemathesis/schemathesis.toml; generation is deterministic, so
# every run sends the same requests. HEARTH_FUZZ_EXAMPLES (default 50) bounds the test cases
# per operation and phase. JUnit reports land in target/schemathesis-report/<surface>/.
set -euo pipefail
bin=$(realpath -m "${HEARTH_BIN:-$(dirname "${BASH_SOURCE[0]}")/../target/release/hearth}")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
here=scripts/schemathesis

# Pinned, with every dependency, in a venv under target/ so nothing global changes; made
# again when the pins change.
venv=target/schemathesis-venv
if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/requirements.txt"
fi
[[ ${1:-} != --venv-only ]] || exit 0

if [[ -z ${HEARTH_BIN:-} && ! -x $bin ]]; then
    cargo build --release --locked
fi
[[ -x $bin ]] || { echo "no hearth binary at $bin" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait || true; rm -rf "$work"' EXIT

# One surface against a server of its own, in $work/<surface>/. Its answer is the
# schemathesis run's, or 1 when the server logged an error.
fuzz_surface() {
    local surface=$1 dir=$work/$1 server addr=
    mkdir -p "$dir"
    trap 'exit 1' TERM INT
    trap '[[ -z ${server:-} ]] || { kill -TERM "$server" 2>/dev/null || true; wait "$server" || true; }' EXIT
    local user=fuzz_admin password=Fuzz-Pass-2026 phone=13900000001
    "$bin" --data "$dir/data" admin create --username "$user" --password "$password" --phone "$phone" >/dev/null
    # The per-address limits (failed logins, captcha draws, SMS codes, wrong device tokens,
    # partner request rates) are raised so that generated requests reach the handlers rather
    # than the limiters, which tests/ covers. Set through the environment, which a binary
    # without one of these settings ignores.
    local limit=1000000
    HEARTH_LOGIN_MAX_FAILURES=$limit HEARTH_CAPTCHA_MAX_DRAWS=$limit HEARTH_SMS_MAX_PER_PHONE=$limit \
        HEARTH_SMS_MAX_PER_CLIENT=$limit HEARTH_DEVICE_MAX_FAILURES=$limit HEARTH_OPEN_RATE_PER_MINUTE=$limit \
        "$bin" --data "$dir/data" --listen 127.0.0.1:0 --log warn --backup-interval-hours 0 >"$dir/server.log" 2>&1 &
    server=$!
    for _ in $(seq 300); do
        addr=$(sed -n 's/^hearth .* listening on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$dir/server.log")
        [[ -n $addr ]] && break
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $addr ]]; then
        echo "hearth did not start:"
        cat "$dir/server.log"
        return 1
    fi
    local base="http://$addr"
    "$venv/bin/python" "$here/seed.py" "$base" "$user" "$password" "$phone" >"$dir/seeded.env"
    set -a
    # shellcheck disable=SC1091
    source "$dir/seeded.env"
    set +a
    rm -rf "target/schemathesis-report/$surface"
    local found=0
    "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" --no-color run "$base/openapi/$surface.json" \
        --max-examples "${HEARTH_FUZZ_EXAMPLES:-50}" --report "${HEARTH_FUZZ_REPORTS:-junit}" \
        --report-dir "target/schemathesis-report/$surface" || found=$?
    # Internal errors and panics are answered in the envelope, with HTTP 200 on most
    # surfaces, so only the server log shows them.
    if sed 's/\x1b\[[0-9;]*m//g' "$dir/server.log" | grep -E ' ERROR |panicked' >"$dir/errors.log"; then
        echo "the server logged errors:"
        head -40 "$dir/errors.log"
        found=1
    fi
    return "$found"
}

surfaces=("$@")
((${#surfaces[@]})) || surfaces=(care music transit open system)
declare -A running=()
for surface in "${surfaces[@]}"; do
    fuzz_surface "$surface" >"$work/$surface.out" 2>&1 &
    running[$surface]=$!
done
failed=()
for surface in "${surfaces[@]}"; do
    wait "${running[$surface]}" || failed+=("$surface")
    echo "== $surface"
    cat "$work/$surface.out"
done
echo "schemathesis: $((${#surfaces[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
((${#failed[@]} == 0)) || { echo "findings in: ${failed[*]}" >&2; exit 1; }
