#!/usr/bin/env bash
# What recording the live trace costs the token endpoint: token-exchange throughput (ID token →
# ID-JAG, one RSA signature each) of the release `lab` with the trace on (default capacity) and
# off (--trace-capacity 0), driven over loopback by wrk. Usage: scripts/bench-trace.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
command -v wrk >/dev/null || { echo "bench-trace.sh: installing wrk"; apt-get install -y -qq wrk >/dev/null; }
cargo build --release --bin lab -q
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT

run() { # $1 = label, rest = lab flags
  local label="$1"; shift
  local ready="$dir/ready-$label.json"
  RUST_LOG=warn target/release/lab --ephemeral-ports --in-memory --data-dir "$dir" --ready-file "$ready" "$@" >/dev/null 2>&1 &
  local lab=$!
  while [ ! -s "$ready" ]; do sleep 0.01; done
  local idp; idp=$(python3 -c "import json; print(json.load(open('$ready'))['idp'])")
  local authz; authz=$(python3 -c "import json; print(json.load(open('$ready'))['authorization_server'])")
  local api; api=$(python3 -c "import json; print(json.load(open('$ready'))['todo_api'])")
  # An ID token for my-requestor through the real login pages and code grant.
  local jar="$dir/jar-$label" verifier="bench-verifier-0123456789-0123456789-0123456789"
  local challenge; challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
  local page; page=$(curl -s -c "$jar" -b "$jar" "$idp/authorize?client_id=my-requestor&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fauth%2Fcallback&response_type=code&scope=openid&code_challenge=$challenge&code_challenge_method=S256")
  local login; login=$(grep -o 'name="login" value="[^"]*"' <<<"$page" | cut -d'"' -f4)
  local csrf; csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$page" | cut -d'"' -f4)
  curl -s -o /dev/null -c "$jar" -b "$jar" -d "login=$login&csrf=$csrf&email=bench@acme.example" "$idp/login/email"
  local location; location=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -d "login=$login&csrf=$csrf&code=123456" "$idp/login/code")
  local code; code=$(sed 's/.*code=\([^&]*\).*/\1/' <<<"$location")
  local id_token; id_token=$(curl -s -d "grant_type=authorization_code&code=$code&redirect_uri=http://localhost:3000/auth/callback&code_verifier=$verifier&client_id=my-requestor&client_secret=my-requestor-secret-not-for-production" "$idp/token" | python3 -c "import json,sys; print(json.load(sys.stdin)['id_token'])")
  cat >"$dir/exchange.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&requested_token_type=urn:ietf:params:oauth:token-type:id-jag&audience=$authz&resource=$api&scope=todos.read&subject_token=$id_token&subject_token_type=urn:ietf:params:oauth:token-type:id_token&client_id=my-requestor&client_secret=my-requestor-secret-not-for-production"
LUA
  local out; out=$(wrk -t2 -c8 -d"${seconds}s" --latency -s "$dir/exchange.lua" "$idp/token")
  kill -INT "$lab"; wait "$lab" || true
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local p50; p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  local p99; p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  local non2xx; non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '  %-28s %10s req/s   p50 %-8s p99 %-8s non-2xx %s\n' "$label" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" >"$dir/rps-$label"
}

echo "Token exchange throughput, ${seconds}s each, wrk -t2 -c8 (release, loopback, RUST_LOG=warn):"
run "trace on (capacity 2000)"
run "trace off (--trace-capacity 0)" --trace-capacity 0
on=$(cat "$dir/rps-trace on (capacity 2000)"); off=$(cat "$dir/rps-trace off (--trace-capacity 0)")
awk -v on="$on" -v off="$off" 'BEGIN { printf "  ratio on / off:              %.2f (recording costs %.1f%% of throughput)\n", on / off, (1 - on / off) * 100 }'
