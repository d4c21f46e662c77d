#!/usr/bin/env bash
# Benchmark: check-stock (`commerce-kit serve`, built-in demo inventory, default
# info logging to a file) against the bare constant-response server, in the same
# run, with wrk POSTing a 3-item cart. Prints req/s, p50/p99, peak RSS and ratios.
#
#   bench/check-stock.sh                 # 64 connections, 2 threads, 10 s each
#   BENCH_DURATION=30s BENCH_CONNECTIONS=128 bench/check-stock.sh
#
# Targets: >= 0.85x bare req/s, p99 <= 1.5 ms at 64 connections, peak RSS <= 20 MB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${BENCH_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-64}"
SCRIPT="$BENCH_DIR/check-stock.lua"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

ensure_wrk
echo "building release binaries..." >&2
build_release -p commerce-kit -p bench-bare-server
bench_workdir

start_server bare "$OUT/bare.log" "$BIN/bench-bare-server" 127.0.0.1:0
BARE_PID=$PID BARE_PORT=$PORT
# A clean environment for the flow's settings: the embedded default (demo
# inventory), run in a temporary directory holding its local bus (DATA_DIR).
start_server check-stock "$OUT/check-stock.log" env -C "$WORK" -u INVENTORY_FILE -u STOCK_CHECKER_URL \
  -u COMMERCE_WEBHOOK_PUBLIC_KEY -u COMMERCE_WEBHOOK_PUBLIC_KEY_FILE -u LOG_LEVEL -u RUST_LOG -u DATA_DIR \
  "$BIN/commerce-kit" serve --listen 127.0.0.1:0 --data-dir "$WORK/data"
CK_PID=$PID CK_PORT=$PORT

# The cart must really be accepted, or we would be measuring exceptions.
answer=$(curl -s -X POST -H 'content-type: application/json' \
  --data '{"data":{"cart_id":"42","items":[{"item_id":1,"sku":"24-MB01","qty":"2.0000"},{"item_id":2,"sku":"24-MB04","qty":"1.0000"},{"item_id":3,"sku":"24-WB02","qty":"1.0000"}]}}' \
  "http://127.0.0.1:$CK_PORT/webhook/check-stock")
[ "$answer" = '{"op":"success"}' ] || { echo "check-stock answered $answer, expected success" >&2; exit 1; }

echo "warming up (2 s each)..." >&2
wrk -t2 -c"$CONNS" -d2s -s "$SCRIPT" "http://127.0.0.1:$BARE_PORT" >/dev/null
wrk -t2 -c"$CONNS" -d2s -s "$SCRIPT" "http://127.0.0.1:$CK_PORT" >/dev/null

echo "wrk: $CONNS connections, 2 threads, $DURATION each"
run_wrk bare "http://127.0.0.1:$BARE_PORT" "$SCRIPT" "$CONNS" "$DURATION"
BARE_RPS=$LAST_RPS
run_wrk check-stock "http://127.0.0.1:$CK_PORT" "$SCRIPT" "$CONNS" "$DURATION"
CK_RPS=$LAST_RPS

BARE_RSS=$(peak_rss_mb "$BARE_PID")
CK_RSS=$(peak_rss_mb "$CK_PID")
echo "peak RSS: bare ${BARE_RSS} MiB, check-stock ${CK_RSS} MiB"
echo "ratio check-stock/bare req/s: $(ratio "$CK_RPS" "$BARE_RPS")"
echo "check-stock log lines: $(grep -c 'check-stock outcome="success"' "$OUT/check-stock.log") success" \
  "(log: $OUT/check-stock.log; raw wrk output: $OUT/wrk-*.txt)"
