#!/usr/bin/env bash
# Transit benchmark: synthesise N trips, import them, then measure every echarts endpoint
# and filtered trip-list pages (p50/p95 over varied stations and days) and a full trip
# export (time, bytes, server peak RSS). Uses a release build; data stays under $BENCH_DIR.
#
#   bench/transit.sh [TRIPS]            default 5000000 (the size the trip-page figures are quoted at); 30000000 is a real city's month
#   BENCH_DIR=/tmp/x bench/transit.sh 30000000
#   SKIP_IMPORT=1 bench/transit.sh 30000000   measure again on the imported data
set -euo pipefail

N=${1:-5000000}
DIR=${BENCH_DIR:-/tmp/hearth-transit-bench}
PORT=${BENCH_PORT:-18473}
REQS=${BENCH_REQS:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/hearth"
CSV="$DIR/csv-$N"
DATA="$DIR/data-$N"

(cd "$ROOT" && cargo build --release -q)
mkdir -p "$DIR"
if [ ! -f "$CSV/trips.csv" ]; then
    echo "== synth $N trips"
    "$BIN" transit synth --out "$CSV" --trips "$N" --days 30 --seed 1
fi
du -sh "$CSV/trips.csv"

if [ -z "${SKIP_IMPORT:-}" ] || [ ! -f "$DATA/hearth.db" ]; then
    echo "== import"
    rm -rf "$DATA"
    /usr/bin/time -f "import: %e s wall, peak RSS %M KB" "$BIN" --data "$DATA" --log warn transit import --dir "$CSV" --quiet
fi
du -sh "$DATA/hearth.db"

"$BIN" --data "$DATA" --log warn admin create --username bench --password benchpass1 >/dev/null
"$BIN" --data "$DATA" --log warn --listen "127.0.0.1:$PORT" serve >/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT/transit"
TOKEN=$(curl -s -H 'Content-Type: application/json' -d '{"username":"bench","password":"benchpass1"}' "$BASE/api/userprofile/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
UID1=$(head -2 "$CSV/trips.csv" | tail -1 | cut -d, -f1)

# p50 and p95 of REQS requests over one keep-alive connection; %s in the path takes 1..168,
# %d a day of January 2020.
measure() {
    local label=$1 pattern=$2 urls=() i
    for i in $(seq "$REQS"); do
        local station=$(( (i * 37) % 168 + 1 )) day=$(( (i * 7) % 30 + 1 ))
        local path=${pattern//%s/$station}
        path=${path//%d/$(printf '2020-01-%02d' "$day")}
        urls+=(-o /dev/null "$BASE$path&token=$TOKEN")
    done
    curl -s -w '%{time_total}\n' "${urls[@]}" | sort -n | awk -v label="$label" '
        { t[NR] = $1 * 1000 } END { printf "%-44s p50 %6.2f ms  p95 %6.2f ms  max %6.2f ms\n", label, t[int(NR*0.5)], t[int(NR*0.95)], t[NR] }'
}

curl -s "$BASE/api/echarts/daily?token=$TOKEN" >/dev/null
echo "== latency ($REQS requests each)"
measure "echarts/agestruct"                "/api/echarts/agestruct?action=age_struct"
measure "echarts/daily (all days)"         "/api/echarts/daily?action=list_daily"
measure "echarts/daily?date"               "/api/echarts/daily?date=%d"
measure "echarts/month?date"               "/api/echarts/month?date=2020-01"
measure "echarts/od?date"                  "/api/echarts/od?date=%d"
measure "echarts/od?date&station"          "/api/echarts/od?date=%d&station=Sta%s"
measure "echarts/realtime?station&date"    "/api/echarts/realtime?station=Sta%s&date=%d"
measure "trip/list?date&station"           "/api/manage/trip/list?date=%d&station=Sta%s"
measure "trip/list?date"                   "/api/manage/trip/list?date=%d"
measure "trip/list?station"                "/api/manage/trip/list?station=Sta%s"
measure "trip/list?uid"                    "/api/manage/trip/list?uid=$UID1"
measure "trip/list?date&page=50&sort=-in_station_time" "/api/manage/trip/list?date=%d&page=50&sort=-in_station_time"
measure "trip/list?page=5000&limit=40"      "/api/manage/trip/list?page=5000&limit=40"
measure "trip/list?page=100000&limit=40"    "/api/manage/trip/list?page=100000&limit=40"

echo "== export of all trips"
before=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
start=$(date +%s.%N)
bytes=$(curl -s "$BASE/api/exports?model=trip&token=$TOKEN" | wc -c)
end=$(date +%s.%N)
after=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
awk -v b="$bytes" -v s="$start" -v e="$end" -v hb="$before" -v ha="$after" 'BEGIN {
    printf "export: %.0f MB in %.1f s (%.0f MB/s); server peak RSS %d MB before, %d MB after\n", b/1e6, e-s, b/1e6/(e-s), hb/1024, ha/1024 }'
