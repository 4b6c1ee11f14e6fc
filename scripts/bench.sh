#!/usr/bin/env bash
# The benchmark suite: every figure in one run, against the release `lab` over loopback.
#   - the machine's raw RSA-2048 signing rate (`openssl speed rsa2048`, one core and all cores);
#   - `lab` start-up to its ready file (median of 20) and an in-process TestLab start (median of 20);
#   - with the lab pinned to core 0 and the load driver (crates/xaa-lab/benches/load.rs) to core 1:
#     token-exchange throughput and p50/p99, jwt-bearer throughput, the full flow (exchange +
#     jwt-bearer + GET /api/todos) at concurrency 1 and 32, and the lab's peak RSS;
#   - each throughput as a ratio of the single-core signing rate (one exchange = one signature;
#     jwt-bearer = one verify and one sign), `GET /api/todos` as a ratio of the single-core verify
#     rate (one verify each), and token exchange with the live trace on against a lab started
#     with --trace-capacity 0 (the trace's cost). Each of these is BENCH_ROUNDS rounds (default 3)
#     of a reference and a measurement: `openssl speed` on core 0 for 2 s (the lab idle), then the
#     load; a round's ratio divides by its own reference, and the median round is the one reported
#     (every round's ratio is printed). A virtual machine's speed drifts by 10-20% within minutes:
#     one rate taken at the start made the ratios measure the drift as much as the lab.
#   - the workshop: 500 attendees signing in through the IdP pages, each running the flow and a
#     todo write (64 at a time), then steady API traffic, with 20 console trace pages open and with
#     none: errors, p50/p99, the lab's peak RSS and the API p99 ratio (pages open / none).
# Usage: scripts/bench.sh [SECONDS per measurement, default 10; the workshop's steady phase takes
# at least 30]; BENCH_ONLY=workshop runs only the workshop; LAB_BIN=path measures that `lab`
# binary (an earlier build, say) instead of this tree's. State lives in a temporary data dir
# (SQLite files in WAL mode, as in normal use); RUST_LOG=warn. To compare this tree with an
# earlier build on the same machine in the same run: scripts/bench-compare.sh OLD_LAB.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
cores=$(nproc)
(( cores >= 2 )) || { echo "bench.sh: needs two cores (server on one, load on the other)" >&2; exit 1; }

# LAB_BIN=path measures another build of `lab` (an earlier commit's, say) with this tree's load driver.
lab="${LAB_BIN:-target/release/lab}"
[ -n "${LAB_BIN:-}" ] || cargo build --release --bin lab -q
cargo bench -p xaa-lab --features bench --no-run -q 2>/dev/null
# "SIGN/s VERIFY/s" of RSA-2048 on core 0, over 2 s: the reference of the measurement that follows.
rsa_rate() { taskset -c 0 openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6, $7}'; }
rounds="${BENCH_ROUNDS:-3}"
# One round: the reference (`rsa_rate`; $1 = sign or verify), then the load (the rest). Prints
# "RATIO REFERENCE RESULT-line".
round() {
  local which=$1 r ref m
  shift
  r=$(rsa_rate)
  if [ "$which" = sign ]; then ref=${r% *}; else ref=${r#* }; fi
  m=$(load "$@")
  echo "$(awk -v a="$(val per_second "$m")" -v b="$ref" 'BEGIN { printf "%.3f", a / b }') $ref $m"
}
# `rounds` rounds: the median one (by ratio) on the last line, each round's ratio on the first.
rounds_of() {
  local all
  all=$(for _ in $(seq 1 "$rounds"); do round "$@"; done | sort -n)
  echo "$(awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }' <<<"$all")"
  sed -n "$(( (rounds + 1) / 2 ))p" <<<"$all"
}
load() { taskset -c 1 cargo bench -q -p xaa-lab --features bench --bench load -- "$@" 2>/dev/null | grep '^RESULT'; }
val() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
check() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "<") ? (v < t) : (v >= t); print ok ? "met" : "MISSED" }'; }

dir="$(mktemp -d)"
lab_pid=""
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

