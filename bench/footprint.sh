#!/usr/bin/env bash
# Footprint: the release binary's size and the server's idle memory.
#
# Builds hearth's release binary (unless HEARTH_BIN is given), then ROUNDS times: starts
# `hearth serve` on a fresh data folder (first start: migrations, catalogue, secrets), waits
# for /health and IDLE_SECS more, asks /health once more (so the request path is counted, as
# on a box whose cameras check in), reads VmRSS and its anonymous part (RssAnon: the heap,
# stacks and relocated data; the rest is mapped files, mostly the binary's code) from /proc;
# stops it with SIGTERM, starts it again on the same folder (restart) and reads both the same
# way. Prints the binary size and the median, minimum and maximum of each. Only 127.0.0.1 is
# used.
#
# Environment:
#   HEARTH_BIN   use this binary, skip `cargo build --release`
#   ROUNDS       rounds of first start + restart        (default 3)
#   IDLE_SECS    seconds after the first 200 from /health (default 5)
#   KEEP_DATA=1  keep the temporary folder (data folders, logs)

set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
IDLE_SECS="${IDLE_SECS:-5}"
HOST="127.0.0.1"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$TARGET" = /* ]] || TARGET="$ROOT/$TARGET"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/hearth-footprint.XXXXXX")"
SERVER_PID=""

log() { printf '[footprint] %s\n' "$*" >&2; }
die() { printf '[footprint] error: %s\n' "$*" >&2; exit 1; }

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

cleanup() {
    local rc=$?
    stop_server
    if [[ "${KEEP_DATA:-0}" = 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT INT TERM

command -v curl >/dev/null 2>&1 || die "needs curl"
command -v python3 >/dev/null 2>&1 || die "needs python3"

# shellcheck source=bench/common.sh
source "$BENCH_DIR/common.sh"
hearth_binary

# idle_rss DATA LOG: starts the server on DATA, prints its VmRSS and RssAnon in kB once idle,
# stops it.
idle_rss() {
    local data=$1 logfile=$2 port deadline rss
    port="$(free_port)"
    "$BIN" serve --data "$data" --listen "$HOST:$port" --backup-interval-hours 0 >"$logfile" 2>&1 &
    SERVER_PID=$!
    deadline=$((SECONDS + 60))
    until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$HOST:$port/health" || true)" = 200 ]]; do
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$logfile" >&2; die "the server exited"; }
        ((SECONDS < deadline)) || { cat "$logfile" >&2; die "/health did not answer 200 within 60 s"; }
        sleep 0.05
    done
    sleep "$IDLE_SECS"
    curl -s -o /dev/null --max-time 5 "http://$HOST:$port/health" || die "/health did not answer when idle"
    rss="$(awk '$1 == "VmRSS:" || $1 == "RssAnon:" { printf "%s ", $2 }' "/proc/$SERVER_PID/status")"
    stop_server
    echo "$rss"
}

# stats FILE: median, minimum and maximum of the numbers in FILE, in MiB.
stats() {
    sort -g "$1" | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f MiB (min %.1f, max %.1f)", m / 1024, v[1] / 1024, v[NR] / 1024 }'
}

: >"$WORK/first.kb"
: >"$WORK/restart.kb"
: >"$WORK/first-anon.kb"
: >"$WORK/restart-anon.kb"
for ((i = 1; i <= ROUNDS; i++)); do
    data="$WORK/data-$i"
    # Command substitutions, so that a round that fails stops the script (set -e).
    first="$(idle_rss "$data" "$WORK/first-$i.log")"
    restart="$(idle_rss "$data" "$WORK/restart-$i.log")"
    read -r first first_anon <<<"$first"
    read -r restart restart_anon <<<"$restart"
    echo "$first" >>"$WORK/first.kb"
    echo "$restart" >>"$WORK/restart.kb"
    echo "$first_anon" >>"$WORK/first-anon.kb"
    echo "$restart_anon" >>"$WORK/restart-anon.kb"
    log "round $i: first start $first kB ($first_anon anonymous), restart $restart kB ($restart_anon anonymous)"
done

size="$(stat -c %s "$BIN")"
printf '\n%s, %s round(s), VmRSS %s s after the first 200 from /health and one more request\n' "$("$BIN" --version)" "$ROUNDS" "$IDLE_SECS"
printf '%-26s %s bytes (%.1f MB)\n' "binary size" "$size" "$(awk -v s="$size" 'BEGIN { print s / 1e6 }')"
printf '%-26s %s\n' "idle RSS, first start" "$(stats "$WORK/first.kb")"
printf '%-26s %s\n' "idle RSS, restart" "$(stats "$WORK/restart.kb")"
printf '%-26s %s\n' "  of it anonymous, first" "$(stats "$WORK/first-anon.kb")"
printf '%-26s %s\n' "  of it anonymous, restart" "$(stats "$WORK/restart-anon.kb")"
