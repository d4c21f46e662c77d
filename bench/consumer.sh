#!/usr/bin/env bash
# Benchmark: the events consumer's dispatch over HTTP with I/O Events signature
# verification ON (keys cached after the first fetch from a loopback key host),
# beside the bare constant-response server in the same run.
#
# The consumer is `event-consumer` with its defaults (in-memory state, logging
# handler, info logs to a file), OAUTH_CLIENT_ID set (so signatures and the
# recipient are checked). wrk POSTs pre-signed, distinct CloudEvents (a customer
# delete, ~600 bytes); EVENTS_DEDUPE_TTL_SECS=1 lets the pool be reused once its
# marks expire, and the script reports how many answers were duplicates.
#
#   bench/consumer.sh                        # 64 connections, 2 threads, 10 s each, 20000 deliveries
#   BENCH_DURATION=30s BENCH_DELIVERIES=40000 bench/consumer.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${BENCH_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-64}"
N="${BENCH_DELIVERIES:-20000}"
CLIENT_ID="bench-client"
SCRIPT="$BENCH_DIR/consumer.lua"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

ensure_wrk
echo "building release binaries..." >&2
build_release -p event-consumer -p bench-bare-server
build_release -p commerce-kit-events --example signed_deliveries

export CONSUMER_REQUESTS="$OUT/consumer-deliveries-$N.txt"
if [ ! -s "$CONSUMER_REQUESTS" ]; then
  echo "signing $N deliveries (cached in $CONSUMER_REQUESTS)..." >&2
  "$BIN/examples/signed_deliveries" "$N" "$CONSUMER_REQUESTS" "$CLIENT_ID"
fi

# Loopback key host serving the test public key A, as static.adobeioevents.com would.
KEYS="$OUT/keyhost"
mkdir -p "$KEYS/prod/keys"
cp "$ROOT/crates/core/src/signature/test_key_a.pub.pem" "$KEYS/prod/keys/pub-key-test-a.pem"
KEY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$KEY_PORT" --bind 127.0.0.1 --directory "$KEYS" >"$OUT/keyhost.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$KEY_PORT/prod/keys/pub-key-test-a.pem" >/dev/null && break; sleep 0.05; done

start_server bare "$OUT/bare.log" "$BIN/bench-bare-server" 127.0.0.1:0
BARE_PID=$PID BARE_PORT=$PORT
start_server consumer "$OUT/consumer.log" env -u REDIS_URL -u EVENTS_VERIFY_SIGNATURES -u EVENTS_FORWARD_URL \
  -u LOG_LEVEL -u RUST_LOG -u LOOP_GUARD_RULES_FILE \
  OAUTH_CLIENT_ID="$CLIENT_ID" IO_EVENTS_KEY_BASE_URL="http://127.0.0.1:$KEY_PORT" EVENTS_DEDUPE_TTL_SECS=1 \
  "$BIN/event-consumer" --listen 127.0.0.1:0
C_PID=$PID C_PORT=$PORT

# One signed delivery must really be handled, or we would be measuring 401s.
first=$(head -1 "$CONSUMER_REQUESTS")
answer=$(curl -s -X POST -H 'content-type: application/json' \
  -H "x-adobe-digital-signature-1: ${first%%$'\t'*}" -H 'x-adobe-public-key1-path: /prod/keys/pub-key-test-a.pem' \
  --data-binary "${first#*$'\t'}" "http://127.0.0.1:$C_PORT/events")
case "$answer" in
  *'"success":true'*) ;;
  *) echo "consumer answered $answer, expected success" >&2; exit 1 ;;
esac
sleep 1.1 # let that dedupe mark expire

echo "warming up (2 s each)..." >&2
wrk -t2 -c"$CONNS" -d2s -s "$SCRIPT" "http://127.0.0.1:$BARE_PORT" >/dev/null
wrk -t2 -c"$CONNS" -d2s -s "$SCRIPT" "http://127.0.0.1:$C_PORT" >/dev/null
sleep 1.1
BEFORE=$(wc -l <"$OUT/consumer.log")

echo "wrk: $CONNS connections, 2 threads, $DURATION each; $N distinct signed deliveries"
run_wrk bare "http://127.0.0.1:$BARE_PORT" "$SCRIPT" "$CONNS" "$DURATION"
BARE_RPS=$LAST_RPS
run_wrk consumer-signed "http://127.0.0.1:$C_PORT" "$SCRIPT" "$CONNS" "$DURATION"
C_RPS=$LAST_RPS

RUN_LOG=$(tail -n +"$((BEFORE + 1))" "$OUT/consumer.log")
HANDLED=$(grep -c 'outcome="handled"\|outcome=handled' <<<"$RUN_LOG" || true)
DUPS=$(grep -c 'outcome="duplicate"\|outcome=duplicate' <<<"$RUN_LOG" || true)
REJECTED=$(grep -c 'outcome="rejected"\|outcome=rejected' <<<"$RUN_LOG" || true)
echo "consumer outcomes during the run: handled=$HANDLED duplicate=$DUPS rejected=$REJECTED"
# the readiness probe above fetched the key once; everything else is the consumer's
echo "consumer key fetches: $(( $(grep -c 'GET /prod/keys' "$OUT/keyhost.log" || true) - 1 )) (one expected: cached after)"
echo "peak RSS: bare $(peak_rss_mb "$BARE_PID") MiB, consumer $(peak_rss_mb "$C_PID") MiB"
echo "ratio consumer/bare req/s: $(ratio "$C_RPS" "$BARE_RPS")"
echo "(log: $OUT/consumer.log; raw wrk output: $OUT/wrk-*.txt)"
