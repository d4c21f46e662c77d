#!/usr/bin/env bash
# Back office -> Commerce end to end: events/s from POST /ingestion/webhook,
# through the local durable bus (fsync before every 200), to the reference
# CommerceHandler, to a fake Commerce over loopback HTTP, all through one
# `commerce-kit serve`.
#
# wrk posts unique be-observer.catalog_product_create events for DURATION
# (each becomes POST /rest/all/V1/products, signed); the script then waits until
# the consumer has handled every event ingestion stored and reports, per Commerce
# latency (LATENCIES, default "0 20" ms) and auth (AUTHS, default "oauth1 ims"):
#   accepted events/s   = accepted / wrk duration
#   end-to-end events/s = handled / (first stored -> last handled), from the server's log timestamps
#   commerce calls      = calls the fake received (valid = signature or bearer verified)
#   IMS token requests  = token requests the fake IMS received during the run (expect 1)
# The fake Commerce is bins/commerce-kit/examples/fake-commerce.rs
# (commerce-api's FakeCommerce, which verifies every OAuth 1.0a signature).
# Env: CONNS (default 64), DURATION (default 10s), EVENTS_CONCURRENCY for the
# server (default: the server's, 32), LOG_LEVEL for the server (default info:
# the per-event log lines are what is counted).
source "$(dirname "$0")/lib.sh"

CONNS="${CONNS:-64}"
DURATION="${DURATION:-10s}"
LATENCIES="${LATENCIES:-0 20}"
AUTHS="${AUTHS:-oauth1 ims}"
LUA="$BENCH_DIR/ingestion-post.lua"
SECS="${DURATION%s}"

ensure_wrk
echo "building release binaries..." >&2
build_release -p commerce-kit --bin commerce-kit --example fake-commerce
BIN="$ROOT/target/release"
bench_workdir

echo "machine: $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t2 -c$CONNS -d$DURATION; EVENTS_CONCURRENCY=${EVENTS_CONCURRENCY:-default}"

run_case() {
  local latency="$1" auth="$2" label="commerce-${1}ms-$2"
  local dir="$WORK/$label" log="$OUT/$label.log" fake_log="$OUT/$label-fake.log"
  mkdir -p "$dir"
  start_server "fake-commerce-$label" "$fake_log" "$BIN/examples/fake-commerce" "$latency" "$auth"
  local fake_pid="$PID" commerce="http://127.0.0.1:$PORT/"
  local -a env=(COMMERCE_BASE_URL="$commerce")
  local ims=""
  if [ "$auth" = ims ]; then
    ims=$(grep -o "ims on http://[0-9.]*:[0-9]*" "$fake_log" | head -1 | sed 's/^ims on //')
    env+=(COMMERCE_IMS_CLIENT_ID=fake-client-id COMMERCE_IMS_CLIENT_SECRET=fake-client-secret IMS_BASE_URL="$ims")
  else
    env+=(COMMERCE_CONSUMER_KEY=bench-ck COMMERCE_CONSUMER_SECRET=bench-cs
      COMMERCE_ACCESS_TOKEN=bench-at COMMERCE_ACCESS_TOKEN_SECRET=bench-ats)
  fi
  [ -n "${EVENTS_CONCURRENCY:-}" ] && env+=(EVENTS_CONCURRENCY="$EVENTS_CONCURRENCY")
  start_server "serve-$label" "$log" env -C "$dir" LOG_LEVEL="${LOG_LEVEL:-info}" "${env[@]}" \
    "$BIN/commerce-kit" serve --listen 127.0.0.1:0 --data-dir "$dir/data"
  local pid="$PID"
  grep -q 'back-office events are written to Commerce' "$log" || { echo "serve did not wire the Commerce handler:" >&2; cat "$log" >&2; return 1; }

  run_wrk "$label" "http://127.0.0.1:$PORT/ingestion/webhook" "$LUA" "$CONNS" "$DURATION"
  local accepted rss tokens="n/a"
  accepted=$(wrk_accepted "$OUT/wrk-$label.txt")
  drain "$log" "http://127.0.0.1:$PORT"
  rss=$(peak_rss_mb "$pid")
  if [ -n "$ims" ]; then
    tokens=$(curl -s "$ims/stats" | sed -n 's/.*"token_requests":\([0-9]*\).*/\1/p')
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  kill -TERM "$fake_pid"; wait "$fake_pid" 2>/dev/null || true
  local dead calls
  dead=$(grep -c 'parked in the dead-letter list' "$log" || true)
  calls=$(grep -o 'calls=.*' "$fake_log" | tail -1)
  printf '  %-20s accepted=%s (%s/s)  stored=%s  handled=%s  end-to-end events/s=%s over %ss  dead letters=%s  IMS token requests=%s  fake: %s  serve peak RSS %s MiB\n' \
    "$label" "$accepted" "$(per_second "$accepted" "$SECS")" "$STORED" "$HANDLED" \
    "$(per_second "$HANDLED" "$SPAN")" "$SPAN" "$dead" "$tokens" "$calls" "$rss"
}

echo "end to end: ingestion -> local durable bus -> CommerceHandler -> fake Commerce"
for latency in $LATENCIES; do
  for auth in $AUTHS; do
    run_case "$latency" "$auth"
  done
done
echo "(logs: $OUT/commerce-*.log; raw wrk output: $OUT/wrk-commerce-*.txt; figures on a shared machine vary from run to run)"
