#!/usr/bin/env bash
# Every issue-12 figure this machine can give, with its target and PASS/MISS, in one table, on a system started by
# scripts/run.sh (Release: CONFIGURATION=Release scripts/run.sh). In order:
#   1. bare Kestrel (reads each body, answers 202): the HTTP ceiling of the machine;
#   2. processors paused (SIGSTOP, shorter than the consumer session timeout), a raw producer pushes ingest-encoded
#      events straight to the broker (the broker's ceiling); then the processors resume and drain that backlog;
#   3. processors paused again, ingest alone unthrottled (compared with 2); the processors drain that backlog too
#      (the drain rate with full enrichment, sessions and attribution, per stage, and the CPU per event of each process);
#   4. end to end at 5,000, 10,000 and 30,000 events/s offered for the long duration each: ingest HTTP latency,
#      freshness (202 → counted by the query API) and the exact count (acknowledged page views = counted).
# Ingest's RSS is sampled throughout; the processors' RSS is stated per 100,000 visitors held in memory.
# Usage: benchmarks/run-load.sh [long duration per rate (5m)] [seconds of steps 1-3 (5)]
# Environment: INSIGHTS_INGEST_PORT [8080], INSIGHTS_QUERY_PORT [8081], INSIGHTS_PROCESSORS_PORT [8082],
# INSIGHTS_STATE_DIR [.devstack] (where run.sh wrote devstack.env), INSIGHTS_BARE_PORT [8090], CONFIGURATION [Release],
# RATES ["5000 10000 30000"].
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
long="${1:-5m}"
short="${2:-5}"
config="${CONFIGURATION:-Release}"
rates=(${RATES:-5000 10000 30000})
ingest="http://127.0.0.1:${INSIGHTS_INGEST_PORT:-8080}"
query="http://127.0.0.1:${INSIGHTS_QUERY_PORT:-8081}"
processors_port="${INSIGHTS_PROCESSORS_PORT:-8082}"
state="${INSIGHTS_STATE_DIR:-$repo/.devstack}"
kafka="$(sed -n 's/^INSIGHTS_KAFKA_BOOTSTRAP=//p' "$state/devstack.env" 2>/dev/null || true)"
load=(dotnet "$repo/artifacts/bin/Insights.LoadGenerator/${config,,}/Insights.LoadGenerator.dll")
work="$(mktemp -d)"
trap 'kill "${sampler:-}" 2>/dev/null || true; [[ -n "${processors_pid:-}" ]] && kill -CONT "$processors_pid" 2>/dev/null; rm -rf "$work"' EXIT

