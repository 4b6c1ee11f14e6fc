#!/usr/bin/env bash
# What polling the live trace costs the protocol endpoints (issue 21): the full flow (exchange +
# jwt-bearer + GET /api/todos) at concurrency 8 against the release `lab`, with no trace pollers,
# then with 20 clients each fetching /trace.json and /trace every second: sending back the ETag
# (If-None-Match, as a browser does) and not (the hostile case). A fresh lab per run, pinned to
# core 0, the load driver to core 1; flows/s, p99, the lab's peak RSS (VmHWM), and each run's
# ratio to the run without pollers. Usage: scripts/bench-trace-pollers.sh [SECONDS, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
cargo build --release --bin lab -q
cargo bench -p xaa-lab --features bench --no-run -q 2>/dev/null
load() { taskset -c 1 cargo bench -q -p xaa-lab --features bench --bench load -- "$@" 2>/dev/null | grep '^RESULT'; }
val() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
dir="$(mktemp -d)"
lab_pid=""
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

run() { # $1 = label, $2 = pollers, $3 = etag yes|no
  local ready="$dir/ready-$1.json"
  RUST_LOG=warn taskset -c 0 "${CARGO_TARGET_DIR:-target}/release/lab" --ephemeral-ports --data-dir "$dir/data-$1" --ready-file "$ready" >/dev/null 2>&1 &
  lab_pid=$!
  while [ ! -s "$ready" ]; do sleep 0.01; done
  load trace-pollers --ready "$ready" --concurrency 8 --seconds "$seconds" --pollers "$2" --etag "$3"
  echo "RESULT mode=rss peak_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$lab_pid/status")"
  kill -INT "$lab_pid"; wait "$lab_pid" || true; lab_pid=""
}

declare -A rate p99
for spec in "none 0 yes" "etag 20 yes" "hostile 20 no"; do
  set -- $spec
  r=$(run "$@")
  f=$(grep 'mode=trace-pollers-flow' <<<"$r"); p=$(grep 'mode=trace-pollers-polls' <<<"$r"); m=$(grep 'mode=rss' <<<"$r")
  rate[$1]=$(val per_second "$f"); p99[$1]=$(val p99_ms "$f")
  printf '%-8s %2s pollers: flow %7s/s p50 %s ms p99 %s ms errors %s | polls 200 %s, 304 %s, 503 %s, errors %s, %s MB | peak RSS %.1f MB' \
    "$1" "$2" "${rate[$1]}" "$(val p50_ms "$f")" "${p99[$1]}" "$(val errors "$f")" \
    "$(val ok "$p")" "$(val not_modified "$p")" "$(val busy "$p")" "$(val errors "$p")" "$(val mb "$p")" \
    "$(awk -v k="$(val peak_kb "$m")" 'BEGIN { print k / 1024 }')"
  [ "$1" = none ] && echo || printf ' | flows/s %s of none, p99 %s of none\n' "$(ratio "${rate[$1]}" "${rate[none]}")" "$(ratio "${p99[$1]}" "${p99[none]}")"
done
