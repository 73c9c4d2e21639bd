#!/usr/bin/env bash
# run_against_server.sh SERVER APP: runs a consumer APP against the installed reference
# server SERVER. Starts it on 127.0.0.1:0 with fresh secrets, gets a token for alice from
# its admin API, runs `APP ws://127.0.0.1:PORT/v1/stream` with the token in HERALD_TOKEN
# (never on a command line), and publishes one notification once APP prints
# "connected"; APP exits 0 when it has received it. Exits with APP's status.
set -euo pipefail
server=$1
app=$2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/tests/support/await.sh"
work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill -KILL "$server_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

head -c 32 /dev/urandom | base64 >"$work/jwt.secret"
head -c 32 /dev/urandom | base64 >"$work/admin.key"
"$server" --listen 127.0.0.1:0 --jwt-secret-file "$work/jwt.secret" --admin-key-file "$work/admin.key" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
port=$(await_port "$work/server.out")
admin() {  # admin PATH BODY: a call of the admin API
  curl -fsS -X POST -H "Authorization: Bearer $(cat "$work/admin.key")" -d "$2" "http://127.0.0.1:$port$1"
}

token=$(admin /v1/tokens '{"user_id":"alice"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
HERALD_TOKEN=$token "$app" "ws://127.0.0.1:$port/v1/stream" >"$work/app.out" 2>&1 &
app_pid=$!
await "$work/app.out" "^connected"
admin /v1/users/alice/notifications '{"topic":"comment","data":{"text":"hi"}}' >/dev/null
status=0
wait "$app_pid" || status=$?
cat "$work/app.out"
exit "$status"
