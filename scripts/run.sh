#!/usr/bin/env bash
# Runs the whole system on this machine: the dev stack (ClickHouse engine on :8123, a Kafka-protocol
# broker on :9092), ingest (:8080), the query API (:8081), the processors (:8082, metrics/health) and the web app
# people sign in to (dashboards, :8083).
#   scripts/run.sh          start everything; Ctrl-C stops everything cleanly
#   scripts/run.sh --demo   also a demo: a partner with three client sites and a printed sign-in, a month of
#                           lifelike history (companies, chats, orders, goals), then live visitors until Ctrl-C
# Environment (defaults in brackets): INSIGHTS_INGEST_PORT [8080], INSIGHTS_QUERY_PORT [8081],
# INSIGHTS_PROCESSORS_PORT [8082], INSIGHTS_DASHBOARDS_PORT [8083], INSIGHTS_CLICKHOUSE_PORT [8123], INSIGHTS_KAFKA_PORT [9092] (0 = any free port
# for the two engines), INSIGHTS_STATE_DIR [.devstack] (logs, ClickHouse data), INSIGHTS_SKIP_BUILD=1 (use the build
# already in artifacts/), INSIGHTS_DASHBOARDS_PORT [8083] (the dashboard address printed).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo=false
for arg in "$@"; do
  case "$arg" in
    --demo) demo=true ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run: unknown option $arg (try --demo)" >&2; exit 2 ;;
  esac
done

source "$repo/scripts/setup.sh"
cd "$repo"
bin="$repo/artifacts/bin"
config="${configuration,,}"
state="${INSIGHTS_STATE_DIR:-$repo/.devstack}"
ingest_port="${INSIGHTS_INGEST_PORT:-8080}"
query_port="${INSIGHTS_QUERY_PORT:-8081}"
processors_port="${INSIGHTS_PROCESSORS_PORT:-8082}"
dashboards_port="${INSIGHTS_DASHBOARDS_PORT:-8083}"
mkdir -p "$state/logs"
pids=()
declare -A pid_of

# Each process's output goes to its log file and, prefixed with its name, to this terminal.
start() {
  local name=$1; shift
  "$@" > >(tee -a "$state/logs/$name.log" | sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
  pid_of[$name]=$!
}

stop_all() {  # stop_all [EXIT_CODE]: 0 for Ctrl-C, non-zero when a process failed to start
  trap - INT TERM
  echo
  echo "[run] stopping..."
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do  # services first, the dev stack last
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  echo "[run] stopped"
  exit "${1:-0}"
}
trap 'stop_all 0' INT TERM

# How long a running service may take to answer (not counting a schema migration, which is waited out). A service that
# exits is reported at once; the limit is for one that hangs. Starting takes seconds on a quiet machine, over a minute
# when the two cores are shared with a test run.
start_limit=${INSIGHTS_START_TIMEOUT_SECONDS:-300}

wait_for() {  # wait_for NAME URL: until the URL answers 2xx, or the process died; a schema migration is waited out
  local name=$1 url=$2 pid=${pid_of[$1]} waited=0 since=$SECONDS said=$SECONDS started=$SECONDS answer
  while ((waited < start_limit)); do
    answer=$(curl -s -w '%{http_code}' "$url" 2>/dev/null) || answer=000
    [[ "${answer: -3}" == 2?? ]] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "[run] $name exited; see $state/logs/$name.log" >&2; stop_all 1; }
    if [[ "$answer" == *"migrating the ClickHouse schema"* ]]; then
      # a migration that rebuilds a table takes as long as copying it: not a hang
      if ((SECONDS - said >= 15)); then
        echo "[run] $name: migrating the ClickHouse schema, $((SECONDS - started)) s so far (rebuilding a table takes about a minute per 20 M events)"
        said=$SECONDS
      fi
    else
      waited=$((waited + SECONDS - since))
    fi
    since=$SECONDS
    sleep 0.1
  done
  echo "[run] $name did not answer at $url within $start_limit s (INSIGHTS_START_TIMEOUT_SECONDS); see $state/logs/$name.log" >&2
  stop_all 1
}

