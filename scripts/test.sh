#!/usr/bin/env bash
# Runs every test: unit tests and integration tests against a real dev stack (the fixture starts one
# per test assembly on free ports, or uses the one named by INSIGHTS_CLICKHOUSE_URL/INSIGHTS_KAFKA_BOOTSTRAP).
# Ends with one line "N passed, N failed, N skipped".
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/setup.sh"

cd "$repo"
results="$repo/artifacts/test-results"
rm -rf "$results"
status=0
dotnet test Insights.sln -c "$configuration" --no-build -nologo \
  --logger "trx" --results-directory "$results" "$@" || status=$?

# One summary line over all test assemblies, from the TRX files the runs wrote.
read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | tr '>' '\n' | grep -o '<Counters [^/]*' | awk '
    { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]); c[kv[1]] += kv[2] } }
    END { printf "%d %d %d\n", c["passed"], c["failed"] + c["error"] + c["timeout"] + c["aborted"], c["notExecuted"] }')
echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ "$status" -eq 0 && "$passed" -eq 0 ]]; then
  echo "test: no test ran" >&2
  exit 1
fi
exit "$status"