pid_on() { ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
ingest_pid="$(pid_on "${INSIGHTS_INGEST_PORT:-8080}")"
processors_pid="$(pid_on "$processors_port")"
[[ -n "$ingest_pid" && -n "$processors_pid" && -n "$kafka" ]] || {
  echo "run-load: start the system first (CONFIGURATION=Release scripts/run.sh); no ingest/processors/devstack.env found" >&2; exit 1; }
[[ -f "${load[1]}" ]] || { echo "run-load: build the load generator first (dotnet build -c $config)" >&2; exit 1; }

metric() {  # metric NAME [LABEL-FILTER]: a processors metric's value (sum over series matching the filter)
  curl -sf "http://127.0.0.1:$processors_port/metrics" | awk -v name="$1" -v filter="${2:-}" \
    'index($0, name) == 1 && (filter == "" || index($0, filter)) { sum += $NF } END { printf "%.0f", sum + 0 }'
}
stage_sum() { curl -sf "http://127.0.0.1:$processors_port/metrics" | awk -v name="insights_$1_stage_duration_seconds_sum" -v s="stage=\"$2\"" \
    'index($0, name) == 1 && index($0, s) { v = $NF } END { printf "%.6f", v + 0 }'; }
val() { sed -n "s/^$2=//p" "$1"; }
gc_state() {  # the processors' collections of gen0, gen1, gen2 and their GC pause seconds so far (the runtime's own counters)
  curl -sf "http://127.0.0.1:$processors_port/metrics" | awk '
    index($0, "dotnet_gc_collections_total") == 1 { for (g = 0; g <= 2; g++) if (index($0, "gc_heap_generation=\"gen" g "\"")) c[g] = $NF }
    index($0, "dotnet_gc_pause_time_seconds_total") == 1 { p = $NF }
    END { printf "%d %d %d %.3f", c[0], c[1], c[2], p }'
}
rss_mb() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$1/status"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
devstack_pid="$(sed -n 's/^INSIGHTS_DEVSTACK_PID=//p' "$state/devstack.env" 2>/dev/null || true)"
broker_cpu() {  # CPU seconds so far of the dev stack's broker thread (librdkafka's mock, "rdk:mock"); empty if none
  local t
  [[ -n "$devstack_pid" ]] || return 0
  for t in /proc/"$devstack_pid"/task/*; do
    [[ "$(cat "$t/comm" 2>/dev/null)" == rdk:mock ]] && { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "$t/stat"; return 0; }
  done
  return 0
}

query_pid="$(pid_on "${INSIGHTS_QUERY_PORT:-8081}")"
# CPU ticks of a process, or of those of its threads named NAME (threads that ended are not counted). The fields after the
# name in parentheses, which may hold spaces: utime and stime are the 12th and 13th.
ticks() {  # ticks PID [THREAD-NAME]
  local t n sum=0
  [[ -n "$1" && -d "/proc/$1" ]] || { echo 0; return 0; }
  if [[ -z "${2:-}" ]]; then n=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true); echo "${n:-0}"; return 0; fi
  for t in /proc/"$1"/task/*; do
    [[ "$(cat "$t/comm" 2>/dev/null)" == "$2" ]] || continue
    n=$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{ print $12 + $13 }' || true); sum=$((sum + ${n:-0}))
  done
  echo "$sum"
}
# Where a drain's CPU goes, in this order: the processors (their server GC, the runtime's tiered JIT), the query API (live
# presence), the dev stack (the engine's query and insert threads, its merges, the broker).
cpu_split() {
  echo "$(ticks "$processors_pid") $(ticks "$processors_pid" ".NET Server GC") $(ticks "$processors_pid" ".NET Tiered Com")" \
    "$(ticks "$query_pid") $(ticks "$devstack_pid") $(ticks "$devstack_pid" ThreadPool) $(ticks "$devstack_pid" MergeMutate) $(ticks "$devstack_pid" rdk:mock)"
}

rows=()
row() { rows+=("$1|$2|$3|$4"); }  # row FIGURE MEASURED TARGET VERDICT
verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }

# Ingest's peak RSS over the whole run.
( peak=0; while kill -0 "$ingest_pid" 2>/dev/null; do
    rss=$(rss_mb "$ingest_pid"); ((rss > peak)) && peak=$rss; echo "$peak" >"$work/ingest-peak-rss"; sleep 0.5; done ) &
sampler=$!

start_load="$(loadavg)"
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB, load average $start_load; long runs $long, short steps ${short}s"

echo "== 1. bare Kestrel baseline, ${short}s unthrottled"
"${load[@]}" bare --port "${INSIGHTS_BARE_PORT:-8090}" >/dev/null 2>&1 &
bare=$!
# Until it listens, not a fixed 2 s: a guess a busy machine can lose (a CI run at load average 35 stopped in this step).
for _ in $(seq 1 120); do [[ -n "$(pid_on "${INSIGHTS_BARE_PORT:-8090}")" ]] && break; sleep 0.25; done
"${load[@]}" load --ingest "http://127.0.0.1:${INSIGHTS_BARE_PORT:-8090}" --query none --duration "${short}s" --no-progress --summary "$work/bare" >/dev/null
kill -TERM $bare; wait $bare 2>/dev/null || true
row "bare Kestrel, unthrottled (HTTP ceiling)" "$(val "$work/bare" accepted_per_second) ev/s" "—" "—"

# Pauses the processors (no consumer makes progress; SIGSTOP shorter than the session timeout keeps the group),
# runs "$@", resumes them, and times the drain of what "$@" produced: every batch written and attributed.
drain() {
  local name=$1; shift
  local before_p n t0 t_first="" t1 p split0 split1 gc0 gc1
  before_p=$(metric insights_processors_events_consumed_total)
  for stage in decode enrich sessions rows insert_events insert_sessions publish; do echo "$(stage_sum processors $stage)" >"$work/stage-p-$stage"; done
  for stage in prepare load compute write; do echo "$(stage_sum attribution $stage)" >"$work/stage-a-$stage"; done
  gc0=$(gc_state)  # read before the pause: a stopped process does not answer
  kill -STOP "$processors_pid"
  "$@" | grep -v '[│┌└├]' || true  # the load's own table is summarised below
  n=$(val "$work/$name" accepted)
  split0=$(cpu_split)
  t0=$(date +%s.%N)
  kill -CONT "$processors_pid"
  while :; do
    p=$(( $(metric insights_processors_events_consumed_total) - before_p ))
    [[ -z "$t_first" && $p -gt 0 ]] && t_first=$(date +%s.%N)
    # Consumed is counted when a batch starts; a batch is done when the last step of each of its two branches is timed
    # (the writer: publish; attribution, beside it: write), so the drain is over when every batch started has both.
    (( p >= n )) \
      && (( $(metric insights_processors_stage_duration_seconds_count 'stage="publish"') >= $(metric insights_processors_batch_size_count) )) \
      && (( $(metric insights_attribution_stage_duration_seconds_count 'stage="write"') >= $(metric insights_processors_batch_size_count) )) && break
    (( $(date +%s) - ${t0%.*} > 900 )) && { echo "run-load: the processors did not drain $n events in 15 minutes" >&2; break; }
    sleep 0.2
  done
  t1=$(date +%s.%N)
  split1=$(cpu_split)
  gc1=$(gc_state)
  # From the first consumed batch: a rejoin after the pause is not the drain's work.
  awk -v n="$n" -v t0="${t_first:-$t0}" -v t1="$t1" -v c="$(( ${split1%% *} - ${split0%% *} ))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "events=%d\nseconds=%.1f\nrate=%.0f\ncpu_us_per_event=%.1f\n", n, t1 - t0, n / (t1 - t0), c / hz * 1e6 / n }' >"$work/drain-$name"
  local stages=""
  for stage in decode enrich sessions rows insert_events insert_sessions publish; do
    stages+=" $stage $(awk -v a="$(cat "$work/stage-p-$stage")" -v b="$(stage_sum processors $stage)" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
  done
  stages+=" | attribution:"
  for stage in prepare load compute write; do
    stages+=" $stage $(awk -v a="$(cat "$work/stage-a-$stage")" -v b="$(stage_sum attribution $stage)" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')"
  done
  echo "$stages" >"$work/stages-$name"
  awk -v a="$split0" -v b="$split1" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " "); for (i = 1; i <= 8; i++) d[i] = (y[i] - x[i]) / hz * 1e6 / n
    printf "together %.1f µs: processors %.1f (server GC %.1f, JIT %.1f), query API %.1f, dev stack %.1f (engine queries and inserts %.1f, merges %.1f, broker %.1f)\n",
      d[1] + d[4] + d[5], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8] }' >"$work/split-$name"
  echo "   drained $n events in $(val "$work/drain-$name" seconds) s = $(val "$work/drain-$name" rate) ev/s;" \
    "processors CPU $(val "$work/drain-$name" cpu_us_per_event) µs/event; wall µs/event per stage: processors:$stages"
  echo "   CPU per event over the drain, by process: $(cat "$work/split-$name")"
  # A third of the processors' CPU in a drain is their collector's: how often it ran and how long it stopped them.
  awk -v a="$gc0" -v b="$gc1" -v s="$(val "$work/drain-$name" seconds)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "   the processors'"'"' GC over the drain: %d gen0, %d gen1, %d gen2 collections; paused %.2f s (%.0f %% of the drain)\n",
      y[1] - x[1], y[2] - x[2], y[3] - x[3], y[4] - x[4], (s > 0 ? (y[4] - x[4]) * 100 / s : 0) }'
}

# A paused group's backlog must fit what the dev stack's broker keeps (5 MiB per partition, 12 partitions of
# insights.events: ~60 MiB, ~385,000 events); past it the oldest would be dropped unseen, so each step stops at 250,000.
cap=250000
echo "== 2. raw producer to the broker (${short}s or $cap events, processors paused), then the processors drain it"
drain raw "${load[@]}" produce --kafka "$kafka" --duration "${short}s" --max-events "$cap" --summary "$work/raw"
# Ingest has served nothing yet. Step 3 is to time ingest as it runs for hours, not the runtime's tiered JIT: after 3 s of
# traffic ingest still spent 18.5 µs of CPU per event and reached 0.62 of the raw producer, after 30 s 12.0 µs and 0.82
# (benchmarks/README.md, ninth round). Then 10 s for the processors to consume the warm-up, so the drain below is only
# step 3's backlog.
"${load[@]}" load --ingest "$ingest" --query none --rate 5000 --duration 30s --no-progress >/dev/null || true
sleep 10
echo "== 3. ingest alone (${short}s or $cap events unthrottled, processors paused), then the processors drain it"
drain ingest "${load[@]}" load --ingest "$ingest" --query none --duration "${short}s" --max-events "$cap" --no-progress --summary "$work/ingest"
raw_rate=$(val "$work/raw" accepted_per_second); ingest_rate=$(val "$work/ingest" accepted_per_second)
ratio=$(awk -v a="$ingest_rate" -v b="$raw_rate" 'BEGIN { printf "%.2f", a / b }')
row "raw producer to the same broker (ceiling)" "$raw_rate ev/s" "—" "—"
row "ingest alone, unthrottled (processors paused)" "$ingest_rate ev/s = $ratio × ceiling (HTTP p99 $(val "$work/ingest" http_p99_ms) ms)" "≥ 0.8 × ceiling" "$(verdict "$ratio >= 0.8")"
drain_rate=$(val "$work/drain-ingest" rate)
row "processors drain (enrich, sessions, attribution), ingest's backlog" \
  "$drain_rate ev/s ($(val "$work/drain-ingest" events) events, $(val "$work/drain-ingest" cpu_us_per_event) µs CPU/event)" "≥ 50,000 ev/s" "$(verdict "$drain_rate >= 50000")"
row "CPU per event of that drain, by process" "$(cat "$work/split-ingest")" "≤ 40 µs (50,000 ev/s on 2 cores)" \
  "$(verdict "$(awk '{ print $2 }' "$work/split-ingest") <= 40")"
row "processors drain, raw producer's backlog" "$(val "$work/drain-raw" rate) ev/s ($(val "$work/drain-raw" events) events)" "≥ 50,000 ev/s" "$(verdict "$(val "$work/drain-raw" rate) >= 50000")"

for rate in "${rates[@]}"; do
  echo "== 4. end to end at $rate ev/s for $long (freshness polled every 250 ms, exact count at the end)"
  broker0=$(broker_cpu)
  "${load[@]}" load --ingest "$ingest" --query "$query" --rate "$rate" --duration "$long" --settle 300s --no-progress --summary "$work/e2e-$rate" >/dev/null || true
  broker1=$(broker_cpu)
  # The mock broker answers produce and fetch on one thread and walks a partition's log per fetch (benchmarks/README.md).
  [[ -n "$broker0" && -n "$broker1" ]] && echo "   the dev stack's broker thread used $(awk -v a="$broker0" -v b="$broker1" 'BEGIN { printf "%.1f", b - a }') s of CPU during this step"
  s="$work/e2e-$rate"
  ack=$(val "$s" acknowledged_page_views); counted=$(val "$s" counted_page_views)
  exact=$([[ "$ack" == "$counted" && $(val "$s" settled) == 1 && $(val "$s" transport_errors) == 0 ]] && echo PASS || echo MISS)
  echo "   accepted $(val "$s" accepted_per_second) ev/s, HTTP p50/p95/p99 $(val "$s" http_p50_ms)/$(val "$s" http_p95_ms)/$(val "$s" http_p99_ms) ms," \
    "freshness p50/p95 $(val "$s" freshness_p50_s)/$(val "$s" freshness_p95_s) s, page views acknowledged $ack / counted $counted"
  row "@$rate: exactness (page views acknowledged = counted)" "$ack / $counted" "equal" "$exact"
  case $rate in
    5000)
      row "@5,000: ingest HTTP p99" "$(val "$s" http_p99_ms) ms" "≤ 50 ms" "$(verdict "$(val "$s" http_p99_ms) <= 50")"
      row "@5,000: freshness p95" "$(val "$s" freshness_p95_s) s" "≤ 1.5 s" "$(verdict "$(val "$s" freshness_p95_s) <= 1.5")" ;;
    10000)
      row "@10,000: freshness p95" "$(val "$s" freshness_p95_s) s" "≤ 3 s" "$(verdict "$(val "$s" freshness_p95_s) <= 3")" ;;
    30000)
      row "@30,000: sustained accepted (99 % of offered)" "$(val "$s" accepted_per_second) ev/s" "≥ 30,000 ev/s" "$(verdict "$(val "$s" accepted_per_second) >= 29700")"
      row "@30,000: freshness p95" "$(val "$s" freshness_p95_s) s" "≤ 10 s" "$(verdict "$(val "$s" freshness_p95_s) <= 10")" ;;
  esac
done

visitors=$(metric insights_processors_sessions_visitors_in_memory)
processors_rss=$(rss_mb "$processors_pid")
per=$(awk -v r="$processors_rss" -v v="$visitors" 'BEGIN { if (v > 0) printf "%.0f MB per 100,000 visitors", r * 100000 / v; else print "n/a" }')
row "processors RSS" "$processors_rss MB with $visitors visitors in memory ($per)" "stated" "—"
peak=$(cat "$work/ingest-peak-rss")
row "ingest peak RSS" "$peak MB" "≤ 400 MB" "$(verdict "$peak <= 400")"
row "reports p95 under 5,000 ev/s" "not measured here (the load generator's report-latency mode)" "< 100 ms" "—"

echo
echo "== issue 12 figures ($(nproc) cores, load average $start_load at the start, $(loadavg) at the end; long runs $long)"
printf '%s\n' "${rows[@]}" | awk -F'|' '
  { for (i = 1; i <= 4; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
  END {
    fmt = "%-" w[1] "s  %-" w[2] "s  %-" w[3] "s  %s\n"
    printf fmt, "figure", "measured", "target", "verdict"
    for (r = 1; r <= NR; r++) printf fmt, cell[r, 1], cell[r, 2], cell[r, 3], cell[r, 4]
  }'
