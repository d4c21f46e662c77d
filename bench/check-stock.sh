#!/usr/bin/env bash
# Benchmark: check-stock (`commerce-kit serve`, built-in demo inventory, default
# info logging to a file) against the bare constant-response server, in the same
# run, with wrk POSTing a 3-item cart. Prints req/s, p50/p99, peak RSS and ratios.
#
#   bench/check-stock.sh                 # 64 connections, 2 threads, 5 rounds of 5 s each
#   BENCH_ROUNDS=3 BENCH_DURATION=10s BENCH_CONNECTIONS=128 bench/check-stock.sh
#
# wrk shares the machine with the servers, so one run of each swings a lot
# (the same binary has measured 0.6x to 1.4x of another between back-to-back
# runs on a 2-vCPU VM). The two servers therefore run in alternating rounds,
# and the verdict is on the medians.
#
# BENCH_PIN=1 keeps the load generator off the servers' CPU: servers on CPU 0,
# wrk (one thread) on CPU 1, as a separate client machine would. Each server
# then has one CPU, so req/s measure server cost per request and p99 measures
# the server rather than the scheduler juggling wrk and the server on shared
# CPUs. Both layouts are reported in the closing notes; neither is the other.
#
# Targets: >= 0.85x bare req/s, p99 <= 1.5 ms at 64 connections, peak RSS <= 20 MB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${BENCH_DURATION:-5s}"
ROUNDS="${BENCH_ROUNDS:-5}"
SERVER_PIN=()
if [ "${BENCH_PIN:-0}" = 1 ]; then
  [ "$(nproc)" -ge 2 ] || { echo "BENCH_PIN=1 needs 2 CPUs" >&2; exit 1; }
  SERVER_PIN=(taskset -c 0) WRK_PIN="taskset -c 1" WRK_THREADS=1
fi
CONNS="${BENCH_CONNECTIONS:-64}"
SCRIPT="$BENCH_DIR/check-stock.lua"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

ensure_wrk
echo "building release binaries..." >&2
build_release -p commerce-kit -p bench-bare-server
bench_workdir

start_server bare "$OUT/bare.log" "${SERVER_PIN[@]}" "$BIN/bench-bare-server" 127.0.0.1:0
BARE_PID=$PID BARE_PORT=$PORT
# A clean environment for the flow's settings: the embedded default (demo
# inventory), run in a temporary directory holding its local bus (DATA_DIR).
start_server check-stock "$OUT/check-stock.log" "${SERVER_PIN[@]}" env -C "$WORK" -u INVENTORY_FILE -u STOCK_CHECKER_URL \
  -u COMMERCE_WEBHOOK_PUBLIC_KEY -u COMMERCE_WEBHOOK_PUBLIC_KEY_FILE -u LOG_LEVEL -u RUST_LOG -u DATA_DIR \
  "$BIN/commerce-kit" serve --listen 127.0.0.1:0 --data-dir "$WORK/data"
CK_PID=$PID CK_PORT=$PORT

# The cart must really be accepted, or we would be measuring exceptions.
answer=$(curl -s -X POST -H 'content-type: application/json' \
  --data '{"data":{"cart_id":"42","items":[{"item_id":1,"sku":"24-MB01","qty":"2.0000"},{"item_id":2,"sku":"24-MB04","qty":"1.0000"},{"item_id":3,"sku":"24-WB02","qty":"1.0000"}]}}' \
  "http://127.0.0.1:$CK_PORT/webhook/check-stock")
[ "$answer" = '{"op":"success"}' ] || { echo "check-stock answered $answer, expected success" >&2; exit 1; }

echo "warming up (2 s each)..." >&2
wrk_cmd -c"$CONNS" -d2s -s "$SCRIPT" "http://127.0.0.1:$BARE_PORT" >/dev/null
wrk_cmd -c"$CONNS" -d2s -s "$SCRIPT" "http://127.0.0.1:$CK_PORT" >/dev/null

echo "wrk: $CONNS connections, ${WRK_THREADS:-2} thread(s), $ROUNDS alternating rounds of $DURATION each;" \
  "layout: $([ -n "${WRK_PIN:-}" ] && echo "servers on CPU 0, wrk on CPU 1" || echo "servers and wrk share all $(nproc) CPUs")"
BARE_ALL=() CK_ALL=() RATIOS=() BARE_P99=() CK_P99=()
for round in $(seq 1 "$ROUNDS"); do
  run_wrk "bare-round$round" "http://127.0.0.1:$BARE_PORT" "$SCRIPT" "$CONNS" "$DURATION"
  BARE_ALL+=("$LAST_RPS") BARE_P99+=("$LAST_P99_MS")
  run_wrk "check-stock-round$round" "http://127.0.0.1:$CK_PORT" "$SCRIPT" "$CONNS" "$DURATION"
  CK_ALL+=("$LAST_RPS") CK_P99+=("$LAST_P99_MS")
  RATIOS+=("$(ratio "${CK_ALL[-1]}" "${BARE_ALL[-1]}")")
done
BARE_RPS=$(median "${BARE_ALL[@]}")
CK_RPS=$(median "${CK_ALL[@]}")
echo "median req/s: bare $BARE_RPS, check-stock $CK_RPS"
echo "median p99: bare $(median "${BARE_P99[@]}") ms, check-stock $(median "${CK_P99[@]}") ms"
echo "per-round ratios: ${RATIOS[*]}"
BARE_RSS=$(peak_rss_mb "$BARE_PID")
CK_RSS=$(peak_rss_mb "$CK_PID")
echo "peak RSS: bare ${BARE_RSS} MiB, check-stock ${CK_RSS} MiB"
echo "ratio check-stock/bare req/s (medians): $(ratio "$CK_RPS" "$BARE_RPS"); median of per-round ratios: $(median "${RATIOS[@]}")"
echo "check-stock log lines: $(grep -c 'check-stock request_id="[^"]*" outcome="success"' "$OUT/check-stock.log") success" \
  "(log: $OUT/check-stock.log; raw wrk output: $OUT/wrk-*.txt)"
