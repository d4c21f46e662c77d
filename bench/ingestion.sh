#!/usr/bin/env bash
# Ingestion webhook throughput, beside the bare constant-response server in the same run:
#   (a) publishing to the embedded durable bus (fsync before every 200),
#   (b) publishing to a loopback fake of Adobe IMS + the I/O Events ingress.
# Prints req/s and p99 per target, durable events/s for (a) (checked against the
# server's own "stored" log lines), and the IMS token requests made during (b).
# Targets: (a) >= 10,000 accepted events/s; (b) >= 0.4x bare req/s with exactly 1 token request.
# For context, (b) is also compared with a two-hop baseline: the bare server in
# its --io-events mode (read the body, POST one constant CloudEvent to its own
# fake with a token fetched once, answer), the least any implementation of (b)
# must do on this machine.
# Env: CONNS (default 128), DURATION (default 10s) for (a), ROUNDS (default 3) x ROUND_DURATION
# (default 5s) for (b), LOG_LEVEL for the servers (default info).
# BASELINE_BIN=/path/to/ingestion-webhook (an older build, or a wrapper script that execs one
# with other settings) adds it to (b)'s alternating rounds, on a fake of its own, and prints
# (b)/baseline req/s: the same-run A/B that decides whether a change pays for itself.
source "$(dirname "$0")/lib.sh"

CONNS="${CONNS:-128}"
DURATION="${DURATION:-10s}"
LUA="$BENCH_DIR/ingestion-post.lua"
SECS="${DURATION%s}"

ensure_wrk
echo "building release binaries..." >&2
build_release -p bench-bare-server -p ingestion-webhook
build_release -p commerce-kit-ingestion --features test-util --example fake-adobe
BIN="$ROOT/target/release"
bench_workdir

echo "machine: $(nproc) CPU(s), load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t2 -c$CONNS -d$DURATION; data dir on $(df -P "$WORK" | awk 'NR==2 {print $1}')"

# Baseline.
start_server bare "$OUT/bare.log" "$BIN/bench-bare-server"
BARE_PORT="$PORT" BARE_PID="$PID"
run_wrk "bare" "http://127.0.0.1:$BARE_PORT/ingestion/webhook" "$LUA" "$CONNS" "$DURATION"
BARE_RPS="$LAST_RPS"

# (a) local durable bus.
(cd "$WORK" && mkdir -p a)
start_server ingestion-local "$OUT/ingestion-local.log" \
  env -C "$WORK/a" LOG_LEVEL="${LOG_LEVEL:-info}" "$BIN/ingestion-webhook" --listen 127.0.0.1:0 --data-dir "$WORK/a/data"
LOCAL_PID="$PID"
run_wrk "ingestion-local-bus" "http://127.0.0.1:$PORT/ingestion/webhook" "$LUA" "$CONNS" "$DURATION"
LOCAL_RPS="$LAST_RPS"
RAW="$OUT/wrk-ingestion-local-bus.txt"
TOTAL=$(awk '/requests in/ {print $1}' "$RAW")
NON2XX=$(awk '/Non-2xx/ {print $NF}' "$RAW"); NON2XX="${NON2XX:-0}"
ACCEPTED=$((TOTAL - NON2XX))
LOCAL_RSS=$(peak_rss_mb "$LOCAL_PID")
kill -TERM "$LOCAL_PID"; wait "$LOCAL_PID" 2>/dev/null || true
STORED=$(grep -c 'outcome="stored"' "$OUT/ingestion-local.log" || true)
echo "  (a) accepted (200) = $ACCEPTED, stored per server log = $STORED, durable events/s = $(awk -v n="$ACCEPTED" -v s="$SECS" 'BEGIN {printf "%.0f", n / s}'), peak RSS ${LOCAL_RSS} MiB"

# (b) loopback fake Adobe IMS + ingress.
start_server fake-adobe "$OUT/fake-adobe.log" "$BIN/examples/fake-adobe"
FAKE="http://127.0.0.1:$PORT" FAKE_PID="$PID"
mkdir -p "$WORK/b"
start_server ingestion-io-events "$OUT/ingestion-io-events.log" \
  env -C "$WORK/b" LOG_LEVEL="${LOG_LEVEL:-info}" \
  OAUTH_CLIENT_ID=fake-client-id OAUTH_CLIENT_SECRET=fake-client-secret \
  IO_EVENTS_PROVIDER_ID=3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d \
  IMS_BASE_URL="$FAKE" IO_EVENTS_INGRESS_URL="$FAKE" \
  "$BIN/ingestion-webhook" --listen 127.0.0.1:0
IO_PID="$PID" IO_PORT="$PORT"
# Two-hop baseline: its own fake, so the counts of (b)'s fake stay (b)'s.
start_server fake-adobe-2 "$OUT/fake-adobe-2.log" "$BIN/examples/fake-adobe"
FAKE2="http://127.0.0.1:$PORT" FAKE2_PID="$PID"
start_server bare-two-hop "$OUT/bare-two-hop.log" "$BIN/bench-bare-server" 127.0.0.1:0 --io-events "$FAKE2"
HOP_PORT="$PORT" HOP_PID="$PID"
BASE_PORT="" BASE_PID=""
if [ -n "${BASELINE_BIN:-}" ]; then
  start_server fake-adobe-3 "$OUT/fake-adobe-3.log" "$BIN/examples/fake-adobe"
  FAKE3="http://127.0.0.1:$PORT"
  mkdir -p "$WORK/baseline"
  start_server baseline "$OUT/baseline.log" \
    env -C "$WORK/baseline" LOG_LEVEL="${LOG_LEVEL:-info}" \
    OAUTH_CLIENT_ID=fake-client-id OAUTH_CLIENT_SECRET=fake-client-secret \
    IO_EVENTS_PROVIDER_ID=3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d \
    IMS_BASE_URL="$FAKE3" IO_EVENTS_INGRESS_URL="$FAKE3" \
    "$BASELINE_BIN" --listen 127.0.0.1:0
  BASE_PORT="$PORT" BASE_PID="$PID"
