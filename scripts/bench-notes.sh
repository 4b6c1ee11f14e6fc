#!/usr/bin/env bash
# Page-view time of the notes app's /notes with a cached access token versus a cold one (token
# exchange at the IdP + jwt-bearer at the resource AS + the todo API call), on the release binary
# over loopback. Usage: scripts/bench-notes.sh [N] (default 50 views of each kind).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
cargo build --release --bin lab -q
dir="$(mktemp -d)"
ready="$dir/ready.json"
target/release/lab --ephemeral-ports --in-memory --data-dir "$dir" --ready-file "$ready" >/dev/null 2>&1 &
lab=$!
trap 'kill -INT $lab 2>/dev/null; wait $lab 2>/dev/null; rm -rf "$dir"' EXIT
while [ ! -s "$ready" ]; do sleep 0.01; done
url() { python3 -c "import json,sys; print(json.load(open('$ready'))['$1'])"; }
notes=$(url notes); idp=$(url idp)
jar="$dir/jar"
field() { grep -o "name=\"$1\" value=\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

# Sign in through the real pages: notes -> IdP (email, code) -> callback.
authorize=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" "$notes/auth/login")
page=$(curl -s -c "$jar" -b "$jar" "$authorize")
login=$(field login <<<"$page"); csrf=$(field csrf <<<"$page")
curl -s -o /dev/null -c "$jar" -b "$jar" -d "login=$login&csrf=$csrf&email=bench@acme.example" "$idp/login/email"
callback=$(curl -s -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -d "login=$login&csrf=$csrf&code=123456" "$idp/login/code")
curl -s -o /dev/null -c "$jar" -b "$jar" "$callback"
csrf=$(curl -s -b "$jar" "$notes/notes" | field csrf)

view() { curl -s -o "$dir/page" -w '%{time_total}\n' -b "$jar" "$notes/notes"; grep -q 'todo-title' "$dir/page"; }
cached=(); cold=()
for _ in $(seq "$runs"); do cached+=($(view)); done
for _ in $(seq "$runs"); do
  curl -s -o /dev/null -b "$jar" -d "csrf=$csrf&note=" "$notes/todos/refresh"
  cold+=($(view))
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m*1000}'; }
p95() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {i=int(NR*0.95); if(i<1)i=1; printf "%.2f", a[i]*1000}'; }
mc=$(median "${cached[@]}"); mo=$(median "${cold[@]}")
printf 'GET /notes, %d views each (release, loopback, curl time_total):\n' "$runs"
printf '  cached access token:            median %s ms   p95 %s ms\n' "$mc" "$(p95 "${cached[@]}")"
printf '  cold (exchange + jwt-bearer):   median %s ms   p95 %s ms\n' "$mo" "$(p95 "${cold[@]}")"
awk -v a="$mo" -v b="$mc" 'BEGIN { printf "  ratio cold / cached:            %.1fx\n", a / b }'
