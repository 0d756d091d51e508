#!/usr/bin/env bash
# Reproducible load benchmark for hearth.
#
# Builds the release binary (unless HEARTH_BIN is given), starts it on a free
# 127.0.0.1 port with a throw-away data directory, measures start-up time and
# memory, drives a few endpoints with wrk and prints a summary. The summary
# is also written as JSON to bench/results/latest.json.
#
# Environment:
#   HEARTH_BIN    use this binary, skip `cargo build`
#   DURATION      seconds per endpoint                  (default 15)
#   CONNECTIONS   concurrent connections                (default 32)
#   THREADS       wrk threads                           (default 2)
#   PORT          port on 127.0.0.1                     (default: a free one)
#   RESULTS       JSON output path        (default bench/results/latest.json)
#   KEEP_DATA=1   keep the temporary data directory
#   HEARTH_LOG    the server's log level                   (default warn)
#
# Adding an endpoint: one more `bench_endpoint NAME PATH [wrk args...]` line
# in main() below.

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"

DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
RESULTS="${RESULTS:-$BENCH_DIR/results/latest.json}"
ADMIN_USER="benchadmin"
ADMIN_PASS='Bench-pass-123'
HOST="127.0.0.1"

SERVER_PID=""
SAMPLER_PID=""
WORK=""
DATA=""
BASE=""
TOKEN=""

log() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- tools

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

# ---------------------------------------------------------------- build