rm -f "$state/devstack.env"
start devstack dotnet "$bin/Insights.DevStack/$config/Insights.DevStack.dll" --data-dir "$state/clickhouse" --env-file "$state/devstack.env" \
  --clickhouse-port "${INSIGHTS_CLICKHOUSE_PORT:-8123}" --kafka-port "${INSIGHTS_KAFKA_PORT:-9092}"
for _ in $(seq 1 600); do
  [[ -f "$state/devstack.env" ]] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.1
done
[[ -f "$state/devstack.env" ]] || { echo "[run] the dev stack did not start; see $state/logs/devstack.log" >&2; stop_all 1; }
set -a; source "$state/devstack.env"; set +a

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"  # Development seeds the demo and load-test sites
export DOTNET_ENVIRONMENT="$ASPNETCORE_ENVIRONMENT"
quiet=(--Logging:LogLevel:Microsoft.AspNetCore=Warning --Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=Critical)  # no log line per request or readiness poll
export Kafka__BootstrapServers="$INSIGHTS_KAFKA_BOOTSTRAP"
# The dev stack's broker (librdkafka's mock) holds a fetch that finds nothing new for the consumer's whole
# fetch.wait.max.ms, even when messages arrive meanwhile (Kafka answers at once), so at Kafka's 500 ms every event waited
# up to half a second before the processors or the live list saw it; 50 ms gave the freshness of 20 ms for less of the
# broker thread's CPU (benchmarks/README.md, fourteenth round).
export Kafka__FetchWaitMaxMs="${Kafka__FetchWaitMaxMs:-50}"
# The engine is on loopback: compressing every insert and answer only spends CPU on both sides (a remote ClickHouse
# wants the driver's default, compression on).
clickhouse="Host=127.0.0.1;Port=${INSIGHTS_CLICKHOUSE_URL##*:};Username=default;Password=;Compression=${INSIGHTS_CLICKHOUSE_COMPRESSION:-false}"
export ClickHouse__ConnectionString="$clickhouse"
# Everything shares this machine's cores: report queries run niced, so a busy dashboard slows itself, not the 202s.
export QueryApi__QueryThreadPriority="${QueryApi__QueryThreadPriority:-10}"
# The dev stack's broker keeps 5 MiB per partition and drops older events, read or not: ingest answers 503 with
# Retry-After once the processors are 4 MiB behind on a partition (public keys from 90 % of it), instead of taking events
# the broker would lose (0 turns it off; production Kafka keeps its retention).
export Ingest__Backlog__MaxBytesPerPartition="${Ingest__Backlog__MaxBytesPerPartition:-4194304}"
# One control-plane file (sites, keys, people) for the three services, so a key revoked through one is refused by all.
export ControlPlane__DataDirectory="${ControlPlane__DataDirectory:-$state/control-plane}"

ingest="http://127.0.0.1:$ingest_port"
query="http://127.0.0.1:$query_port"
processors="http://127.0.0.1:$processors_port"
dashboards="http://127.0.0.1:$dashboards_port"
export People__PublicBaseUrl="${People__PublicBaseUrl:-$query}"  # the address mailed links (invitations, sign-in) point at
if [[ "$ASPNETCORE_ENVIRONMENT" == Development ]]; then
  export Alerts__AllowPrivateAddresses="${Alerts__AllowPrivateAddresses:-true}"  # alert receivers on this machine; production keeps them public
fi
start processors dotnet "$bin/Insights.Processors/$config/Insights.Processors.dll" --urls "$processors" "${quiet[@]}"
wait_for processors "$processors/readyz"
if $demo; then
  # The demo's history reaches a month back; ingest otherwise stamps events older than 7 days with their arrival time.
  export Ingest__MaxPastAge="${Ingest__MaxPastAge:-31.00:00:00}"
