#!/usr/bin/env bash
# The admin CLI (insights-admin) against the control plane scripts/run.sh uses: the same state directory
# (INSIGHTS_STATE_DIR [.devstack]) unless ControlPlane__* settings name another store.
#   scripts/admin.sh init --partner "Agency" --email admin@agency.example
#   scripts/admin.sh sites list | keys rotate <key-id> | people list | audit tail ...   (scripts/admin.sh --help)
#   scripts/admin.sh events import export.ndjson --site shop --key <server key> | events replay --from 6h --dry-run
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="${CONFIGURATION:-Debug}"
cli="$repo/artifacts/bin/Insights.ControlPlane.Cli/${config,,}/insights-admin.dll"
if [[ ! -f "$cli" ]]; then
  echo "[admin] building insights-admin ($config) first" >&2
  dotnet build "$repo/control-plane/Insights.ControlPlane.Cli" -c "$config" -nologo -v:q -clp:NoSummary >&2
fi
state="${INSIGHTS_STATE_DIR:-$repo/.devstack}"
export ControlPlane__DataDirectory="${ControlPlane__DataDirectory:-$state/control-plane}"
# Links in mails and in `init`'s output point at the query API that scripts/run.sh starts.
export People__PublicBaseUrl="${People__PublicBaseUrl:-http://127.0.0.1:${INSIGHTS_QUERY_PORT:-8081}}"
# The events commands reach the same run: ingest on its port, Kafka at the address the dev stack wrote down.
export INSIGHTS_INGEST_URL="${INSIGHTS_INGEST_URL:-http://127.0.0.1:${INSIGHTS_INGEST_PORT:-8080}}"
if [[ -z "${INSIGHTS_KAFKA_BOOTSTRAP:-}" && -f "$state/devstack.env" ]]; then
  INSIGHTS_KAFKA_BOOTSTRAP="$(sed -n 's/^INSIGHTS_KAFKA_BOOTSTRAP=//p' "$state/devstack.env")"
  export INSIGHTS_KAFKA_BOOTSTRAP
fi
exec dotnet "$cli" "$@"
