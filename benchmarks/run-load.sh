#!/usr/bin/env bash
# The issue-3 load measurements, on a system started by scripts/run.sh (Release recommended:
# CONFIGURATION=Release scripts/run.sh). Runs, in order:
#   1. the bare-Kestrel baseline (reads each body, answers 202) with the same requests,
#   2. ingest unthrottled (202 only after Kafka acks), sampling ingest's RSS,
#   3. the end-to-end run at a fixed rate with freshness and the exact-count check.
# Usage: benchmarks/run-load.sh [seconds for 1 and 2 (30)] [end-to-end duration (5m)] [end-to-end rate (50000)]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
short="${1:-30}"
long="${2:-5m}"
rate="${3:-50000}"
config="${CONFIGURATION:-Release}"
load=(dotnet "$repo/artifacts/bin/Insights.LoadGenerator/${config,,}/Insights.LoadGenerator.dll")
ingest_pid=$(pgrep -f "Insights.Ingest.dll" | head -1)
[[ -n "$ingest_pid" ]] || { echo "run-load: ingest is not running; start the system with scripts/run.sh" >&2; exit 1; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. bare Kestrel baseline, ${short}s unthrottled"
"${load[@]}" bare --port 8090 >/dev/null 2>&1 &
bare=$!
sleep 2
"${load[@]}" load --ingest http://127.0.0.1:8090 --query none --duration "${short}s" --no-progress
kill -TERM $bare; wait $bare 2>/dev/null || true

echo "== 2. ingest, ${short}s unthrottled (RSS sampled every 0.5 s)"
( peak=0; while kill -0 "$ingest_pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$ingest_pid/status"); ((rss > peak)) && peak=$rss; echo "$peak" >/tmp/insights-ingest-peak-rss
    sleep 0.5; done ) &
sampler=$!
"${load[@]}" load --query none --duration "${short}s" --no-progress
kill $sampler 2>/dev/null || true
echo "ingest peak RSS: $(cat /tmp/insights-ingest-peak-rss) MB"

# The processors may still be working off step 2's backlog; the exact-count check needs a quiet start.
echo "== waiting for the processors to drain (consumer lag 0)"
for _ in $(seq 1 600); do
  lag=$(curl -sf http://127.0.0.1:8082/metrics | awk '/^insights_processors_consumer_lag/ {print $2}')
  [[ "${lag:-1}" == 0 ]] && break
  sleep 1
done
sleep 3

echo "== 3. end to end at $rate ev/s for $long, freshness and exact counts via the query API"
"${load[@]}" load --rate "$rate" --duration "$long" --poll 1s --settle 180s --no-progress
