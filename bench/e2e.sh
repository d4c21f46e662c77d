#!/usr/bin/env bash
# End to end on the embedded default: events/s from POST /ingestion/webhook,
# through the local durable bus (fsync before every 200), to the consumer's
# handler, all in one `commerce-kit serve`.
#
# wrk posts unique product-create events for DURATION; then the script waits
# until the consumer has handled every event ingestion stored and reports
#   accepted events/s  = accepted / wrk duration
#   end-to-end events/s = handled / (first stored -> last handled), from the server's own log timestamps
# for two handlers: the default logging handler, and the forwarding handler
# POSTing each event to a back office (the bare server in --back-office mode,
# answering after BACK_OFFICE_LATENCY_MS).
#
# The events are updates of KEYS products, so several events share an ordering
# key; the back office records the order calls reach it, and the script checks
# it against the journal offsets (from the server's log): per-key inversions
# (an event reaching the back office before an earlier one of its product),
# events lost (accepted, never handled) and duplicates are printed, with the
# back office's maximum concurrency and the server's peak RSS.
# Env: CONNS (default 64), DURATION (default 10s), LOG_LEVEL for the server (default info), DRAIN_SECS (default 300),
#      BACK_OFFICE_LATENCY_MS (default 0), KEYS (default 200), EVENTS_CONCURRENCY (server default 32),
#      MODES (default "logging forwarding").
source "$(dirname "$0")/lib.sh"

CONNS="${CONNS:-64}"
DURATION="${DURATION:-10s}"
LUA="$BENCH_DIR/e2e-keys.lua"
LATENCY="${BACK_OFFICE_LATENCY_MS:-0}"
export KEYS="${KEYS:-200}"
SECS="${DURATION%s}"

ensure_wrk
echo "building release binaries..." >&2
build_release -p commerce-kit -p bench-bare-server
BIN="$ROOT/target/release"
WORK="$(mktemp -d)"
trap 'cleanup; rm -rf "$WORK"' EXIT

echo "machine: $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t2 -c$CONNS -d$DURATION; $KEYS products; back office latency ${LATENCY} ms; EVENTS_CONCURRENCY ${EVENTS_CONCURRENCY:-32 (default)}"

RECORD="$WORK/back-office-calls.txt"
start_server back-office "$OUT/e2e-back-office.log" "$BIN/bench-bare-server" 127.0.0.1:0 --back-office "$LATENCY" "$RECORD"
BACK_OFFICE="http://127.0.0.1:$PORT/events"

run_mode() {
  local mode="$1"; shift
  local dir="$WORK/$mode" log="$OUT/e2e-$mode.log"
  mkdir -p "$dir"
  start_server "serve-$mode" "$log" env -C "$dir" LOG_LEVEL="${LOG_LEVEL:-info}" "$@" \
    "$BIN/commerce-kit" serve --listen 127.0.0.1:0 --data-dir "$dir/data"
  local pid="$PID"
  run_wrk "e2e-$mode" "http://127.0.0.1:$PORT/ingestion/webhook" "$LUA" "$CONNS" "$DURATION"
  local accepted
  accepted=$(wrk_accepted "$OUT/wrk-e2e-$mode.txt")
  drain "$log" "http://127.0.0.1:$PORT"
  local rss
  rss=$(peak_rss_mb "$pid")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local dead
  dead=$(grep -c 'parked in the dead-letter list' "$log" || true)
  printf '  %-10s accepted=%s (%s/s)  stored=%s  handled=%s  end-to-end events/s=%s over %ss  dead letters=%s  peak RSS %s MiB\n' \
    "$mode" "$accepted" "$(per_second "$accepted" "$SECS")" "$STORED" "$HANDLED" \
    "$(per_second "$HANDLED" "$SPAN")" "$SPAN" "$dead" "$rss"
  if [ "$mode" = forwarding ]; then
    # offsets of the stored events (from the consumer's log lines), then the
    # back office's calls in arrival order: per product, offsets must rise
    local order
    order=$(grep 'local bus event .*outcome="handled"' "$log" \
      | grep -o 'offset=[0-9]* .*event_id=[^ ]*' | sed -E 's/offset=([0-9]+) .*event_id=([^ ]+)/\2 \1/' \
      | awk -v calls="$RECORD" -v accepted="$STORED" '
          { offset[$1] = $2 }
          END {
            while ((getline line < calls) > 0) {
              split(line, f, " "); sku = f[1]; id = f[2]; n++
              if (id in seen) { dup++; continue }
              seen[id] = 1; got++
              if (!(id in offset)) { unknown++; continue }
              if (sku in last && offset[id] < last[sku]) inv++
              last[sku] = offset[id]
            }
            printf "back office: %d calls, %d distinct events (%d stored: %d not received by the end of the wait), %d repeated, %d per-key inversions, %d without a log line", \
              n, got, accepted, (accepted > got ? accepted - got : 0), dup, inv, unknown
          }')
    printf '  %-10s %s; max in flight %s\n' "" "$order" "$(grep -o 'max in flight [0-9]*' "$OUT/e2e-back-office.log" | tail -1 | awk '{print $NF}')"
    : >"$RECORD"
  fi
}

echo "end to end: ingestion -> local durable bus -> handler"
for mode in ${MODES:-logging forwarding}; do
  case "$mode" in
    logging) run_mode logging ${EVENTS_CONCURRENCY:+EVENTS_CONCURRENCY="$EVENTS_CONCURRENCY"} ;;
    forwarding) run_mode forwarding EVENTS_FORWARD_URL="$BACK_OFFICE" ${EVENTS_CONCURRENCY:+EVENTS_CONCURRENCY="$EVENTS_CONCURRENCY"} ;;
    *) echo "unknown mode $mode (logging, forwarding)" >&2; exit 2 ;;
  esac
done
echo "(logs: $OUT/e2e-*.log; raw wrk output: $OUT/wrk-e2e-*.txt; figures on a shared machine vary from run to run)"