build() {
    if [[ -n "${HEARTH_BIN:-}" ]]; then
        [[ -x "$HEARTH_BIN" ]] || die "HEARTH_BIN=$HEARTH_BIN is not an executable"
        BIN="$(cd "$(dirname "$HEARTH_BIN")" && pwd)/$(basename "$HEARTH_BIN")"
        log "using existing binary $BIN (build skipped)"
        return
    fi
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release)
    local target="${CARGO_TARGET_DIR:-target}"
    [[ "$target" = /* ]] || target="$ROOT/$target"
    BIN="$target/release/hearth"
    [[ -x "$BIN" ]] || die "binary not found at $BIN"
}

# ---------------------------------------------------------------- process helpers

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# VmRSS / VmHWM of the server in kB.
proc_kb() {
    awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0
}

kb_to_mib() { awk -v kb="${1:-0}" 'BEGIN { printf "%.1f", kb / 1024 }'; }

cleanup() {
    local rc=$?
    if [[ -n "$SAMPLER_PID" ]]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -n "$WORK" && -s "$WORK/server.log" ]]; then
        log "server log (last 30 lines):"
        tail -n 30 "$WORK/server.log" >&2 || true
    fi
    if [[ -n "$WORK" ]]; then
        if [[ "${KEEP_DATA:-0}" = 1 ]]; then
            log "kept $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}

start_server() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench.XXXXXX")"
    DATA="$WORK/data"
    mkdir -p "$DATA"

    log "creating administrator in $DATA"
    "$BIN" admin create --data "$DATA" --username "$ADMIN_USER" --password "$ADMIN_PASS" \
        >"$WORK/admin.log" 2>&1 || { cat "$WORK/admin.log" >&2; die "admin create failed"; }

    local port="${PORT:-$(free_port)}"
    BASE="http://$HOST:$port"

    log "starting server on $HOST:$port"
    local t0
    t0=$(now_ms)
    HEARTH_LOG="${HEARTH_LOG:-warn}" "$BIN" serve --data "$DATA" --listen "$HOST:$port" \
        >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!

    local deadline=$((t0 + 30000))
    until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/health" || true)" = 200 ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || die "server exited during start-up"
        (($(now_ms) < deadline)) || die "server not healthy after 30 s"
        sleep 0.01
    done
    STARTUP_MS=$(($(now_ms) - t0))
    VERSION="$(curl -s "$BASE/health" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("version",""))' || true)"
    log "healthy after ${STARTUP_MS} ms (version ${VERSION:-?})"

    sleep 1
    IDLE_RSS_KB=$(proc_kb VmRSS)
}

stop_server() {
    log "stopping server (SIGTERM)"
    local t0 rc=0 i
    t0=$(now_ms)
    kill -TERM "$SERVER_PID"
    # Bounded wait: escalate to SIGKILL after 30 s.
    for ((i = 0; i < 300; i++)); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        log "server still running 30 s after SIGTERM, sending SIGKILL"
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" || rc=$?
    SHUTDOWN_MS=$(($(now_ms) - t0))
    SERVER_PID=""
    EXIT_CODE=$rc
    if [[ $rc -eq 0 ]]; then
        log "server exited 0 after ${SHUTDOWN_MS} ms"
    else
        log "error: server exited with code $rc after SIGTERM (expected 0)"
    fi
}

# ---------------------------------------------------------------- auth

login() {
    local body
    body="$(python3 -c 'import json,sys; print(json.dumps({"loginname": sys.argv[1], "password": sys.argv[2]}))' \
        "$ADMIN_USER" "$ADMIN_PASS")"
    local resp
    resp="$(curl -s --max-time 10 -H 'Content-Type: application/json' -d "$body" \
        "$BASE/system/api/auth/login")" || die "login request failed"
    TOKEN="$(printf '%s' "$resp" | python3 -c '
import json, sys
r = json.load(sys.stdin)
if r.get("code") != 0:
    sys.exit("login rejected: %s" % r)
print(r["data"]["token"])')" || die "login failed: $resp"
    [[ -n "$TOKEN" ]] || die "empty token"
    log "logged in as $ADMIN_USER"
}

# ---------------------------------------------------------------- wrk

# Poll VmRSS every 0.2 s and keep the maximum in $1.
start_sampler() {
    local out=$1
    echo 0 >"$out"
    (
        peak=0
        while kill -0 "$SERVER_PID" 2>/dev/null; do
            cur=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
            if [[ -n "$cur" ]] && ((cur > peak)); then
                peak=$cur
                echo "$peak" >"$out"
            fi
            sleep 0.2
        done
    ) &
    SAMPLER_PID=$!
}

stop_sampler() {
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
}

# Convert a wrk duration ("812.00us", "1.23ms", "2.01s", "1.50m") to ms.
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n
    }'
}

# bench_endpoint NAME PATH [extra wrk args...]
# Runs wrk against $BASE$PATH and appends a row to $WORK/rows.tsv.
bench_endpoint() {
    local name=$1 path=$2
    shift 2
    local out="$WORK/wrk-$name.txt" peak_file="$WORK/peak-$name"

    log "wrk $name: $path (${DURATION}s, ${CONNECTIONS} connections, ${THREADS} threads)"
    start_sampler "$peak_file"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "$@" "$BASE$path" \
        >"$out" 2>&1 || { stop_sampler; cat "$out" >&2; die "wrk failed for $name"; }
    stop_sampler
    kill -0 "$SERVER_PID" 2>/dev/null || die "server died during $name"

    local rps p50 p99 total non2xx errors peak
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p50=$(awk '/Latency Distribution/ { d = 1 } d && $1 == "50%" { print $2; exit }' "$out")
    p99=$(awk '/Latency Distribution/ { d = 1 } d && $1 == "99%" { print $2; exit }' "$out")
    total=$(awk '/requests in/ { print $1; exit }' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
    errors=$(awk '/Socket errors:/ { s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s }' "$out")
    peak=$(cat "$peak_file")
    [[ -n "$rps" && -n "$p50" && -n "$p99" ]] || { cat "$out" >&2; die "could not parse wrk output for $name"; }

    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$name" "$path" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" \
        "${total:-0}" "${non2xx:-0}" "${errors:-0}" "${peak:-0}" >>"$WORK/rows.tsv"

    if [[ "${non2xx:-0}" != 0 ]]; then
        log "warning: $name had $non2xx non-2xx/3xx responses"
    fi
}

# ---------------------------------------------------------------- report

report() {
    local size
    size=$(stat -c %s "$BIN")
    local hwm=$HWM_KB

    echo
    printf 'hearth %s   binary %s   %s x %ss, %s connections, %s threads, %s CPUs\n' \
        "${VERSION:-?}" "$BIN" "$(wc -l <"$WORK/rows.tsv")" "$DURATION" "$CONNECTIONS" "$THREADS" "$(nproc)"
    echo
    printf '%-10s %-26s %12s %10s %10s %10s %14s\n' \
        endpoint path 'requests/s' 'p50 ms' 'p99 ms' 'non-2xx' 'peak RSS MiB'
    printf '%s\n' "-----------------------------------------------------------------------------------------------"
    while IFS=$'\t' read -r name path rps p50 p99 _total non2xx _errors peak; do
        printf '%-10s %-26s %12s %10s %10s %10s %14s\n' \
            "$name" "$path" "$rps" "$p50" "$p99" "$non2xx" "$(kb_to_mib "$peak")"
    done <"$WORK/rows.tsv"
    echo
    printf '%-22s %s MiB\n' 'idle RSS' "$(kb_to_mib "$IDLE_RSS_KB")"
    printf '%-22s %s MiB\n' 'loaded peak RSS' "$(kb_to_mib "$PEAK_RSS_KB")"
    printf '%-22s %s MiB\n' 'lifetime VmHWM' "$(kb_to_mib "$hwm")"
    printf '%-22s %s ms\n' 'start-up' "$STARTUP_MS"
    printf '%-22s %s ms (exit %s)\n' 'SIGTERM shutdown' "$SHUTDOWN_MS" "$EXIT_CODE"
    printf '%-22s %s bytes (%s MiB)\n' 'binary size' "$size" "$(kb_to_mib $((size / 1024)))"
    echo

    mkdir -p "$(dirname "$RESULTS")"
    local commit
    commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    B_VERSION="${VERSION:-}" B_COMMIT="$commit" B_CPUS="$NPROC" B_DURATION="$DURATION" \
    B_CONNECTIONS="$CONNECTIONS" B_THREADS="$THREADS" B_SIZE="$size" B_BIN="$BIN" \
    B_STARTUP="$STARTUP_MS" B_SHUTDOWN="$SHUTDOWN_MS" B_EXIT="$EXIT_CODE" \
    B_IDLE="$IDLE_RSS_KB" B_PEAK="$PEAK_RSS_KB" B_HWM="$hwm" \
    python3 - "$WORK/rows.tsv" "$RESULTS" <<'PY'
import datetime, json, os, sys

e = os.environ
num = lambda k: int(e.get(k) or 0)
rows = []
with open(sys.argv[1]) as f:
    for line in f:
        name, path, rps, p50, p99, total, non2xx, errors, peak = line.rstrip("\n").split("\t")
        rows.append({
            "name": name,
            "path": path,
            "requests_per_sec": float(rps),
            "latency_p50_ms": float(p50),
            "latency_p99_ms": float(p99),
            "requests": int(total),
            "non_2xx": int(non2xx),
            "socket_errors": int(errors),
            "peak_rss_kb": int(peak),
        })
doc = {
    "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "version": e.get("B_VERSION", ""),
    "commit": e.get("B_COMMIT", ""),
    "cpus": num("B_CPUS"),
    "wrk": {
        "duration_s": num("B_DURATION"),
        "connections": num("B_CONNECTIONS"),
        "threads": num("B_THREADS"),
    },
    "binary": e.get("B_BIN", ""),
    "binary_size_bytes": num("B_SIZE"),
    "startup_ms": num("B_STARTUP"),
    "shutdown_ms": num("B_SHUTDOWN"),
    "exit_code": num("B_EXIT"),
    "idle_rss_kb": num("B_IDLE"),
    "loaded_peak_rss_kb": num("B_PEAK"),
    "vm_hwm_kb": num("B_HWM"),
    "endpoints": rows,
}
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PY
    log "wrote $RESULTS"
}

# ---------------------------------------------------------------- main

main() {
    [[ "$DURATION" =~ ^[0-9]+$ && "$CONNECTIONS" =~ ^[0-9]+$ && "$THREADS" =~ ^[0-9]+$ ]] \
        || die "DURATION, CONNECTIONS and THREADS must be integers"
    ((THREADS <= CONNECTIONS)) || THREADS=$CONNECTIONS
    NPROC=$(nproc)

    ensure_tools
    build
    trap cleanup EXIT
    start_server
    login

    # Sanity check: the authenticated endpoint must accept the token.
    curl -sf --max-time 10 -H "Authorization: Bearer $TOKEN" "$BASE/system/api/sms/outbox" \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r.get("code")==0 else "outbox: %s" % r)' \
        || die "authenticated request to /system/api/sms/outbox failed"

    : >"$WORK/rows.tsv"
    bench_endpoint health /health
    bench_endpoint outbox /system/api/sms/outbox -H "Authorization: Bearer $TOKEN"

    PEAK_RSS_KB=$(awk -F'\t' '$9 > m { m = $9 } END { print m + 0 }' "$WORK/rows.tsv")
    HWM_KB=$(proc_kb VmHWM)
    stop_server
    report
    [[ $EXIT_CODE -eq 0 ]] || die "unclean shutdown (exit code $EXIT_CODE)"
}

main "$@"
