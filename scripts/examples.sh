#!/usr/bin/env bash
# The language examples against the real `lab` binary: installs their pinned dependencies (npm ci
# from examples/node/package-lock.json; a venv in examples/python/.venv from requirements.txt),
# runs the Node (node --test, openid-client, node-saml) and Python (pytest) suites, and exits non-zero if
# either fails. Builds nothing: expects target/debug/lab (`cargo build --bin lab`) or LAB_BIN.
# Its last line is `examples: N passed, M failed`. The Rust example is the doc test on
# xaa_lab::testing, run by `cargo test`.
set -uo pipefail
cd "$(dirname "$0")/.."

LAB_BIN="$(realpath -m "${LAB_BIN:-target/debug/lab}")"
export LAB_BIN
if [ ! -x "$LAB_BIN" ]; then
  echo "examples.sh: $LAB_BIN is missing: run \`cargo build --bin lab\` first (or set LAB_BIN)" >&2
  echo "examples: 0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
status=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Adds one suite's counts; a suite that failed without a failed test (an install or start-up
# error) counts as one failure, so the closing line never reads as all green.
count() { # name exit-status passed failed
  local ok=${3:-0} ko=${4:-0}
  passed=$((passed + ok))
  if [ "$2" -ne 0 ]; then
    status=1
    failed=$((failed + (ko > 0 ? ko : 1)))
    echo "examples.sh: the $1 example failed (exit $2)" >&2
  else
    failed=$((failed + ko))
  fi
}

echo "== examples/node (node --test, openid-client, node-saml)"
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error && node --test --test-reporter=tap lab.test.js) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count node "$rc" "$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$log" | tail -1)" "$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$log" | tail -1)"

echo "== examples/python (pytest, requests)"
(
  cd examples/python &&
    { [ -x .venv/bin/python ] || python3 -m venv .venv; } &&
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt &&
    .venv/bin/python -m pytest -p no:cacheprovider test_lab.py
) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
summary="$(grep -E '^=+ .* in [0-9.]+s' "$log" | tail -1)"
py_passed="$(grep -oE '[0-9]+ passed' <<<"$summary" | awk '{s += $1} END {print s + 0}')"
py_failed="$(grep -oE '[0-9]+ (failed|errors?)' <<<"$summary" | awk '{s += $1} END {print s + 0}')"
count python "$rc" "$py_passed" "$py_failed"

echo "examples: $passed passed, $failed failed"
exit "$status"
