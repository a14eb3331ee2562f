#!/usr/bin/env bash
# Runs the whole system on this machine: for now the dev stack (ClickHouse engine on :8123 and a
# Kafka-protocol broker on :9092). Ctrl-C stops everything cleanly.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/setup.sh"

cd "$repo"
exec dotnet "artifacts/bin/Insights.DevStack/${configuration,,}/Insights.DevStack.dll" "$@"
