#!/usr/bin/env bash
# Runs the README's herald-cli example (the first sh block under "## herald-cli") as a
# user pastes it, in a temporary folder whose build/ is HERALD_BUILD_DIR: the published
# notification must come out of herald-cli as the README says. Steps 1 and 2 run in
# the background (a terminal each, in the README); port 8080 becomes the port the server
# chose on 127.0.0.1:0, since tests bind no fixed port.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${HERALD_BUILD_DIR:?the build folder}
work=$(mktemp -d)
pids=()
cleanup() {  # each step's subshell and what it started (herald-cli, herald-server)
  for pid in "${pids[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

block=$(awk '/^## herald-cli/ { section = 1; next }
             section && /^```sh/ { inside = 1; next }
             inside && /^```/ { exit }
             inside { print }' "$root/README.md")
step() {  # the lines of step $1: from its "# $1." comment to the next step's
  awk -v n="$1" '/^# [0-9]+\./ { current = ($2 == n ".") } current' <<<"$block"
}
for n in 1 2 3; do
  [[ -n "$(step $n)" ]] || { echo "README: step $n of the herald-cli example not found" >&2; exit 1; }
done

source "$root/tests/support/await.sh"

cd "$work"
ln -s "$build" build
(eval "$(step 1 | sed 's/127\.0\.0\.1:8080/127.0.0.1:0/')") >server.out 2>server.err &
pids+=($!)
port=$(await_port server.out)

(eval "$(step 2 | sed "s/8080/$port/g")") >cli.out 2>cli.err &
pids+=($!)
await cli.err "\[info\] connected"

eval "$(step 3 | sed "s/8080/$port/g")" >publish.out
await cli.out '"id":1'
expected='"id":1,"topic":"comment","created_at":"[^"]*","data":{"text":"hi"}}'
if ! grep -q "^{$expected\$" cli.out; then
  echo "herald-cli printed, not what the README says:" >&2
  cat cli.out >&2
  exit 1
fi
echo "README herald-cli example: $(cat cli.out)"