if [ "${BENCH_ONLY:-}" != workshop ]; then
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
rsa=$(taskset -c 0 openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6, $7}')
speed=${rsa% *}; verify=${rsa#* }
speed_all=$(openssl speed -seconds 3 -multi "$cores" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
printf 'openssl speed rsa2048: %s sign/s and %s verify/s on one core, %s sign/s on %s cores\n' "$speed" "$verify" "$speed_all" "$cores"

echo "== start-up"
startup=$(LAB_BIN="$lab" scripts/bench-startup.sh 20 | tail -1)
startup_ms=$(awk '{ printf "%.1f", $2 }' <<<"$startup")
printf 'lab start-up to ready file, 20 runs:%s\n' "$startup"
r=$(load testlab-start --runs 20)
testlab_ms=$(val median_ms "$r")
printf 'TestLab start (in process): median %s ms (min %s, max %s) over 20 starts\n' "$testlab_ms" "$(val min_ms "$r")" "$(val max_ms "$r")"

echo "== load: lab pinned to core 0, load driver pinned to core 1, ${seconds}s per measurement"
ready="$dir/ready.json"
RUST_LOG=warn taskset -c 0 "$lab" --ephemeral-ports --data-dir "$dir/data" --ready-file "$ready" >/dev/null 2>&1 &
lab_pid=$!
while [ ! -s "$ready" ]; do sleep 0.01; done

# $1: what; $2: the output of rounds_of. Sets REPLY to the median round's RESULT line.
report() {
  local rounds_line median
  rounds_line=$(head -1 <<<"$2"); median=$(tail -1 <<<"$2")
  REPLY=${median#* * }
  printf '%-26s %8s/s  p50 %s ms  p99 %s ms  errors %s  (median of %s rounds; ratio to openssl just before: %s)\n' \
    "$1" "$(val per_second "$REPLY")" "$(val p50_ms "$REPLY")" "$(val p99_ms "$REPLY")" "$(val errors "$REPLY")" "$rounds" "$rounds_line"
}
ex_rounds=$(rounds_of sign exchange --ready "$ready" --concurrency 8 --seconds "$seconds")
report 'token exchange, c=8:' "$ex_rounds"; ex=$REPLY
requests=$(awk -v s="$seconds" -v r="$(val per_second "$ex")" 'BEGIN { printf "%d", s * r }')
jb_rounds=$(rounds_of sign jwt-bearer --ready "$ready" --concurrency 8 --requests "$requests")
report "jwt-bearer, c=8 ($requests fresh ID-JAGs each):" "$jb_rounds"; jb=$REPLY
api_rounds=$(rounds_of verify api --ready "$ready" --concurrency 8 --seconds "$seconds")
report 'GET /api/todos, c=8:' "$api_rounds"; api=$REPLY
f1=$(load flow --ready "$ready" --concurrency 1 --seconds "$seconds")
printf 'full flow, c=1:            %8s/s  p50 %s ms  p99 %s ms  errors %s\n' "$(val per_second "$f1")" "$(val p50_ms "$f1")" "$(val p99_ms "$f1")" "$(val errors "$f1")"
rsa_f32=$(rsa_rate)
f32=$(load flow --ready "$ready" --concurrency 32 --seconds "$seconds")
printf 'full flow, c=32:           %8s/s  p50 %s ms  p99 %s ms  errors %s\n' "$(val per_second "$f32")" "$(val p50_ms "$f32")" "$(val p99_ms "$f32")" "$(val errors "$f32")"
rss_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$lab_pid/status")
printf 'peak RSS of lab after the load: %.1f MB\n' "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')"
kill -INT "$lab_pid"; wait "$lab_pid" || true; lab_pid=""

echo "== the live trace off (--trace-capacity 0), pinned the same way"
ready0="$dir/ready0.json"
RUST_LOG=warn taskset -c 0 "$lab" --ephemeral-ports --trace-capacity 0 --data-dir "$dir/data0" --ready-file "$ready0" >/dev/null 2>&1 &
lab_pid=$!
while [ ! -s "$ready0" ]; do sleep 0.01; done
ex0_rounds=$(rounds_of sign exchange --ready "$ready0" --concurrency 8 --seconds "$seconds")
report 'token exchange, trace off:' "$ex0_rounds"; ex0=$REPLY
kill -INT "$lab_pid"; wait "$lab_pid" || true; lab_pid=""

echo "== unpinned (lab and load driver share both cores)"
ready2="$dir/ready2.json"
RUST_LOG=warn "$lab" --ephemeral-ports --data-dir "$dir/data2" --ready-file "$ready2" >/dev/null 2>&1 &
lab_pid=$!
while [ ! -s "$ready2" ]; do sleep 0.01; done
exu=$(cargo bench -q -p xaa-lab --features bench --bench load -- exchange --ready "$ready2" --concurrency 8 --seconds "$seconds" 2>/dev/null | grep '^RESULT')
printf 'token exchange, c=8:       %8s/s  p50 %s ms  p99 %s ms\n' "$(val per_second "$exu")" "$(val p50_ms "$exu")" "$(val p99_ms "$exu")"
kill -INT "$lab_pid"; wait "$lab_pid" || true; lab_pid=""

fi

workshop() {  # $1 = trace pages open; prints the three RESULT lines and the lab's peak RSS in kB
  local ready="$dir/ready-ws$1.json"
  RUST_LOG=warn taskset -c 0 "$lab" --ephemeral-ports --data-dir "$dir/data-ws$1" --ready-file "$ready" >/dev/null 2>&1 &
  lab_pid=$!
  while [ ! -s "$ready" ]; do sleep 0.01; done
  load workshop --ready "$ready" --users 500 --concurrency 64 --seconds "$workshop_seconds" --trace-pages "$1"
  echo "RESULT mode=workshop-rss peak_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$lab_pid/status")"
  kill -INT "$lab_pid"; wait "$lab_pid" || true; lab_pid=""
}
workshop_seconds=$(( seconds > 30 ? seconds : 30 ))
echo "== workshop: 500 attendees sign in through the IdP pages and run the flow + a todo write (64 at a time),"
echo "   then ${workshop_seconds}s of steady API calls with their tokens; lab on core 0, attendees and trace pages on core 1"
for pages in 20 0; do
  w=$(workshop "$pages")
  m=$(grep 'mode=workshop-sign-in-and-flow' <<<"$w"); st=$(grep 'mode=workshop-steady-api' <<<"$w")
  tp=$(grep 'mode=workshop-trace-pages' <<<"$w"); rss=$(grep 'mode=workshop-rss' <<<"$w")
  printf '%2s trace pages: sign-in+flow %s ok %s errors p50 %s ms p99 %s ms | steady API %s/s %s errors p50 %s ms p99 %s ms | page errors %s | peak RSS %.1f MB\n' \
    "$pages" "$(val ok "$m")" "$(val errors "$m")" "$(val p50_ms "$m")" "$(val p99_ms "$m")" \
    "$(val per_second "$st")" "$(val errors "$st")" "$(val p50_ms "$st")" "$(val p99_ms "$st")" "$(val errors "$tp")" \
    "$(awk -v k="$(val peak_kb "$rss")" 'BEGIN { print k / 1024 }')"
  eval "ws_errors_$pages=\$(( $(val errors "$m") + $(val errors "$st") + $(val errors "$tp") ))"
  eval "ws_p99_$pages=$(val p99_ms "$st")"
  eval "ws_rss_$pages=$(( $(val peak_kb "$rss") / 1024 ))"
done

echo "== summary (target in brackets)"
if [ "${BENCH_ONLY:-}" != workshop ]; then
# The median rounds' ratios, to two places.
median_ratio() { awk '{ printf "%.2f", $1 }' <<<"$(tail -1 <<<"$1")"; }
ex_ratio=$(median_ratio "$ex_rounds")
printf 'lab ready:                         %8s ms   [< 50 ms]   %s\n' "$startup_ms" "$(check "$startup_ms" 50 '<')"
printf 'TestLab start:                     %8s ms   [< 20 ms]   %s\n' "$testlab_ms" "$(check "$testlab_ms" 20 '<')"
printf 'token exchange / raw signing rate: %8s      [>= 0.80]   %s\n' "$ex_ratio" "$(check "$ex_ratio" 0.80 '>=')"
jb_ratio=$(median_ratio "$jb_rounds")
api_ratio=$(median_ratio "$api_rounds")
# Trace on and off, each as a share of the signing rate measured just before it.
trace_ratio=$(awk -v a="$(tail -1 <<<"$ex_rounds" | cut -d' ' -f1)" -v b="$(tail -1 <<<"$ex0_rounds" | cut -d' ' -f1)" \
  'BEGIN { printf "%.2f", a / b }')
printf 'jwt-bearer / raw signing rate:     %8s      [>= 0.80]   %s\n' "$jb_ratio" "$(check "$jb_ratio" 0.80 '>=')"
printf 'GET /api/todos / raw verify rate:  %8s      [>= 0.35]   %s\n' "$api_ratio" "$(check "$api_ratio" 0.35 '>=')"
printf 'exchange, trace on / trace off:    %8s      [>= 0.95]   %s\n' "$trace_ratio" "$(check "$trace_ratio" 0.95 '>=')"
printf 'full flow / raw signing rate:      %8s      (two signatures per flow: 0.50 is the ceiling)\n' "$(ratio "$(val per_second "$f32")" "${rsa_f32% *}")"
printf 'full-flow p50 at c=1:              %8s ms   [<= 1.5 ms] %s\n' "$(val p50_ms "$f1")" "$(check "$(val p50_ms "$f1")" 1.5001 '<')"
printf 'peak RSS under load:               %8.1f MB   [< 60 MB]   %s\n' "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" "$(check "$((rss_kb / 1024))" 60 '<')"
fi
printf 'workshop errors (20 pages + none):  %8s      [0]         %s\n' "$(( ws_errors_20 + ws_errors_0 ))" "$(check "$(( ws_errors_20 + ws_errors_0 ))" 1 '<')"
printf 'workshop peak RSS, 20 trace pages: %8s MB   [< 60 MB]   %s\n' "$ws_rss_20" "$(check "$ws_rss_20" 60 '<')"
ws_ratio=$(ratio "$ws_p99_20" "$ws_p99_0")
printf 'workshop API p99, 20 pages / none: %8s      [<= 2.00]   %s   (%s ms / %s ms)\n' "$ws_ratio" "$(check "$ws_ratio" 2.0001 '<')" "$ws_p99_20" "$ws_p99_0"
