#!/usr/bin/env bash
# The whole test suite, on a fresh Debian machine with Rust: installs what the tests need when it
# is absent (OpenSSL headers and pkg-config for the lab itself; for the tests only: the xmlsec1
# command that checks the IdP's XML signatures for the tests' SAML SP, Chromium's headless shell
# and ChromeDriver for the browser tests, Node.js, npm and Python's venv for the language
# examples), checks that the lab's own build needs no bindgen/libclang or XML C library, builds
# the `lab` binary the end-to-end tests drive, runs every test of the workspace and, beside them,
# the Node and Python examples (scripts/examples.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v xmlsec1 >/dev/null 2>&1 || missing+=(xmlsec1)
command -v chromium-headless-shell >/dev/null 2>&1 || missing+=(chromium-headless-shell)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# `cargo run --bin lab` must build with what the README names (Rust, a C compiler, OpenSSL headers
# and pkg-config), and so must the tests (this script installs no C headers for them): no
# bindgen/libclang, libxml2 or xmlsec1 bindings anywhere in the workspace's dependency tree.
native=$(cargo tree --workspace -e normal,build,dev --prefix none | grep -oE '^(bindgen|clang-sys|libxml|xmlsec)[^ ]*' | sort -u || true)
if [ -n "$native" ]; then
  echo "test.sh: the workspace pulls in $(echo $native): building it would need system libraries the README does not name" >&2
  exit 1
fi

# Every declared dependency is used (scripts/unused-deps.sh).
./scripts/unused-deps.sh

# One compile: the binaries the end-to-end tests drive are built together with the test targets,
# so both get the same feature set (the tests' dev-dependencies turn on features such as
# reqwest's cookie jar) and `cargo test` below finds everything built.
cargo build --workspace --bins --tests
log="$(mktemp)"
examples_log="$(mktemp)"
trap 'rm -f "$log" "$examples_log"' EXIT
set +e
# The examples need only the `lab` binary: they run beside `cargo test` (on ephemeral ports, like
# every lab the tests start), and their output is shown once the Rust tests are done.
./scripts/examples.sh >"$examples_log" 2>&1 &
examples_pid=$!
cargo test --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
wait "$examples_pid"
examples_status=$?
cat "$examples_log"
set -e
# cargo's "N passed; M failed" lines, plus the examples' closing "examples: N passed, M failed"
passed=$(grep -oE '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -oE '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
examples=$(grep -E '^examples: [0-9]+ passed, [0-9]+ failed$' "$examples_log" | tail -1)
if [ -n "$examples" ]; then
  passed=$((passed + $(grep -oE '[0-9]+ passed' <<<"$examples" | awk '{s += $1} END {print s + 0}')))
  failed=$((failed + $(grep -oE '[0-9]+ failed' <<<"$examples" | awk '{s += $1} END {print s + 0}')))
elif [ "$examples_status" -ne 0 ]; then
  failed=$((failed + 1))
fi
echo "total: $passed passed, $failed failed"
[ "$status" -ne 0 ] || status=$examples_status
exit "$status"
