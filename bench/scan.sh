#!/usr/bin/env bash
# Music scan benchmark: a generated folder of N tagged files (copies of one MP3 and one
# FLAC, each with its own tags, written with mutagen), scanned by `hearth music scan`
# into a fresh data folder; then scanned again unchanged, and again after a tenth of the
# files were touched. Prints files/s for each and the peak RSS. Then serves the library and
# measures the /rest latency of getAlbumList2 and search3 (p50, p99; bench/scan/latency.py).
#
#   bench/scan.sh [N]                        default 10000
#   HEARTH_BIN=target/debug/hearth bench/scan.sh   use a build already there
#   LATENCY_REQUESTS=1000 bench/scan.sh      requests per method (default 400)
set -euo pipefail

N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/hearth-scan-bench}
LIB="$DIR/library-$N"
DATA="$DIR/data"
BIN=${HEARTH_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -q)
    BIN="$ROOT/target/release/hearth"
fi

venv="$ROOT/target/scan-bench-venv"
if ! cmp -s "$ROOT/bench/scan/requirements.txt" "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/bench/scan/requirements.txt"
    cp "$ROOT/bench/scan/requirements.txt" "$venv/requirements.txt"
fi
if [ ! -f "$LIB/.complete" ]; then
    echo "== writing $N tagged files into $LIB"
    rm -rf "$LIB"
    mkdir -p "$LIB"
    "$venv/bin/python" "$ROOT/bench/scan/make_library.py" "$LIB" "$N"
    touch "$LIB/.complete"
fi
du -sh "$LIB"

rm -rf "$DATA"
"$BIN" --data "$DATA" --log warn admin create --username bench --password benchpass1 >/dev/null
scan() {
    /usr/bin/time -f "   peak RSS %M KB" "$BIN" --data "$DATA" --log warn music scan --music-folder "$LIB"
}
echo "== first scan (every file new)"
scan
echo "== rescan, nothing changed"
scan
echo "== rescan after touching every tenth file"
find "$LIB" -type f \( -name '*0 *.mp3' -o -name '*0 *.flac' \) -print0 | xargs -0 touch
scan
du -sh "$DATA/hearth.db"

echo "== /rest latency over the scanned library"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$port"
"$BIN" --data "$DATA" --log warn serve --listen "127.0.0.1:$port" --music-folder "$LIB" \
    --music-scan-interval-mins 0 >"$DIR/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
    curl -sf -o /dev/null "$BASE/health" && break
    sleep 0.1
done
json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -sf "$BASE/system/api/auth/login" -H 'Content-Type: application/json' \
    -d '{"loginname":"bench","password":"benchpass1"}' | json '["data"]["token"]')
secret=$(curl -sf "$BASE/system/api/auth/appPasswords" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name":"bench"}' | json '["data"]["password"]')
# The scan at start finds nothing changed; wait for it so it does not share the CPU.
until curl -sf "$BASE/system/api/music/scan" -H "Authorization: Bearer $token" | json '["data"]["running"]' | grep -q False; do
    sleep 0.2
done
"$venv/bin/python" "$ROOT/bench/scan/latency.py" "$BASE" bench "$secret" "${LATENCY_REQUESTS:-400}"
