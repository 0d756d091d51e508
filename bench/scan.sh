#!/usr/bin/env bash
# Music scan benchmark: a generated folder of N tagged files (copies of one MP3 and one
# FLAC, each with its own tags, written with mutagen), scanned by `hearth music scan`
# into a fresh data folder; then scanned again unchanged, and again after a tenth of the
# files were touched. Prints files/s for each and the peak RSS.
#
#   bench/scan.sh [N]                        default 10000
#   HEARTH_BIN=target/debug/hearth bench/scan.sh   use a build already there
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