fi
# The other three start together once the processors have applied the schemas: none waits on another to start, so on a
# loaded machine their waits overlap instead of adding up (on a quiet one it is as fast either way: benchmarks/README.md,
# fifteenth round).
start ingest dotnet "$bin/Insights.Ingest/$config/Insights.Ingest.dll" --urls "$ingest" "${quiet[@]}"
start query-api dotnet "$bin/Insights.QueryApi/$config/Insights.QueryApi.dll" --urls "$query" "${quiet[@]}"
# The web app: a client of the query API; its cookie keys live in the state directory, so a restart keeps people signed in.
start dashboards dotnet "$bin/Insights.Dashboards/$config/Insights.Dashboards.dll" --urls "$dashboards" "${quiet[@]}" \
  --Dashboards:QueryApiUrl="$query" --Dashboards:KeysDirectory="$state/dashboards-keys" --Dashboards:IngestUrl="$ingest"
wait_for ingest "$ingest/healthz"
wait_for query-api "$query/healthz"
wait_for dashboards "$dashboards/healthz"

# The demo's sign-in, once per state directory: the partner and its admin's invitation through insights-admin init,
# accepted with a generated password, and the partner's clients provisioned through the partner API (demo-setup).
demo_account="$state/demo-account.json"
demo_tool=(dotnet "$bin/Insights.LoadGenerator/$config/Insights.LoadGenerator.dll")
sign_in="(none: see the [demo] lines above)"
demo_sites=()  # the seeded demo site only, unless the demo account is set up
if $demo; then
  setup=("${demo_tool[@]}" demo-setup --query "$query" --account "$demo_account")
  if [[ ! -f "$demo_account" ]]; then
    invited="$(dotnet "$bin/Insights.ControlPlane.Cli/$config/insights-admin.dll" init --partner "Northwind Digital (demo partner)" \
      --email demo@insights.example --base-url "$query" 2>&1)" || echo "[demo] the demo partner could not be created (delete $state for a fresh demo): $invited" >&2
    invitation="$(grep -o 'iin_[A-Za-z0-9_-]*' <<<"$invited" | head -n 1 || true)"
    [[ -n "$invitation" ]] && setup+=(--invitation "$invitation")
  fi
  if "${setup[@]}" 2>&1 | sed -u "s/^/[demo] /"; [[ ${PIPESTATUS[0]} -eq 0 ]]; then
    sign_in="$(sed -n 's/^ *"email": "\(.*\)",$/\1/p' "$demo_account") / $(sed -n 's/^ *"password": "\(.*\)",$/\1/p' "$demo_account")"
    demo_sites=(--account "$demo_account")
  fi
fi

cat <<INFO
[run] Insights is running:
[run]   dashboards  $dashboards/          (sign in as a person: scripts/admin.sh init, or the --demo sign-in)
[run]   ingest      $ingest/v1/events   (demo write key: demo-write-key-0001, server key: demo-server-key-0001)
[run]   query API   $query/docs        (demo read key:  demo-read-key-0001)
[run]   metrics     :$ingest_port/metrics :$query_port/metrics :$processors_port/metrics :$dashboards_port/metrics
[run]   ClickHouse  $INSIGHTS_CLICKHOUSE_URL   Kafka $INSIGHTS_KAFKA_BOOTSTRAP
[run]   accounts    $ControlPlane__DataDirectory   (first partner and its admin: scripts/admin.sh init --partner NAME --email ADDRESS)
INFO
if $demo; then
  cat <<INFO
[run]   dashboard   http://127.0.0.1:${INSIGHTS_DASHBOARDS_PORT:-8083}/
[run]   demo sign-in  $sign_in   (partner admin of three demo clients; $demo_account)
INFO
fi
echo "[run] Ctrl-C stops everything."

if $demo; then
  start demo "${demo_tool[@]}" demo --ingest "$ingest" --server-key demo-server-key-0001 --query "$query" --read-key demo-read-key-0001 \
    "${demo_sites[@]}" --history-days 30
fi
wait
