#!/usr/bin/env bash
# Side-by-side throughput: hearth against a bare poem hello-world, in one run, on this box.
#
# Builds the hello-world (bench/hello/src/main.rs) with the exact poem version of hearth's
# Cargo.lock and hearth's lock file (so tokio, hyper and poem are the same versions) and the
# same release profile, builds hearth's release binary (unless HEARTH_BIN is given), starts
# both on free 127.0.0.1 ports (hearth on a fresh data folder with a super-administrator,
# logged in for a Bearer token, everything else at its defaults), then runs wrk with the same
# settings against each target, RUNS times in rounds, and prints the medians and the ratios:
#   /health                                      vs hello
#   GET /system/api/auth/role/roleList (Bearer)  vs hello
# and, with DOKI_CONNECTIONS (default 8) connections, care's token heartbeat against the
# hello-world at the same connections (its ceiling on this box):
#   GET /care/api/user/doki?token=…              (a phone session's check and idle slide)
#
# Environment:
#   HEARTH_BIN   use this binary, skip `cargo build --release`
#   RUNS         runs per target                      (default 3)
#   DURATION     seconds per run                      (default 10)
#   CONNECTIONS  wrk connections                      (default 32)
#   THREADS      wrk threads                          (default 2)
#   HEARTH_LOG   hearth's log filter (its own default: info; lines go to a file)
#   KEEP_DATA=1  keep the temporary folder (logs, wrk outputs)

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ADMIN_USER="benchadmin"
ADMIN_PASS='Bench-pass-123'
ADMIN_PHONE='13800000000'
DOKI_CONNECTIONS="${DOKI_CONNECTIONS:-8}"
HOST="127.0.0.1"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$TARGET" = /* ]] || TARGET="$ROOT/$TARGET"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hearth-compare.XXXXXX")"
PIDS=()

