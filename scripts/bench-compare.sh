#!/usr/bin/env bash
# Is this tree's `lab` slower than another build? Token exchange (c=8), the full flow (c=1) and
# `GET /api/todos` (c=8) of
# two `lab` binaries, measured in the same run on the same machine: each binary is started pinned
# to core 0 on a fresh data dir and driven by this tree's load driver pinned to core 1
# (crates/xaa-lab/benches/load.rs), alternating OLD, NEW, OLD, NEW, … ROUNDS times. Prints every
# measurement, the median of each, and NEW/OLD as ratios (above 1: NEW is faster).
# Usage: scripts/bench-compare.sh OLD_LAB [NEW_LAB (default: this tree's release build)] [SECONDS per
# measurement, default 10] [ROUNDS, default 3]. To build OLD_LAB from an earlier commit:
#   git worktree add /tmp/old REV && (cd /tmp/old && cargo build --release --bin lab)
set -euo pipefail
cd "$(dirname "$0")/.."
old="$(realpath "${1:?usage: scripts/bench-compare.sh OLD_LAB [NEW_LAB] [SECONDS] [ROUNDS]}")"
new="${2:-}"
seconds="${3:-10}"
rounds="${4:-3}"
(( $(nproc) >= 2 )) || { echo "bench-compare.sh: needs two cores (server on one, load on the other)" >&2; exit 1; }
if [ -z "$new" ]; then
  cargo build --release --bin lab -q
  new="$(realpath target/release/lab)"
fi
cargo bench -p xaa-lab --features bench --no-run -q 2>/dev/null
load() { taskset -c 1 cargo bench -q -p xaa-lab --features bench --bench load -- "$@" 2>/dev/null | grep '^RESULT'; }
val() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

dir="$(mktemp -d)"
lab_pid=""
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

# measure NAME BINARY ROUND: one exchange, one flow and one API measurement of a freshly started lab.
measure() {
  local ready="$dir/ready-$1-$3.json"
  RUST_LOG=warn taskset -c 0 "$2" --ephemeral-ports --data-dir "$dir/data-$1-$3" --ready-file "$ready" >/dev/null 2>&1 &
  lab_pid=$!
  while [ ! -s "$ready" ]; do sleep 0.01; done
  local ex fl api
  ex=$(load exchange --ready "$ready" --concurrency 8 --seconds "$seconds")
  fl=$(load flow --ready "$ready" --concurrency 1 --seconds "$seconds")
  api=$(load api --ready "$ready" --concurrency 8 --seconds "$seconds")
  kill "$lab_pid"; wait "$lab_pid" 2>/dev/null || true; lab_pid=""
  printf '%-4s round %s: token exchange c=8 %8s/s (p99 %s ms, errors %s)   full flow c=1 %8s/s (errors %s)   API c=8 %8s/s (errors %s)\n' \
    "$1" "$3" "$(val per_second "$ex")" "$(val p99_ms "$ex")" "$(val errors "$ex")" "$(val per_second "$fl")" "$(val errors "$fl")" \
    "$(val per_second "$api")" "$(val errors "$api")"
  echo "$(val per_second "$ex")" >>"$dir/$1.exchange"
  echo "$(val per_second "$fl")" >>"$dir/$1.flow"
  echo "$(val per_second "$api")" >>"$dir/$1.api"
}

echo "== OLD $old"
echo "== NEW $new"
echo "== lab pinned to core 0, load driver to core 1, ${seconds}s per measurement, $rounds rounds"
for round in $(seq 1 "$rounds"); do
  measure old "$old" "$round"
  measure new "$new" "$round"
done
for what in exchange flow api; do
  o=$(median <"$dir/old.$what")
  n=$(median <"$dir/new.$what")
  printf 'median %-8s OLD %8s/s  NEW %8s/s  NEW/OLD %s\n' "$what" "$o" "$n" "$(awk -v a="$n" -v b="$o" 'BEGIN { printf "%.2f", a / b }')"
done
