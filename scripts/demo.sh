#!/usr/bin/env bash
# The README's demo: a reference server and herald-cli, notifications flowing, a
# client restart with catch-up, a server crash (SIGKILL) with reconnect and resume,
# and short-lived tokens refreshed under a flowing stream.
# Prints a short transcript, exits 0 when every notification arrived exactly once,
# in order, and leaves no process behind.
#
# HERALD_BUILD_DIR   build folder (default: build/)
# HERALD_DEMO_NO_BUILD=1  use the binaries already built there (the test suite does)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${HERALD_BUILD_DIR:-$root/build}
if [[ "${HERALD_DEMO_NO_BUILD:-0}" != 1 ]]; then
  echo "Building Herald (first run installs packages and takes a few minutes)..."
  HERALD_BUILD_DIR=$build "$root/scripts/build.sh" >"${TMPDIR:-/tmp}/herald-demo-build.log" 2>&1 ||
    { cat "${TMPDIR:-/tmp}/herald-demo-build.log"; exit 1; }
fi
server_bin=$build/server-stub/herald-server
cli_bin=$build/examples/cli/herald-cli

work=$(mktemp -d "${TMPDIR:-/tmp}/herald-demo.XXXXXX")
server_pid="" client_pid=""
cleanup() {
  [[ -n $client_pid ]] && kill "$client_pid" 2>/dev/null && wait "$client_pid" 2>/dev/null
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo FAILED: $*" >&2; echo "--- server log" >&2; tail -n 20 "$work/server.log" >&2 || true;
        echo "--- client log" >&2; tail -n 20 "$work/client.log" >&2 || true; exit 1; }

# Waits (up to 20 s) until a command succeeds.
wait_for() {
  local what=$1; shift
  for _ in $(seq 200); do "$@" && return 0; sleep 0.1; done
  die "timed out waiting for $what"
}

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/jwt.secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin.key"
db=$work/herald.db

start_server() {  # $1: listen address
  : >"$work/server.out"
  "$server_bin" --listen "$1" --db "$db" --jwt-secret-file "$work/jwt.secret" \
    --admin-key-file "$work/admin.key" --heartbeat-s 5 >"$work/server.out" 2>>"$work/server.log" &
  server_pid=$!
  wait_for "the server to listen" grep -q "^listening on " "$work/server.out"
  addr=$(sed -n 's/^listening on //p' "$work/server.out")
}

admin() {  # method path [json]
  curl -fsS -X "$1" -H "Authorization: Bearer $(cat "$work/admin.key")" \
    -H "Content-Type: application/json" ${3:+--data "$3"} "http://$addr$2"
}

published=0
publish() {  # topic text
  published=$((published + 1))
  local id
  id=$(admin POST /v1/users/alice/notifications "{\"topic\":\"$1\",\"data\":{\"text\":\"$2\"}}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  printf '   server  published #%s  %-8s %s\n' "$id" "$1" "$2"
}

# The token command the client runs whenever it needs a token: the dev token issuer.
cat >"$work/token.sh" <<SH
#!/bin/sh
curl -fsS -X POST -H "Authorization: Bearer \$(cat '$work/admin.key')" \\
  --data "{\\"user_id\\":\\"alice\\",\\"ttl_s\\":\$(cat '$work/ttl')}" "http://\$(sed -n 's/^listening on //p' '$work/server.out')/v1/tokens" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
SH
chmod +x "$work/token.sh"
echo 3600 >"$work/ttl"  # token lifetime in seconds; step 6 makes it short

: >"$work/client.jsonl"
shown=0
start_client() {
  "$cli_bin" --url "ws://$addr/v1/stream" --token-command "$work/token.sh" --cursor-file "$work/cursor" \
    --backoff-initial-ms 200 --backoff-max-ms 2000 --events >>"$work/client.jsonl" 2>>"$work/client.log" &
  client_pid=$!
}
stop_client() {
  kill -TERM "$client_pid"; wait "$client_pid" || die "herald-cli exited with $?"; client_pid=""
}
# Prints the client's lines that were not shown yet, readably.
show_client() {
  python3 - "$work/client.jsonl" "$shown" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]
for line in lines:
    m = json.loads(line)
    if "event" not in m:
        print(f"   client  received  #{m['id']}  {m['topic']:<8} {m['data'].get('text', '')}")
    elif m["event"] == "state":
        extra = f" ({m['reason']}{', next attempt ' + m['next_attempt_at'][11:23] if 'next_attempt_at' in m else ''})" if "reason" in m else ""
        print(f"   client  state     {m['state']}{extra}")
    else:
        print(f"   client  {m['event']:<9} {json.dumps({k: v for k, v in m.items() if k != 'event'})}")
PY
  shown=$(wc -l <"$work/client.jsonl")
}
received() { grep -vc '"event"' "$work/client.jsonl" || true; }
has_received() { [[ $(received) -ge $1 ]]; }
client_connected() { [[ $(grep -c '"state":"connected"' "$work/client.jsonl") -ge $1 ]]; }

say "1. Start the reference server (SQLite in a temporary folder)"
start_server 127.0.0.1:0
echo "   server  listening on $addr"

say "2. Start herald-cli for user alice; publish three notifications"
start_client
wait_for "the client to connect" client_connected 1
publish comment "Ada commented on your post"
publish like "Grace liked your photo"
publish mention "Linus mentioned you"
wait_for "three notifications" has_received 3
show_client

say "3. Stop the client; publish two while it is offline"
stop_client
echo "   client  stopped (cursor flushed: $(cat "$work/cursor"))"
publish comment "Barbara replied while you were away"
publish invite "Ken invited you to a project"

say "4. Restart the client: it catches up from its cursor"
start_client
wait_for "the catch-up" has_received 5
show_client

say "5. Kill the server (SIGKILL) and restart it on the same database and port"
kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
echo "   server  killed"
wait_for "the client to notice" grep -q '"state":"reconnecting"' "$work/client.jsonl"
start_server "$addr"
echo "   server  restarted on $addr"
wait_for "the client to reconnect" client_connected 3
publish comment "Margaret commented after the restart"
publish like "Dennis liked your comment"
wait_for "the last notifications" has_received 7
show_client

say "6. Short-lived tokens: restart the client with 6 s tokens; publish once a second"
stop_client
echo 6 >"$work/ttl"
start_client
wait_for "the client to connect" client_connected 4
refreshes() { grep -c "token refreshed in-band" "$work/client.log" || true; }
seen_refreshes=0
for i in $(seq 20); do
  publish tick "Tick $i"
  sleep 1
  while [[ $(refreshes) -gt $seen_refreshes ]]; do
    seen_refreshes=$((seen_refreshes + 1))
    echo "   client  token     refreshed in-band (reauth on the live connection)"
  done
  [[ $seen_refreshes -ge 2 ]] && break
done
[[ $(refreshes) -ge 2 ]] || die "the client did not refresh its token twice"
wait_for "the ticks" has_received "$published"
show_client
echo "   client  refreshed its token in-band $(refreshes) times (75 % of 6 s), no state change, no reconnect"
stop_client

say "Result"
python3 - "$work/client.jsonl" "$published" <<'PY'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1]) if '"event"' not in l]
n = int(sys.argv[2])
ok = len(ids) == n and len(set(ids)) == n and ids == sorted(ids)
print(f"   {len(ids)} notifications received, {len(set(ids))} distinct, in order: {ids == sorted(ids)}")
print("   nothing lost, nothing duplicated" if ok else "   MISMATCH")
sys.exit(0 if ok else 1)
PY
