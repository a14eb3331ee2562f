#!/usr/bin/env bash
# Report latency under ingest load (issue 12): starts scripts/run.sh on free ports with its own state directory, seeds
# 30 days of history (10 M events, ReportSeed.cs) for the load-test site straight into its ClickHouse, then runs
# `insights-load load --rate RATE` and `insights-load reports --readers N` side by side for the same time and prints
# p50/p95/p99 per report. Build first (Release): see benchmarks/README.md.
#   benchmarks/report-load.sh [seconds (60)] [ingest rate (5000)] [readers (4)] [state dir (a temporary one)]
# A state directory given as the fourth argument is kept, and its seeded history reused by the next run.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
rate="${2:-5000}"
readers="${3:-4}"
state="${4:-}"
config="${CONFIGURATION:-Release}"
keep=true
[[ -n "$state" ]] || { state="$(mktemp -d)"; keep=false; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export INSIGHTS_INGEST_PORT="$(free_port)" INSIGHTS_QUERY_PORT="$(free_port)" INSIGHTS_PROCESSORS_PORT="$(free_port)" \
  INSIGHTS_DASHBOARDS_PORT="$(free_port)" INSIGHTS_CLICKHOUSE_PORT=0 INSIGHTS_KAFKA_PORT=0 INSIGHTS_STATE_DIR="$state" \
  INSIGHTS_SKIP_BUILD=1 CONFIGURATION="$config"
load=(dotnet "$repo/artifacts/bin/Insights.LoadGenerator/${config,,}/Insights.LoadGenerator.dll")

"$repo/scripts/run.sh" >"$state/run.log" 2>&1 &
run=$!
cleanup() {
  kill -TERM "$run" 2>/dev/null || true  # run.sh stops its services on TERM (a background script ignores INT)
  wait "$run" 2>/dev/null || true
  $keep || rm -rf "$state"
}
trap cleanup EXIT
for _ in $(seq 1 900); do grep -q "Ctrl-C stops everything" "$state/run.log" 2>/dev/null && break; sleep 0.2; done
grep -q "Ctrl-C stops everything" "$state/run.log" || { tail -20 "$state/run.log" >&2; exit 1; }
source "$state/devstack.env"

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$repo" rev-parse --short HEAD)"
query="http://127.0.0.1:$INSIGHTS_QUERY_PORT"
# Seed (or find the seed), with no readers yet.
"${load[@]}" reports --query "$query" --clickhouse "$INSIGHTS_CLICKHOUSE_URL" --readers 1 --duration 1s >/dev/null

echo "== ingest at $rate ev/s and $readers report readers, ${seconds} s"
"${load[@]}" load --ingest "http://127.0.0.1:$INSIGHTS_INGEST_PORT" --query "$query" --rate "$rate" --duration "$((seconds + 10))s" \
  --no-progress >"$state/ingest-load.txt" 2>&1 &
ingest_load=$!
sleep 5  # ingest at its rate before the readers start
"${load[@]}" reports --query "$query" --readers "$readers" --duration "${seconds}s" || true  # failures are in its table
wait "$ingest_load" || true
echo "== the ingest side of the same run"
grep -E "accepted|p50|p99|freshness|lost|duplicate" "$state/ingest-load.txt" || cat "$state/ingest-load.txt"
