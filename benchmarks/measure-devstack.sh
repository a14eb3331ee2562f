#!/usr/bin/env bash
# Measures the dev stack on this machine: start-up time, idle memory, and memory and time for a
# 1,000,000-row RowBinary insert sent over HTTP from another process. Figures go to benchmarks/README.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/setup.sh" >/dev/null
work="$(mktemp -d)"
port=18123
url="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

dotnet "$repo/artifacts/bin/Insights.DevStack/debug/Insights.DevStack.dll" --data-dir "$work/ch" --env-file "$work/env" \
  --clickhouse-port "$port" --kafka-port 0 >"$work/log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; rm -rf "$work"' EXIT
while [[ ! -f "$work/env" ]]; do sleep 0.02; done
grep -o 'ready in [0-9.]* s' "$work/log" | sed 's/^/start-up: /'
sleep 3
echo "idle RSS: $(rss $pid) MB"

curl -sf -d 'CREATE TABLE m (n UInt64, path String, v UInt32, at DateTime64(3)) ENGINE = MergeTree ORDER BY n' "$url/"
curl -sf -d "SELECT number, concat('/page/', toString(number % 1000)), toUInt32(number % 50000), now64(3) FROM numbers(1000000) FORMAT RowBinary" \
  "$url/" -o "$work/rows.bin"
echo "payload: $(( $(stat -c %s "$work/rows.bin") / 1024 / 1024 )) MB RowBinary, 1,000,000 rows"

peak=0
( while kill -0 $pid 2>/dev/null; do rss $pid; echo; sleep 0.02; done ) >"$work/rss" &
sampler=$!
start=$(date +%s%N)
curl -sf --data-binary @"$work/rows.bin" "$url/?query=INSERT%20INTO%20m%20FORMAT%20RowBinary"
end=$(date +%s%N)
sleep 0.5
kill $sampler
peak=$(sort -n "$work/rss" | tail -1)
echo "insert: $(( (end - start) / 1000000 )) ms, $(( 1000000 * 1000000000 / (end - start) )) rows/s; peak RSS during insert: $peak MB"
echo "rows stored: $(curl -sf -d 'SELECT count() FROM m' "$url/")"
kill -TERM $pid
wait $pid && echo "SIGTERM: exit 0"