log() { printf '[compare] %s\n' "$*" >&2; }
die() { printf '[compare] error: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ "${KEEP_DATA:-0}" = 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM
# shellcheck source=bench/common.sh
source "$BENCH_DIR/common.sh"

ensure_tools() {
    local missing=()
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    if ((${#missing[@]})); then
        log "installing: ${missing[*]}"
        local sudo=()
        if [[ $(id -u) -ne 0 ]]; then
            command -v sudo >/dev/null 2>&1 || die "need root or sudo to install ${missing[*]}"
            sudo=(sudo)
        fi
        "${sudo[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

poem_version() {
    awk '/^name = "poem"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock"
}

build_hello() {
    local version src="$WORK/hello"
    version="$(poem_version)"
    [[ -n "$version" ]] || die "no poem in $ROOT/Cargo.lock"
    mkdir -p "$src/src"
    cp "$BENCH_DIR/hello/src/main.rs" "$src/src/"
    # hearth's lock file: cargo keeps its versions for every crate the two share.
    cp "$ROOT/Cargo.lock" "$src/"
    cat >"$src/Cargo.toml" <<TOML
[package]
name = "hello"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
poem = "=$version"
tokio = { version = "1", features = ["rt-multi-thread", "macros", "net"] }

[profile.release]
lto = true
codegen-units = 1
strip = true

[workspace]
TOML
    log "building the poem $version hello-world"
    (cd "$src" && CARGO_TARGET_DIR="$TARGET/bench-hello" cargo build --release --quiet)
    HELLO_BIN="$TARGET/bench-hello/release/hello"
    [[ -x "$HELLO_BIN" ]] || die "hello-world not built"
    HELLO_POEM="$version"
}

# wait_ok URL: polls until URL answers 200, for at most 30 s.
wait_ok() {
    local deadline=$((SECONDS + 30))
    until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" = 200 ]]; do
        ((SECONDS < deadline)) || die "$1 did not answer 200 within 30 s"
        sleep 0.05
    done
}

start_hello() {
    local port
    port="$(free_port)"
    "$HELLO_BIN" "$HOST:$port" >"$WORK/hello.log" 2>&1 &
    PIDS+=($!)
    HELLO_URL="http://$HOST:$port/"
    wait_ok "$HELLO_URL"
}

start_hearth() {
    local data="$WORK/data" port body resp
    mkdir -p "$data"
    "$BIN" admin create --data "$data" --username "$ADMIN_USER" --password "$ADMIN_PASS" --phone "$ADMIN_PHONE" \
        >"$WORK/admin.log" 2>&1 || { cat "$WORK/admin.log" >&2; die "admin create failed"; }
    port="$(free_port)"
    "$BIN" serve --data "$data" --listen "$HOST:$port" --backup-interval-hours 0 >"$WORK/hearth.log" 2>&1 &
    PIDS+=($!)
    HEARTH_URL="http://$HOST:$port"
    wait_ok "$HEARTH_URL/health"
    body="$(python3 -c 'import json,sys; print(json.dumps({"loginname": sys.argv[1], "password": sys.argv[2]}))' \
        "$ADMIN_USER" "$ADMIN_PASS")"
    resp="$(curl -s --max-time 10 -H 'Content-Type: application/json' -d "$body" "$HEARTH_URL/system/api/auth/login")"
    TOKEN="$(printf '%s' "$resp" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("code") != 0:
    sys.exit("login rejected: %s" % r)
print(r["data"]["token"])')" || die "login failed: $resp"
    local check
    check="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "$HEARTH_URL/system/api/auth/role/roleList")"
    [[ "$check" = 200 ]] || die "roleList answered $check with the token"
    body="$(python3 -c 'import json,sys; print(json.dumps({"id": 1, "type": "login", "subtype": "pass",
        "data": {"phone": sys.argv[1], "pass": sys.argv[2]}}))' "$ADMIN_PHONE" "$ADMIN_PASS")"
    resp="$(curl -s --max-time 10 -H 'Content-Type: application/json' -d "$body" "$HEARTH_URL/care/api/user/login")"
    CARE_TOKEN="$(printf '%s' "$resp" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("status") != 0:
    sys.exit("care login rejected: %s" % r)
print(r["data"]["token"])')" || die "care login failed: $resp"
    check="$(curl -s "$HEARTH_URL/care/api/user/doki?token=$CARE_TOKEN")"
    [[ "$check" == *'"status":0'* ]] || die "doki answered $check with the care token"
}

# run NAME URL [wrk args...]: one wrk run, its requests/s appended to $WORK/NAME.rps.
run() {
    local name=$1 url=$2 out rps non2xx
    shift 2
    : >>"$WORK/$name.rps"
    out="$WORK/wrk-$name-$(wc -l <"$WORK/$name.rps").txt"
    wrk -t"$THREADS" -c"${CONNS:-$CONNECTIONS}" -d"${DURATION}s" --timeout 10s "$@" "$url" >"$out" 2>&1 \
        || { cat "$out" >&2; die "wrk failed for $name"; }
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
    [[ -n "$rps" ]] || { cat "$out" >&2; die "no Requests/sec in wrk's output for $name"; }
    [[ -z "$non2xx" ]] || die "$name: $non2xx answers were not 2xx"
    echo "$rps" >>"$WORK/$name.rps"
    log "$name: $rps req/s"
}

median() { sort -g "$WORK/$1.rps" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

main() {
    ensure_tools
    build_hello
    hearth_binary
    start_hello
    start_hearth
    log "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, $RUNS rounds of hello, /health, roleList"
    local i
    for ((i = 1; i <= RUNS; i++)); do
        run hello "$HELLO_URL"
        run health "$HEARTH_URL/health"
        run rolelist "$HEARTH_URL/system/api/auth/role/roleList" -H "Authorization: Bearer $TOKEN"
        CONNS="$DOKI_CONNECTIONS" run hello_doki "$HELLO_URL"
        CONNS="$DOKI_CONNECTIONS" run doki "$HEARTH_URL/care/api/user/doki?token=$CARE_TOKEN"
    done
    # doki refuses in its body with HTTP 200, so wrk's status count cannot tell: the session
    # must still be accepted after the runs.
    [[ "$(curl -s "$HEARTH_URL/care/api/user/doki?token=$CARE_TOKEN")" == *'"status":0'* ]] \
        || die "the care session was refused after the doki runs"
    local hello health rolelist doki hello_doki
    doki="$(median doki)"
    hello_doki="$(median hello_doki)"
    hello="$(median hello)"
    health="$(median health)"
    rolelist="$(median rolelist)"
    printf '\nwrk -t%s -c%s -d%ss, median of %s runs each (poem %s hello-world vs %s)\n' \
        "$THREADS" "$CONNECTIONS" "$DURATION" "$RUNS" "$HELLO_POEM" "$("$BIN" --version)"
    printf '%-44s %12s %10s  %s\n' "target" "req/s" "vs hello" "runs"
    printf '%-44s %12.0f %10s  %s\n' "poem hello-world GET /" "$hello" "100 %" "$(paste -sd' ' "$WORK/hello.rps")"
    printf '%-44s %12.0f %9.1f %%  %s\n' "hearth GET /health" "$health" \
        "$(awk -v a="$health" -v b="$hello" 'BEGIN { print 100 * a / b }')" "$(paste -sd' ' "$WORK/health.rps")"
    printf '%-44s %12.0f %9.1f %%  %s\n' "hearth GET /system/api/auth/role/roleList" "$rolelist" \
        "$(awk -v a="$rolelist" -v b="$hello" 'BEGIN { print 100 * a / b }')" "$(paste -sd' ' "$WORK/rolelist.rps")"
    printf '%-44s %12.0f %10s  %s\n' "poem hello-world GET /, -c$DOKI_CONNECTIONS" "$hello_doki" "100 %" \
        "$(paste -sd' ' "$WORK/hello_doki.rps")"
    printf '%-44s %12.0f %9.1f %%  %s\n' "hearth GET /care/api/user/doki, -c$DOKI_CONNECTIONS" "$doki" \
        "$(awk -v a="$doki" -v b="$hello_doki" 'BEGIN { print 100 * a / b }')" "$(paste -sd' ' "$WORK/doki.rps")"
}

main "$@"
