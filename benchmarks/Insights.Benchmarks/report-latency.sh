#!/usr/bin/env bash
# Latency of the sales and goals reports on 10,000,000 events: starts a private dev stack (its own data directory and
# ports), then runs ReportLatencyBenchmarks (BenchmarkDotNet, Release), which migrates and seeds database bench_reports
# on its first run. Figures: benchmarks/Insights.Benchmarks/ATTRIBUTION.md.
#   benchmarks/Insights.Benchmarks/report-latency.sh            (extra arguments go to BenchmarkDotNet)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$repo/scripts/setup.sh" >/dev/null
work="$(mktemp -d)"
dotnet build "$repo/devstack/Insights.DevStack" -nologo -v q >/dev/null
dotnet "$repo/artifacts/bin/Insights.DevStack/debug/Insights.DevStack.dll" --data-dir "$work/ch" --env-file "$work/env" \
  --clickhouse-port 0 --kafka-port 0 >"$work/log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do [[ -f "$work/env" ]] && break; sleep 0.1; done
set -a; source "$work/env"; set +a
echo "dev stack: $INSIGHTS_CLICKHOUSE_URL"
cd "$repo"
dotnet run -c Release --project benchmarks/Insights.Benchmarks -- --filter '*ReportLatencyBenchmarks*' "$@"
