#!/usr/bin/env bash
# Shared helpers for the benchmark scripts in bench/. Source it; do not run it.
# Every server is started on 127.0.0.1:0 and its port read from its
# "listening on http://IP:PORT" line.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OUT="${BENCH_OUT:-$BENCH_DIR/out}"
mkdir -p "$OUT"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# bench_workdir : creates $WORK, a temporary directory for the servers' data
# and working directory (so a benchmark never creates ./data in the repository
# nor reads its .env), removed at exit after the servers are stopped.
bench_workdir() {
  WORK="$(mktemp -d)"
  trap 'cleanup; rm -rf "$WORK"' EXIT
}

ensure_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (Debian package)..." >&2
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi
  fi
}

build_release() {
  (cd "$ROOT" && cargo build --release --quiet "$@")
}

# start_server NAME LOGFILE CMD... : starts CMD in the background, waits for its
# listening line, sets $PORT and $PID. Logs go to LOGFILE.
start_server() {
  local name="$1" log="$2"; shift 2
  "$@" >"$log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 200); do
    if grep -q "listening on http://" "$log" 2>/dev/null; then
      PORT=$(grep -o "listening on http://[0-9.]*:[0-9]*" "$log" | head -1 | sed 's/.*://')
      echo "$name: pid $PID, port $PORT" >&2
      return 0
    fi
    if ! kill -0 "$PID" 2>/dev/null; then echo "$name exited early:" >&2; cat "$log" >&2; return 1; fi
    sleep 0.05
  done
  echo "$name did not report a listening address" >&2; cat "$log" >&2; return 1
}

# peak_rss_mb PID : peak resident set size (VmHWM) in MiB.
peak_rss_mb() {
  awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"
}

# wrk_cmd ARGS... : wrk with $WRK_THREADS threads (default 2), prefixed by the
# $WRK_PIN command (e.g. "taskset -c 1") when set.
wrk_cmd() {
  # shellcheck disable=SC2086 # WRK_PIN is a command prefix, split on purpose
  ${WRK_PIN:-} wrk -t"${WRK_THREADS:-2}" "$@"
}

# cpu_ticks PID : the user + system clock ticks PID has used so far (fields 14
# and 15 of /proc/PID/stat, counted after the parenthesised command name).
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# run_wrk LABEL URL LUA_SCRIPT [CONNECTIONS] [DURATION] : prints one result line
# "LABEL req/s=… p50_ms=… p99_ms=…" and stores wrk's raw output in $OUT.
# With CPU_PIDS="NAME=PID …" set, also prints the CPU time (user + system) each
# of those processes and wrk itself spent per request during the run, and sets
# LAST_CPU_US to the sum (the whole machine's CPU cost of one request).
run_wrk() {
  local label="$1" url="$2" script="$3" conns="${4:-64}" dur="${5:-10s}"
  local raw="$OUT/wrk-$label.txt"
  local -a names=() pids=() before=()
  local entry
  for entry in ${CPU_PIDS:-}; do
    names+=("${entry%%=*}") pids+=("${entry#*=}") before+=("$(cpu_ticks "${entry#*=}")")
  done
  local TIMEFORMAT='%U %S'
  { time wrk_cmd -c"$conns" -d"$dur" --latency -s "$script" "$url" >"$raw"; } 2>"$raw.cpu"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$raw")
  p50=$(awk '$1=="50%" {print $2}' "$raw")
  p99=$(awk '$1=="99%" {print $2}' "$raw")
  errors=$(grep -E "Non-2xx|Socket errors" "$raw" | tr '\n' ' ' || true)
  printf '%-28s req/s=%-10s p50=%-9s p99=%-9s %s\n' "$label" "$rps" "$p50" "$p99" "$errors"
  LAST_RPS="$rps"
  LAST_P99_MS=$(to_ms "$p99")
  LAST_CPU_US="" LAST_CPU_LINE=""
  [ "${#pids[@]}" -gt 0 ] || return 0
  local requests tick i line="" us total
  requests=$(awk '/requests in/ {print $1}' "$raw")
  tick=$(getconf CLK_TCK)
  total=$(awk -v n="$requests" '{printf "%.2f", ($1 + $2) * 1e6 / n}' "$raw.cpu")
  line="wrk=$total"
  for i in "${!pids[@]}"; do
    us=$(awk -v d="$(($(cpu_ticks "${pids[$i]}") - before[i]))" -v t="$tick" -v n="$requests" \
      'BEGIN {printf "%.2f", d * 1e6 / t / n}')
    line="$line ${names[$i]}=$us"
    total=$(awk -v a="$total" -v b="$us" 'BEGIN {printf "%.2f", a + b}')
  done
  printf '%-28s CPU us/request: %s total=%s\n' "" "$line" "$total"
  LAST_CPU_US="$total" LAST_CPU_LINE="$line"
}

# cpu_of NAME : NAME's CPU us per request in the last run_wrk with CPU_PIDS.
cpu_of() {
  printf '%s\n' ${LAST_CPU_LINE:-} | awk -F= -v n="$1" '$1 == n {print $2}'
}

# to_ms LATENCY : wrk's latency figure (850.00us, 1.20ms, 2.00s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

# median NUMBERS... : the median (the mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B : A/B with 2 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# --- end to end through `commerce-kit serve` (e2e.sh, commerce-sync.sh) ---

# ts LINE : epoch seconds (with fractions) of a log line's leading RFC 3339 timestamp.
ts() { date -d "$(cut -d' ' -f1 <<<"$1")" +%s.%N; }

# wrk_accepted RAW : the 2xx answers of a wrk run (its output file).
wrk_accepted() {
  local total non2xx
  total=$(awk '/requests in/ {print $1}' "$1")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$1"); non2xx="${non2xx:-0}"
  echo $((total - non2xx))
}

# drain LOG BASE_URL : waits (at most DRAIN_SECS, 300) until the server's
# consumer has handled every event its ingestion stored, then sets STORED (the
# journal's head, from the server's /metrics: exact, where wrk misses requests
# still in flight when it stops and the log misses events stored for a client
# that hung up before the answer), HANDLED (the consumer's log lines) and SPAN
# (seconds from the first stored to the last handled event, from the log).
drain() {
  local log="$1" base="$2" first last
  for _ in $(seq 1 $(( ${DRAIN_SECS:-300} * 10 ))); do
    STORED=$(curl -s "$base/metrics" | awk '$1 == "commerce_kit_bus_head" {printf "%d", $2}')
    HANDLED=$(grep -c 'local bus event .*outcome="handled"' "$log" || true)
    [ -n "$STORED" ] && [ "$HANDLED" -ge "$STORED" ] && break
    sleep 0.1
  done
  first=$(grep -m1 'outcome="stored"' "$log")
  last=$(grep 'local bus event .*outcome="handled"' "$log" | tail -1)
  SPAN=$(awk -v a="$(ts "$first")" -v b="$(ts "$last")" 'BEGIN {printf "%.3f", b - a}')
  [ "$HANDLED" -ge "${STORED:-0}" ] || echo "  WARNING: the consumer handled $HANDLED of ${STORED:-?} stored events within ${DRAIN_SECS:-300} s (the rest is still in the journal: the figures cover what was handled)" >&2
}

# per_second N SECS : N / SECS rounded, or n/a.
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "n/a" }'; }