fi
# bare, (b) and two-hop in alternating rounds (the machine's speed drifts), medians.
ROUNDS="${ROUNDS:-3}" ROUND_DURATION="${ROUND_DURATION:-5s}"
echo "(b): $ROUNDS alternating rounds of $ROUND_DURATION: bare, ingestion, two-hop baseline"
# Each round also prints the CPU time per request of every process involved
# (wrk, the server, its fake): on a machine the load saturates, req/s is about
# CPUs / total CPU per request, so the totals show where a ratio comes from.
B_BARE=() B_IO=() B_HOP=() B_RATIO=() B_BASE=() B_BASE_RATIO=() C_BARE=() C_IO=() C_HOP=() C_SERVER=() C_HOP_SERVER=()
for round in $(seq 1 "$ROUNDS"); do
  CPU_PIDS="bare=$BARE_PID" \
    run_wrk "bare-b-round$round" "http://127.0.0.1:$BARE_PORT/ingestion/webhook" "$LUA" "$CONNS" "$ROUND_DURATION"
  B_BARE+=("$LAST_RPS") C_BARE+=("$LAST_CPU_US")
  CPU_PIDS="ingestion=$IO_PID fake=$FAKE_PID" \
    run_wrk "ingestion-io-events-round$round" "http://127.0.0.1:$IO_PORT/ingestion/webhook" "$LUA" "$CONNS" "$ROUND_DURATION"
  B_IO+=("$LAST_RPS") C_IO+=("$LAST_CPU_US")
  C_SERVER+=("$(cpu_of ingestion)")
  CPU_PIDS="two-hop=$HOP_PID fake=$FAKE2_PID" \
    run_wrk "bare-two-hop-round$round" "http://127.0.0.1:$HOP_PORT/ingestion/webhook" "$LUA" "$CONNS" "$ROUND_DURATION"
  B_HOP+=("$LAST_RPS") C_HOP+=("$LAST_CPU_US")
  C_HOP_SERVER+=("$(cpu_of two-hop)")
  B_RATIO+=("$(ratio "${B_IO[-1]}" "${B_BARE[-1]}")")
  if [ -n "$BASE_PORT" ]; then
    run_wrk "baseline-round$round" "http://127.0.0.1:$BASE_PORT/ingestion/webhook" "$LUA" "$CONNS" "$ROUND_DURATION"
    B_BASE+=("$LAST_RPS") B_BASE_RATIO+=("$(ratio "${B_IO[-1]}" "$LAST_RPS")")
  fi
done
B_BARE_RPS=$(median "${B_BARE[@]}") IO_RPS=$(median "${B_IO[@]}") HOP_RPS=$(median "${B_HOP[@]}")
C_BARE_US=$(median "${C_BARE[@]}") C_IO_US=$(median "${C_IO[@]}") C_HOP_US=$(median "${C_HOP[@]}")
IO_RSS=$(peak_rss_mb "$IO_PID")
STATS=$(curl -s "$FAKE/stats")
TOKENS=$(echo "$STATS" | sed 's/.*"token_requests":\([0-9]*\).*/\1/')
echo "  (b) fake Adobe saw over all rounds: $STATS; peak RSS ${IO_RSS} MiB; per-round ratios to bare: ${B_RATIO[*]}"
echo "  two-hop baseline: its fake saw $(curl -s "$FAKE2/stats")"

echo
echo "summary (load average now $(cut -d' ' -f1-3 /proc/loadavg); figures on a shared machine vary from run to run)"
echo "  bare                       req/s=$BARE_RPS"
echo "  (a) local durable bus      req/s=$LOCAL_RPS  ratio-to-bare=$(ratio "$LOCAL_RPS" "$BARE_RPS")  target >= 10000 accepted events/s"
echo "  (b) I/O Events (fake)      median req/s=$IO_RPS  ratio-to-bare=$(ratio "$IO_RPS" "$B_BARE_RPS") (bare median $B_BARE_RPS)  IMS token requests=$TOKENS  target >= 0.40 and exactly 1"
echo "      two-hop baseline       median req/s=$HOP_RPS  ratio-to-bare=$(ratio "$HOP_RPS" "$B_BARE_RPS");  (b)/two-hop=$(ratio "$IO_RPS" "$HOP_RPS") (context, no target)"
echo "  CPU us per request, whole machine (medians): bare $C_BARE_US, (b) $C_IO_US, two-hop $C_HOP_US;"
echo "      ratios these allow when the CPUs are saturated: (b) $(ratio "$C_BARE_US" "$C_IO_US"), two-hop $(ratio "$C_BARE_US" "$C_HOP_US")"
echo "      the servers alone: ingestion $(median "${C_SERVER[@]}") us, two-hop forwarder $(median "${C_HOP_SERVER[@]}") us"
if [ -n "$BASE_PORT" ]; then
  echo "  baseline ($BASELINE_BIN)  median req/s=$(median "${B_BASE[@]}");  (b)/baseline=$(ratio "$IO_RPS" "$(median "${B_BASE[@]}")"), per round: ${B_BASE_RATIO[*]}; its fake saw $(curl -s "$FAKE3/stats")"
fi
