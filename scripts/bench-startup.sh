#!/usr/bin/env bash
# Start-up time of `lab` to its ready file: the median (and min/max) of N runs of the release
# binary on ephemeral ports, in memory. Usage: [LAB_BIN=path] scripts/bench-startup.sh [N] (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
# LAB_BIN=path times that `lab` binary instead of this tree's release build.
bin="${LAB_BIN:-target/release/lab}"
[ -n "${LAB_BIN:-}" ] || cargo build --release --bin lab -q
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
times=()
for i in $(seq "$runs"); do
  ready="$dir/ready-$i.json"
  start=$(date +%s%N)
  "$bin" --ephemeral-ports --in-memory --ready-file "$ready" >/dev/null 2>&1 &
  pid=$!
  while [ ! -s "$ready" ]; do sleep 0.0005; done
  end=$(date +%s%N)
  kill -INT "$pid"; wait "$pid" || true
  times+=($(( (end - start) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
n=${#sorted[@]}
if (( n % 2 )); then median=${sorted[$((n / 2))]}; else median=$(( (sorted[n/2 - 1] + sorted[n/2]) / 2 )); fi
printf 'lab start-up to ready file, %d runs (release, --ephemeral-ports --in-memory):\n' "$n"
printf '  median %d.%03d ms   min %d.%03d ms   max %d.%03d ms\n' \
  $((median / 1000)) $((median % 1000)) $((sorted[0] / 1000)) $((sorted[0] % 1000)) \
  $((sorted[n-1] / 1000)) $((sorted[n-1] % 1000))
