#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets, each for a bounded time, from the
# committed seeds plus whatever corpus earlier runs left in fuzz/corpus/.
#
#   bash fuzz/run.sh                 # every target, 20 s each (what CI runs)
#   FUZZ_SECONDS=600 bash fuzz/run.sh check_stock_body events_post
#
# Needs the nightly toolchain (sanitizers) and cargo-fuzz (`cargo install
# cargo-fuzz --locked`). Exits non-zero on the first target that crashes,
# leaks, times out (10 s for one input) or exceeds 2 GiB; libFuzzer then
# prints the input it saved under fuzz/artifacts/<target>/, and
# `cargo +nightly fuzz run <target> <that file>` replays it. A crash found this
# way becomes a regression test in the crate that owns the parser.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

SECONDS_EACH="${FUZZ_SECONDS:-20}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  [ -d "seeds/$target" ] && cp -n "seeds/$target"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzz $target: ${SECONDS_EACH}s"
  log="$(mktemp)"
  set +e
  cargo +nightly fuzz run "$target" "$corpus" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz target $target failed (exit $status); reproducer under fuzz/artifacts/$target/" >&2
    exit "$status"
  fi
  rm -f "$log"
done
echo "fuzz: ${#targets[@]} targets, ${SECONDS_EACH}s each, no crash"
