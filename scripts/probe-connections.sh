#!/usr/bin/env bash
# Issue 21 item 1's probe: one client address holds the IdP's connections while another exchanges
# a token. Starts `lab` with its default connection limits (ephemeral ports, in memory), opens HOLD
# idle connections to the IdP from 127.0.0.2 (Linux loopback answers all of 127/8) and keeps them
# open, then from 127.0.0.1 runs an RFC 8693 token exchange at the IdP on a new connection (an ID
# token minted by `lab token id-token`). Prints the exchange's HTTP status and time, and how many
# of the held connections the IdP kept open before and after it.
# Usage: scripts/probe-connections.sh [HOLD, default 1024] [LAB binary, default target/release/lab
# (built when missing)]. Needs python3 and curl; raises its open-files limit to HOLD + 1024.
set -euo pipefail
cd "$(dirname "$0")/.."
hold="${1:-1024}"
lab="${2:-${CARGO_TARGET_DIR:-target}/release/lab}"
[ -x "$lab" ] || cargo build --release --bin lab -q
ulimit -n "$(( hold + 1024 > $(ulimit -n) ? hold + 1024 : $(ulimit -n) ))"

dir="$(mktemp -d)"
lab_pid=""
cleanup() { [ -n "$lab_pid" ] && kill "$lab_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

RUST_LOG=warn "$lab" --ephemeral-ports --in-memory --data-dir "$dir/data" --ready-file "$dir/ready.json" \
  >"$dir/lab.log" 2>&1 &
lab_pid=$!
for _ in $(seq 500); do [ -s "$dir/ready.json" ] && break; sleep 0.02; done
[ -s "$dir/ready.json" ] || { cat "$dir/lab.log" >&2; exit 1; }
id_token=$("$lab" token id-token --ready-file "$dir/ready.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id_token"])')

python3 - "$dir/ready.json" "$hold" "$id_token" <<'EOF'
import json, socket, subprocess, sys, time, urllib.parse

ready = json.load(open(sys.argv[1]))
hold, id_token = int(sys.argv[2]), sys.argv[3]
idp = urllib.parse.urlsplit(ready["idp"])

def still_open(conns):
    n = 0
    for c in conns:
        try:
            n += c.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n

held = []
for _ in range(hold):
    c = socket.socket()
    c.bind(("127.0.0.2", 0))
    c.connect(("127.0.0.1", idp.port))
    held.append(c)
time.sleep(0.5)  # let the IdP accept (or refuse) them all
before = still_open(held)

env = ready["env"]
form = {
    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
    "requested_token_type": "urn:ietf:params:oauth:token-type:id-jag",
    "subject_token": id_token,
    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
    "audience": ready["authorization_server"],
    "resource": ready["todo_api"],
    "scope": "todos.read todos.write",
    "client_id": env["CLIENT_ID"],
    "client_secret": env["CLIENT_SECRET"],
}
args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--max-time", "30"]
for k, v in form.items():
    args += ["--data-urlencode", f"{k}={v}"]
started = time.monotonic()
out = subprocess.run(args + [f"{ready['idp']}/token"], capture_output=True, text=True)
took = time.monotonic() - started
status = out.stdout.split()[0] if out.stdout else "000"
time.sleep(0.2)
after = still_open(held)
print(f"held from 127.0.0.2: {hold} opened, {before} kept open by the IdP before the exchange, {after} after")
print(f"token exchange from 127.0.0.1 on a new connection: HTTP {status} in {took * 1000:.1f} ms"
      + (f" ({out.stderr.strip()})" if out.returncode else ""))
sys.exit(0 if status == "200" else 1)
EOF
